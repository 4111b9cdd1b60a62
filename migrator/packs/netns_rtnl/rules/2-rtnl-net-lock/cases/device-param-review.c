/* review: uses device dev: parameter */
static void example_reset(struct net *net, struct net_device *dev)
{
	rtnl_lock();
	example_flush(net);
	dev_close(dev);
	rtnl_unlock();
}
