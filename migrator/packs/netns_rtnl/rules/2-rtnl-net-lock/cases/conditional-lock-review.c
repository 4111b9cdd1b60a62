/* review: RTNL is held after this statement on some paths only */
static int example_setsockopt(struct sock *sk, int optname, int val)
{
	struct net *net = sock_net(sk);
	bool needs_rtnl = example_needs_rtnl(optname);

	if (needs_rtnl)
		rtnl_lock();
	example_set(net, optname, val);
	if (needs_rtnl)
		rtnl_unlock();
	return 0;
}
