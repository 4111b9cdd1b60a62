/* review: list_for_each_entry() walks a list that is not net's */
static void example_dump_ports(struct net *net, struct sk_buff *skb)
{
	struct example_port *port;
	LIST_HEAD(ports);

	example_collect(&ports);
	rtnl_lock();
	list_for_each_entry(port, &ports, list)
		example_fill(net, skb, port);
	rtnl_unlock();
}
