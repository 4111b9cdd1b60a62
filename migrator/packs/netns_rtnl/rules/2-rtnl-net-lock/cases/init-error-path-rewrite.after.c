static int __net_init example_net_init(struct net *net)
{
	int err;

	err = example_rules_init(net);
	if (err)
		goto fail;
#ifdef CONFIG_PROC_FS
	err = -ENOMEM;
	if (!example_proc_init(net))
		goto proc_fail;
#endif
	return 0;

#ifdef CONFIG_PROC_FS
proc_fail:
	rtnl_net_lock(net);
	example_rules_exit(net);
	rtnl_net_unlock(net);
#endif
fail:
	return err;
}

static struct pernet_operations example_net_ops = {
	.init = example_net_init,
};
