#include <linux/netdevice.h>

static int ex_child(struct net_device *lower, int id)
{
	struct net_device *child;
	int err;

	child = alloc_netdev(0, "exc%d", NET_NAME_ENUM, ex_setup);
	if (!child)
		return -ENOMEM;
	err = register_netdevice(child);
	if (err < 0) {
		free_netdev(child);
		return err;
	}
	return netdev_upper_dev_link(lower, child, NULL);
}
