/* review: calls example_flush_all() without net */
static void example_cleanup(struct net *net)
{
	rtnl_lock();
	example_flush(net);
	example_flush_all();
	rtnl_unlock();
}
