// SPDX-License-Identifier: GPL-2.0
/* btun: like gtun; its ioctl getter has no error exit of its own */

#include <linux/netdevice.h>
#include <net/rtnetlink.h>

static struct rtnl_link_ops btun_link_ops;

static struct btun *btun_find(struct net *net, int key);

static struct btun *btun_locate(struct net *net, int key, int create,
				struct nd_lock *nd_lock)
{
	struct net_device *dev;
	struct btun *t;
	int err;

	t = btun_find(net, key);
	if (t || !create)
		return t;

	dev = alloc_netdev(sizeof(*t), "btun%d", NET_NAME_UNKNOWN, ether_setup);
	if (!dev)
		return NULL;
	dev->rtnl_link_ops = &btun_link_ops;
	attach_nd_lock(dev, nd_lock);
	err = __register_netdevice(dev);
	if (err)
		goto out_free;
	return netdev_priv(dev);
out_free:
	detach_nd_lock(dev);
	free_netdev(dev);
	return NULL;
}

static int btun_get(struct net_device *dev, int *key)
{
	struct nd_lock *nd_lock;
	struct btun *t;

	if (!lock_netdev(dev, &nd_lock))
		return -ENODEV;
	t = btun_locate(dev_net(dev), *key, 0, nd_lock);
	unlock_netdev(nd_lock);
	*key = t ? 1 : 0;
	return 0;
}

static int btun_newlink(struct net *src_net, struct net_device *dev,
			struct nlattr *tb[], struct nlattr *data[],
			struct netlink_ext_ack *extack)
{
	if (btun_locate(dev_net(dev), 0, 0,
			rcu_dereference_protected(dev->nd_lock, true)))
		return -EEXIST;
	return __register_netdevice(dev);
}

static const struct net_device_ops btun_netdev_ops = {
	.ndo_get_key	= btun_get,
};

static struct rtnl_link_ops btun_link_ops = {
	.kind		= "btun",
	.newlink	= btun_newlink,
};
