// SPDX-License-Identifier: GPL-2.0
/*
 * muxy: made-up multiplexed ports created from sysfs on an existing device,
 * registered in un-braced branches.
 */

#include <linux/netdevice.h>

static void muxy_setup(struct net_device *dev);

static int muxy_add(struct net_device *real_dev, u8 id)
{
	struct net_device *new_dev;
	int err;

	new_dev = alloc_netdev(0, "muxy%d", NET_NAME_UNKNOWN, muxy_setup);
	if (!new_dev)
		return -ENOBUFS;

	if (id)
		err = register_netdevice(new_dev);
	else
		err = -EINVAL;
	if (err < 0)
		goto out_free;
	return 0;

out_free:
	free_netdev(new_dev);
	return err;
}

static int muxy_solo(int id)
{
	struct net_device *dev;
	int err = 0;

	dev = alloc_netdev(0, "solo%d", NET_NAME_UNKNOWN, muxy_setup);
	if (!dev)
		return -ENOMEM;
	if (id >= 0)
		err = register_netdevice(dev);
	if (err)
		free_netdev(dev);
	return err;
}

int muxy_store(struct net_device *real_dev, int id)
{
	if (id < 0)
		return muxy_solo(-id);
	return muxy_add(real_dev, id);
}
