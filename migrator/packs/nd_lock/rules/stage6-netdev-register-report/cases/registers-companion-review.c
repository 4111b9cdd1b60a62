/* review: touches another device */
static int ghost_netdev_event(struct notifier_block *nb,
			      unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct net_device *gdev;
	struct ghost_priv *gp;
	int err;

	if (!ghost_wanted(dev))
		return NOTIFY_DONE;

	switch (event) {
	case NETDEV_REGISTER:
		gdev = alloc_netdev(sizeof(*gp), "g%s", NET_NAME_ENUM,
				    ghost_setup);
		if (!gdev)
			return notifier_from_errno(-ENOMEM);
		dev_net_set(gdev, dev_net(dev));
		gp = netdev_priv(gdev);
		gp->dev = gdev;
		gp->real = dev;

		err = register_netdevice(gdev);
		if (err) {
			free_netdev(gdev);
			return notifier_from_errno(err);
		}
		netif_carrier_off(gdev);
		list_add(&gp->list, &ghost_list);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block ghost_notifier = {
	.notifier_call = ghost_netdev_event,
};

static int __init ghost_init(void)
{
	return register_netdevice_notifier(&ghost_notifier);
}
