// SPDX-License-Identifier: GPL-2.0-or-later
/* stage 6 fixture: the NETDEV_REGISTER replay of net/core/dev.c (6.12 shape) */
#include <linux/netdevice.h>

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

	for_each_net(net) {
		err = call_netdevice_register_net_notifiers(nb, net);
		if (err)
			goto rollback;
	}
	return 0;
rollback:
	return err;
}
