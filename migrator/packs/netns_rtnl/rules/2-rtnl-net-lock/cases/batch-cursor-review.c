/* review: the cursor of list_for_each_entry() */
static void __net_exit example_exit_batch(struct list_head *net_list)
{
	struct net *net;

	rtnl_lock();
	list_for_each_entry(net, net_list, exit_list)
		example_flush(net);
	rtnl_unlock();
}
