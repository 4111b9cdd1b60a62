// SPDX-License-Identifier: GPL-2.0-or-later
/* stage 6 fixture, review: the replay sends NETDEV_UP before it looks at the
 * NETDEV_REGISTER result, so no existing exit means "this device got nothing".
 */
#include <linux/netdevice.h>

static int call_netdevice_register_notifiers(struct notifier_block *nb,
					     struct net_device *dev)
{
	int err, up = 0;

	err = call_netdevice_notifier(nb, NETDEV_REGISTER, dev);
	if (dev->flags & IFF_UP)
		up = call_netdevice_notifier(nb, NETDEV_UP, dev);
	if (err)
		return notifier_to_errno(err);
	return notifier_to_errno(up);
}
