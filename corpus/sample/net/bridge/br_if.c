// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Bridge port management: adding and removing ports of a bridge.
 */

#include <linux/kernel.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/slab.h>
#include <net/rtnetlink.h>

#include "br_private.h"

static struct net_bridge_port *new_nbp(struct net_bridge *br,
				       struct net_device *dev)
{
	struct net_bridge_port *p;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return ERR_PTR(-ENOMEM);

	p->br = br;
	p->dev = dev;
	p->port_no = ++br->port_count;
	return p;
}

static int br_port_check(const struct net_bridge *br,
			 const struct net_device *dev,
			 struct netlink_ext_ack *extack)
{
	/* Don't allow bridging non-ethernet like devices. */
	if ((dev->flags & IFF_LOOPBACK) || dev->type != ARPHRD_ETHER ||
	    dev->addr_len != ETH_ALEN)
		return -EINVAL;

	/* No bridging of bridges */
	if (dev->netdev_ops->ndo_start_xmit == br_dev_xmit) {
		NL_SET_ERR_MSG(extack, "Can not enslave a bridge to a bridge");
		return -ELOOP;
	}

	if (dev == br->dev)
		return -ELOOP;
	return 0;
}

/* called with RTNL */
int br_add_if(struct net_bridge *br, struct net_device *dev,
	      struct netlink_ext_ack *extack)
{
	struct net_bridge_port *p;
	int err;

	err = br_port_check(br, dev, extack);
	if (err)
		return err;

	p = new_nbp(br, dev);
	if (IS_ERR(p))
		return PTR_ERR(p);

	err = netdev_rx_handler_register(dev, br_handle_frame, p);
	if (err)
		goto err_free;

	err = netdev_master_upper_dev_link(dev, br->dev, NULL, NULL, extack);
	if (err)
		goto err_unregister_rx;

	list_add_rcu(&p->list, &br->port_list);
	br_stp_recalculate_bridge_id(br);
	netdev_info(br->dev, "port %u(%s) entered forwarding state\n",
		    p->port_no, dev->name);
	return 0;

err_unregister_rx:
	netdev_rx_handler_unregister(dev);
err_free:
	kfree(p);
	return err;
}

/* called with RTNL */
int br_del_if(struct net_bridge *br, struct net_device *dev)
{
	struct net_bridge_port *p = br_port_get_rtnl(dev);

	if (!p || p->br != br)
		return -EINVAL;

	list_del_rcu(&p->list);
	netdev_upper_dev_unlink(dev, br->dev);
	netdev_rx_handler_unregister(dev);
	kfree_rcu(p, rcu);
	return 0;
}

/* .ndo_add_slave: rtnetlink "ip link set eth0 master br0" */
int br_add_slave(struct net_device *dev, struct net_device *slave_dev,
		 struct netlink_ext_ack *extack)
{
	struct net_bridge *br = netdev_priv(dev);

	return br_add_if(br, slave_dev, extack);
}

int br_del_slave(struct net_device *dev, struct net_device *slave_dev)
{
	struct net_bridge *br = netdev_priv(dev);

	return br_del_if(br, slave_dev);
}
