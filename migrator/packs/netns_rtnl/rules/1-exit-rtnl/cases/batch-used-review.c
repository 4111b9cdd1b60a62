/* review: uses the batch */
void rime_destroy(struct net *net, struct list_head *head);
void rime_flush(void);

static void __net_exit rime_exit_batch_rtnl(struct list_head *net_list,
					    struct list_head *dev_to_kill)
{
	struct net *net;

	list_for_each_entry(net, net_list, exit_list) {
		rime_destroy(net, dev_to_kill);
		if (list_is_last(&net->exit_list, net_list))
			rime_flush();
	}
}

static struct pernet_operations rime_net_ops = {
	.exit_batch_rtnl = rime_exit_batch_rtnl,
};
