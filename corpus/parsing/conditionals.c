// SPDX-License-Identifier: GPL-2.0
/* #if groups that split braces, and balanced ones that must be kept. */
#ifdef CONFIG_FOO_NEW
static int foo_open(struct net_device *dev, int flags) {
#else
static int foo_open(struct net_device *dev) {
#endif
	return foo_start(dev);
}

static void foo_stop(struct foo *f)
{
	if (f->up) {
		foo_down(f);
#ifdef CONFIG_FOO_EXTRA
	} else {
		foo_extra(f);
#endif
	}
#ifdef CONFIG_FOO_NS
	dev_change_net_namespace(f->dev, f->net, "foo%d");
#else
	unregister_netdevice(f->dev);
#endif
#if 0
	this is not C {
#endif
}

static const struct foo_ops foo_ops = {
	.open = foo_open,
#ifdef CONFIG_FOO_STOP
	.stop = foo_stop,
#endif
};
