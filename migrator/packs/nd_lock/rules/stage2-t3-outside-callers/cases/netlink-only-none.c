static int qvlan_register(struct net_device *dev)
{
	int err;

	err = register_netdevice(dev);
	if (err < 0)
		return err;

	list_add(&qvlan_dev_priv(dev)->list, &qvlan_devices);
	return 0;
}

static int qvlan_newlink(struct net *src_net, struct net_device *dev,
			 struct nlattr *tb[], struct nlattr *data[],
			 struct netlink_ext_ack *extack)
{
	qvlan_dev_priv(dev)->vlan_id = nla_get_u16(data[IFLA_QVLAN_ID]);
	return qvlan_register(dev);
}

struct rtnl_link_ops qvlan_link_ops __read_mostly = {
	.kind		= "qvlan",
	.newlink	= qvlan_newlink,
};
