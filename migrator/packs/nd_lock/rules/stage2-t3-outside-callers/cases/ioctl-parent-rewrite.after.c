int register_qvlan_dev(struct net_device *dev, struct netlink_ext_ack *extack)
{
	struct qvlan_dev_priv *vlan = qvlan_dev_priv(dev);
	struct net_device *real_dev = vlan->real_dev;
	int err;

	err = __register_netdevice(dev);
	if (err < 0)
		goto out;

	err = netdev_upper_dev_link(real_dev, dev, extack);
	if (err)
		goto out_unregister_netdev;

	dev->mtu = real_dev->mtu;
	list_add(&vlan->list, &qvlan_devices);
	return 0;

out_unregister_netdev:
	__unregister_netdevice(dev);
out:
	return err;
}

/* Legacy ioctl: create eth0.5 on top of eth0 */
static int qvlan_ioctl_add(struct net *net, const char *real_name, u16 vid)
{
	struct net_device *new_dev, *real_dev;
	struct qvlan_dev_priv *vlan;
	struct nd_lock *nd_lock;
	char name[IFNAMSIZ];
	int err;

	real_dev = __dev_get_by_name(net, real_name);
	if (!real_dev)
		return -ENODEV;

	snprintf(name, IFNAMSIZ, "%s.%i", real_dev->name, vid);
	new_dev = alloc_netdev(sizeof(struct qvlan_dev_priv), name,
			       NET_NAME_UNKNOWN, qvlan_setup);
	if (!new_dev)
		return -ENOBUFS;

	dev_net_set(new_dev, net);
	vlan = qvlan_dev_priv(new_dev);
	vlan->vlan_id = vid;
	vlan->real_dev = real_dev;

	err = -ENODEV;
	if (lock_netdev(real_dev, &nd_lock)) {
		attach_nd_lock(new_dev, nd_lock);
		err = register_qvlan_dev(new_dev, NULL);
		if (err)
			detach_nd_lock(new_dev);
		unlock_netdev(nd_lock);
	}
	if (err < 0)
		goto out_free_newdev;

	return 0;

out_free_newdev:
	free_netdev(new_dev);
	return err;
}

static int qvlan_newlink(struct net *src_net, struct net_device *dev,
			 struct nlattr *tb[], struct nlattr *data[],
			 struct netlink_ext_ack *extack)
{
	struct qvlan_dev_priv *vlan = qvlan_dev_priv(dev);
	struct net_device *real_dev;

	if (!tb[IFLA_LINK])
		return -EINVAL;

	real_dev = __dev_get_by_index(src_net, nla_get_u32(tb[IFLA_LINK]));
	if (!real_dev)
		return -ENODEV;

	vlan->vlan_id = nla_get_u16(data[IFLA_QVLAN_ID]);
	vlan->real_dev = real_dev;
	return register_qvlan_dev(dev, extack);
}

struct rtnl_link_ops qvlan_link_ops __read_mostly = {
	.kind		= "qvlan",
	.newlink_deps	= &generic_newlink_deps,
	.newlink	= qvlan_newlink,
};
