int example_add_ifaddr(struct net *net, void __user *arg)
{
	struct example_req req;
	int err;

	if (!ns_capable(net->user_ns, CAP_NET_ADMIN))
		return -EPERM;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;

	rtnl_lock();
	err = example_addr_add(net, req.ifindex, &req.addr);
	rtnl_unlock();
	return err;
}
