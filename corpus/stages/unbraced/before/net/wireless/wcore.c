// SPDX-License-Identifier: GPL-2.0
/* made-up cfg80211-like core: the registration is an un-braced branch */

#include <linux/netdevice.h>

int wcore_register(struct net_device *dev, bool up)
{
	int ret = 0;

	if (up)
		ret = register_netdevice(dev);
	return ret;
}

int wcore_add(struct net_device *dev)
{
	int err;

	if (dev->flags)
		err = wcore_register(dev, true);
	else
		err = -EINVAL;
	return err;
}
