/* path: net/wireless/example.c */
#include <linux/netdevice.h>

int wex_register(struct net_device *dev)
{
	int ret;

	ret = register_netdevice(dev);
	if (ret)
		return ret;
	return 0;
}

int wex_add_iface(struct wex_phy *phy, struct net_device *dev)
{
	int err;

	if (!phy->up)
		return -ENETDOWN;
	err = wex_register(dev);
	if (err)
		return err;
	phy->count++;
	return 0;
}
