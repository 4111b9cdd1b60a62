// SPDX-License-Identifier: GPL-2.0
#include <linux/netdevice.h>

#include "vary.h"

int vary_attach(struct net_device *dev)
{
	if (dev->reg_state == NETREG_REGISTERED)
		return 0;
	return register_netdevice(dev);
}
