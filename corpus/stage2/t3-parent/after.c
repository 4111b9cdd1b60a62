// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * qvlan: tagged virtual LAN devices stacked over a real device.
 *
 * Devices are created either with "ip link add link eth0 name eth0.5
 * type qvlan id 5" or with the legacy QVLAN_ADD ioctl.
 */

#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/uaccess.h>
#include <net/rtnetlink.h>

#include "qvlan.h"

#define QVLAN_ADD	1
#define QVLAN_DEL	2

struct qvlan_ioctl_args {
	int cmd;
	char device1[IFNAMSIZ];
	u16 vid;
};

static LIST_HEAD(qvlan_devices);

static const struct net_device_ops qvlan_netdev_ops;

void qvlan_setup(struct net_device *dev)
{
	ether_setup(dev);
	dev->netdev_ops = &qvlan_netdev_ops;
	dev->needs_free_netdev = true;
}

int qvlan_check_real_dev(struct net_device *real_dev, u16 vlan_id,
			 struct netlink_ext_ack *extack)
{
	struct qvlan_dev_priv *vlan;

	if (vlan_id >= QVLAN_N_VID)
		return -ERANGE;

	list_for_each_entry(vlan, &qvlan_devices, list) {
		if (vlan->real_dev == real_dev && vlan->vlan_id == vlan_id) {
			NL_SET_ERR_MSG(extack, "VLAN device already exists");
			return -EEXIST;
		}
	}
	return 0;
}

int register_qvlan_dev(struct net_device *dev, struct netlink_ext_ack *extack)
{
	struct qvlan_dev_priv *vlan = qvlan_dev_priv(dev);
	struct net_device *real_dev = vlan->real_dev;
	int err;

	err = __register_netdevice(dev);
	if (err < 0)
		goto out;

	err = netdev_upper_dev_link(real_dev, dev, extack);
	if (err)
		goto out_unregister_netdev;

	dev->mtu = real_dev->mtu;
	list_add(&vlan->list, &qvlan_devices);
	return 0;

out_unregister_netdev:
	__unregister_netdevice(dev);
out:
	return err;
}

void unregister_qvlan_dev(struct net_device *dev, struct list_head *head)
{
	struct qvlan_dev_priv *vlan = qvlan_dev_priv(dev);

	list_del(&vlan->list);
	netdev_upper_dev_unlink(vlan->real_dev, dev);
	unregister_netdevice_queue(dev, head);
}

/* Legacy ioctl: create eth0.5 on top of eth0 */
static int qvlan_ioctl_add(struct net *net, const char *real_name, u16 vid)
{
	struct net_device *new_dev, *real_dev;
	struct qvlan_dev_priv *vlan;
	struct nd_lock *nd_lock;
	char name[IFNAMSIZ];
	int err;

	real_dev = __dev_get_by_name(net, real_name);
	if (!real_dev)
		return -ENODEV;

	err = qvlan_check_real_dev(real_dev, vid, NULL);
	if (err < 0)
		return err;

	snprintf(name, IFNAMSIZ, "%s.%i", real_dev->name, vid);
	new_dev = alloc_netdev(sizeof(struct qvlan_dev_priv), name,
			       NET_NAME_UNKNOWN, qvlan_setup);
	if (!new_dev)
		return -ENOBUFS;

	dev_net_set(new_dev, net);
	vlan = qvlan_dev_priv(new_dev);
	vlan->vlan_id = vid;
	vlan->real_dev = real_dev;
	new_dev->rtnl_link_ops = &qvlan_link_ops;

	err = -ENODEV;
	if (lock_netdev(real_dev, &nd_lock)) {
		attach_nd_lock(new_dev, nd_lock);
		err = register_qvlan_dev(new_dev, NULL);
		if (err)
			detach_nd_lock(new_dev);
		unlock_netdev(nd_lock);
	}
	if (err < 0)
		goto out_free_newdev;

	return 0;

out_free_newdev:
	free_netdev(new_dev);
	return err;
}

static int qvlan_ioctl_handler(struct net *net, void __user *arg)
{
	struct qvlan_ioctl_args args;
	int err;

	if (copy_from_user(&args, arg, sizeof(args)))
		return -EFAULT;
	args.device1[IFNAMSIZ - 1] = 0;

	rtnl_lock();
	switch (args.cmd) {
	case QVLAN_ADD:
		err = -EPERM;
		if (!ns_capable(net->user_ns, CAP_NET_ADMIN))
			break;
		err = qvlan_ioctl_add(net, args.device1, args.vid);
		break;
	default:
		err = -EOPNOTSUPP;
		break;
	}
	rtnl_unlock();
	return err;
}

static int __init qvlan_proto_init(void)
{
	int err;

	err = rtnl_link_register(&qvlan_link_ops);
	if (err < 0)
		return err;

	qvlan_ioctl_set(qvlan_ioctl_handler);
	return 0;
}

static void __exit qvlan_cleanup_module(void)
{
	qvlan_ioctl_set(NULL);
	rtnl_link_unregister(&qvlan_link_ops);
}

module_init(qvlan_proto_init);
module_exit(qvlan_cleanup_module);
MODULE_LICENSE("GPL");
