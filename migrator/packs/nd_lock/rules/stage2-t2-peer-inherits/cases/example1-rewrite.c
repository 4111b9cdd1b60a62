static int foo_newlink(struct net *src_net, struct net_device *dev,
		       struct nlattr *tb[], struct nlattr *data[],
		       struct netlink_ext_ack *extack)
{
	struct net_device *peer;
	int err;

	peer = rtnl_create_link(src_net, "p", NET_NAME_USER, &foo_link_ops, tb, extack);
	if (IS_ERR(peer))
		return PTR_ERR(peer);

	err = register_netdevice(peer);
	if (err < 0)
		goto err_peer;
	return 0;

err_peer:
	free_netdev(peer);
	return err;
}

static struct rtnl_link_ops foo_link_ops = {
	.newlink	= foo_newlink,
};
