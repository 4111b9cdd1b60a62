/* review: uses example_generation, not a local of the function */
static int example_generation;

static int example_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct net *net = sock_net(skb->sk);
	int err;

	rtnl_lock();
	cb->seq = example_generation;
	err = example_dump_net(net, skb, cb);
	rtnl_unlock();
	return err;
}
