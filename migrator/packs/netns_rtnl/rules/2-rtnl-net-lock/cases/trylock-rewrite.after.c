static int example_sysctl_forward(struct net *net, int *valp, int val)
{
	if (!rtnl_net_trylock(net))
		return restart_syscall();

	if (*valp != val) {
		*valp = val;
		example_forward_change(net);
	}
	rtnl_net_unlock(net);
	return 0;
}
