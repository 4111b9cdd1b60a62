// SPDX-License-Identifier: GPL-2.0
/*
 * trivnet: the simplest possible rtnetlink device.  It counts what it
 * is given and drops it.  "ip link add t0 type trivnet".
 */

#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <net/rtnetlink.h>

#define DRV_NAME	"trivnet"

struct trivnet_priv {
	u64 packets;
	u64 bytes;
	bool debug;
};

static netdev_tx_t trivnet_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct trivnet_priv *priv = netdev_priv(dev);

	priv->packets++;
	priv->bytes += skb->len;
	dev_kfree_skb(skb);
	return NETDEV_TX_OK;
}

static int trivnet_open(struct net_device *dev)
#ifdef CONFIG_TRIVNET_DEBUG
{
	struct trivnet_priv *priv = netdev_priv(dev);

	priv->debug = true;
	netdev_dbg(dev, "opened\n");
#else
{
#endif
	netif_carrier_on(dev);
	return 0;
}

static int trivnet_stop(struct net_device *dev)
{
	netif_carrier_off(dev);
	return 0;
}

static const struct net_device_ops trivnet_netdev_ops = {
	.ndo_open		= trivnet_open,
	.ndo_stop		= trivnet_stop,
	.ndo_start_xmit		= trivnet_xmit,
};

static void trivnet_setup(struct net_device *dev)
{
	ether_setup(dev);
	dev->netdev_ops = &trivnet_netdev_ops;
	dev->needs_free_netdev = true;
	eth_hw_addr_random(dev);
}

static int trivnet_validate(struct nlattr *tb[], struct nlattr *data[],
			    struct netlink_ext_ack *extack)
{
	if (tb[IFLA_ADDRESS]) {
		if (nla_len(tb[IFLA_ADDRESS]) != ETH_ALEN)
			return -EINVAL;
		if (!is_valid_ether_addr(nla_data(tb[IFLA_ADDRESS])))
			return -EADDRNOTAVAIL;
	}
	return 0;
}

static int trivnet_newlink(struct net *src_net, struct net_device *dev,
			   struct nlattr *tb[], struct nlattr *data[],
			   struct netlink_ext_ack *extack)
{
	return register_netdevice(dev);
}

static void trivnet_dellink(struct net_device *dev, struct list_head *head)
{
	netif_carrier_off(dev);
	unregister_netdevice(dev);
}

static struct rtnl_link_ops trivnet_link_ops __read_mostly = {
	.kind		= DRV_NAME,
	.priv_size	= sizeof(struct trivnet_priv),
	.setup		= trivnet_setup,
	.validate	= trivnet_validate,
	.newlink	= trivnet_newlink,
	.dellink	= trivnet_dellink,
};

static int __init trivnet_init_module(void)
{
	return rtnl_link_register(&trivnet_link_ops);
}

static void __exit trivnet_cleanup_module(void)
{
	rtnl_link_unregister(&trivnet_link_ops);
}

module_init(trivnet_init_module);
module_exit(trivnet_cleanup_module);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Trivial counting network device");
MODULE_ALIAS_RTNL_LINK(DRV_NAME);
