// SPDX-License-Identifier: GPL-2.0
/*
 * armx: a made-up link kind whose .newlink registers in an #if arm that does not
 * balance its braces with the other arm, so a parser reads only one arm at a time.
 */

#include <linux/module.h>
#include <linux/netdevice.h>
#include <net/rtnetlink.h>

static int armx_fast_setup(struct net_device *dev)
{
	return 0;
}

static int armx_newlink(struct net *src_net, struct net_device *dev,
			struct nlattr *tb[], struct nlattr *data[],
			struct netlink_ext_ack *extack)
{
	int err;

#ifdef CONFIG_ARMX_FAST
	if (tb[IFLA_MTU]) {
		err = armx_fast_setup(dev);
#else
	if (data) {
		/* armx_old_setup(dev) is gone: register directly */
		err = register_netdevice(dev);
#endif
		if (err)
			return err;
	}
	return 0;
}

static struct rtnl_link_ops armx_link_ops __read_mostly = {
	.kind		= "armx",
	.newlink	= armx_newlink,
};
