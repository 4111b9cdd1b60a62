/* review: no free_netdev(dev) on the failure path */
#include <linux/netdevice.h>
#include <net/rtnetlink.h>

struct xt *xt_locate(struct net *net, const struct xt_parm *p, int create);

static struct xt *xt_create(struct net *net, const struct xt_parm *p)
{
	struct net_device *dev;
	int err;

	dev = alloc_netdev(sizeof(struct xt), "xt%d", NET_NAME_UNKNOWN, xt_setup);
	if (!dev)
		return ERR_PTR(-ENOMEM);
	dev_net_set(dev, net);
	err = register_netdevice(dev);
	if (err < 0)
		return ERR_PTR(err);
	return netdev_priv(dev);
}

/**
 * xt_locate - find or create a tunnel
 * @net: network namespace of the tunnel
 * @p: tunnel parameters
 * @create: create one when none matches
 *
 * Return: the tunnel, or an ERR_PTR()
 */
struct xt *xt_locate(struct net *net, const struct xt_parm *p, int create)
{
	struct xt *t = xt_find(net, p);

	if (t || !create)
		return t ? t : ERR_PTR(-ENODEV);
	return xt_create(net, p);
}

static int xt_changelink(struct net_device *dev, struct nlattr *tb[],
			 struct nlattr *data[], struct netlink_ext_ack *extack)
{
	struct xt_parm p;
	struct xt *t;

	xt_parms(data, &p);
	t = xt_locate(dev_net(dev), &p, 1);
	return PTR_ERR_OR_ZERO(t);
}

static int xt_siocdevprivate(struct net_device *dev, struct ifreq *ifr,
			     void __user *data, int cmd)
{
	struct xt_parm p;
	struct xt *t;

	if (copy_from_user(&p, data, sizeof(p)))
		return -EFAULT;
	t = xt_locate(dev_net(dev), &p, cmd == SIOCADDXT);
	return PTR_ERR_OR_ZERO(t);
}

static const struct net_device_ops xt_netdev_ops = {
	.ndo_siocdevprivate	= xt_siocdevprivate,
};

static struct rtnl_link_ops xt_link_ops __read_mostly = {
	.kind		= "xt",
	.changelink	= xt_changelink,
};
