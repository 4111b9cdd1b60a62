// SPDX-License-Identifier: GPL-1.0+
/*
 * Bonding of several ethernet devices into one logical device, reduced
 * to enslaving for the migrator sample tree.
 *
 * Slaves are added with "ip link set eth0 master bond0", by writing
 * "+eth0" to /sys/class/net/bond0/bonding/slaves, or with the
 * SIOCBONDENSLAVE ioctl.
 */

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/slab.h>
#include <net/rtnetlink.h>

struct slave {
	struct net_device	*dev;
	struct bonding		*bond;
	struct list_head	list;
};

struct bonding {
	struct net_device	*dev;
	struct list_head	slave_list;
	int			slave_cnt;
	int			max_slaves;
};

static rx_handler_result_t bond_handle_frame(struct sk_buff **pskb)
{
	return RX_HANDLER_ANOTHER;
}

/* enslave device <slave_dev> to bond device <bond_dev> */
int bond_enslave(struct net_device *bond_dev, struct net_device *slave_dev,
		 struct netlink_ext_ack *extack)
{
	struct bonding *bond = netdev_priv(bond_dev);
	struct slave *new_slave;
	int res = 0;

	if (slave_dev == bond_dev) {
		NL_SET_ERR_MSG(extack, "Cannot enslave bond to itself.");
		return -EPERM;
	}
	if (bond->slave_cnt >= bond->max_slaves)
		return -EBUSY;

	new_slave = kzalloc(sizeof(*new_slave), GFP_KERNEL);
	if (!new_slave)
		return -ENOMEM;
	new_slave->bond = bond;
	new_slave->dev = slave_dev;

	res = dev_open(slave_dev, extack);
	if (res) {
		netdev_dbg(bond_dev, "Opening slave %s failed\n",
			   slave_dev->name);
		goto err_free;
	}

	res = netdev_rx_handler_register(slave_dev, bond_handle_frame,
					 new_slave);
	if (res)
		goto err_close;

	res = netdev_master_upper_dev_link(slave_dev, bond_dev, new_slave,
					   NULL, extack);
	if (res) {
		netdev_dbg(bond_dev, "Error %d calling master_upper_dev_link\n",
			   res);
		goto err_unregister;
	}

	list_add_tail(&new_slave->list, &bond->slave_list);
	bond->slave_cnt++;
	return 0;

err_unregister:
	netdev_rx_handler_unregister(slave_dev);
err_close:
	dev_close(slave_dev);
err_free:
	kfree(new_slave);
	return res;
}

static int bond_add_slave(struct net_device *bond_dev,
			  struct net_device *slave_dev,
			  struct netlink_ext_ack *extack)
{
	return bond_enslave(bond_dev, slave_dev, extack);
}

static int bond_do_ioctl(struct net_device *bond_dev, struct ifreq *ifr,
			 void __user *data, int cmd)
{
	struct net *net = dev_net(bond_dev);
	struct net_device *slave_dev;
	int res;

	if (!ns_capable(net->user_ns, CAP_NET_ADMIN))
		return -EPERM;

	slave_dev = __dev_get_by_name(net, ifr->ifr_slave);
	if (!slave_dev)
		return -ENODEV;

	switch (cmd) {
	case SIOCBONDENSLAVE:
		res = bond_enslave(bond_dev, slave_dev, NULL);
		break;
	default:
		res = -EOPNOTSUPP;
	}
	return res;
}

/* sysfs: "+ifname" adds a slave */
static ssize_t bonding_store_slaves(struct device *d,
				    struct device_attribute *attr,
				    const char *buffer, size_t count)
{
	struct bonding *bond = to_bond(d);
	struct net_device *dev;
	char ifname[IFNAMSIZ];
	int ret;

	if (sscanf(buffer, "+%15s", ifname) != 1)
		return -EINVAL;

	if (!rtnl_trylock())
		return restart_syscall();

	dev = __dev_get_by_name(dev_net(bond->dev), ifname);
	if (!dev) {
		ret = -ENODEV;
		goto out;
	}

	ret = bond_enslave(bond->dev, dev, NULL);
	if (!ret)
		ret = count;
out:
	rtnl_unlock();
	return ret;
}
static DEVICE_ATTR(slaves, 0644, NULL, bonding_store_slaves);

static const struct net_device_ops bond_netdev_ops = {
	.ndo_siocdevprivate	= bond_do_ioctl,
	.ndo_add_slave		= bond_add_slave,
};

void bond_setup(struct net_device *bond_dev)
{
	struct bonding *bond = netdev_priv(bond_dev);

	bond->dev = bond_dev;
	bond->max_slaves = 16;
	INIT_LIST_HEAD(&bond->slave_list);
	ether_setup(bond_dev);
	bond_dev->netdev_ops = &bond_netdev_ops;
}

MODULE_LICENSE("GPL");
