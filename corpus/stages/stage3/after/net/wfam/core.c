// SPDX-License-Identifier: GPL-2.0
/* a fallback family: its devices all live on fallback_nd_lock */
#include <linux/netdevice.h>

int wfam_register(struct net_device *dev)
{
	int ret;

	attach_nd_lock(dev, &fallback_nd_lock);
	ret = __register_netdevice(dev);
	if (ret)
		detach_nd_lock(dev);
	if (ret)
		return ret;
	return 0;
}

int wfam_add_iface(struct wfam_phy *phy, struct net_device *dev)
{
	int err;

	if (!phy->up)
		return -ENETDOWN;
	mutex_lock(&fallback_nd_lock.mutex);
	err = wfam_register(dev);
	mutex_unlock(&fallback_nd_lock.mutex);
	if (err)
		return err;
	phy->count++;
	return 0;
}
