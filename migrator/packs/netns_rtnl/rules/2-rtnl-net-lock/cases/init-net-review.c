/* review: touches init_net, another namespace */
static void __net_exit example_pernet_exit(struct net *net)
{
	rtnl_lock();
	example_move_devices(net, &init_net);
	rtnl_unlock();
}
