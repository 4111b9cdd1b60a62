/* review: dev_change_net_namespace() moves a device to another namespace */
static int example_steal(struct net *net, int ifindex, int fd)
{
	struct net_device *dev;
	int err = -ENODEV;

	rtnl_lock();
	dev = __dev_get_by_index(net, ifindex);
	if (dev)
		err = dev_change_net_namespace(dev, example_net_of(fd), "eth%d");
	rtnl_unlock();
	return err;
}
