/* path: include/linux/netdevice.h */
/* The inline wrapper is not a site: its callers are. */
static inline
int dev_change_net_namespace(struct net_device *dev, struct net *net,
			     const char *pat)
{
	return __dev_change_net_namespace(dev, net, pat, 0, NULL);
}
