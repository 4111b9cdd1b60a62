static int dummy_register(struct net *net, struct net_device *dev)
{
	int err;

	dev_net_set(dev, net);
	err = rtnl_lock_killable();
	if (!err) {
		err = register_netdevice(dev);
		rtnl_unlock();
	}
	return err;
}

static __net_init int dummy_net_init(struct net *net)
{
	struct net_device *dev;
	int err;

	dev = alloc_netdev(0, "dummy%d", NET_NAME_ENUM, dummy_setup);
	if (!dev)
		return -ENOMEM;

	err = dummy_register(net, dev);
	if (err)
		free_netdev(dev);
	return err;
}

static struct pernet_operations dummy_net_ops = {
	.init = dummy_net_init,
};
