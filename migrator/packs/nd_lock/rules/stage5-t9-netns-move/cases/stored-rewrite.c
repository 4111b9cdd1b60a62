static int foo_move(struct net_device *dev, struct net *net)
{
	int err;

	err = dev_change_net_namespace(dev, net, "foo%d");
	if (err)
		netdev_warn(dev, "cannot move: %d\n", err);
	return err;
}

static void foo_move_quiet(struct foo_priv *priv, struct net *net)
{
	if (priv->movable)
		__dev_change_net_namespace(priv->dev, net, "foo%d", 0, NULL);
}
