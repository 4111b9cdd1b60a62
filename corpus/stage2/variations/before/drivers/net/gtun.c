// SPDX-License-Identifier: GPL-2.0
/* gtun: the tunnel's locate() registers directly, ioctl leaves with goto */

#include <linux/netdevice.h>
#include <net/rtnetlink.h>

static struct rtnl_link_ops gtun_link_ops;

struct gtun_parm {
	int key;
	char name[IFNAMSIZ];
};

static struct gtun *gtun_find(struct net *net, const struct gtun_parm *p);

static struct gtun *gtun_tunnel_locate(struct net *net,
		const struct gtun_parm *parms, int create)
{
	struct net_device *dev;
	struct gtun *t;

	t = gtun_find(net, parms);
	if (t || !create)
		return t;

	dev = alloc_netdev(sizeof(*t), parms->name, NET_NAME_UNKNOWN,
			   ether_setup);
	if (!dev)
		return NULL;

	dev->rtnl_link_ops = &gtun_link_ops;
	if (register_netdevice(dev) < 0)
		goto failed_free;
	return netdev_priv(dev);

failed_free:
	free_netdev(dev);
	return NULL;
}

static int gtun_siocdevprivate(struct net_device *dev, struct ifreq *ifr,
			       void __user *data, int cmd)
{
	struct gtun_parm p;
	struct gtun *t;
	int err;

	err = -EFAULT;
	if (copy_from_user(&p, data, sizeof(p)))
		goto done;

	t = gtun_tunnel_locate(dev_net(dev), &p, cmd == SIOCADDTUNNEL);
	err = t ? 0 : -ENOBUFS;
done:
	return err;
}

static int gtun_changelink_common(struct net_device *dev, struct nlattr *data[],
				  struct gtun_parm *p)
{
	struct gtun *t;

	t = gtun_tunnel_locate(dev_net(dev), p, 0);
	return t && t != netdev_priv(dev) ? -EEXIST : 0;
}

static int gtun_changelink(struct net_device *dev, struct nlattr *tb[],
			   struct nlattr *data[],
			   struct netlink_ext_ack *extack)
{
	struct gtun_parm p = {};

	return gtun_changelink_common(dev, data, &p);
}

static int gtun_newlink(struct net *src_net, struct net_device *dev,
			struct nlattr *tb[], struct nlattr *data[],
			struct netlink_ext_ack *extack)
{
	return register_netdevice(dev);
}

static const struct net_device_ops gtun_netdev_ops = {
	.ndo_siocdevprivate	= gtun_siocdevprivate,
};

static struct rtnl_link_ops gtun_link_ops = {
	.kind		= "gtun",
	.newlink	= gtun_newlink,
	.changelink	= gtun_changelink,
};
