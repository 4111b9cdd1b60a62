/* review: not released in the same iteration */
static void example_poll(struct net *net)
{
	int i;

	for (i = 0; i < 4; i++) {
		rtnl_lock();
		example_step(net, i);
	}
	rtnl_unlock();
}
