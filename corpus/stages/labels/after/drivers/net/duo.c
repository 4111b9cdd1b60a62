// SPDX-License-Identifier: GPL-2.0
/*
 * duo: made-up paired devices.  The label that frees the peer is reached
 * both before the peer is registered (its checks fail) and after.
 */

#include <linux/netdevice.h>
#include <net/rtnetlink.h>

struct duo_priv {
	struct net_device __rcu *peer;
	unsigned int headroom;
	void *stats;
};

static struct rtnl_link_ops duo_link_ops;
static struct rtnl_link_ops duo_cond_link_ops;
static struct rtnl_link_ops duo_stats_link_ops;

static int duo_check(struct net_device *dev, struct nlattr *attr)
{
	struct duo_priv *priv = netdev_priv(dev);

	priv->headroom = nla_get_u32(attr);
	return priv->headroom > 256 ? -EINVAL : 0;
}

static int duo_newlink(struct net *src_net, struct net_device *dev,
		       struct nlattr *tb[], struct nlattr *data[],
		       struct netlink_ext_ack *extack)
{
	struct net_device *peer;
	int err;

	peer = rtnl_create_link(src_net, "duo%d", NET_NAME_ENUM,
				&duo_link_ops, tb, extack);
	if (IS_ERR(peer))
		return PTR_ERR(peer);

	/* The peer gets the headroom asked for the new device. */
	if (tb[IFLA_MTU]) {
		err = duo_check(peer, tb[IFLA_MTU]);
		if (err)
			goto err_register_peer;
	}

	attach_nd_lock(peer, rcu_dereference_protected(dev->nd_lock, true));
	err = __register_netdevice(peer);
	if (err < 0)
		goto err_detach_peer;

	err = __register_netdevice(dev);
	if (err < 0)
		goto err_register_dev;

	return 0;

err_register_dev:
	__unregister_netdevice(peer);
	return err;

err_detach_peer:
	detach_nd_lock(peer);
	/* the peer never made it */
err_register_peer:
	free_netdev(peer);
	return err;
}

static int duo_cond_newlink(struct net *src_net, struct net_device *dev,
			    struct nlattr *tb[], struct nlattr *data[],
			    struct netlink_ext_ack *extack)
{
	struct net_device *peer;
	int err;

	peer = rtnl_create_link(src_net, "duoc%d", NET_NAME_ENUM,
				&duo_cond_link_ops, tb, extack);
	if (IS_ERR(peer))
		return PTR_ERR(peer);

	err = -EINVAL;
	if (tb[IFLA_MTU] && duo_check(peer, tb[IFLA_MTU]))
		goto out_free;
	attach_nd_lock(peer, rcu_dereference_protected(dev->nd_lock, true));
	if ((err = __register_netdevice(peer)) < 0)
		goto err_detach_peer;
	if ((err = __register_netdevice(dev)) < 0) {
		__unregister_netdevice(peer);
		return err;
	}
	return 0;
err_detach_peer:
	detach_nd_lock(peer);
out_free:
	free_netdev(peer);
	return err;
}

static int duo_stats_newlink(struct net *src_net, struct net_device *dev,
			     struct nlattr *tb[], struct nlattr *data[],
			     struct netlink_ext_ack *extack)
{
	struct duo_priv *priv;
	struct net_device *peer;
	int err;

	peer = rtnl_create_link(src_net, "duos%d", NET_NAME_ENUM,
				&duo_stats_link_ops, tb, extack);
	if (IS_ERR(peer))
		return PTR_ERR(peer);
	priv = netdev_priv(peer);
	priv->stats = kzalloc(64, GFP_KERNEL);
	if (!priv->stats) {
		err = -ENOMEM;
		goto err_stats;
	}

	err = __register_netdevice(peer);
	if (err < 0)
		goto err_stats;

	err = __register_netdevice(dev);
	if (err < 0) {
		__unregister_netdevice(peer);
		return err;
	}
	return 0;

err_stats:
	kfree(priv->stats);
	free_netdev(peer);
	return err;
}

static void duo_setup(struct net_device *dev)
{
	ether_setup(dev);
}

static struct rtnl_link_ops duo_link_ops = {
	.kind		= "duo",
	.priv_size	= sizeof(struct duo_priv),
	.setup		= duo_setup,
	.newlink	= duo_newlink,
};

static struct rtnl_link_ops duo_cond_link_ops = {
	.kind		= "duoc",
	.priv_size	= sizeof(struct duo_priv),
	.setup		= duo_setup,
	.newlink	= duo_cond_newlink,
};

static struct rtnl_link_ops duo_stats_link_ops = {
	.kind		= "duos",
	.priv_size	= sizeof(struct duo_priv),
	.setup		= duo_setup,
	.newlink	= duo_stats_newlink,
};
