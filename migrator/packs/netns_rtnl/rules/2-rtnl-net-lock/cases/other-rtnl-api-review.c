/* review: __rtnl_unlock() is called too */
static int example_replay(struct net *net)
{
	int err;

	rtnl_lock();
	err = example_try(net);
	if (err == -EAGAIN) {
		__rtnl_unlock();
		example_load_module(net);
		rtnl_lock();
	}
	rtnl_unlock();
	return err;
}
