// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Routing netlink socket interface: a reduced core for the migrator
 * sample tree.  Link creation, change and removal dispatch to the
 * rtnl_link_ops of the device kind.
 */

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <net/rtnetlink.h>

static DEFINE_MUTEX(rtnl_mutex);
static LIST_HEAD(link_ops);

void rtnl_lock(void)
{
	mutex_lock(&rtnl_mutex);
}
EXPORT_SYMBOL(rtnl_lock);

int rtnl_lock_killable(void)
{
	return mutex_lock_killable(&rtnl_mutex);
}
EXPORT_SYMBOL(rtnl_lock_killable);

void rtnl_unlock(void)
{
	mutex_unlock(&rtnl_mutex);
}
EXPORT_SYMBOL(rtnl_unlock);

static const struct rtnl_link_ops *rtnl_link_ops_get(const char *kind)
{
	const struct rtnl_link_ops *ops;

	list_for_each_entry(ops, &link_ops, list) {
		if (!strcmp(ops->kind, kind))
			return ops;
	}
	return NULL;
}

struct net_device *rtnl_create_link(struct net *net, const char *ifname,
				    unsigned char name_assign_type,
				    const struct rtnl_link_ops *ops,
				    struct nlattr *tb[],
				    struct netlink_ext_ack *extack)
{
	struct net_device *dev;

	dev = alloc_netdev_mqs(ops->priv_size, ifname, name_assign_type,
			       ops->setup, 1, 1);
	if (!dev)
		return ERR_PTR(-ENOMEM);

	dev_net_set(dev, net);
	dev->rtnl_link_ops = ops;
	if (tb[IFLA_MTU])
		dev->mtu = nla_get_u32(tb[IFLA_MTU]);
	return dev;
}
EXPORT_SYMBOL(rtnl_create_link);

static int do_set_master(struct net_device *dev, int ifindex,
			 struct netlink_ext_ack *extack)
{
	struct net_device *upper_dev = netdev_master_upper_dev_get(dev);
	const struct net_device_ops *ops;

	if (upper_dev && upper_dev->ifindex == ifindex)
		return 0;
	if (!ifindex)
		return 0;

	upper_dev = __dev_get_by_index(dev_net(dev), ifindex);
	if (!upper_dev)
		return -EINVAL;
	ops = upper_dev->netdev_ops;
	if (!ops->ndo_add_slave)
		return -EOPNOTSUPP;
	return ops->ndo_add_slave(upper_dev, dev, extack);
}

static int rtnl_changelink(struct net_device *dev,
			   const struct rtnl_link_ops *ops,
			   struct nlattr **tb, struct nlattr **data,
			   struct netlink_ext_ack *extack)
{
	int err;

	if (!ops->changelink)
		return -EOPNOTSUPP;

	err = ops->changelink(dev, tb, data, extack);
	if (err < 0)
		return err;

	if (tb[IFLA_MASTER])
		err = do_set_master(dev, nla_get_u32(tb[IFLA_MASTER]), extack);
	return err;
}

static int rtnl_newlink_create(struct net *net, const char *ifname,
			       const struct rtnl_link_ops *ops,
			       struct nlattr **tb, struct nlattr **data,
			       struct netlink_ext_ack *extack)
{
	struct net_device *dev;
	int err;

	if (!ops->newlink)
		return -EOPNOTSUPP;

	dev = rtnl_create_link(net, ifname, NET_NAME_USER, ops, tb, extack);
	if (IS_ERR(dev))
		return PTR_ERR(dev);

	err = ops->newlink(net, dev, tb, data, extack);
	if (err < 0) {
		free_netdev(dev);
		return err;
	}

	if (tb[IFLA_MASTER]) {
		err = do_set_master(dev, nla_get_u32(tb[IFLA_MASTER]), extack);
		if (err)
			goto out_unregister;
	}
	return 0;

out_unregister:
	if (ops->dellink) {
		LIST_HEAD(list_kill);

		ops->dellink(dev, &list_kill);
		unregister_netdevice_many(&list_kill);
	}
	return err;
}

static int rtnl_newlink(struct sk_buff *skb, struct nlmsghdr *nlh,
			struct netlink_ext_ack *extack)
{
	struct nlattr *tb[IFLA_MAX + 1], *data[RTNL_MAX_TYPE + 1];
	const struct rtnl_link_ops *ops;
	struct net *net = sock_net(skb->sk);
	char kind[MODULE_NAME_LEN];
	struct net_device *dev;
	int err;

	err = rtnl_parse_link(nlh, tb, data, kind, extack);
	if (err < 0)
		return err;

	ops = rtnl_link_ops_get(kind);
	if (!ops)
		return -EOPNOTSUPP;

	dev = rtnl_dev_get(net, tb);
	if (dev)
		return rtnl_changelink(dev, ops, tb, data, extack);

	return rtnl_newlink_create(net, rtnl_ifname(tb), ops, tb, data,
				   extack);
}

static int rtnl_dellink(struct sk_buff *skb, struct nlmsghdr *nlh,
			struct netlink_ext_ack *extack)
{
	struct net *net = sock_net(skb->sk);
	const struct rtnl_link_ops *ops;
	struct net_device *dev;
	LIST_HEAD(list_kill);

	dev = __dev_get_by_index(net, nlmsg_ifindex(nlh));
	if (!dev)
		return -ENODEV;

	ops = dev->rtnl_link_ops;
	if (!ops || !ops->dellink)
		return -EOPNOTSUPP;

	ops->dellink(dev, &list_kill);
	unregister_netdevice_many(&list_kill);
	return 0;
}

static int rtnl_getlink(struct sk_buff *skb, struct nlmsghdr *nlh,
			struct netlink_ext_ack *extack);
static int rtnl_dump_ifinfo(struct sk_buff *skb, struct netlink_callback *cb);
static int rtnl_stats_get(struct sk_buff *skb, struct nlmsghdr *nlh,
			  struct netlink_ext_ack *extack);
static int rtnl_stats_dump(struct sk_buff *skb, struct netlink_callback *cb);
static int rtnl_getnetconf(struct sk_buff *skb, struct nlmsghdr *nlh,
			   struct netlink_ext_ack *extack);
static int rtnl_dump_all(struct sk_buff *skb, struct netlink_callback *cb);

static const struct rtnl_msg_handler rtnetlink_rtnl_msg_handlers[] __initconst = {
	{.msgtype = RTM_NEWLINK, .doit = rtnl_newlink},
	{.msgtype = RTM_DELLINK, .doit = rtnl_dellink},
	{.msgtype = RTM_GETLINK, .doit = rtnl_getlink,
	 .dumpit = rtnl_dump_ifinfo, .flags = RTNL_FLAG_DUMP_UNLOCKED},
	{.msgtype = RTM_SETLINK, .doit = rtnl_newlink},
	{.msgtype = RTM_GETSTATS, .doit = rtnl_stats_get,
	 .dumpit = rtnl_stats_dump, .flags = RTNL_FLAG_UNLOCKED_ALL},
};

void __init rtnetlink_init(void)
{
	rtnl_register(PF_UNSPEC, RTM_GETNETCONF, rtnl_getnetconf, NULL,
		      RTNL_FLAG_DOIT_UNLOCKED);
	rtnl_register(PF_UNSPEC, RTM_GETROUTE, NULL, rtnl_dump_all, 0);
	rtnl_register(PF_UNSPEC, RTM_GETADDR, NULL, rtnl_dump_all,
		      RTNL_FLAG_DUMP_UNLOCKED | RTNL_FLAG_DUMP_SPLIT_NLM_DONE);

	rtnl_register_many(rtnetlink_rtnl_msg_handlers);
}
