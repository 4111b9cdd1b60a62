static void __net_exit sleet_exit_rtnl(struct net *net,
				       struct list_head *dev_to_kill)
{
	unregister_netdevice_queue(net->loopback_dev, dev_to_kill);
}

static struct pernet_operations sleet_lo_ops = {
	.exit_rtnl = sleet_exit_rtnl,
};
