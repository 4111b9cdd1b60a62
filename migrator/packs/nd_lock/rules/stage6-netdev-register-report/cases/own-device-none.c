static int foo_event(struct notifier_block *this, unsigned long event,
		     void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);

	switch (event) {
	case NETDEV_REGISTER:
		if (dev->type == ARPHRD_ETHER)
			dev_set_mtu(dev, 1500);
		netif_carrier_off(dev);
		break;
	default:
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block foo_notifier = {
	.notifier_call = foo_event,
};

static __init int foo_init(void)
{
	return register_netdevice_notifier(&foo_notifier);
}
