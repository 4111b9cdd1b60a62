// SPDX-License-Identifier: GPL-2.0
#include <linux/netdevice.h>

static int md_link(struct net_device *m, struct net_device *p)
{
	return netdev_master_upper_dev_link(p, m, NULL, NULL, NULL);
}

int md_enslave(struct net_device *m, struct net_device *p)
{
	int err;

	err = md_link(m, p);
	if (err)
		netdev_err(m, "cannot enslave %s\n", p->name);
	return err;
}

static int md_add_slave(struct net_device *m, struct net_device *p,
			struct netlink_ext_ack *extack)
{
	return md_enslave(m, p);
}

int md_option_slaves_set(struct md_dev *md, struct md_opt_value *newval)
{
	struct net_device *p;

	p = __dev_get_by_name(dev_net(md->dev), newval->string);
	if (!p)
		return -ENODEV;
	return md_enslave(md->dev, p);
}

static int md_ioctl(struct net_device *m, struct ifreq *ifr, void __user *data,
		    int cmd)
{
	struct net_device *p;
	int err;

	p = __dev_get_by_index(dev_net(m), ifr->ifr_ifindex);
	if (!p)
		return -ENODEV;
	err = md_enslave(m, p);
	return err;
}

static const struct net_device_ops md_netdev_ops = {
	.ndo_add_slave		= md_add_slave,
	.ndo_siocdevprivate	= md_ioctl,
};
