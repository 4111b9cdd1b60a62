/* review: which one the region works on is not known */
static int example_link(struct net *net, struct net *link_net, int ifindex)
{
	int err;

	rtnl_lock();
	err = example_link_add(net, link_net, ifindex);
	rtnl_unlock();
	return err;
}
