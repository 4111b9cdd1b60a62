static int acme_register_mgmt(struct acme_adapter *ad)
{
	struct net_device *mdev;

	mdev = alloc_netdev(0, "acmem%d", NET_NAME_ENUM, acme_setup);
	if (!mdev)
		return -ENOMEM;
	ad->mgmt_dev = mdev;

	return register_netdev(mdev);
}

static int acme_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct acme_adapter *ad = pci_get_drvdata(pdev);

	return acme_register_mgmt(ad);
}
