/* The link is reached only from an ioctl: the locks are taken at the ioctl's call,
 * with the devices carried up to its arguments. */
static int foo_enslave(struct net_device *master, struct net_device *port)
{
	return netdev_master_upper_dev_link(port, master, NULL, NULL, NULL);
}

static int foo_siocdevprivate(struct net_device *dev, struct ifreq *ifr,
			      void __user *data, int cmd)
{
	struct net_device *port;
	int err;

	port = __dev_get_by_index(dev_net(dev), ifr->ifr_ifindex);
	if (!port)
		return -ENODEV;
	err = foo_enslave(dev, port);
	return err;
}

static const struct net_device_ops foo_netdev_ops = {
	.ndo_siocdevprivate	= foo_siocdevprivate,
};
