// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Network device notifiers: a reduced core for the migrator sample tree.
 * A notifier block registered late is told about every device that
 * already exists, as if each had just been registered.
 */

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/notifier.h>
#include <net/net_namespace.h>

static RAW_NOTIFIER_HEAD(netdev_chain);

static int call_netdevice_notifier(struct notifier_block *nb, unsigned long val,
				   struct net_device *dev)
{
	struct netdev_notifier_info info = {
		.dev = dev,
	};

	return nb->notifier_call(nb, val, &info);
}

/* Tell one new notifier about one existing device. */
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
	/* Only the devices before the failing one were announced. */
	for_each_netdev_continue_reverse(net, dev)
		call_netdevice_unregister_notifiers(nb, dev);
	return err;
}

int register_netdevice_notifier(struct notifier_block *nb)
{
	struct net *net;
	int err;

	rtnl_lock();
	err = raw_notifier_chain_register(&netdev_chain, nb);
	if (err)
		goto unlock;
	for_each_net(net) {
		err = call_netdevice_register_net_notifiers(nb, net);
		if (err)
			goto rollback;
	}
	goto unlock;

rollback:
	for_each_net_continue_reverse(net) {
		struct net_device *dev;

		for_each_netdev(net, dev)
			call_netdevice_unregister_notifiers(nb, dev);
	}
	raw_notifier_chain_unregister(&netdev_chain, nb);
unlock:
	rtnl_unlock();
	return err;
}
EXPORT_SYMBOL(register_netdevice_notifier);
