/* path: net/wireless/example.c */
int foo_switch_netns(struct foo_phy *phy, struct net *net)
{
	struct wireless_dev *wdev;
	int err = 0;

	list_for_each_entry(wdev, &phy->wdev_list, list) {
		if (!wdev->netdev)
			continue;
		if (wdev->busy)
			return -EBUSY;
		err = dev_change_net_namespace(wdev->netdev, net, "wlan%d");
		if (err)
			break;
	}

	if (err) {
		list_for_each_entry_continue_reverse(wdev, &phy->wdev_list, list)
			dev_change_net_namespace(wdev->netdev, &init_net, "wlan%d");
		return err;
	}
	return 0;
}
