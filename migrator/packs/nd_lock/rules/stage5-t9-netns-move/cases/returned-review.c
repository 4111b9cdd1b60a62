/* review: call inside a return statement */
static int foo_move(struct net_device *dev, struct net *net)
{
	return dev_change_net_namespace(dev, net, "foo%d");
}
