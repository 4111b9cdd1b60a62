// SPDX-License-Identifier: GPL-2.0-only
/*
 * qvlan netlink control interface
 */

#include <linux/kernel.h>
#include <linux/netdevice.h>
#include <net/netlink.h>
#include <net/rtnetlink.h>

#include "qvlan.h"

static const struct nla_policy qvlan_policy[IFLA_QVLAN_MAX + 1] = {
	[IFLA_QVLAN_ID]		= { .type = NLA_U16 },
	[IFLA_QVLAN_FLAGS]	= { .type = NLA_U32 },
};

static int qvlan_validate(struct nlattr *tb[], struct nlattr *data[],
			  struct netlink_ext_ack *extack)
{
	if (!data) {
		NL_SET_ERR_MSG_MOD(extack, "VLAN properties not specified");
		return -EINVAL;
	}
	if (!data[IFLA_QVLAN_ID]) {
		NL_SET_ERR_MSG_MOD(extack, "VLAN id not specified");
		return -EINVAL;
	}
	return 0;
}

static int qvlan_changelink(struct net_device *dev, struct nlattr *tb[],
			    struct nlattr *data[],
			    struct netlink_ext_ack *extack)
{
	struct qvlan_dev_priv *vlan = qvlan_dev_priv(dev);

	if (data && data[IFLA_QVLAN_FLAGS])
		vlan->flags = nla_get_u32(data[IFLA_QVLAN_FLAGS]);
	return 0;
}

static int qvlan_newlink(struct net *src_net, struct net_device *dev,
			 struct nlattr *tb[], struct nlattr *data[],
			 struct netlink_ext_ack *extack)
{
	struct qvlan_dev_priv *vlan = qvlan_dev_priv(dev);
	struct net_device *real_dev;
	unsigned int link;
	int err;

	if (!tb[IFLA_LINK]) {
		NL_SET_ERR_MSG_MOD(extack, "link not specified");
		return -EINVAL;
	}

	link = nla_get_u32(tb[IFLA_LINK]);
	real_dev = __dev_get_by_index(src_net, link);
	if (!real_dev) {
		NL_SET_ERR_MSG_MOD(extack, "link does not exist");
		return -ENODEV;
	}

	vlan->vlan_id = nla_get_u16(data[IFLA_QVLAN_ID]);
	vlan->real_dev = real_dev;

	err = qvlan_check_real_dev(real_dev, vlan->vlan_id, extack);
	if (err < 0)
		return err;

	err = qvlan_changelink(dev, tb, data, extack);
	if (!err)
		err = register_qvlan_dev(dev, extack);
	return err;
}

static void qvlan_dellink(struct net_device *dev, struct list_head *head)
{
	unregister_qvlan_dev(dev, head);
}

struct rtnl_link_ops qvlan_link_ops __read_mostly = {
	.kind		= "qvlan",
	.maxtype	= IFLA_QVLAN_MAX,
	.policy		= qvlan_policy,
	.priv_size	= sizeof(struct qvlan_dev_priv),
	.setup		= qvlan_setup,
	.validate	= qvlan_validate,
	.newlink	= qvlan_newlink,
	.changelink	= qvlan_changelink,
	.dellink	= qvlan_dellink,
};
