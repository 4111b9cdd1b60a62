/* review: the caller releases it */
static void example_lock_all(struct net *net)
{
	rtnl_lock();
	example_freeze(net);
}
