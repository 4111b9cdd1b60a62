// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * qteam: port aggregation driven by a user space daemon over generic
 * netlink.  Ports are added only through QTEAM_CMD_PORT_ADD.
 */

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <net/rtnetlink.h>

struct qteam_port {
	struct net_device	*dev;
	struct list_head	list;
};

struct qteam {
	struct net_device	*dev;
	struct list_head	port_list;
	bool			frozen;
};

static int qteam_port_add(struct qteam *team, struct net_device *port_dev,
			  struct netlink_ext_ack *extack)
{
	struct net_device *dev = team->dev;
	struct qteam_port *port;
	int err;

	if (team->frozen)
		return -EBUSY;
	if (port_dev->flags & IFF_LOOPBACK) {
		NL_SET_ERR_MSG(extack, "Loopback device can't be added as a team port");
		return -EINVAL;
	}

	port = kzalloc(sizeof(*port), GFP_KERNEL);
	if (!port)
		return -ENOMEM;
	port->dev = port_dev;

	err = netdev_master_upper_dev_link(port_dev, dev, NULL, NULL, extack);
	if (err) {
		netdev_err(dev, "Device %s failed to set upper link\n",
			   port_dev->name);
		goto err_set_upper_link;
	}

	if (port_dev->mtu != dev->mtu)
		goto err_mtu;

	list_add_tail(&port->list, &team->port_list);
	return 0;

err_mtu:
	netdev_upper_dev_unlink(port_dev, dev);
err_set_upper_link:
	kfree(port);
	return err ? err : -EINVAL;
}

static int qteam_nl_cmd_port_add(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = genl_info_net(info);
	struct net_device *dev, *port_dev;
	int err;

	if (!info->attrs[QTEAM_ATTR_TEAM_IFINDEX] ||
	    !info->attrs[QTEAM_ATTR_PORT_IFINDEX])
		return -EINVAL;

	rtnl_lock();
	dev = __dev_get_by_index(net,
			nla_get_u32(info->attrs[QTEAM_ATTR_TEAM_IFINDEX]));
	port_dev = __dev_get_by_index(net,
			nla_get_u32(info->attrs[QTEAM_ATTR_PORT_IFINDEX]));
	if (!dev || !port_dev) {
		err = -ENODEV;
		goto unlock;
	}
	err = qteam_port_add(netdev_priv(dev), port_dev, info->extack);
unlock:
	rtnl_unlock();
	return err;
}

static const struct genl_small_ops qteam_nl_ops[] = {
	{
		.cmd = QTEAM_CMD_PORT_ADD,
		.doit = qteam_nl_cmd_port_add,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family qteam_nl_family __ro_after_init = {
	.name		= "qteam",
	.version	= 1,
	.module		= THIS_MODULE,
	.small_ops	= qteam_nl_ops,
	.n_small_ops	= ARRAY_SIZE(qteam_nl_ops),
};

static int __init qteam_module_init(void)
{
	return genl_register_family(&qteam_nl_family);
}
module_init(qteam_module_init);
MODULE_LICENSE("GPL v2");
