static int foo_changelink(struct net_device *dev, struct nlattr *tb[],
			  struct nlattr *data[], struct netlink_ext_ack *extack)
{
	unregister_netdevice(dev);
	return 0;
}

static struct rtnl_link_ops foo_link_ops = {
	.changelink	= foo_changelink,
};
