/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A netdevice.h shaped like the real one where it matters to the core patch:
 * struct net_device has a kernel-doc comment, cacheline groups, nested
 * anonymous struct/union members, #ifdef'ed members, comments holding braces
 * ("} ____cacheline_aligned;" and "};"), a closing brace with an attribute
 * and a flexible array member last; struct packet_type and others follow it.
 */
#ifndef _LINUX_NETDEVICE_H
#define _LINUX_NETDEVICE_H

#include <linux/timer.h>
#include <linux/bug.h>
#include <linux/atomic.h>
#include <asm/cache.h>

#include <linux/percpu.h>
#include <linux/rculist.h>
#include <uapi/linux/netdevice.h>

struct netpoll_info;
struct sock;

#define IFNAMSIZ	16
#define MAX_ADDR_LEN	32

struct netdev_hw_addr_list {
	struct list_head	list;
	int			count;
};

/**
 *	struct net_device - The DEVICE structure.
 *
 *	@name:	This is the first field of the "visible" part of this structure
 *		(i.e. as seen by users in the "Space.c" file). It is the name
 *		of the interface. (a brace in prose: { stays here })
 *	@priv: private data, must be last
 */
struct net_device {
	/* Cacheline organization can be found documented in
	 * Documentation/networking/net_cachelines/net_device.rst.
	 * Please update the document when adding new fields.
	 * A closing brace in a comment: } ____cacheline_aligned;
	 */

	/* TX read-mostly hotpath */
	__cacheline_group_begin(net_device_read_tx);
	struct_group(priv_flags_fast,
		unsigned long		priv_flags:32;
		unsigned long		lltx:1;
	);
	const struct net_device_ops *netdev_ops;
	unsigned int		mtu;
	__cacheline_group_end(net_device_read_tx);

	char			name[IFNAMSIZ];
	int			ifindex;
	unsigned int		flags;

	struct {
		struct list_head upper;
		struct list_head lower;
	} adj_list;

	union {
		struct pcpu_lstats __percpu		*lstats;
		struct pcpu_sw_netstats __percpu	*tstats;
		struct pcpu_dstats __percpu		*dstats;
	};

#ifdef CONFIG_NET_POLL_CONTROLLER
	struct netpoll_info __rcu	*npinfo;
#endif
	/* protected by rtnl_lock: { not a block } */
	struct list_head	dev_list;
	struct netdev_hw_addr_list	uc;
#if IS_ENABLED(CONFIG_PAGE_POOL)
	/** @page_pools: page pools created for this netdevice */
	struct hlist_head	page_pools;
#endif

	/** @irq_moder: dim parameters used if IS_ENABLED(CONFIG_DIMLIB). */
	struct dim_irq_moder	*irq_moder;

	u8			priv_len;
	u8			priv[] ____cacheline_aligned
				       __counted_by(priv_len);
} ____cacheline_aligned;
#define to_net_dev(d) container_of(d, struct net_device, dev)

static inline void *netdev_priv(const struct net_device *dev)
{
	return (void *)dev->priv;
}

struct packet_type {
	__be16			type;	/* This is really htons(ether_type). */
	bool			ignore_outgoing;
	struct net_device	*dev;	/* NULL is wildcarded here	     */
	int			(*func) (struct sk_buff *,
					 struct net_device *,
					 struct packet_type *,
					 struct net_device *);
	struct list_head	list;
};

struct offload_callbacks {
	struct sk_buff		*(*gso_segment)(struct sk_buff *skb,
						netdev_features_t features);
	int			(*gro_complete)(struct sk_buff *skb, int nhoff);
};

int register_netdevice(struct net_device *dev);
void unregister_netdevice_queue(struct net_device *dev, struct list_head *head);
static inline void unregister_netdevice(struct net_device *dev)
{
	unregister_netdevice_queue(dev, NULL);
}
int register_netdev(struct net_device *dev);
void unregister_netdev(struct net_device *dev);
void free_netdev(struct net_device *dev);

#endif	/* _LINUX_NETDEVICE_H */
