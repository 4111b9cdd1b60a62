/* path: net/wireless/example.c */
/* review: T7 (net/wireless) */
#include <linux/netdevice.h>

int wex_register(struct net_device *dev)
{
	int ret;

	ret = register_netdevice(dev);
	return ret ? -EIO : 0;
}

int wex_add(struct wex_phy *phy, struct net_device *dev)
{
	int err;

	mutex_lock(&phy->mtx);
	err = wex_register(dev);
	mutex_unlock(&phy->mtx);
	return err;
}
