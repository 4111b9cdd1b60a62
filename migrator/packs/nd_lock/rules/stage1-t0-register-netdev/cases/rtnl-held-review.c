/* review: RTNL already held */
static __net_init int sink_net_init(struct net *net)
{
	struct net_device *dev;
	int err;

	dev = alloc_netdev(0, "sink", NET_NAME_ENUM, sink_setup);
	if (!dev)
		return -ENOMEM;

	dev_net_set(dev, net);
	rtnl_lock();
	sink_net_setup(net);
	err = register_netdev(dev);
	rtnl_unlock();
	if (err)
		free_netdev(dev);
	return err;
}

static struct pernet_operations __net_initdata sink_net_ops = {
	.init	= sink_net_init,
};
