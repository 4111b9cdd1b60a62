/* review: a device's namespace can change until RTNL is held */
static void example_watchdog(struct example_priv *priv)
{
	struct net *net = dev_net(priv->netdev);

	rtnl_lock();
	example_refresh(net);
	rtnl_unlock();
}
