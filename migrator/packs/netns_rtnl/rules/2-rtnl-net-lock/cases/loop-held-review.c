/* review: leaves a loop with RTNL */
static void example_poll(struct net *net)
{
	int i;

	for (i = 0; i < 4; i++) {
		rtnl_lock();
		if (example_done(net))
			break;
	}
	rtnl_unlock();
}
