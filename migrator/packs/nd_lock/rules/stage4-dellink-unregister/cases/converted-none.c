static void foo_dellink(struct net_device *dev, struct list_head *head)
{
	__unregister_netdevice(dev);
}

static void __exit foo_cleanup(void)
{
	rtnl_lock();
	unregister_netdevice(foo_default_dev);
	rtnl_unlock();
}

static struct rtnl_link_ops foo_link_ops = {
	.kind		= "foo",
	.dellink	= foo_dellink,
};
