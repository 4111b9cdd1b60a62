static unsigned int sink_net_id __read_mostly;

struct sink_net {
	struct net_device *dev;
};

static __net_init int sink_net_init(struct net *net)
{
	struct sink_net *sn = net_generic(net, sink_net_id);
	struct net_device *dev;
	int err;

	dev = alloc_netdev(0, "sink", NET_NAME_ENUM, sink_setup);
	if (!dev)
		return -ENOMEM;

	dev_net_set(dev, net);
	err = register_netdev(dev);
	if (err)
		goto out_free_netdev;

	sn->dev = dev;
	return 0;

out_free_netdev:
	free_netdev(dev);
	return err;
}

static struct pernet_operations __net_initdata sink_net_ops = {
	.init	= sink_net_init,
	.id	= &sink_net_id,
	.size	= sizeof(struct sink_net),
};
