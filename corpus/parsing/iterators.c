// SPDX-License-Identifier: GPL-2.0
/* Iterator macros followed by a block or a single statement. */
static void foo_walk(struct net *net, struct foo *f)
{
	struct net_device *dev, *lower;
	struct list_head *iter;
	struct foo_item *pos, *tmp;
	unsigned long idx;

	list_for_each_entry(pos, foo_head(f), member) {
		foo_use(pos);
	}
	for_each_netdev(net, dev)
		foo_dev(dev);
	netdev_for_each_lower_dev(dev, lower, iter) {
		netdev_master_upper_dev_link(lower, dev, NULL, NULL, NULL);
	}
	hlist_for_each_entry_rcu(pos, &f->hash, node)
		foo_use(pos);
	xa_for_each(&f->xa, idx, pos) {
		if (pos)
			foo_use(pos);
	}
	list_for_each_entry_safe(pos, tmp, &f->list, member){
		foo_del(pos);
	}
	skb_queue_walk_safe(&f->queue, skb, tmp) {
		foo_skb(skb);
	}
}
