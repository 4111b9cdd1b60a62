/* outside the configured families (`families`): not this rule's */
#include <linux/netdevice.h>

int ex_register(struct net_device *dev)
{
	int ret;

	ret = register_netdevice(dev);
	if (ret)
		return ret;
	return 0;
}
