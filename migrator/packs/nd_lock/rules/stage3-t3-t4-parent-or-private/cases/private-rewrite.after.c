#include <linux/netdevice.h>

static int ex_private(struct net *net)
{
	struct nd_lock *nd_lock;
	struct net_device *dev;
	int err;

	dev = alloc_netdev(0, "exp%d", NET_NAME_ENUM, ex_setup);
	if (!dev)
		return -ENOMEM;
	if (!attach_new_nd_lock(dev)) {
		free_netdev(dev);
		return -ENOMEM;
	}
	dev_net_set(dev, net);

	lock_netdev(dev, &nd_lock);
	err = __register_netdevice(dev);
	if (err)
		detach_nd_lock(dev);
	unlock_netdev(nd_lock);
	if (err)
		goto out_free;
	return 0;

out_free:
	free_netdev(dev);
	return err;
}
