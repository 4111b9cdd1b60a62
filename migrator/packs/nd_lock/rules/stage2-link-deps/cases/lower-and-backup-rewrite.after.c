static int qux_newlink(struct net *src_net, struct net_device *dev,
		       struct nlattr *tb[], struct nlattr *data[],
		       struct netlink_ext_ack *extack)
{
	struct qux_priv *priv = netdev_priv(dev);
	struct net_device *lower, *backup;
	int err;

	if (!data || !data[IFLA_QUX_LINK]) {
		NL_SET_ERR_MSG(extack, "qux: lower link is mandatory");
		return -EINVAL;
	}

	lower = __dev_get_by_index(src_net, nla_get_u32(data[IFLA_QUX_LINK]));
	if (!lower)
		return -ENODEV;
	priv->lower = lower;

	if (data[IFLA_QUX_BACKUP]) {
		backup = __dev_get_by_index(src_net,
					    nla_get_u32(data[IFLA_QUX_BACKUP]));
		if (!backup)
			return -ENODEV;
		priv->backup = backup;
	}

	if (data[IFLA_QUX_MODE])
		priv->mode = nla_get_u32(data[IFLA_QUX_MODE]);

	dev->mtu = lower->mtu;
	if ((err = __register_netdevice(dev)) < 0)
		return err;

	netif_carrier_off(dev);
	return 0;
}

static int qux_changelink(struct net_device *dev, struct nlattr *tb[],
			  struct nlattr *data[],
			  struct netlink_ext_ack *extack)
{
	struct qux_priv *priv = netdev_priv(dev);
	struct net_device *backup;
	u32 ifindex;

	if (!data)
		return 0;

	if (data[IFLA_QUX_LINK]) {
		NL_SET_ERR_MSG(extack, "qux: lower link cannot be changed");
		return -EOPNOTSUPP;
	}

	if (data[IFLA_QUX_BACKUP]) {
		ifindex = nla_get_u32(data[IFLA_QUX_BACKUP]);
		backup = __dev_get_by_index(dev_net(dev), ifindex);
		if (!backup)
			return -ENODEV;
		priv->backup = backup;
	}
	return 0;
}

static struct link_deps qux_newlink_deps = {
	.mandatory.data = { IFLA_QUX_LINK, },
	.optional.data = { IFLA_QUX_BACKUP, },
};

static struct link_deps qux_changelink_deps = {
	.optional.data = { IFLA_QUX_BACKUP, },
};

static struct rtnl_link_ops qux_link_ops __read_mostly = {
	.kind		= "qux",
	.maxtype	= IFLA_QUX_MAX,
	.priv_size	= sizeof(struct qux_priv),
	.newlink_deps	= &qux_newlink_deps,
	.newlink	= qux_newlink,
	.changelink_deps = &qux_changelink_deps,
	.changelink	= qux_changelink,
};
