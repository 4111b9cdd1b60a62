static int example_notifier_register(struct net *net, struct notifier_block *nb)
{
	int err;

	rtnl_net_lock(net);
	err = example_notifier_add(net, nb);
	if (err) {
		rtnl_net_unlock(net);
		return err;
	}
	err = example_replay(net, nb);
	if (err)
		goto err_remove;
	rtnl_net_unlock(net);
	return 0;

err_remove:
	example_notifier_del(net, nb);
	rtnl_net_unlock(net);
	return err;
}
