/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Definitions for the network device interface of the migrator sample
 * tree.  Only what the sample drivers use is declared here.
 */
#ifndef _LINUX_NETDEVICE_H
#define _LINUX_NETDEVICE_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/notifier.h>
#include <linux/mutex.h>
#include <uapi/linux/if_link.h>

#define IFNAMSIZ	16
#define MAX_ADDR_LEN	32

struct net;
struct sk_buff;
struct ifreq;
struct netlink_ext_ack;
struct rtnl_link_ops;
struct wireless_dev;

enum netdev_tx {
	NETDEV_TX_OK	 = 0x00,
	NETDEV_TX_BUSY	 = 0x10,
};
typedef enum netdev_tx netdev_tx_t;

struct net_device_ops {
	int			(*ndo_init)(struct net_device *dev);
	void			(*ndo_uninit)(struct net_device *dev);
	int			(*ndo_open)(struct net_device *dev);
	int			(*ndo_stop)(struct net_device *dev);
	netdev_tx_t		(*ndo_start_xmit)(struct sk_buff *skb,
						  struct net_device *dev);
	int			(*ndo_change_mtu)(struct net_device *dev,
						  int new_mtu);
	int			(*ndo_siocdevprivate)(struct net_device *dev,
						      struct ifreq *ifr,
						      void __user *data, int cmd);
	int			(*ndo_add_slave)(struct net_device *dev,
						 struct net_device *slave_dev,
						 struct netlink_ext_ack *extack);
	int			(*ndo_del_slave)(struct net_device *dev,
						 struct net_device *slave_dev);
};

struct net_device {
	char			name[IFNAMSIZ];
	int			ifindex;
	unsigned int		flags;
	unsigned int		priv_flags;
	unsigned int		mtu;
	unsigned short		type;
	unsigned char		addr_len;
	unsigned char		perm_addr[MAX_ADDR_LEN];
	unsigned char		*dev_addr;
	struct list_head	dev_list;
	const struct net_device_ops *netdev_ops;
	const struct rtnl_link_ops *rtnl_link_ops;
	struct wireless_dev	*ieee80211_ptr;
	void __rcu		*rx_handler_data;
	struct net_device	*master_hint;
	bool			needs_free_netdev;
	void			(*priv_destructor)(struct net_device *dev);
};

enum netdev_cmd {
	NETDEV_UP	= 1,
	NETDEV_DOWN,
	NETDEV_REBOOT,
	NETDEV_CHANGE,
	NETDEV_REGISTER,
	NETDEV_UNREGISTER,
	NETDEV_CHANGEMTU,
	NETDEV_CHANGEADDR,
	NETDEV_CHANGENAME,
	NETDEV_CHANGEUPPER,
};

struct netdev_notifier_info {
	struct net_device	*dev;
	struct netlink_ext_ack	*extack;
};

static inline struct net_device *
netdev_notifier_info_to_dev(const struct netdev_notifier_info *info)
{
	return info->dev;
}

static inline void *netdev_priv(const struct net_device *dev)
{
	return (char *)dev + ALIGN(sizeof(struct net_device), 32);
}

#define NET_NAME_UNKNOWN	0
#define NET_NAME_ENUM		1
#define NET_NAME_USER		3

struct net_device *alloc_netdev_mqs(int sizeof_priv, const char *name,
				    unsigned char name_assign_type,
				    void (*setup)(struct net_device *),
				    unsigned int txqs, unsigned int rxqs);
#define alloc_netdev(sizeof_priv, name, name_assign_type, setup) \
	alloc_netdev_mqs(sizeof_priv, name, name_assign_type, setup, 1, 1)
void free_netdev(struct net_device *dev);

int register_netdevice(struct net_device *dev);
void unregister_netdevice_queue(struct net_device *dev,
				struct list_head *head);
void unregister_netdevice_many(struct list_head *head);
static inline void unregister_netdevice(struct net_device *dev)
{
	unregister_netdevice_queue(dev, NULL);
}
int register_netdev(struct net_device *dev);
void unregister_netdev(struct net_device *dev);

int netdev_upper_dev_link(struct net_device *dev,
			  struct net_device *upper_dev,
			  struct netlink_ext_ack *extack);
int netdev_master_upper_dev_link(struct net_device *dev,
				 struct net_device *upper_dev,
				 void *upper_priv, void *upper_info,
				 struct netlink_ext_ack *extack);
void netdev_upper_dev_unlink(struct net_device *dev,
			     struct net_device *upper_dev);

int dev_change_net_namespace(struct net_device *dev, struct net *net,
			     const char *pat);
int dev_set_mtu(struct net_device *dev, int new_mtu);
int dev_open(struct net_device *dev, struct netlink_ext_ack *extack);
void dev_close(struct net_device *dev);

struct net_device *__dev_get_by_index(struct net *net, int ifindex);
struct net_device *dev_get_by_index(struct net *net, int ifindex);
struct net_device *__dev_get_by_name(struct net *net, const char *name);
void dev_put(struct net_device *dev);

int register_netdevice_notifier(struct notifier_block *nb);
int unregister_netdevice_notifier(struct notifier_block *nb);

int netdev_rx_handler_register(struct net_device *dev,
			       void *rx_handler, void *rx_handler_data);
void netdev_rx_handler_unregister(struct net_device *dev);

void netif_carrier_on(struct net_device *dev);
void netif_carrier_off(struct net_device *dev);

#define for_each_netdev(net, d)		\
		list_for_each_entry(d, &(net)->dev_base_head, dev_list)

#endif	/* _LINUX_NETDEVICE_H */
