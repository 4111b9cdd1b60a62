// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sinkhole: one per-namespace device that swallows every packet sent
 * to it.  Used as a discard target by routing setups that want an
 * interface rather than a blackhole route.
 */

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

static unsigned int sinkhole_net_id __read_mostly;

struct sinkhole_net {
	struct net_device *dev;
};

static netdev_tx_t sinkhole_xmit(struct sk_buff *skb, struct net_device *dev)
{
	dev_core_stats_tx_dropped_inc(dev);
	dev_kfree_skb(skb);
	return NETDEV_TX_OK;
}

static int sinkhole_change_mtu(struct net_device *dev, int new_mtu)
{
	dev->mtu = new_mtu;
	return 0;
}

static const struct net_device_ops sinkhole_ops = {
	.ndo_start_xmit		= sinkhole_xmit,
	.ndo_change_mtu		= sinkhole_change_mtu,
};

static void sinkhole_setup(struct net_device *dev)
{
	dev->mtu		= 64 * 1024;
	dev->type		= ARPHRD_NONE;
	dev->flags		= IFF_NOARP;
	dev->netdev_ops		= &sinkhole_ops;
	dev->needs_free_netdev	= true;
}

/* Set up the sinkhole device of a new namespace */
static __net_init int sinkhole_net_init(struct net *net)
{
	struct sinkhole_net *sn = net_generic(net, sinkhole_net_id);
	struct net_device *dev;
	int err;

	err = -ENOMEM;
	dev = alloc_netdev(0, "sink", NET_NAME_ENUM, sinkhole_setup);
	if (!dev)
		goto out;

	dev_net_set(dev, net);
	err = register_netdev(dev);
	if (err)
		goto out_free_netdev;

	sn->dev = dev;
	return 0;

out_free_netdev:
	free_netdev(dev);
out:
	if (net_eq(net, &init_net))
		panic("sinkhole: Failed to register netdevice: %d\n", err);
	return err;
}

static __net_exit void sinkhole_net_exit(struct net *net)
{
	struct sinkhole_net *sn = net_generic(net, sinkhole_net_id);

	unregister_netdev(sn->dev);
}

static struct pernet_operations __net_initdata sinkhole_net_ops = {
	.init	= sinkhole_net_init,
	.exit	= sinkhole_net_exit,
	.id	= &sinkhole_net_id,
	.size	= sizeof(struct sinkhole_net),
};

static int __init sinkhole_init(void)
{
	return register_pernet_device(&sinkhole_net_ops);
}

static void __exit sinkhole_exit(void)
{
	unregister_pernet_device(&sinkhole_net_ops);
}

module_init(sinkhole_init);
module_exit(sinkhole_exit);
MODULE_DESCRIPTION("Per-namespace packet sink device");
MODULE_LICENSE("GPL");
