/* review: not applied: registration inside a if statement */
#include <linux/netdevice.h>

static int ex_tested(struct net *net)
{
	struct net_device *dev;

	dev = alloc_netdev(0, "ext%d", NET_NAME_ENUM, ex_setup);
	if (!dev)
		return -ENOMEM;
	if (register_netdevice(dev)) {
		free_netdev(dev);
		return -EIO;
	}
	return 0;
}
