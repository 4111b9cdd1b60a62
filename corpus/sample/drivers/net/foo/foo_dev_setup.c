// SPDX-License-Identifier: GPL-2.0
/*
 * foo: device setup and registration helpers, shared by the netlink
 * code in foo_core.c.
 */

#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/debugfs.h>

#include "foo.h"

LIST_HEAD(foo_dev_list);

static netdev_tx_t foo_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct foo_priv *priv = netdev_priv(dev);

	switch (priv->mode) {
	case FOO_MODE_LOOP:
	case FOO_MODE_ECHO:
		skb->protocol = eth_type_trans(skb, dev);
		netif_rx(skb);
		break;
	default:
		dev_kfree_skb(skb);
		break;
	}
	return NETDEV_TX_OK;
}

static const struct net_device_ops foo_netdev_ops = {
	.ndo_start_xmit	= foo_xmit,
};

void foo_setup(struct net_device *dev)
{
	ether_setup(dev);
	dev->netdev_ops = &foo_netdev_ops;
	dev->needs_free_netdev = true;
}

void foo_dev_apply_mode(struct foo_priv *priv, enum foo_mode mode)
{
	priv->mode = mode;
	if (mode == FOO_MODE_DROP)
		netif_carrier_off(priv->dev);
	else
		netif_carrier_on(priv->dev);
}

static int foo_debugfs_add(struct foo_priv *priv)
{
	priv->debugfs_dir = debugfs_create_dir(netdev_name(priv->dev), NULL);
	if (IS_ERR(priv->debugfs_dir))
		return PTR_ERR(priv->debugfs_dir);
	return 0;
}

/**
 * foo_dev_register - register a foo device and publish it
 * @dev: device allocated by the rtnetlink core
 * @mode: initial forwarding mode
 * @queues: number of queues
 * @extack: netlink extended ack
 *
 * Return: 0 on success, negative errno otherwise.
 */
int foo_dev_register(struct net_device *dev, enum foo_mode mode,
		     unsigned int queues, struct netlink_ext_ack *extack)
{
	struct foo_priv *priv = netdev_priv(dev);
	int err;

	priv->dev = dev;
	priv->queues = queues;

	err = register_netdevice(dev);
	if (err < 0) {
		NL_SET_ERR_MSG(extack, "foo: cannot register device");
		return err;
	}

#ifdef CONFIG_FOO_MULTIQUEUE
	netif_set_real_num_tx_queues(dev, queues);
#endif

	err = foo_debugfs_add(priv);
	if (err)
		goto err_unregister;

	foo_dev_apply_mode(priv, mode);
	list_add_tail(&priv->list, &foo_dev_list);
	return 0;

err_unregister:
	unregister_netdevice(dev);
	return err;
}
