/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private declarations of the bridge of the migrator sample tree.
 */
#ifndef _BR_PRIVATE_H
#define _BR_PRIVATE_H

#include <linux/netdevice.h>
#include <linux/list.h>

struct net_bridge_port {
	struct net_bridge	*br;
	struct net_device	*dev;
	struct list_head	list;
	u16			port_no;
	struct rcu_head		rcu;
};

struct net_bridge {
	struct net_device	*dev;
	struct list_head	port_list;
	u16			port_count;
	unsigned long		forward_delay;
};

#define br_debug(br, format, args...)			\
	pr_debug("%s: " format,  (br)->dev->name, ##args)

static inline struct net_bridge_port *
br_port_get_rtnl(const struct net_device *dev)
{
	return rtnl_dereference(dev->rx_handler_data);
}

/* br_device.c */
netdev_tx_t br_dev_xmit(struct sk_buff *skb, struct net_device *dev);
void br_dev_setup(struct net_device *dev);

/* br_if.c */
int br_add_if(struct net_bridge *br, struct net_device *dev,
	      struct netlink_ext_ack *extack);
int br_del_if(struct net_bridge *br, struct net_device *dev);
int br_add_slave(struct net_device *dev, struct net_device *slave_dev,
		 struct netlink_ext_ack *extack);
int br_del_slave(struct net_device *dev, struct net_device *slave_dev);

/* br_input.c */
rx_handler_result_t br_handle_frame(struct sk_buff **pskb);

/* br_ioctl.c */
int br_dev_siocdevprivate(struct net_device *dev, struct ifreq *rq,
			  void __user *data, int cmd);

/* br_stp_if.c */
void br_stp_recalculate_bridge_id(struct net_bridge *br);

#endif /* _BR_PRIVATE_H */
