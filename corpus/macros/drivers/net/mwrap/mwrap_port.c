// SPDX-License-Identifier: GPL-2.0
/* mwrap ports: standalone devices registered through the driver header's macro. */

#include <linux/netdevice.h>
#include "mwrap.h"

int mwrap_port_create(struct net_device *dev)
{
	dev->mtu = 1500;
	return mwrap_register_standalone(dev);
}
