// SPDX-License-Identifier: GPL-2.0
/*
 * ktun: made-up tunnel created by a helper shared by .newlink and an ioctl;
 * the helper's free label is also reached before the device is registered.
 */

#include <linux/netdevice.h>
#include <net/rtnetlink.h>

static struct rtnl_link_ops ktun_link_ops;

static struct net_device *ktun_find(struct net *net, int key);
static int ktun_set_key(struct net_device *dev, int key);

static struct net_device *ktun_locate(struct net *net, int key, int create)
{
	struct net_device *dev = ktun_find(net, key);

	if (dev || !create)
		return dev;
	dev = alloc_netdev(0, "ktun%d", NET_NAME_UNKNOWN, ether_setup);
	if (!dev)
		return NULL;
	if (ktun_set_key(dev, key))
		goto failed_free;
	if (register_netdevice(dev) < 0)
		goto failed_free;
	return dev;

failed_free:
	free_netdev(dev);
	return NULL;
}

static int ktun_add(struct net_device *dev, int key)
{
	struct net_device *other;

	if (key < 0)
		return -EINVAL;
	other = ktun_locate(dev_net(dev), key, 1);
	if (!other)
		return -ENOBUFS;
	return 0;
}

static int ktun_newlink(struct net *src_net, struct net_device *dev,
			struct nlattr *tb[], struct nlattr *data[],
			struct netlink_ext_ack *extack)
{
	if (ktun_locate(src_net, 0, 0))
		return -EEXIST;
	return register_netdevice(dev);
}

static const struct net_device_ops ktun_netdev_ops = {
	.ndo_add	= ktun_add,
};

static struct rtnl_link_ops ktun_link_ops = {
	.kind		= "ktun",
	.newlink	= ktun_newlink,
};
