// SPDX-License-Identifier: GPL-2.0
/* mwrap: made-up driver whose registrations and links hide in macros. */

#include <linux/module.h>
#include <linux/netdevice.h>
#include <net/rtnetlink.h>
#include <net/net_namespace.h>
#include "mwrap.h"

static unsigned int mwrap_count;

/* Not a macro: #define MWRAP_FAKE(d) register_netdevice(d) */
#define MWRAP_FAKE(d)	mwrap_fake_setup(d)

/* Register and count the device. */
#define MWRAP_REGISTER(d)						\
	({								\
		int __err = register_netdevice(d);			\
		if (!__err)						\
			mwrap_count++;					\
		__err;							\
	})
#define MWRAP_REGISTER_QUIET(d)	MWRAP_REGISTER(d)
#define MWRAP_SETUP(d)		mwrap_setup_dev(d)
#define MWRAP_STANDALONE(d)	register_netdev(d)

static void mwrap_fake_setup(struct net_device *dev)
{
	dev->mtu = 1500;
}

static int mwrap_setup_dev(struct net_device *dev)
{
	return register_netdevice(dev);
}

static int mwrap_newlink(struct net *src_net, struct net_device *dev,
			 struct nlattr *tb[], struct nlattr *data[],
			 struct netlink_ext_ack *extack)
{
	MWRAP_FAKE(dev);
	return MWRAP_REGISTER_QUIET(dev);
}

static int mwrap_changelink(struct net_device *dev, struct nlattr *tb[],
			    struct nlattr *data[], struct netlink_ext_ack *extack)
{
	return MWRAP_SETUP(dev);
}

static int mwrap_add_slave(struct net_device *dev, struct net_device *port,
			   struct netlink_ext_ack *extack)
{
	int err;

	err = MWRAP_ENSLAVE(dev, port, extack);
	return err;
}

static struct rtnl_link_ops mwrap_link_ops __read_mostly = {
	.kind		= "mwrap",
	.newlink	= mwrap_newlink,
	.changelink	= mwrap_changelink,
};

static int __net_init mwrap_net_init(struct net *net)
{
	struct net_device *dev;

	dev = alloc_netdev(0, "mwrap%d", NET_NAME_UNKNOWN, ether_setup);
	if (!dev)
		return -ENOMEM;
	return mwrap_register_standalone(dev);
}

static int mwrap_probe_one(struct net_device *dev)
{
	return MWRAP_STANDALONE(dev);
}

static struct pernet_operations mwrap_net_ops = {
	.init = mwrap_net_init,
};
