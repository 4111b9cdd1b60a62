// SPDX-License-Identifier: GPL-2.0
/* subdrv: a driver behind the sub subsystem's ops */

#include <linux/netdevice.h>

struct sub_ops {
	int (*newlink)(void *ctx, struct net_device *dev, u32 if_id,
		       struct netlink_ext_ack *extack);
};

static int subdrv_newlink(void *ctx, struct net_device *dev, u32 if_id,
			  struct netlink_ext_ack *extack)
{
	struct net_device *lower = __dev_get_by_index(dev_net(dev), if_id);

	if (!lower)
		return -ENODEV;
	return __register_netdevice(dev);
}

static const struct sub_ops subdrv_ops = {
	.newlink = subdrv_newlink,
};
