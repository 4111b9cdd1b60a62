static int qux_newlink(struct net *src_net, struct net_device *dev,
		       struct nlattr *tb[], struct nlattr *data[],
		       struct netlink_ext_ack *extack)
{
	struct qux_priv *priv = netdev_priv(dev);

	if (!data || !data[IFLA_QUX_LINK])
		return -EINVAL;

	priv->lower = __dev_get_by_index(src_net, nla_get_u32(data[IFLA_QUX_LINK]));
	if (!priv->lower)
		return -ENODEV;

	return __register_netdevice(dev);
}

static struct link_deps qux_newlink_deps = {
	.mandatory.data = { IFLA_QUX_LINK, },
};

static struct rtnl_link_ops qux_link_ops __read_mostly = {
	.kind		= "qux",
	.newlink_deps	= &qux_newlink_deps,
	.newlink	= qux_newlink,
};

static int dummy_newlink(struct net *src_net, struct net_device *dev,
			 struct nlattr *tb[], struct nlattr *data[],
			 struct netlink_ext_ack *extack)
{
	if (data && data[IFLA_DUMMY_MODE])
		dummy_priv(dev)->mode = nla_get_u32(data[IFLA_DUMMY_MODE]);
	return __register_netdevice(dev);
}

static struct rtnl_link_ops dummy_link_ops __read_mostly = {
	.kind		= "dummy",
	.newlink	= dummy_newlink,
};
