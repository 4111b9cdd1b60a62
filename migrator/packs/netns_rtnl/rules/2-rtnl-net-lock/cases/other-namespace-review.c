/* review: touches namespace peer, not the one locked (net) */
static int example_peer_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = sock_net(skb->sk);
	struct net *peer = get_net_ns_by_fd(info->fd);
	int err;

	rtnl_lock();
	err = example_pair(net, peer);
	rtnl_unlock();
	put_net(peer);
	return err;
}
