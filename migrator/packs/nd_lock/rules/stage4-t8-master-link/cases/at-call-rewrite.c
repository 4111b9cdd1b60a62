static int foo_enslave(struct foo *foo, struct net_device *port_dev,
		       struct netlink_ext_ack *extack)
{
	int err;

	err = netdev_master_upper_dev_link(port_dev, foo->dev, NULL, NULL, extack);
	if (err)
		return err;
	foo->ports++;
	return 0;
}
