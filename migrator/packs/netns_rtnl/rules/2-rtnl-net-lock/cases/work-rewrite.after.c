static void example_verify_work(struct work_struct *w)
{
	struct net *net = container_of(to_delayed_work(w), struct net,
				       example.addr_chk_work);

	rtnl_net_lock(net);
	example_verify_rtnl(net);
	rtnl_net_unlock(net);
}
