// SPDX-License-Identifier: GPL-2.0
/*
 * fover: pair a standby device with a paravirtual primary.
 *
 * A fover master is created with a permanent MAC address.  When a
 * device with the same permanent address appears, it is linked under
 * the master automatically, from the netdevice notifier.
 */

#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <linux/rculist.h>
#include <net/rtnetlink.h>

struct fover {
	struct list_head	list;
	struct net_device	*master;
	struct net_device	*slave;
};

static LIST_HEAD(fover_list);
static DEFINE_SPINLOCK(fover_lock);

static rx_handler_result_t fover_handle_frame(struct sk_buff **pskb)
{
	return RX_HANDLER_ANOTHER;
}

static struct fover *fover_find_by_mac(const u8 *mac)
{
	struct fover *fv;

	spin_lock(&fover_lock);
	list_for_each_entry(fv, &fover_list, list) {
		if (ether_addr_equal(fv->master->perm_addr, mac)) {
			spin_unlock(&fover_lock);
			return fv;
		}
	}
	spin_unlock(&fover_lock);
	return NULL;
}

static int fover_slave_register(struct net_device *slave_dev)
{
	struct net_device *master;
	struct fover *fv;
	int err;

	ASSERT_RTNL();

	fv = fover_find_by_mac(slave_dev->perm_addr);
	if (!fv || fv->slave)
		return NOTIFY_DONE;
	master = fv->master;

	err = netdev_rx_handler_register(slave_dev, fover_handle_frame, fv);
	if (err) {
		netdev_err(slave_dev, "fover: rx handler failed (%d)\n", err);
		return NOTIFY_DONE;
	}

	err = netdev_master_upper_dev_link(slave_dev, master, NULL, NULL,
					   NULL);
	if (err) {
		netdev_err(slave_dev, "fover: cannot link to %s (%d)\n",
			   master->name, err);
		goto err_upper_link;
	}

	dev_set_mtu(master, slave_dev->mtu);
	fv->slave = slave_dev;
	return NOTIFY_OK;

err_upper_link:
	netdev_rx_handler_unregister(slave_dev);
	return NOTIFY_DONE;
}

static int fover_slave_unregister(struct net_device *slave_dev)
{
	struct fover *fv = rtnl_dereference(slave_dev->rx_handler_data);

	if (!fv || fv->slave != slave_dev)
		return NOTIFY_DONE;

	netdev_rx_handler_unregister(slave_dev);
	netdev_upper_dev_unlink(slave_dev, fv->master);
	fv->slave = NULL;
	return NOTIFY_OK;
}

static int fover_event(struct notifier_block *this, unsigned long event,
		       void *ptr)
{
	struct net_device *event_dev = netdev_notifier_info_to_dev(ptr);

	/* Skip parent events */
	if (event_dev->flags & IFF_MASTER)
		return NOTIFY_DONE;

	switch (event) {
	case NETDEV_REGISTER:
		return fover_slave_register(event_dev);
	case NETDEV_UNREGISTER:
		return fover_slave_unregister(event_dev);
	default:
		return NOTIFY_DONE;
	}
}

static struct notifier_block fover_notifier = {
	.notifier_call = fover_event,
};

static __init int fover_init(void)
{
	register_netdevice_notifier(&fover_notifier);
	return 0;
}
module_init(fover_init);

static __exit void fover_exit(void)
{
	unregister_netdevice_notifier(&fover_notifier);
}
module_exit(fover_exit);
MODULE_LICENSE("GPL v2");
