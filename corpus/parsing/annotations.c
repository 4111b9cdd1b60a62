// SPDX-License-Identifier: GPL-2.0
/* Annotation macros between specifiers and declarators. */
static int debug __read_mostly = 1;
static struct foo __rcu *global_foo;

static __printf(2, 3) void foo_log(struct foo *f, const char *fmt, ...);

static void foo_lock(struct foo *f) __acquires(f->lock)
{
	spin_lock(&f->lock);
}

static int __init foo_probe(void __iomem *base, void __user *arg,
			    const struct pci_device_id __always_unused *ent)
{
	u16 v = (__force u16)readw(base);
	u8 addr[ETH_ALEN] __aligned(4);
	struct foo *f __free(kfree) = kzalloc(sizeof(*f), GFP_KERNEL);

	return register_netdev(f->dev) + v + addr[0];
}

static __net_init int foo_net_init(struct net *net)
{
	return foo_setup(net);
}

static void __exit __maybe_unused foo_exit(void)
{
	unregister_netdev(global_dev);
}

static noinline int __must_check __foo_helper(int x)
{
	return x;
}
