// SPDX-License-Identifier: GPL-2.0
/*
 * stun: made-up tunnel.  Its ioctl helpers reach the function that creates
 * tunnels through un-braced branches and have no error exit of their own.
 */

#include <linux/netdevice.h>
#include <net/rtnetlink.h>

struct stun {
	struct net_device *dev;
	struct net *net;
	int key;
};

static struct rtnl_link_ops stun_link_ops;
static struct net_device *stun_fb_dev;

static struct stun *stun_find(struct net *net, int key);

static int stun_create(struct net_device *dev)
{
	int err;

	err = register_netdevice(dev);
	if (err < 0)
		return err;
	return 0;
}

static struct stun *stun_locate(struct net *net, int key, int create)
{
	struct net_device *dev;
	struct stun *t;

	t = stun_find(net, key);
	if (t || !create)
		return t;

	dev = alloc_netdev(sizeof(*t), "stun%d", NET_NAME_UNKNOWN, ether_setup);
	if (!dev)
		return NULL;
	dev_net_set(dev, net);
	t = netdev_priv(dev);
	t->key = key;
	if (stun_create(dev) < 0)
		goto failed_free;
	return t;

failed_free:
	free_netdev(dev);
	return NULL;
}

static int stun_get(struct net_device *dev, int *key)
{
	struct stun *t = netdev_priv(dev);

	if (dev == stun_fb_dev)
		t = stun_locate(t->net, *key, 0);
	if (!t)
		t = netdev_priv(dev);
	*key = t->key;
	return 0;
}

static int stun_add(struct net_device *dev, int key)
{
	struct stun *t = netdev_priv(dev);

	if (key < 0)
		return -EINVAL;
	if (dev != stun_fb_dev)
		/* only the fallback device creates tunnels */
		return -EPERM;
	t = stun_locate(t->net, key, 1);
	if (!t)
		return -ENOBUFS;
	return 0;
}

static int stun_del(struct net_device *dev, int key)
{
	struct stun *t = netdev_priv(dev);

	if (dev == stun_fb_dev) {
		t = stun_locate(t->net, key, 0);
		if (!t)
			return -ENOENT;
		dev = t->dev;
	}
	unregister_netdevice(dev);
	return 0;
}

static int stun_ctl(struct net_device *dev, int *key, int cmd)
{
	switch (cmd) {
	case 0:
		return stun_get(dev, key);
	case 1:
		return stun_add(dev, *key);
	default:
		return stun_del(dev, *key);
	}
}

static int stun_newlink(struct net *src_net, struct net_device *dev,
			struct nlattr *tb[], struct nlattr *data[],
			struct netlink_ext_ack *extack)
{
	struct stun *t = netdev_priv(dev);

	if (stun_locate(src_net, t->key, 0))
		return -EEXIST;
	return stun_create(dev);
}

static const struct net_device_ops stun_netdev_ops = {
	.ndo_tunnel_ctl	= stun_ctl,
};

static struct rtnl_link_ops stun_link_ops = {
	.kind		= "stun",
	.newlink	= stun_newlink,
};
