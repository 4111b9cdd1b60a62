// SPDX-License-Identifier: GPL-2.0
/* stage 3 T5 fixtures: the registration shapes of code run by a netdevice notifier */
#include <linux/netdevice.h>

/* result only tested; the error value is set before the registration */
static int t5_tested(struct net_device *real)
{
	struct nd_lock *nd_lock;
	struct net_device *dev;
	int rc = -ENOMEM;

	dev = alloc_netdev(0, "t5t%d", NET_NAME_ENUM, t5_setup);
	if (!dev)
		goto out;
	t5_inherit(dev, real);

	rc = -ENODEV;
	nd_lock = alloc_nd_lock();
	if (!nd_lock)
		goto out_free;
	/* never contended: the trylock keeps lockdep quiet */
	WARN_ON_ONCE(!mutex_trylock(&nd_lock->mutex));
	attach_nd_lock(dev, nd_lock);
	if (__register_netdevice(dev)) {
		detach_nd_lock(dev);
		unlock_netdev(nd_lock);
		goto out_free;
	}
	unlock_netdev(nd_lock);
	rc = 0;
out:
	return rc;
out_free:
	free_netdev(dev);
	goto out;
}

/* result only tested, several statements in the error branch */
static int t5_tested_braced(struct net_device *real)
{
	struct nd_lock *nd_lock;
	struct net_device *dev;

	dev = alloc_netdev(0, "t5b%d", NET_NAME_ENUM, t5_setup);
	if (!dev)
		return -ENOMEM;
	nd_lock = alloc_nd_lock();
	if (!nd_lock) {
		netdev_warn(real, "no shadow device\n");

		free_netdev(dev);
		return -EBUSY;
	}
	/* never contended: the trylock keeps lockdep quiet */
	WARN_ON_ONCE(!mutex_trylock(&nd_lock->mutex));
	attach_nd_lock(dev, nd_lock);
	if (__register_netdevice(dev) < 0) {
		detach_nd_lock(dev);
		unlock_netdev(nd_lock);
		netdev_warn(real, "no shadow device\n");

		free_netdev(dev);
		return -EBUSY;
	}
	unlock_netdev(nd_lock);
	t5_link(real, dev);
	return 0;
}

/* result assigned in the condition */
static int t5_assigned(struct net_device *real)
{
	struct t5_port *port = netdev_priv(real);
	struct nd_lock *nd_lock;
	struct net_device *dev;
	int err;

	dev = alloc_netdev(0, "t5a%d", NET_NAME_ENUM, t5_setup);
	if (!dev)
		return -ENOMEM;
	nd_lock = alloc_nd_lock();
	if (!nd_lock) {
		err = -ENOMEM;
		return t5_give_up(port, dev,
				  err);
	}
	/* never contended: the trylock keeps lockdep quiet */
	WARN_ON_ONCE(!mutex_trylock(&nd_lock->mutex));
	attach_nd_lock(dev, nd_lock);
	if ((err = __register_netdevice(dev))) {
		detach_nd_lock(dev);
		unlock_netdev(nd_lock);
		return t5_give_up(port, dev,
				  err);
	}
	unlock_netdev(nd_lock);
	port->shadow = dev;
	return 0;
}

/* result stored, tested for a negative value */
static int t5_stored_neg(struct net_device *real)
{
	struct nd_lock *nd_lock;
	struct net_device *dev;
	int err;

	dev = alloc_netdev(0, "t5n%d", NET_NAME_ENUM, t5_setup);
	if (!dev)
		return -ENOMEM;
	nd_lock = alloc_nd_lock();
	if (!nd_lock) {
		err = -ENOMEM;
		netdev_err(real, "shadow: %d\n", err);
		free_netdev(dev);
		return err;
	}
	/* never contended: the trylock keeps lockdep quiet */
	WARN_ON_ONCE(!mutex_trylock(&nd_lock->mutex));
	attach_nd_lock(dev, nd_lock);
	err = __register_netdevice(dev);
	if (err)
		detach_nd_lock(dev);
	unlock_netdev(nd_lock);
	if (err < 0) {
		netdev_err(real, "shadow: %d\n", err);
		free_netdev(dev);
		return err;
	}
	t5_link(real, dev);
	return 0;
}

/* result returned, an int `ret` to reuse */
static int t5_returned(struct net_device *dev, struct net_device *real)
{
	struct nd_lock *nd_lock;
	int ret;

	ret = t5_prepare(dev, real);
	if (ret)
		return ret;
	nd_lock = alloc_nd_lock();
	if (!nd_lock)
		return -ENOMEM;
	/* never contended: the trylock keeps lockdep quiet */
	WARN_ON_ONCE(!mutex_trylock(&nd_lock->mutex));
	attach_nd_lock(dev, nd_lock);
	ret = __register_netdevice(dev);
	if (ret)
		detach_nd_lock(dev);
	unlock_netdev(nd_lock);
	return ret;
}

/* result returned, no declarations at all */
static int t5_returned_bare(struct net_device *dev)
{
	struct nd_lock *nd_lock;
	int err;

	dev->flags |= IFF_NOARP;
	nd_lock = alloc_nd_lock();
	if (!nd_lock)
		return -ENOMEM;
	/* never contended: the trylock keeps lockdep quiet */
	WARN_ON_ONCE(!mutex_trylock(&nd_lock->mutex));
	attach_nd_lock(dev, nd_lock);
	err = __register_netdevice(dev);
	if (err)
		detach_nd_lock(dev);
	unlock_netdev(nd_lock);
	return err;
}

/* review: `err` exists, but only in an inner block */
static int t5_returned_inner(struct net_device *dev, bool probe)
{
	if (probe) {
		int err = t5_probe(dev);

		if (err)
			return err;
	}
	return register_netdevice(dev);
}

/* review: the result is converted on the way out */
static int t5_nested(struct net_device *dev)
{
	return notifier_from_errno(register_netdevice(dev));
}

/* review: the error branch falls through */
static void t5_warn_only(struct net_device *real, struct net_device *dev)
{
	if (register_netdevice(dev))
		netdev_warn(real, "shadow not registered\n");
	t5_link(real, dev);
}

/* review: the result is ignored */
static void t5_ignored(struct net_device *dev)
{
	register_netdevice(dev);
}

/* review: the registration initialises a declaration */
static int t5_declared(struct net_device *dev)
{
	int err = register_netdevice(dev);

	return err;
}

static int t5_register_shadow(struct net_device *dev, struct net_device *real, int mode)
{
	switch (mode) {
	case 4:
		return t5_returned(dev, real);
	case 5:
		return t5_returned_bare(dev);
	case 6:
		return t5_returned_inner(dev, true);
	case 7:
		return t5_nested(dev);
	case 8:
		return t5_declared(dev);
	default:
		t5_warn_only(real, dev);
		t5_ignored(dev);
		return 0;
	}
}

static int t5_event(struct notifier_block *nb, unsigned long event, void *ptr)
{
	struct net_device *real = netdev_notifier_info_to_dev(ptr);
	struct net_device *dev;
	int err;

	if (event != NETDEV_REGISTER)
		return NOTIFY_DONE;
	switch (t5_mode(real)) {
	case 0:
		err = t5_tested(real);
		break;
	case 1:
		err = t5_tested_braced(real);
		break;
	case 2:
		err = t5_assigned(real);
		break;
	case 3:
		err = t5_stored_neg(real);
		break;
	default:
		dev = t5_shadow_alloc(real);
		if (!dev)
			return notifier_from_errno(-ENOMEM);
		err = t5_register_shadow(dev, real, t5_mode(real));
		break;
	}
	return notifier_from_errno(err);
}

static struct notifier_block t5_notifier = {
	.notifier_call = t5_event,
};

static int __init t5_init(void)
{
	return register_netdevice_notifier(&t5_notifier);
}
