/* review: call inside a return statement */
static int foo_enslave(struct foo *foo, struct net_device *port_dev)
{
	return netdev_master_upper_dev_link(port_dev, foo->dev, NULL, NULL, NULL);
}
