/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
#ifndef _UAPI_LINUX_IF_LINK_H
#define _UAPI_LINUX_IF_LINK_H

#include <linux/types.h>
#include <linux/netlink.h>

enum {
	IFLA_UNSPEC,
	IFLA_ADDRESS,
	IFLA_BROADCAST,
	IFLA_IFNAME,
	IFLA_MTU,
	IFLA_LINK,
	IFLA_QDISC,
	IFLA_STATS,
	IFLA_MASTER,
	IFLA_TXQLEN,
	IFLA_OPERSTATE,
	IFLA_LINKINFO,
	IFLA_NET_NS_PID,
	IFLA_IFALIAS,
	IFLA_GROUP,
	IFLA_NET_NS_FD,
	IFLA_LINK_NETNSID,
	__IFLA_MAX
};

#define IFLA_MAX (__IFLA_MAX - 1)

enum {
	IFLA_INFO_UNSPEC,
	IFLA_INFO_KIND,
	IFLA_INFO_DATA,
	IFLA_INFO_XSTATS,
	IFLA_INFO_SLAVE_KIND,
	IFLA_INFO_SLAVE_DATA,
	__IFLA_INFO_MAX,
};

#define IFLA_INFO_MAX	(__IFLA_INFO_MAX - 1)

/* FOO section */
enum {
	IFLA_FOO_UNSPEC,
	IFLA_FOO_MODE,
	IFLA_FOO_QUEUES,
	__IFLA_FOO_MAX,
};

#define IFLA_FOO_MAX	(__IFLA_FOO_MAX - 1)

/* QVLAN section */
enum {
	IFLA_QVLAN_UNSPEC,
	IFLA_QVLAN_ID,
	IFLA_QVLAN_FLAGS,
	__IFLA_QVLAN_MAX,
};

#define IFLA_QVLAN_MAX	(__IFLA_QVLAN_MAX - 1)

/* VPAIR section */
enum {
	VPAIR_INFO_UNSPEC,
	VPAIR_INFO_PEER,
	__VPAIR_INFO_MAX
};

#define VPAIR_INFO_MAX	(__VPAIR_INFO_MAX - 1)

/* QUX section: a device stacked over a lower link, with a backup link */
enum {
	IFLA_QUX_UNSPEC,
	IFLA_QUX_LINK,		/* u32: ifindex of the lower device, mandatory */
	IFLA_QUX_BACKUP,	/* u32: ifindex of the backup device, optional */
	IFLA_QUX_MODE,
	__IFLA_QUX_MAX,
};

#define IFLA_QUX_MAX	(__IFLA_QUX_MAX - 1)

/* VTUN section */
enum {
	IFLA_VTUN_UNSPEC,
	IFLA_VTUN_LINK,		/* u32: ifindex of the underlay device */
	IFLA_VTUN_LOCAL,
	IFLA_VTUN_REMOTE,
	IFLA_VTUN_TTL,
	IFLA_VTUN_KEY,
	__IFLA_VTUN_MAX,
};

#define IFLA_VTUN_MAX	(__IFLA_VTUN_MAX - 1)

/* PPX section */
enum {
	IFLA_PPX_UNSPEC,
	IFLA_PPX_UNIT,
	__IFLA_PPX_MAX
};

#define IFLA_PPX_MAX	(__IFLA_PPX_MAX - 1)

#endif /* _UAPI_LINUX_IF_LINK_H */
