// SPDX-License-Identifier: GPL-2.0
/* sub: a subsystem whose rtnl_link_ops dispatch to per-driver ops */

#include <linux/netdevice.h>
#include <net/rtnetlink.h>

struct sub_ops {
	int (*newlink)(void *ctx, struct net_device *dev, u32 if_id,
		       struct netlink_ext_ack *extack);
};

struct sub_device {
	const struct sub_ops *ops;
	void *ops_ctxt;
};

static struct sub_device *sub_dev_get(struct net_device *dev);

static int sub_rtnl_newlink(struct net *src_net, struct net_device *dev,
			    struct nlattr *tb[], struct nlattr *data[],
			    struct netlink_ext_ack *extack)
{
	struct sub_device *subdev = sub_dev_get(dev);
	int ret;

	if (subdev->ops->newlink)
		ret = subdev->ops->newlink(subdev->ops_ctxt, dev, 0, extack);
	else
		ret = __register_netdevice(dev);
	return ret;
}

static struct rtnl_link_ops sub_rtnl_link_ops = {
	.kind		= "sub",
	.newlink	= sub_rtnl_newlink,
};
