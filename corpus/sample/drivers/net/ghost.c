// SPDX-License-Identifier: GPL-2.0
/*
 * ghost: give every new ethernet device a read-only "ghost" twin that
 * sees a copy of its traffic.  The twin is created from the netdevice
 * notifier, while the real device is being registered.
 */

#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/notifier.h>
#include <net/rtnetlink.h>

struct ghost_priv {
	struct net_device	*dev;
	struct net_device	*real;
	struct list_head	list;
};

static LIST_HEAD(ghost_list);
static bool ghost_enabled = true;
module_param(ghost_enabled, bool, 0644);

static const struct net_device_ops ghost_netdev_ops;

static void ghost_setup(struct net_device *dev)
{
	ether_setup(dev);
	dev->netdev_ops = &ghost_netdev_ops;
	dev->flags |= IFF_NOARP;
	dev->needs_free_netdev = true;
}

static bool ghost_wanted(const struct net_device *dev)
{
	if (!ghost_enabled)
		return false;
	if (dev->netdev_ops == &ghost_netdev_ops)
		return false;
	return dev->type == ARPHRD_ETHER;
}

static void ghost_destroy(struct net_device *real)
{
	struct ghost_priv *gp, *tmp;

	list_for_each_entry_safe(gp, tmp, &ghost_list, list) {
		if (gp->real != real)
			continue;
		list_del(&gp->list);
		unregister_netdevice_queue(gp->dev, NULL);
	}
}

static int ghost_netdev_event(struct notifier_block *nb,
			      unsigned long event, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct net_device *gdev;
	struct ghost_priv *gp;
	int err;

	if (!ghost_wanted(dev))
		return NOTIFY_DONE;

	switch (event) {
	case NETDEV_REGISTER:
		gdev = alloc_netdev(sizeof(*gp), "g%s", NET_NAME_ENUM,
				    ghost_setup);
		if (!gdev)
			return notifier_from_errno(-ENOMEM);
		dev_net_set(gdev, dev_net(dev));
		gp = netdev_priv(gdev);
		gp->dev = gdev;
		gp->real = dev;

		err = register_netdevice(gdev);
		if (err) {
			free_netdev(gdev);
			return notifier_from_errno(err);
		}
		netif_carrier_off(gdev);
		list_add(&gp->list, &ghost_list);
		break;
	case NETDEV_UNREGISTER:
		ghost_destroy(dev);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block ghost_notifier = {
	.notifier_call = ghost_netdev_event,
};

static int __init ghost_init(void)
{
	return register_netdevice_notifier(&ghost_notifier);
}

static void __exit ghost_exit(void)
{
	unregister_netdevice_notifier(&ghost_notifier);
}

module_init(ghost_init);
module_exit(ghost_exit);
MODULE_LICENSE("GPL");
