// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bridge device: the net_device_ops of a bridge.
 */

#include <linux/kernel.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>

#include "br_private.h"

netdev_tx_t br_dev_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct net_bridge *br = netdev_priv(dev);

	if (list_empty(&br->port_list)) {
		kfree_skb(skb);
		return NETDEV_TX_OK;
	}
	br_flood(br, skb);
	return NETDEV_TX_OK;
}

static int br_dev_open(struct net_device *dev)
{
	netif_carrier_on(dev);
	return 0;
}

static int br_dev_stop(struct net_device *dev)
{
	netif_carrier_off(dev);
	return 0;
}

static const struct net_device_ops br_netdev_ops = {
	.ndo_open		 = br_dev_open,
	.ndo_stop		 = br_dev_stop,
	.ndo_start_xmit		 = br_dev_xmit,
	.ndo_siocdevprivate	 = br_dev_siocdevprivate,
	.ndo_add_slave		 = br_add_slave,
	.ndo_del_slave		 = br_del_slave,
};

void br_dev_setup(struct net_device *dev)
{
	struct net_bridge *br = netdev_priv(dev);

	eth_hw_addr_random(dev);
	ether_setup(dev);
	dev->netdev_ops = &br_netdev_ops;
	dev->needs_free_netdev = true;

	br->dev = dev;
	INIT_LIST_HEAD(&br->port_list);
	br->forward_delay = 15 * HZ;
}
