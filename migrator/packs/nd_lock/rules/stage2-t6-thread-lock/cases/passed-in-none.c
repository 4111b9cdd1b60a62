/* The helper registers the device its callers pass: T3/T4 (stage2-t3-outside-callers) */
#include <linux/netdevice.h>
#include <net/rtnetlink.h>

static int xr_register(struct net_device *dev)
{
	return register_netdevice(dev);
}

static int xr_newlink(struct net *src_net, struct net_device *dev,
		      struct nlattr *tb[], struct nlattr *data[],
		      struct netlink_ext_ack *extack)
{
	return xr_register(dev);
}

static int xr_siocdevprivate(struct net_device *dev, struct ifreq *ifr,
			     void __user *data, int cmd)
{
	struct net_device *child;
	int err;

	child = alloc_netdev(0, "xr%d", NET_NAME_UNKNOWN, xr_setup);
	if (!child)
		return -ENOMEM;
	err = xr_register(child);
	if (err)
		free_netdev(child);
	return err;
}

static const struct net_device_ops xr_netdev_ops = {
	.ndo_siocdevprivate	= xr_siocdevprivate,
};

static struct rtnl_link_ops xr_link_ops __read_mostly = {
	.kind		= "xr",
	.newlink	= xr_newlink,
};
