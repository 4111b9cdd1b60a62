static int foo_move(struct net_device *dev, struct net *net)
{
	struct nd_lock *nd_lock;
	int err;

	err = -ENODEV;
	if (lock_netdev(dev, &nd_lock)) {
		err = dev_change_net_namespace(dev, net, "foo%d");
		unlock_netdev(nd_lock);
	}
	if (err)
		netdev_warn(dev, "cannot move: %d\n", err);
	return err;
}

static void foo_move_quiet(struct foo_priv *priv, struct net *net)
{
	struct nd_lock *nd_lock;

	if (priv->movable) {
		if (lock_netdev(priv->dev, &nd_lock)) {
			__dev_change_net_namespace(priv->dev, net, "foo%d", 0, NULL);
			unlock_netdev(nd_lock);
		}
	}
}
