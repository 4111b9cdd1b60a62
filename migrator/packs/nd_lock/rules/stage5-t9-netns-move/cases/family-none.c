/* path: net/wireless/example.c */
void foo_switch_netns(struct foo_phy *phy, struct net *net)
{
	struct wireless_dev *wdev;

	list_for_each_entry(wdev, &phy->wdev_list, list)
		dev_change_net_namespace(wdev->netdev, net, "wlan%d");
}
