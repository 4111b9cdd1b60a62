// SPDX-License-Identifier: GPL-2.0
#include <linux/netdevice.h>

int wsub_add_iface(struct wsub_phy *phy, struct net_device *dev)
{
	int err;

	mutex_lock(&phy->mtx);
	err = wsub_register_netdevice(dev);
	mutex_unlock(&phy->mtx);
	return err;
}

int wsub_add_monitor(struct wsub_phy *phy, struct net_device *mon)
{
	int err;

	err = wsub_register_netdevice(mon);
	if (err)
		return err;
	phy->monitor = mon;
	return 0;
}
