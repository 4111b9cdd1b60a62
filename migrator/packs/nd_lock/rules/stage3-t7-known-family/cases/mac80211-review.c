/* path: net/mac80211/example.c */
/* review: fallback family net/mac80211: configure it in `families` */
#include <linux/netdevice.h>

int ieee80211_ex_register(struct net_device *dev)
{
	int ret;

	ret = register_netdevice(dev);
	if (ret)
		return ret;
	return 0;
}
