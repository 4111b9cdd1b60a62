/* a driver's own registration is no core API: the rules after this one decide */
#include <linux/netdevice.h>

static int ex_probe(struct net *net)
{
	struct net_device *dev;
	int err;

	dev = alloc_netdev(0, "ex%d", NET_NAME_ENUM, ex_setup);
	if (!dev)
		return -ENOMEM;
	dev_net_set(dev, net);

	err = register_netdevice(dev);
	if (err)
		goto out_free;
	return 0;

out_free:
	free_netdev(dev);
	return err;
}
