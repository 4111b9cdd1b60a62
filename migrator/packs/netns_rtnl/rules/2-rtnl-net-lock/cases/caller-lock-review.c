/* review: rtnl_unlock() of RTNL this function did not take */
static void example_wait_idle(struct net *net)
{
	rtnl_unlock();
	example_wait(net);
	rtnl_lock();
}
