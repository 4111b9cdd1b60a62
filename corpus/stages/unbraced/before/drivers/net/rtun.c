// SPDX-License-Identifier: GPL-2.0
/* rtun: made-up tunnel; a caller of its creating helper cannot report a failure */

#include <linux/netdevice.h>
#include <net/rtnetlink.h>

static struct rtnl_link_ops rtun_link_ops;

static struct net_device *rtun_find(struct net *net, int key);

static struct net_device *rtun_locate(struct net *net, int key, int create)
{
	struct net_device *dev = rtun_find(net, key);

	if (dev || !create)
		return dev;
	dev = alloc_netdev(0, "rtun%d", NET_NAME_UNKNOWN, ether_setup);
	if (!dev)
		return NULL;
	if (register_netdevice(dev)) {
		free_netdev(dev);
		return NULL;
	}
	return dev;
}

static void rtun_refresh(struct net_device *dev, int key)
{
	struct net_device *other;

	if (key)
		other = rtun_locate(dev_net(dev), key, 1);
	else
		other = dev;
	netif_carrier_on(other);
}

static int rtun_newlink(struct net *src_net, struct net_device *dev,
			struct nlattr *tb[], struct nlattr *data[],
			struct netlink_ext_ack *extack)
{
	if (rtun_locate(src_net, 0, 0))
		return -EEXIST;
	return register_netdevice(dev);
}

static const struct net_device_ops rtun_netdev_ops = {
	.ndo_change_carrier	= rtun_refresh,
};

static struct rtnl_link_ops rtun_link_ops = {
	.kind		= "rtun",
	.newlink	= rtun_newlink,
};
