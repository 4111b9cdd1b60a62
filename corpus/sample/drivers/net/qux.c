// SPDX-License-Identifier: GPL-2.0
/*
 * qux: a device stacked over a mandatory lower device, with an optional
 * backup device that takes over when the lower one loses carrier.
 *
 *	ip link add q0 type qux link eth0 [backup eth1]
 */

#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <net/rtnetlink.h>

struct qux_priv {
	struct net_device	*lower;
	struct net_device	*backup;
	u32			mode;
};

static const struct nla_policy qux_policy[IFLA_QUX_MAX + 1] = {
	[IFLA_QUX_LINK]		= { .type = NLA_U32 },
	[IFLA_QUX_BACKUP]	= { .type = NLA_U32 },
	[IFLA_QUX_MODE]		= { .type = NLA_U32 },
};

static const struct net_device_ops qux_netdev_ops;

static void qux_setup(struct net_device *dev)
{
	ether_setup(dev);
	dev->netdev_ops = &qux_netdev_ops;
	dev->needs_free_netdev = true;
}

static int qux_set_backup(struct qux_priv *priv, struct net_device *backup,
			  struct netlink_ext_ack *extack)
{
	if (backup == priv->lower) {
		NL_SET_ERR_MSG(extack, "qux: backup must differ from link");
		return -EINVAL;
	}
	priv->backup = backup;
	return 0;
}

static int qux_newlink(struct net *src_net, struct net_device *dev,
		       struct nlattr *tb[], struct nlattr *data[],
		       struct netlink_ext_ack *extack)
{
	struct qux_priv *priv = netdev_priv(dev);
	struct net_device *lower, *backup;
	int err;

	if (!data || !data[IFLA_QUX_LINK]) {
		NL_SET_ERR_MSG(extack, "qux: lower link is mandatory");
		return -EINVAL;
	}

	lower = __dev_get_by_index(src_net, nla_get_u32(data[IFLA_QUX_LINK]));
	if (!lower)
		return -ENODEV;
	priv->lower = lower;

	if (data[IFLA_QUX_BACKUP]) {
		backup = __dev_get_by_index(src_net,
					    nla_get_u32(data[IFLA_QUX_BACKUP]));
		if (!backup)
			return -ENODEV;
		err = qux_set_backup(priv, backup, extack);
		if (err)
			return err;
	}

	if (data[IFLA_QUX_MODE])
		priv->mode = nla_get_u32(data[IFLA_QUX_MODE]);

	dev->mtu = lower->mtu;
	if ((err = register_netdevice(dev)) < 0)
		return err;

	netif_carrier_off(dev);
	return 0;
}

static int qux_changelink(struct net_device *dev, struct nlattr *tb[],
			  struct nlattr *data[],
			  struct netlink_ext_ack *extack)
{
	struct qux_priv *priv = netdev_priv(dev);
	struct net_device *backup;
	u32 ifindex;

	if (!data)
		return 0;

	if (data[IFLA_QUX_LINK]) {
		NL_SET_ERR_MSG(extack, "qux: lower link cannot be changed");
		return -EOPNOTSUPP;
	}

	if (data[IFLA_QUX_BACKUP]) {
		ifindex = nla_get_u32(data[IFLA_QUX_BACKUP]);
		backup = __dev_get_by_index(dev_net(dev), ifindex);
		if (!backup)
			return -ENODEV;
		return qux_set_backup(priv, backup, extack);
	}
	return 0;
}

static struct rtnl_link_ops qux_link_ops __read_mostly = {
	.kind		= "qux",
	.maxtype	= IFLA_QUX_MAX,
	.policy		= qux_policy,
	.priv_size	= sizeof(struct qux_priv),
	.setup		= qux_setup,
	.newlink	= qux_newlink,
	.changelink	= qux_changelink,
};

module_rtnl_link_ops(qux_link_ops);
MODULE_LICENSE("GPL");
MODULE_ALIAS_RTNL_LINK("qux");
