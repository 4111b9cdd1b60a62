/* path: net/wireless/example.c */
#include <linux/netdevice.h>

int wex_register(struct net_device *dev)
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

int wex_add_iface(struct wex_phy *phy, struct net_device *dev)
{
	int err;

	if (!phy->up)
		return -ENETDOWN;
	mutex_lock(&fallback_nd_lock.mutex);
	err = wex_register(dev);
	mutex_unlock(&fallback_nd_lock.mutex);
	if (err)
		return err;
	phy->count++;
	return 0;
}
