/* a notifier_block never passed to register_netdevice_notifier*() is no netdevice
 * notifier: the registration it reaches is not this rule's */
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
	return notifier_from_errno(ex_shadow(ptr));
}

static struct notifier_block ex_notifier = {
	.notifier_call = ex_event,
};

static int __init ex_init(void)
{
	return register_reboot_notifier(&ex_notifier);
}
