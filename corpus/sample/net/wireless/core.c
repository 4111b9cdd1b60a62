// SPDX-License-Identifier: GPL-2.0-only
/*
 * wsub: the wireless subsystem core of the migrator sample tree.
 *
 * A radio (struct wsub_phy) owns several interfaces.  All interfaces of
 * a radio live in the same network namespace and move together.
 */

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/list.h>
#include <linux/netdevice.h>
#include <linux/notifier.h>
#include <net/net_namespace.h>
#include <net/rtnetlink.h>

struct wireless_dev {
	struct wsub_phy		*phy;
	struct net_device	*netdev;
	struct list_head	list;
	bool			registered;
	u32			identifier;
};

struct wsub_phy {
	struct list_head	list;
	struct list_head	wdev_list;
	struct mutex		mtx;
	struct net		*net;
	u32			wdev_id;
	bool			netns_ok;
};

static LIST_HEAD(wsub_phy_list);
static DEFINE_MUTEX(wsub_phy_list_mutex);

/**
 * wsub_register_netdevice - register a wireless interface
 * @dev: the netdev, with dev->ieee80211_ptr already set
 *
 * Called by drivers with RTNL and the radio mutex held.
 *
 * Return: 0 on success, negative errno otherwise.
 */
int wsub_register_netdevice(struct net_device *dev)
{
	struct wireless_dev *wdev = dev->ieee80211_ptr;
	struct wsub_phy *phy = wdev->phy;
	int ret;

	ASSERT_RTNL();
	lockdep_assert_held(&phy->mtx);

	wdev->registered = false;
	ret = register_netdevice(dev);
	if (ret)
		return ret;

	wdev->registered = true;
	return 0;
}
EXPORT_SYMBOL_GPL(wsub_register_netdevice);

/* Move a radio and all its interfaces to @net. */
int wsub_switch_netns(struct wsub_phy *phy, struct net *net)
{
	struct wireless_dev *wdev;
	int err = 0;

	if (!phy->netns_ok)
		return -EOPNOTSUPP;

	list_for_each_entry(wdev, &phy->wdev_list, list) {
		if (!wdev->netdev)
			continue;
		wdev->netdev->flags &= ~IFF_UP;
		err = dev_change_net_namespace(wdev->netdev, net, "wlan%d");
		if (err)
			break;
		wdev->netdev->flags |= IFF_UP;
	}

	if (err) {
		/* failed -- clean up to old netns */
		net = phy->net;
		list_for_each_entry_continue_reverse(wdev, &phy->wdev_list,
						     list) {
			if (!wdev->netdev)
				continue;
			err = dev_change_net_namespace(wdev->netdev, net,
						       "wlan%d");
			WARN_ON(err);
		}
		return err;
	}

	phy->net = net;
	return 0;
}

static void wsub_init_wdev(struct wireless_dev *wdev)
{
	INIT_LIST_HEAD(&wdev->list);
	wdev->identifier = ++wdev->phy->wdev_id;
	list_add_rcu(&wdev->list, &wdev->phy->wdev_list);
}

static int wsub_netdev_notifier_call(struct notifier_block *nb,
				     unsigned long state, void *ptr)
{
	struct net_device *dev = netdev_notifier_info_to_dev(ptr);
	struct wireless_dev *wdev = dev->ieee80211_ptr;

	if (!wdev)
		return NOTIFY_DONE;

	switch (state) {
	case NETDEV_REGISTER:
		wsub_init_wdev(wdev);
		dev->priv_flags |= IFF_DONT_BRIDGE;
		break;
	case NETDEV_UNREGISTER:
		list_del_rcu(&wdev->list);
		break;
	}
	return NOTIFY_OK;
}

static struct notifier_block wsub_netdev_notifier = {
	.notifier_call = wsub_netdev_notifier_call,
};

static int __init wsub_init(void)
{
	return register_netdevice_notifier(&wsub_netdev_notifier);
}
subsys_initcall(wsub_init);
