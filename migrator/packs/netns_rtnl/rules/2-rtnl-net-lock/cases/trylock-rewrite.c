static int example_sysctl_forward(struct net *net, int *valp, int val)
{
	if (!rtnl_trylock())
		return restart_syscall();

	if (*valp != val) {
		*valp = val;
		example_forward_change(net);
	}
	rtnl_unlock();
	return 0;
}
