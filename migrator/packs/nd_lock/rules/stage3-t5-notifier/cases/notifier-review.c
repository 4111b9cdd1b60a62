/* review: registration from a netdevice notifier: T5 */
#include <linux/netdevice.h>

static int ex_shadow(struct net_device *real)
{
	struct net_device *dev;
	int err;

	dev = alloc_netdev(0, "exs%d", NET_NAME_ENUM, ex_setup);
	if (!dev)
		return -ENOMEM;
	err = register_netdevice(dev);
	if (err) {
		free_netdev(dev);
		return err;
	}
	return 0;
}

static int ex_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *real = netdev_notifier_info_to_dev(ptr);

	if (event == NETDEV_REGISTER)
		return notifier_from_errno(ex_shadow(real));
	return NOTIFY_DONE;
}

static struct notifier_block ex_notifier = {
	.notifier_call = ex_event,
};

static int __init ex_init(void)
{
	return register_netdevice_notifier(&ex_notifier);
}
