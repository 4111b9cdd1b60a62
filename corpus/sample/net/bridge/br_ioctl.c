// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Legacy ioctl interface of the bridge: SIOCBRADDIF, SIOCBRDELIF.
 */

#include <linux/kernel.h>
#include <linux/capability.h>
#include <linux/netdevice.h>
#include <linux/uaccess.h>
#include <net/net_namespace.h>

#include "br_private.h"

/* called with RTNL */
static int add_del_if(struct net_bridge *br, int ifindex, int isadd)
{
	struct net *net = dev_net(br->dev);
	struct net_device *dev;
	int ret;

	if (!ns_capable(net->user_ns, CAP_NET_ADMIN))
		return -EPERM;

	dev = __dev_get_by_index(net, ifindex);
	if (dev == NULL)
		return -EINVAL;

	if (isadd)
		ret = br_add_if(br, dev, NULL);
	else
		ret = br_del_if(br, dev);

	return ret;
}

static int br_dev_read_info(struct net_bridge *br, void __user *data)
{
	struct __bridge_info b;

	memset(&b, 0, sizeof(struct __bridge_info));
	b.port_count = br->port_count;
	b.forward_delay = br->forward_delay;

	if (copy_to_user(data, &b, sizeof(b)))
		return -EFAULT;
	return 0;
}

int br_dev_siocdevprivate(struct net_device *dev, struct ifreq *rq,
			  void __user *data, int cmd)
{
	struct net_bridge *br = netdev_priv(dev);

	switch (cmd) {
	case SIOCBRADDIF:
	case SIOCBRDELIF:
		return add_del_if(br, rq->ifr_ifindex, cmd == SIOCBRADDIF);
	case SIOCDEVPRIVATE:
		return br_dev_read_info(br, data);
	}

	br_debug(br, "Bridge does not support ioctl 0x%x\n", cmd);
	return -EOPNOTSUPP;
}
