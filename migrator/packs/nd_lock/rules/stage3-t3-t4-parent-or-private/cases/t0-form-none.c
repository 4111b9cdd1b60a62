/* the T0 form stage 1 writes: register_netdevice() under the function's own
 * rtnl_lock_killable() gives the device a private lock; claimed as no site */
#include <linux/netdevice.h>

static int ex_standalone(struct net *net)
{
	struct net_device *dev;
	int err;

	dev = alloc_netdev(0, "exs%d", NET_NAME_ENUM, ex_setup);
	if (!dev)
		return -ENOMEM;
	err = rtnl_lock_killable();
	if (!err) {
		err = register_netdevice(dev);
		rtnl_unlock();
	}
	if (err)
		free_netdev(dev);
	return err;
}
