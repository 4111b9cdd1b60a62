// SPDX-License-Identifier: GPL-2.0
/* made-up cfg80211-like core: the registration is an un-braced branch */

#include <linux/netdevice.h>

int wcore_register(struct net_device *dev, bool up)
{
	int ret = 0;

	if (up) {
		attach_nd_lock(dev, &fallback_nd_lock);
		ret = __register_netdevice(dev);
		if (ret)
			detach_nd_lock(dev);
	}
	return ret;
}

int wcore_add(struct net_device *dev)
{
	int err;

	if (dev->flags) {
		mutex_lock(&fallback_nd_lock.mutex);
		err = wcore_register(dev, true);
		mutex_unlock(&fallback_nd_lock.mutex);
	} else {
		err = -EINVAL;
	}
	return err;
}
