/* path: net/wireless/example.c */
/* net/wireless is configured (`families`): stage3-t7-fallback-family, which this rule
 * runs after, claimed the call */
#include <linux/netdevice.h>

int wex_register(struct net_device *dev)
{
	int ret;

	ret = register_netdevice(dev);
	if (ret)
		return ret;
	return 0;
}
