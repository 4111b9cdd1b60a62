bool netif_is_brine_master(const struct net_device *dev);
void brine_dev_delete(struct net_device *dev, struct list_head *head);

static void __net_exit brine_net_exit_rtnl(struct net *net,
					   struct list_head *dev_to_kill)
{
	struct net_device *dev;

	ASSERT_RTNL_NET(net);
	for_each_netdev(net, dev)
		if (netif_is_brine_master(dev))
			brine_dev_delete(dev, dev_to_kill);
}

static struct pernet_operations brine_net_ops = {
	.exit_rtnl		= brine_net_exit_rtnl,
	.id			= NULL,
};
