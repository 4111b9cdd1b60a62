static void foo_destroy(struct net_device *dev)
{
	struct foo_priv *priv = netdev_priv(dev);

	list_del(&priv->list);
	unregister_netdevice(dev);
}

static void foo_dellink(struct net_device *dev, struct list_head *head)
{
	foo_destroy(dev);
}

static struct rtnl_link_ops foo_link_ops = {
	.kind		= "foo",
	.dellink	= foo_dellink,
};
