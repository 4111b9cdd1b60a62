// SPDX-License-Identifier: GPL-2.0
/* a fallback family whose caller holds its own lock at the call */
#include <linux/netdevice.h>

int wlock_register(struct net_device *dev)
{
	int ret;

	ret = register_netdevice(dev);
	return ret ? -EIO : 0;
}

int wlock_add(struct wlock_phy *phy, struct net_device *dev)
{
	int err;

	mutex_lock(&phy->mtx);
	err = wlock_register(dev);
	mutex_unlock(&phy->mtx);
	return err;
}
