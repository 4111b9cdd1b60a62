/* review: configure it in `families` */
/* path: net/mac80211/example.c */
void foo_switch_netns(struct foo_local *local, struct net *net)
{
	struct foo_sub *sdata;

	list_for_each_entry(sdata, &local->interfaces, list)
		dev_change_net_namespace(sdata->dev, net, "wlan%d");
}
