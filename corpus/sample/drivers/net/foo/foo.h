/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _FOO_H
#define _FOO_H

#include <linux/netdevice.h>
#include <linux/list.h>

#define FOO_MAX_QUEUES	8

enum foo_mode {
	FOO_MODE_LOOP,
	FOO_MODE_DROP,
	FOO_MODE_ECHO,
};

struct foo_priv {
	struct net_device	*dev;
	struct list_head	list;
	enum foo_mode		mode;
	unsigned int		queues;
	struct dentry		*debugfs_dir;
};

extern struct list_head foo_dev_list;

/* foo_dev_setup.c */
int foo_dev_register(struct net_device *dev, enum foo_mode mode,
		     unsigned int queues, struct netlink_ext_ack *extack);
void foo_dev_apply_mode(struct foo_priv *priv, enum foo_mode mode);
void foo_setup(struct net_device *dev);

#endif /* _FOO_H */
