/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __QVLAN_H
#define __QVLAN_H

#include <linux/netdevice.h>
#include <linux/list.h>

#define QVLAN_N_VID	4096

struct qvlan_dev_priv {
	u16			vlan_id;
	u32			flags;
	struct net_device	*real_dev;
	struct list_head	list;
};

static inline struct qvlan_dev_priv *
qvlan_dev_priv(const struct net_device *dev)
{
	return netdev_priv(dev);
}

/* found in qvlan.c */
int register_qvlan_dev(struct net_device *dev, struct netlink_ext_ack *extack);
void unregister_qvlan_dev(struct net_device *dev, struct list_head *head);
int qvlan_check_real_dev(struct net_device *real_dev, u16 vlan_id,
			 struct netlink_ext_ack *extack);
void qvlan_setup(struct net_device *dev);

/* found in qvlan_netlink.c */
extern struct rtnl_link_ops qvlan_link_ops;

#endif /* __QVLAN_H */
