#include <linux/netdevice.h>
#include <net/rtnetlink.h>

struct xt *xt_locate(struct net *net, const struct xt_parm *p, int create,
		     struct nd_lock *nd_lock);

static struct xt *xt_create(struct net *net, const struct xt_parm *p,
			    struct nd_lock *nd_lock)
{
	struct net_device *dev;
	int err;

	dev = alloc_netdev(sizeof(struct xt), "xt%d", NET_NAME_UNKNOWN, xt_setup);
	if (!dev)
		return ERR_PTR(-ENOMEM);
	dev_net_set(dev, net);
	attach_nd_lock(dev, nd_lock);
	err = __register_netdevice(dev);
	if (err < 0)
		goto failed_free;
	return netdev_priv(dev);

failed_free:
	detach_nd_lock(dev);
	free_netdev(dev);
	return ERR_PTR(err);
}

/**
 * xt_locate - find or create a tunnel
 * @net: network namespace of the tunnel
 * @p: tunnel parameters
 * @create: create one when none matches
 * @nd_lock: lock to attach the new device to
 *
 * Return: the tunnel, or an ERR_PTR()
 */
struct xt *xt_locate(struct net *net, const struct xt_parm *p, int create,
		     struct nd_lock *nd_lock)
{
	struct xt *t = xt_find(net, p);

	if (t || !create)
		return t ? t : ERR_PTR(-ENODEV);
	return xt_create(net, p, nd_lock);
}

static int xt_changelink(struct net_device *dev, struct nlattr *tb[],
			 struct nlattr *data[], struct netlink_ext_ack *extack)
{
	struct xt_parm p;
	struct xt *t;

	xt_parms(data, &p);
	t = xt_locate(dev_net(dev), &p, 1,
		      rcu_dereference_protected(dev->nd_lock, true));
	return PTR_ERR_OR_ZERO(t);
}

static int xt_siocdevprivate(struct net_device *dev, struct ifreq *ifr,
			     void __user *data, int cmd)
{
	struct nd_lock *nd_lock;
	struct xt_parm p;
	struct xt *t;

	if (copy_from_user(&p, data, sizeof(p)))
		return -EFAULT;
	if (!lock_netdev(dev, &nd_lock))
		return -ENODEV;
	t = xt_locate(dev_net(dev), &p, cmd == SIOCADDXT, nd_lock);
	unlock_netdev(nd_lock);
	return PTR_ERR_OR_ZERO(t);
}

static const struct net_device_ops xt_netdev_ops = {
	.ndo_siocdevprivate	= xt_siocdevprivate,
};

static struct rtnl_link_ops xt_link_ops __read_mostly = {
	.kind		= "xt",
	.changelink	= xt_changelink,
};
