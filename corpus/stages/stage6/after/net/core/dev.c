// SPDX-License-Identifier: GPL-2.0-or-later
/* stage 6 fixture: the NETDEV_REGISTER replay to a new notifier block, in the
 * shape net/core/dev.c has it (one device, one block, rollback on error).
 */
#include <linux/netdevice.h>

static int call_netdevice_register_notifiers(struct notifier_block *nb,
					     struct net_device *dev)
{
	struct nd_lock *nd_lock;
	int err;

	/* The replayed event runs under the device's nd_lock, like the one
	 * __register_netdevice() sends.  A device whose lock cannot be taken
	 * (it is being unregistered) fails the replay like a notifier error.
	 */
	if (!lock_netdev(dev, &nd_lock))
		return -ENODEV;
	err = call_netdevice_notifier(nb, NETDEV_REGISTER, dev);
	unlock_netdev(nd_lock);
	err = notifier_to_errno(err);
	if (err)
		return err;

	if (!(dev->flags & IFF_UP))
		return 0;

	call_netdevice_notifier(nb, NETDEV_UP, dev);
	return 0;
}

static void call_netdevice_unregister_notifiers(struct notifier_block *nb,
						struct net_device *dev)
{
	if (dev->flags & IFF_UP)
		call_netdevice_notifier(nb, NETDEV_DOWN, dev);
	call_netdevice_notifier(nb, NETDEV_UNREGISTER, dev);
}

static int call_netdevice_register_net_notifiers(struct notifier_block *nb,
						 struct net *net)
{
	struct net_device *dev;
	int err;

	for_each_netdev(net, dev) {
		err = call_netdevice_register_notifiers(nb, dev);
		if (err)
			goto rollback;
	}
	return 0;

rollback:
	for_each_netdev_continue_reverse(net, dev)
		call_netdevice_unregister_notifiers(nb, dev);
	return err;
}

int register_netdevice_notifier(struct notifier_block *nb)
{
	struct net *net;
	int err;

	rtnl_lock();
	for_each_net(net) {
		err = call_netdevice_register_net_notifiers(nb, net);
		if (err)
			goto unlock;
	}
unlock:
	rtnl_unlock();
	return err;
}
