/* path: net/wireless/example.c */
int foo_switch_netns(struct foo_phy *phy, struct net *net)
{
	struct wireless_dev *wdev;
	int err = 0;

	mutex_lock(&fallback_nd_lock.mutex);
	list_for_each_entry(wdev, &phy->wdev_list, list) {
		if (!wdev->netdev)
			continue;
		if (wdev->busy) {
			mutex_unlock(&fallback_nd_lock.mutex);
			return -EBUSY;
		}
		err = dev_change_net_namespace(wdev->netdev, net, "wlan%d");
		if (err)
			break;
	}
	mutex_unlock(&fallback_nd_lock.mutex);

	if (err) {
		mutex_lock(&fallback_nd_lock.mutex);
		list_for_each_entry_continue_reverse(wdev, &phy->wdev_list, list)
			dev_change_net_namespace(wdev->netdev, &init_net, "wlan%d");
		mutex_unlock(&fallback_nd_lock.mutex);
		return err;
	}
	return 0;
}
