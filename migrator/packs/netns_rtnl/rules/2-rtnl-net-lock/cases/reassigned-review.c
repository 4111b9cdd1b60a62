/* review: net is assigned in the function */
static void example_move(struct net *net, struct example_cfg *cfg)
{
	if (cfg->use_init)
		net = &init_net;
	rtnl_lock();
	example_apply(net, cfg);
	rtnl_unlock();
}
