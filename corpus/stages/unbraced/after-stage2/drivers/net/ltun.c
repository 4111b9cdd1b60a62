// SPDX-License-Identifier: GPL-2.0
/* ltun: made-up tunnel; a caller of its creating helper runs it in a loop */

#include <linux/netdevice.h>
#include <net/rtnetlink.h>

static struct rtnl_link_ops ltun_link_ops;

static struct net_device *ltun_find(struct net *net, int key);

static struct net_device *ltun_locate(struct net *net, int key, int create)
{
	struct net_device *dev = ltun_find(net, key);

	if (dev || !create)
		return dev;
	dev = alloc_netdev(0, "ltun%d", NET_NAME_UNKNOWN, ether_setup);
	if (!dev)
		return NULL;
	if (__register_netdevice(dev)) {
		free_netdev(dev);
		return NULL;
	}
	return dev;
}

static int ltun_fill(struct net_device *dev, int n)
{
	struct net_device *last = NULL;
	int i;

	for (i = 0; i < n; i++)
		last = ltun_locate(dev_net(dev), i, 1);
	return last ? 0 : -ENOBUFS;
}

static int ltun_newlink(struct net *src_net, struct net_device *dev,
			struct nlattr *tb[], struct nlattr *data[],
			struct netlink_ext_ack *extack)
{
	if (ltun_locate(src_net, 0, 0))
		return -EEXIST;
	return __register_netdevice(dev);
}

static const struct net_device_ops ltun_netdev_ops = {
	.ndo_fill	= ltun_fill,
};

static struct rtnl_link_ops ltun_link_ops = {
	.kind		= "ltun",
	.newlink	= ltun_newlink,
};
