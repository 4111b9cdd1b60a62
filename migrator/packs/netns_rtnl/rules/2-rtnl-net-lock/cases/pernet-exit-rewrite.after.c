static void __net_exit example_net_exit(struct net *net)
{
	struct net_device *dev, *aux;
	LIST_HEAD(list);

	rtnl_net_lock(net);
	for_each_netdev_safe(net, dev, aux)
		if (dev->rtnl_link_ops == &example_link_ops)
			unregister_netdevice_queue(dev, &list);
	unregister_netdevice_many(&list);
	rtnl_net_unlock(net);
}

static struct pernet_operations example_net_ops = {
	.exit = example_net_exit,
};
