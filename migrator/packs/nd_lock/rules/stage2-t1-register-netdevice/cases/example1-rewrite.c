static int foo_newlink(struct net *net, struct net_device *dev,
		       struct nlattr *tb[], struct nlattr *data[],
		       struct netlink_ext_ack *extack)
{
	return register_netdevice(dev);
}

static struct rtnl_link_ops foo_link_ops = {
	.kind		= "foo",
	.newlink	= foo_newlink,
};
