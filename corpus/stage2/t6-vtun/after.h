/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _VTUN_H
#define _VTUN_H

#include <linux/netdevice.h>
#include <linux/list.h>

#define VTUN_HASH_SIZE	16

#define SIOCGETVTUN	(SIOCDEVPRIVATE + 0)
#define SIOCADDVTUN	(SIOCDEVPRIVATE + 1)
#define SIOCDELVTUN	(SIOCDEVPRIVATE + 2)
#define SIOCCHGVTUN	(SIOCDEVPRIVATE + 3)

struct vtun_parm {
	char		name[IFNAMSIZ];
	int		link;		/* ifindex of the underlay device */
	__be32		local;
	__be32		remote;
	__be32		key;
	u8		ttl;
};

struct vtun {
	struct vtun __rcu	*next;
	struct net_device	*dev;
	struct net_device	*underlay;
	struct vtun_parm	parms;
};

struct vtun_net {
	struct vtun __rcu	*tunnels[VTUN_HASH_SIZE];
	struct net_device	*fb_dev;
};

struct vtun *vtun_locate(struct net *net, const struct vtun_parm *p,
			 int create, struct nd_lock *nd_lock);
void vtun_setup(struct net_device *dev);

#endif /* _VTUN_H */
