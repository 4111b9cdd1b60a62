static int foo_enslave(struct foo *foo, struct net_device *port_dev,
		       struct netlink_ext_ack *extack)
{
	struct nd_lock *nd_lock, *nd_lock2;
	int err;

	err = -ENODEV;
	if (double_lock_netdev(port_dev, &nd_lock, foo->dev, &nd_lock2)) {
		nd_lock_transfer_devices(&nd_lock, &nd_lock2);
		err = netdev_master_upper_dev_link(port_dev, foo->dev, NULL, NULL, extack);
		double_unlock_netdev(nd_lock, nd_lock2);
	}
	if (err)
		return err;
	foo->ports++;
	return 0;
}
