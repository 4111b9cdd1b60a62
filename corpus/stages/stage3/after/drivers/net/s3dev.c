// SPDX-License-Identifier: GPL-2.0
/* stage 3 fixtures: registrations outside rtnetlink (T3, T4, T5, review) */
#include <linux/netdevice.h>

static int s3_private(struct net *net)
{
	struct nd_lock *nd_lock;
	struct net_device *dev;
	int err;

	dev = alloc_netdev(0, "s3p%d", NET_NAME_ENUM, s3_setup);
	if (!dev)
		return -ENOMEM;
	if (!attach_new_nd_lock(dev)) {
		free_netdev(dev);
		return -ENOMEM;
	}
	dev_net_set(dev, net);

	lock_netdev(dev, &nd_lock);
	err = __register_netdevice(dev);
	if (err)
		detach_nd_lock(dev);
	unlock_netdev(nd_lock);
	if (err)
		goto out_free;
	return 0;

out_free:
	free_netdev(dev);
	return err;
}

static int s3_child(struct net_device *lower, int id)
{
	struct net_device *child;
	struct nd_lock *nd_lock;
	int err;

	child = alloc_netdev(0, "s3c%d", NET_NAME_ENUM, s3_setup);
	if (!child)
		return -ENOMEM;
	err = -ENODEV;
	if (lock_netdev(lower, &nd_lock)) {
		attach_nd_lock(child, nd_lock);
		err = __register_netdevice(child);
		if (err)
			detach_nd_lock(child);
		unlock_netdev(nd_lock);
	}
	if (err < 0) {
		free_netdev(child);
		return err;
	}
	return netdev_upper_dev_link(lower, child, NULL);
}

/* T0 form (stage 1 output, the loopback reference): the function takes RTNL
 * itself and register_netdevice() gives the standalone device a private lock.
 * Not a stage 3 site.
 */
static int s3_standalone(struct net *net)
{
	struct net_device *dev;
	int err;

	dev = alloc_netdev(0, "s3s%d", NET_NAME_ENUM, s3_setup);
	if (!dev)
		return -ENOMEM;
	err = rtnl_lock_killable();
	if (!err) {
		err = register_netdevice(dev);
		rtnl_unlock();
	}
	if (err)
		free_netdev(dev);
	return err;
}

/* probe path taking RTNL itself (not the T0 form): T4 all the same */
static int s3_probe(struct device *parent_dev)
{
	struct nd_lock *nd_lock;
	struct net_device *dev;
	int err;

	dev = alloc_netdev(0, "s3q%d", NET_NAME_ENUM, s3_setup);
	if (!dev)
		return -ENOMEM;
	if (!attach_new_nd_lock(dev)) {
		free_netdev(dev);
		return -ENOMEM;
	}
	SET_NETDEV_DEV(dev, parent_dev);
	rtnl_lock();
	lock_netdev(dev, &nd_lock);
	err = __register_netdevice(dev);
	if (err)
		detach_nd_lock(dev);
	unlock_netdev(nd_lock);
	rtnl_unlock();
	if (err)
		free_netdev(dev);
	return err;
}

/* RTNL taken here too, but the device hangs off a parent: T3 all the same */
static int s3_child_store(struct net_device *lower)
{
	struct net_device *child;
	struct nd_lock *nd_lock;
	int err;

	child = alloc_netdev(0, "s3k%d", NET_NAME_ENUM, s3_setup);
	if (!child)
		return -ENOMEM;
	rtnl_lock();
	err = -ENODEV;
	if (lock_netdev(lower, &nd_lock)) {
		attach_nd_lock(child, nd_lock);
		err = __register_netdevice(child);
		if (err)
			detach_nd_lock(child);
		unlock_netdev(nd_lock);
	}
	if (err)
		free_netdev(child);
	else
		err = netdev_upper_dev_link(lower, child, NULL);
	rtnl_unlock();
	return err;
}

static int s3_returns(struct net_device *dev)
{
	return register_netdevice(dev);
}

static int s3_leaky(struct net *net)
{
	struct net_device *dev;
	int err;

	dev = alloc_netdev(0, "s3l%d", NET_NAME_ENUM, s3_setup);
	if (!dev)
		return -ENOMEM;
	if (s3_busy(net))
		goto out_free;
	err = register_netdevice(dev);
	if (err)
		goto out_free;
	return 0;
out_free:
	free_netdev(dev);
	return -EBUSY;
}

static int s3_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *real = netdev_notifier_info_to_dev(ptr);
	struct net_device *twin;
	struct nd_lock *nd_lock;
	int err;

	if (event != NETDEV_REGISTER)
		return NOTIFY_DONE;
	twin = alloc_netdev(0, "t%s", NET_NAME_ENUM, s3_setup);
	if (!twin)
		return notifier_from_errno(-ENOMEM);
	nd_lock = alloc_nd_lock();
	if (!nd_lock) {
		err = -ENOMEM;
		goto out_free;
	}
	/* never contended: the trylock keeps lockdep quiet */
	WARN_ON_ONCE(!mutex_trylock(&nd_lock->mutex));
	attach_nd_lock(twin, nd_lock);
	err = __register_netdevice(twin);
	if (err)
		detach_nd_lock(twin);
	unlock_netdev(nd_lock);
	if (err)
		goto out_free;
	return NOTIFY_OK;
out_free:
	free_netdev(twin);
	return notifier_from_errno(err);
}

static struct notifier_block s3_notifier = {
	.notifier_call = s3_event,
};

static int __init s3_init(void)
{
	return register_netdevice_notifier(&s3_notifier);
}
