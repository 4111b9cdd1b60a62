// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vtun: a point-to-point IPv4 tunnel with an optional fixed underlay.
 *
 * Tunnels are configured over rtnetlink ("ip link add t1 type vtun
 * remote 192.0.2.1 link eth0") or with the legacy SIOCADDVTUN ioctl on
 * the fallback device vtun0.
 */

#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/uaccess.h>
#include <net/rtnetlink.h>
#include <net/netns/generic.h>

#include "vtun.h"

static unsigned int vtun_net_id __read_mostly;
static struct rtnl_link_ops vtun_link_ops __read_mostly;

static u32 vtun_hash(const struct vtun_parm *p)
{
	return (__force u32)(p->remote ^ p->key) % VTUN_HASH_SIZE;
}

static void vtun_link(struct vtun_net *vn, struct vtun *t)
{
	struct vtun __rcu **tp = &vn->tunnels[vtun_hash(&t->parms)];

	rcu_assign_pointer(t->next, rtnl_dereference(*tp));
	rcu_assign_pointer(*tp, t);
}

/* Bind the tunnel to its underlay device, if one was given */
static int vtun_bind_dev(struct net *net, struct vtun *t)
{
	struct net_device *underlay = NULL;

	if (t->parms.link) {
		underlay = __dev_get_by_index(net, t->parms.link);
		if (!underlay)
			return -ENODEV;
		t->dev->mtu = underlay->mtu - 24;
	}
	t->underlay = underlay;
	return 0;
}

static int vtun_register(struct net *net, struct net_device *dev)
{
	struct vtun_net *vn = net_generic(net, vtun_net_id);
	struct vtun *t = netdev_priv(dev);
	int err;

	t->dev = dev;
	err = vtun_bind_dev(net, t);
	if (err)
		return err;

	if ((err = __register_netdevice(dev)))
		return err;

	vtun_link(vn, t);
	return 0;
}

static struct vtun *vtun_create(struct net *net, const struct vtun_parm *p,
				struct nd_lock *nd_lock)
{
	struct net_device *dev;
	struct vtun *t;
	int err;

	dev = alloc_netdev(sizeof(*t), p->name[0] ? p->name : "vtun%d",
			   NET_NAME_UNKNOWN, vtun_setup);
	if (!dev)
		return ERR_PTR(-ENOMEM);

	dev_net_set(dev, net);
	dev->rtnl_link_ops = &vtun_link_ops;
	t = netdev_priv(dev);
	t->parms = *p;

	attach_nd_lock(dev, nd_lock);
	err = vtun_register(net, dev);
	if (err < 0)
		goto failed_free;
	return t;

failed_free:
	detach_nd_lock(dev);
	free_netdev(dev);
	return ERR_PTR(err);
}

/**
 * vtun_locate - find or create a tunnel matching the parameters
 * @net: network namespace of the tunnel
 * @p: tunnel parameters (remote, key and link are compared)
 * @create: create a new tunnel when none matches
 * @nd_lock: lock to attach the new device to
 *
 * Must be called with RTNL held.
 *
 * Return: the tunnel, ERR_PTR(-ENODEV) when none matches and @create is
 * zero, ERR_PTR(-EEXIST) when a match exists and @create is set.
 */
struct vtun *vtun_locate(struct net *net, const struct vtun_parm *p,
			 int create, struct nd_lock *nd_lock)
{
	struct vtun_net *vn = net_generic(net, vtun_net_id);
	struct vtun *t;

	for (t = rtnl_dereference(vn->tunnels[vtun_hash(p)]); t;
	     t = rtnl_dereference(t->next)) {
		if (t->parms.remote == p->remote && t->parms.key == p->key &&
		    t->parms.link == p->link)
			return create ? ERR_PTR(-EEXIST) : t;
	}
	if (!create)
		return ERR_PTR(-ENODEV);
	return vtun_create(net, p, nd_lock);
}

static void vtun_netlink_parms(struct nlattr *data[], struct vtun_parm *p)
{
	memset(p, 0, sizeof(*p));
	if (!data)
		return;

	if (data[IFLA_VTUN_LINK])
		p->link = nla_get_u32(data[IFLA_VTUN_LINK]);
	if (data[IFLA_VTUN_LOCAL])
		p->local = nla_get_in_addr(data[IFLA_VTUN_LOCAL]);
	if (data[IFLA_VTUN_REMOTE])
		p->remote = nla_get_in_addr(data[IFLA_VTUN_REMOTE]);
	if (data[IFLA_VTUN_KEY])
		p->key = nla_get_be32(data[IFLA_VTUN_KEY]);
	if (data[IFLA_VTUN_TTL])
		p->ttl = nla_get_u8(data[IFLA_VTUN_TTL]);
}

static int vtun_newlink(struct net *src_net, struct net_device *dev,
			struct nlattr *tb[], struct nlattr *data[],
			struct netlink_ext_ack *extack)
{
	struct net *net = dev_net(dev);
	struct vtun *nt = netdev_priv(dev);
	struct vtun *t;

	vtun_netlink_parms(data, &nt->parms);

	t = vtun_locate(net, &nt->parms, 0,
			rcu_dereference_protected(dev->nd_lock, true));
	if (!IS_ERR(t))
		return -EEXIST;

	return vtun_register(net, dev);
}

static int vtun_changelink(struct net_device *dev, struct nlattr *tb[],
			   struct nlattr *data[],
			   struct netlink_ext_ack *extack)
{
	struct vtun *t = netdev_priv(dev);
	struct net *net = dev_net(dev);
	struct vtun_parm p;
	struct vtun *other;

	vtun_netlink_parms(data, &p);

	other = vtun_locate(net, &p, 0,
			    rcu_dereference_protected(dev->nd_lock, true));
	if (!IS_ERR(other) && other != t)
		return -EEXIST;

	t->parms = p;
	return vtun_bind_dev(net, t);
}

static int vtun_siocdevprivate(struct net_device *dev, struct ifreq *ifr,
			       void __user *data, int cmd)
{
	struct net *net = dev_net(dev);
	struct nd_lock *nd_lock;
	struct vtun_parm p;
	struct vtun *t;
	int err = 0;

	if (copy_from_user(&p, data, sizeof(p)))
		return -EFAULT;

	switch (cmd) {
	case SIOCGETVTUN:
		if (!lock_netdev(dev, &nd_lock))
			return -ENODEV;
		t = vtun_locate(net, &p, 0, nd_lock);
		unlock_netdev(nd_lock);
		if (IS_ERR(t))
			t = netdev_priv(dev);
		if (copy_to_user(data, &t->parms, sizeof(p)))
			err = -EFAULT;
		break;
	case SIOCADDVTUN:
	case SIOCCHGVTUN:
		if (!ns_capable(net->user_ns, CAP_NET_ADMIN))
			return -EPERM;
		if (!lock_netdev(dev, &nd_lock))
			return -ENODEV;
		t = vtun_locate(net, &p, cmd == SIOCADDVTUN, nd_lock);
		unlock_netdev(nd_lock);
		if (IS_ERR(t))
			err = PTR_ERR(t);
		else if (copy_to_user(data, &t->parms, sizeof(p)))
			err = -EFAULT;
		break;
	default:
		err = -EINVAL;
	}
	return err;
}

static const struct net_device_ops vtun_netdev_ops = {
	.ndo_siocdevprivate	= vtun_siocdevprivate,
};

void vtun_setup(struct net_device *dev)
{
	dev->netdev_ops = &vtun_netdev_ops;
	dev->flags = IFF_POINTOPOINT | IFF_NOARP;
	dev->mtu = 1476;
	dev->needs_free_netdev = true;
}

static struct link_deps vtun_link_deps = {
	.optional.data = { IFLA_VTUN_LINK, },
};

static struct rtnl_link_ops vtun_link_ops __read_mostly = {
	.kind		= "vtun",
	.maxtype	= IFLA_VTUN_MAX,
	.priv_size	= sizeof(struct vtun),
	.setup		= vtun_setup,
	.newlink_deps	= &vtun_link_deps,
	.newlink	= vtun_newlink,
	.changelink_deps = &vtun_link_deps,
	.changelink	= vtun_changelink,
};

module_rtnl_link_ops(vtun_link_ops);
MODULE_LICENSE("GPL");
