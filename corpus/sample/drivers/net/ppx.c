// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ppx: numbered point-to-point units.
 *
 * A unit is created by "ip link add type ppx unit N", by writing N to
 * /sys/class/ppx/new_unit, or at load time when ppx.auto_units is set.
 */

#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/workqueue.h>
#include <linux/idr.h>
#include <net/rtnetlink.h>

struct ppx_unit {
	struct net_device	*dev;
	struct net		*net;
	int			index;
};

static DEFINE_MUTEX(ppx_units_mutex);
static DEFINE_IDR(ppx_units_idr);

static unsigned int auto_units;
module_param(auto_units, uint, 0444);

static void ppx_auto_work_fn(struct work_struct *work);
static DECLARE_WORK(ppx_auto_work, ppx_auto_work_fn);

static const struct net_device_ops ppx_netdev_ops;

static void ppx_setup(struct net_device *dev)
{
	dev->netdev_ops = &ppx_netdev_ops;
	dev->mtu = 1500;
	dev->flags = IFF_POINTOPOINT | IFF_NOARP;
	dev->needs_free_netdev = true;
}

/*
 * Register @dev as unit @unit.  Called with RTNL held, from the
 * netlink newlink handler, from the sysfs new_unit file and from the
 * auto-creation work.
 */
static int ppx_create_unit(struct net *net, struct net_device *dev, int unit)
{
	struct ppx_unit *pu = netdev_priv(dev);
	int ret;

	mutex_lock(&ppx_units_mutex);
	ret = idr_alloc(&ppx_units_idr, pu, unit, unit + 1, GFP_KERNEL);
	if (ret < 0)
		goto out_unlock;

	pu->dev = dev;
	pu->net = net;
	pu->index = ret;
	snprintf(dev->name, IFNAMSIZ, "ppx%i", pu->index);

	ret = register_netdevice(dev);
	if (ret < 0)
		goto out_remove_idr;

	mutex_unlock(&ppx_units_mutex);
	return 0;

out_remove_idr:
	idr_remove(&ppx_units_idr, pu->index);
out_unlock:
	mutex_unlock(&ppx_units_mutex);
	return ret;
}

static int ppx_nl_newlink(struct net *src_net, struct net_device *dev,
			  struct nlattr *tb[], struct nlattr *data[],
			  struct netlink_ext_ack *extack)
{
	int unit = 0;

	if (data && data[IFLA_PPX_UNIT])
		unit = nla_get_u32(data[IFLA_PPX_UNIT]);

	return ppx_create_unit(src_net, dev, unit);
}

static struct rtnl_link_ops ppx_link_ops __read_mostly = {
	.kind		= "ppx",
	.maxtype	= IFLA_PPX_MAX,
	.priv_size	= sizeof(struct ppx_unit),
	.setup		= ppx_setup,
	.newlink	= ppx_nl_newlink,
};

static ssize_t new_unit_store(const struct class *class,
			      const struct class_attribute *attr,
			      const char *buf, size_t count)
{
	struct net_device *dev;
	int unit, err;

	if (kstrtoint(buf, 0, &unit))
		return -EINVAL;

	dev = alloc_netdev(sizeof(struct ppx_unit), "", NET_NAME_ENUM,
			   ppx_setup);
	if (!dev)
		return -ENOMEM;
	dev->rtnl_link_ops = &ppx_link_ops;

	rtnl_lock();
	err = ppx_create_unit(&init_net, dev, unit);
	rtnl_unlock();
	if (err) {
		free_netdev(dev);
		return err;
	}
	return count;
}
static CLASS_ATTR_WO(new_unit);

static void ppx_auto_work_fn(struct work_struct *work)
{
	struct net_device *dev;
	unsigned int i;

	for (i = 0; i < auto_units; i++) {
		dev = alloc_netdev(sizeof(struct ppx_unit), "", NET_NAME_ENUM,
				   ppx_setup);
		if (!dev)
			break;
		dev->rtnl_link_ops = &ppx_link_ops;

		rtnl_lock();
		if (ppx_create_unit(&init_net, dev, i)) {
			rtnl_unlock();
			free_netdev(dev);
			break;
		}
		rtnl_unlock();
	}
}

static int __init ppx_init(void)
{
	int err;

	err = rtnl_link_register(&ppx_link_ops);
	if (err)
		return err;

	if (auto_units)
		schedule_work(&ppx_auto_work);
	return 0;
}
module_init(ppx_init);
MODULE_LICENSE("GPL");
MODULE_ALIAS_RTNL_LINK("ppx");
