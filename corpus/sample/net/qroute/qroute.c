// SPDX-License-Identifier: GPL-2.0
/*
 * qroute: a small routing table whose rtnetlink handlers are registered the
 * ways the kernel does it: a table without designators (as net/mpls and
 * net/phonet write theirs) and rtnl_register_module().
 */
#include <linux/module.h>
#include <net/rtnetlink.h>

#define PF_QROUTE	46

static int qroute_newroute(struct sk_buff *skb, struct nlmsghdr *nlh,
			   struct netlink_ext_ack *extack);
static int qroute_delroute(struct sk_buff *skb, struct nlmsghdr *nlh,
			   struct netlink_ext_ack *extack);
static int qroute_getroute(struct sk_buff *skb, struct nlmsghdr *nlh,
			   struct netlink_ext_ack *extack);
static int qroute_dump(struct sk_buff *skb, struct netlink_callback *cb);

static const struct rtnl_msg_handler qroute_rtnl_msg_handlers[] __initdata_or_module = {
	{THIS_MODULE, PF_QROUTE, RTM_NEWROUTE, qroute_newroute, NULL, 0},
	{THIS_MODULE, PF_QROUTE, RTM_DELROUTE, qroute_delroute, NULL, 0},
	/* lookups and dumps run under RCU */
	{THIS_MODULE, PF_QROUTE, RTM_GETROUTE, qroute_getroute, qroute_dump,
	 RTNL_FLAG_DUMP_UNLOCKED},
};

static int __init qroute_init(void)
{
	int err;

	err = rtnl_register_many(qroute_rtnl_msg_handlers);
	if (err)
		return err;
	return rtnl_register_module(THIS_MODULE, PF_QROUTE, RTM_GETNETCONF,
				    qroute_getroute, NULL, RTNL_FLAG_DOIT_UNLOCKED);
}
module_init(qroute_init);
