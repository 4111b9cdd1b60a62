/* review: looks a device up outside net */
static int example_ioctl(struct net *net, struct example_req *req)
{
	struct net_device *dev;
	int err = -ENODEV;

	rtnl_lock();
	dev = __dev_get_by_index(&init_net, req->ifindex);
	if (dev)
		err = example_dev_set(dev, req);
	rtnl_unlock();
	return err;
}
