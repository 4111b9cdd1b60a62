/* review: goto out is reached with RTNL held and free */
static int example_config(struct net *net, int val)
{
	int err = 0;

	if (val < 0)
		goto out;
	rtnl_lock();
	err = example_apply(net, val);
	if (err)
		goto out;
	rtnl_unlock();
	return 0;
out:
	return err;
}
