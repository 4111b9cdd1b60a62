// SPDX-License-Identifier: GPL-2.0-only
/*
 * vpair: a pair of connected virtual ethernet devices.  A frame sent
 * on one end is received on the other.
 *
 *	ip link add a0 type vpair peer name b0
 */

#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <net/rtnetlink.h>

#define DRV_NAME	"vpair"

struct vpair_priv {
	struct net_device __rcu	*peer;
	u64			rx_dropped;
};

static struct rtnl_link_ops vpair_link_ops;

static netdev_tx_t vpair_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct vpair_priv *priv = netdev_priv(dev);
	struct net_device *rcv;

	rcu_read_lock();
	rcv = rcu_dereference(priv->peer);
	if (unlikely(!rcv) || __dev_forward_skb(rcv, skb)) {
		priv->rx_dropped++;
		kfree_skb(skb);
	} else {
		netif_rx(skb);
	}
	rcu_read_unlock();
	return NETDEV_TX_OK;
}

static const struct net_device_ops vpair_netdev_ops = {
	.ndo_start_xmit	= vpair_xmit,
};

static void vpair_setup(struct net_device *dev)
{
	ether_setup(dev);
	dev->netdev_ops = &vpair_netdev_ops;
	dev->needs_free_netdev = true;
}

static int vpair_newlink(struct net *src_net, struct net_device *dev,
			 struct nlattr *tb[], struct nlattr *data[],
			 struct netlink_ext_ack *extack)
{
	struct nlattr *peer_tb[IFLA_MAX + 1], **tbp = tb;
	struct vpair_priv *priv;
	struct net_device *peer;
	char ifname[IFNAMSIZ];
	unsigned char name_assign_type;
	struct net *net;
	int err;

	if (data && data[VPAIR_INFO_PEER]) {
		err = rtnl_nla_parse_ifinfomsg(peer_tb, data[VPAIR_INFO_PEER],
					       extack);
		if (err < 0)
			return err;
		tbp = peer_tb;
	}

	if (ifmsg_name(tbp, ifname)) {
		name_assign_type = NET_NAME_USER;
	} else {
		snprintf(ifname, IFNAMSIZ, DRV_NAME "%%d");
		name_assign_type = NET_NAME_ENUM;
	}

	net = rtnl_link_get_net(src_net, tbp);
	if (IS_ERR(net))
		return PTR_ERR(net);

	peer = rtnl_create_link(net, ifname, name_assign_type,
				&vpair_link_ops, tbp, extack);
	if (IS_ERR(peer)) {
		put_net(net);
		return PTR_ERR(peer);
	}

	if (!tbp[IFLA_ADDRESS])
		eth_hw_addr_random(peer);

	err = register_netdevice(peer);
	put_net(net);
	net = NULL;
	if (err < 0)
		goto err_register_peer;

	netif_carrier_off(peer);

	if (!tb[IFLA_ADDRESS])
		eth_hw_addr_random(dev);

	err = register_netdevice(dev);
	if (err < 0)
		goto err_register_dev;

	netif_carrier_off(dev);

	priv = netdev_priv(dev);
	rcu_assign_pointer(priv->peer, peer);
	priv = netdev_priv(peer);
	rcu_assign_pointer(priv->peer, dev);
	return 0;

err_register_dev:
	unregister_netdevice(peer);
	return err;

err_register_peer:
	free_netdev(peer);
	return err;
}

static void vpair_dellink(struct net_device *dev, struct list_head *head)
{
	struct vpair_priv *priv = netdev_priv(dev);
	struct net_device *peer = rtnl_dereference(priv->peer);

	RCU_INIT_POINTER(priv->peer, NULL);
	unregister_netdevice_queue(dev, head);
	if (peer) {
		priv = netdev_priv(peer);
		RCU_INIT_POINTER(priv->peer, NULL);
		unregister_netdevice_queue(peer, head);
	}
}

static struct rtnl_link_ops vpair_link_ops = {
	.kind		= DRV_NAME,
	.priv_size	= sizeof(struct vpair_priv),
	.setup		= vpair_setup,
	.newlink	= vpair_newlink,
	.dellink	= vpair_dellink,
	.maxtype	= VPAIR_INFO_MAX,
};

static __init int vpair_init(void)
{
	return rtnl_link_register(&vpair_link_ops);
}

static __exit void vpair_exit(void)
{
	rtnl_link_unregister(&vpair_link_ops);
}

module_init(vpair_init);
module_exit(vpair_exit);
MODULE_DESCRIPTION("Virtual Ethernet pair device");
MODULE_LICENSE("GPL v2");
MODULE_ALIAS_RTNL_LINK(DRV_NAME);
