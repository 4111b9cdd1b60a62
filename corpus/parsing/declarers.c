// SPDX-License-Identifier: GPL-2.0
/* Declarer macros at top level and in blocks. */
static DEFINE_MUTEX(foo_mutex);
static LIST_HEAD(foo_list);
DEFINE_PER_CPU(int, foo_count);
static DEFINE_IDA(foo_ida);
DEFINE_STATIC_KEY_FALSE(foo_key);
INDIRECT_CALLABLE_SCOPE int foo_rcv(struct sk_buff *skb)
{
	DECLARE_BITMAP(map, 64);
	LIST_HEAD(local);
	struct foo *f = container_of(skb->dev, struct foo, dev);
	unsigned int len = min_t(unsigned int, skb->len, 64);

	printk(KERN_DEBUG PFX "len %u\n", len);
	switch (len) {
	case 1 ... 8:
		return register_netdevice(f->dev);
	}
	return foo_flag(f, 40BIT_DMA) + offsetof(struct foo, a.b[0]);
}
EXPORT_SYMBOL(foo_rcv);
EXPORT_SYMBOL_GPL(foo_rcv);

BPF_CALL_2(bpf_foo, struct sk_buff *, skb, u32, flags)
{
	return foo_rcv(skb);
}

module_init(foo_init);
MODULE_LICENSE("GPL");
