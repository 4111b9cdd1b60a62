#include <linux/netdevice.h>

static int ex_child(struct net_device *lower, int id)
{
	struct net_device *child;
	struct nd_lock *nd_lock;
	int err;

	child = alloc_netdev(0, "exc%d", NET_NAME_ENUM, ex_setup);
	if (!child)
		return -ENOMEM;
	err = -ENODEV;
	if (lock_netdev(lower, &nd_lock)) {
		attach_nd_lock(child, nd_lock);
		err = __register_netdevice(child);
		if (err)
			detach_nd_lock(child);
		unlock_netdev(nd_lock);
	}
	if (err < 0) {
		free_netdev(child);
		return err;
	}
	return netdev_upper_dev_link(lower, child, NULL);
}
