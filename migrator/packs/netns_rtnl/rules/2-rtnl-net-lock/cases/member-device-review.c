/* review: reaches a device through priv->dev */
static void example_timer_work(struct net *net, struct example_priv *priv)
{
	rtnl_lock();
	example_refresh(net);
	netif_carrier_off(priv->dev);
	rtnl_unlock();
}
