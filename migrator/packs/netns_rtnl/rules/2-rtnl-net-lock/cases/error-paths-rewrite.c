static int example_notifier_register(struct net *net, struct notifier_block *nb)
{
	int err;

	rtnl_lock();
	err = example_notifier_add(net, nb);
	if (err) {
		rtnl_unlock();
		return err;
	}
	err = example_replay(net, nb);
	if (err)
		goto err_remove;
	rtnl_unlock();
	return 0;

err_remove:
	example_notifier_del(net, nb);
	rtnl_unlock();
	return err;
}
