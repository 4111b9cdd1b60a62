/* review: touches another device */
static struct net_device *fover_master;

static int fover_slave_register(struct net_device *slave_dev)
{
	struct net_device *master = fover_master;
	int err;

	if (!master || slave_dev == master)
		return NOTIFY_DONE;

	err = netdev_master_upper_dev_link(slave_dev, master, NULL, NULL,
					   NULL);
	if (err)
		return NOTIFY_DONE;

	dev_set_mtu(master, slave_dev->mtu);
	return NOTIFY_OK;
}

static int fover_event(struct notifier_block *this, unsigned long event,
		       void *ptr)
{
	struct net_device *event_dev = netdev_notifier_info_to_dev(ptr);

	switch (event) {
	case NETDEV_REGISTER:
		return fover_slave_register(event_dev);
	default:
		return NOTIFY_DONE;
	}
}

static struct notifier_block fover_notifier = {
	.notifier_call = fover_event,
};

static __init int fover_init(void)
{
	return register_netdevice_notifier(&fover_notifier);
}
