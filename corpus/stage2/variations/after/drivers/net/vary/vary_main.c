// SPDX-License-Identifier: GPL-2.0
/* vary: registration shapes stage 2 must recognise */

#include <linux/netdevice.h>
#include <net/rtnetlink.h>

#include "vary.h"

static struct rtnl_link_ops vary_link_ops;

/* if ((err = register_netdevice(dev))) */
static int vary_newlink(struct net *src_net, struct net_device *dev,
			struct nlattr *tb[], struct nlattr *data[],
			struct netlink_ext_ack *extack)
{
	int err;

	if ((err = __register_netdevice(dev)))
		return err;
	return vary_attach(dev);
}

/* return register_netdevice(dev); in a helper of another file */
static int vary_changelink(struct net_device *dev, struct nlattr *tb[],
			   struct nlattr *data[],
			   struct netlink_ext_ack *extack)
{
	return vary_attach(dev);
}

/* peer registered with the assignment in the condition, label out_free_peer */
static int vpeer_newlink(struct net *src_net, struct net_device *dev,
			 struct nlattr *tb[], struct nlattr *data[],
			 struct netlink_ext_ack *extack)
{
	struct net_device *twin;
	int ret;

	twin = rtnl_create_link(src_net, "twin%d", NET_NAME_ENUM,
				&vary_link_ops, tb, extack);
	if (IS_ERR(twin))
		return PTR_ERR(twin);

	attach_nd_lock(twin, rcu_dereference_protected(dev->nd_lock, true));
	if ((ret = __register_netdevice(twin)) < 0)
		goto out_free_peer;

	ret = __register_netdevice(
			dev);
	if (ret < 0)
		goto out_unreg_peer;
	return 0;

out_unreg_peer:
	__unregister_netdevice(twin);
	return ret;
out_free_peer:
	detach_nd_lock(twin);
	free_netdev(twin);
	return ret;
}

/* peer registered in a return: no failure path to detach on -> review */
static int vlone_newlink(struct net *src_net, struct net_device *dev,
			 struct nlattr *tb[], struct nlattr *data[],
			 struct netlink_ext_ack *extack)
{
	struct net_device *mate;

	mate = alloc_netdev(0, "mate%d", NET_NAME_ENUM, ether_setup);
	if (!mate)
		return -ENOMEM;
	return __register_netdevice(mate);
}

/* #ifdef around the call inside the function */
static int vcond_newlink(struct net *src_net, struct net_device *dev,
			 struct nlattr *tb[], struct nlattr *data[],
			 struct netlink_ext_ack *extack)
{
	int err;

#ifdef CONFIG_VARY_EXTRA
	dev->flags |= IFF_NOARP;
	err = __register_netdevice(dev);
#else
	err = __register_netdevice(dev);
#endif
	return err;
}

static struct rtnl_link_ops vary_link_ops = {
	.kind		= "vary",
	.newlink	= vary_newlink,
	.changelink	= vary_changelink,
};

static struct rtnl_link_ops vpeer_link_ops = {
	.kind		= "vpeer",
	.newlink	= vpeer_newlink,
};

static struct rtnl_link_ops vlone_link_ops = {
	.kind		= "vlone",
	.newlink	= vlone_newlink,
};

static struct rtnl_link_ops vcond_link_ops = {
	.kind		= "vcond",
	.newlink	= vcond_newlink,
};
