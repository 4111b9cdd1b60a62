static int example_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct net *net = sock_net(skb->sk);
	struct net_device *dev;
	int ifindex, err;

	ifindex = nla_get_u32(info->attrs[EXAMPLE_A_IFINDEX]);

	rtnl_net_lock(net);
	dev = __dev_get_by_index(net, ifindex);
	if (!dev) {
		err = -ENODEV;
		goto out_unlock;
	}
	err = example_dev_set(dev, info->extack);
out_unlock:
	rtnl_net_unlock(net);
	return err;
}
