/* review: net is assigned after RTNL is taken */
static int example_set_device(struct example_priv *priv)
{
	struct net *net;
	int err;

	rtnl_lock();
	net = sock_net(priv->sk);
	err = example_apply(net, priv);
	rtnl_unlock();
	return err;
}
