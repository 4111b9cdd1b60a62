/* review: example_base() -> netdev_lower_get_next() */
static void example_base(struct net_device *dev)
{
	struct list_head *iter;
	struct net_device *lower;

	lower = netdev_lower_get_next(dev, &iter);
	example_mark(lower);
}

static void example_scan(struct net *net)
{
	struct net_device *dev;

	rtnl_lock();
	for_each_netdev(net, dev)
		example_base(dev);
	rtnl_unlock();
}
