struct hail {
	struct list_head hail_list;
	struct net_device *dev;
};

struct hail_net {
	struct list_head dev_list;
};

static unsigned int hail_net_id __read_mostly;

static void __net_exit hail_net_exit_rtnl(struct net *net,
					  struct list_head *dev_kill_list)
{
	struct hail *hail, *tmp;
	struct hail_net *hn;

	/* Kill off any devices created after unregistering the rtnl ops */
	hn = net_generic(net, hail_net_id);
	list_for_each_entry_safe(hail, tmp, &hn->dev_list, hail_list)
		unregister_netdevice_queue(hail->dev, dev_kill_list);
}

static struct pernet_operations hail_net_ops = {
	.exit_rtnl = hail_net_exit_rtnl,
	.id   = &hail_net_id,
	.size = sizeof(struct hail_net),
};
