/* review: returns with RTNL held */
static int example_begin(struct net *net)
{
	rtnl_lock();
	if (!example_ready(net))
		return -EAGAIN;
	rtnl_unlock();
	return 0;
}
