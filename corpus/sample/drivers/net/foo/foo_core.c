// SPDX-License-Identifier: GPL-2.0
/*
 * foo: a software device with selectable forwarding modes.
 *
 *	ip link add foo0 type foo mode echo queues 4
 *	ip link set foo0 type foo mode drop
 */

#include <linux/module.h>
#include <linux/netdevice.h>
#include <net/rtnetlink.h>

#include "foo.h"

static const struct nla_policy foo_policy[IFLA_FOO_MAX + 1] = {
	[IFLA_FOO_MODE]		= { .type = NLA_U32 },
	[IFLA_FOO_QUEUES]	= { .type = NLA_U32 },
};

static int foo_validate(struct nlattr *tb[], struct nlattr *data[],
			struct netlink_ext_ack *extack)
{
	if (!data)
		return 0;

	if (data[IFLA_FOO_MODE] &&
	    nla_get_u32(data[IFLA_FOO_MODE]) > FOO_MODE_ECHO) {
		NL_SET_ERR_MSG_ATTR(extack, data[IFLA_FOO_MODE],
				    "foo: unknown mode");
		return -EINVAL;
	}
	if (data[IFLA_FOO_QUEUES] &&
	    nla_get_u32(data[IFLA_FOO_QUEUES]) > FOO_MAX_QUEUES)
		return -ERANGE;
	return 0;
}

static int foo_newlink(struct net *src_net, struct net_device *dev,
		       struct nlattr *tb[], struct nlattr *data[],
		       struct netlink_ext_ack *extack)
{
	enum foo_mode mode = FOO_MODE_LOOP;
	unsigned int queues = 1;
	int ret;

	if (data && data[IFLA_FOO_MODE])
		mode = nla_get_u32(data[IFLA_FOO_MODE]);
	if (data && data[IFLA_FOO_QUEUES])
		queues = nla_get_u32(data[IFLA_FOO_QUEUES]);

	ret = foo_dev_register(dev, mode, queues,
			       extack);
	if (ret)
		return ret;

	netdev_info(dev, "created in mode %u\n", mode);
	return 0;
}

static int foo_changelink(struct net_device *dev, struct nlattr *tb[],
			  struct nlattr *data[],
			  struct netlink_ext_ack *extack)
{
	struct foo_priv *priv = netdev_priv(dev);

	if (!data)
		return 0;

	if (data[IFLA_FOO_QUEUES]) {
		NL_SET_ERR_MSG(extack, "foo: queues cannot be changed");
		return -EOPNOTSUPP;
	}
	if (data[IFLA_FOO_MODE])
		foo_dev_apply_mode(priv, nla_get_u32(data[IFLA_FOO_MODE]));
	return 0;
}

static void foo_dellink(struct net_device *dev, struct list_head *head)
{
	struct foo_priv *priv = netdev_priv(dev);

	list_del(&priv->list);
	unregister_netdevice_queue(dev, head);
}

static struct rtnl_link_ops foo_link_ops __read_mostly = {
	.kind		= "foo",
	.priv_size	= sizeof(struct foo_priv),
	.setup		= foo_setup,
	.maxtype	= IFLA_FOO_MAX,
	.policy		= foo_policy,
	.validate	= foo_validate,
	.newlink	= foo_newlink,
	.changelink	= foo_changelink,
	.dellink	= foo_dellink,
};

static int __init foo_init(void)
{
	return rtnl_link_register(&foo_link_ops);
}

static void __exit foo_exit(void)
{
	rtnl_link_unregister(&foo_link_ops);
}

module_init(foo_init);
module_exit(foo_exit);
MODULE_LICENSE("GPL");
MODULE_ALIAS_RTNL_LINK("foo");
