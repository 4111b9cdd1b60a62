/* review: walks every namespace */
static void example_sync(struct net *net)
{
	struct net *iter;

	rtnl_lock();
	for_each_net(iter)
		example_flush(iter);
	rtnl_unlock();
}
