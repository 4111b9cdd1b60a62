int example_ioctl(struct net *net, unsigned int cmd, struct example_req *r)
{
	int err;

	switch (cmd) {
	case EXAMPLE_DEL:
		rtnl_net_lock(net);
		err = example_req_delete(net, r);
		rtnl_net_unlock(net);
		break;
	case EXAMPLE_SET:
		rtnl_net_lock(net);
		err = example_req_set(net, r);
		rtnl_net_unlock(net);
		break;
	case EXAMPLE_GET:
		rcu_read_lock();
		err = example_req_get(net, r);
		rcu_read_unlock();
		break;
	default:
		return -EINVAL;
	}
	return err;
}
