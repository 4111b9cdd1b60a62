/* Outside the fallback families: stage5-t9-netns-move's. */
static int foo_move(struct net_device *dev, struct net *net)
{
	int err;

	err = dev_change_net_namespace(dev, net, "foo%d");
	return err;
}
