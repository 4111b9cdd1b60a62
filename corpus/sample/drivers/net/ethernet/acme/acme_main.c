// SPDX-License-Identifier: GPL-2.0
/*
 * ACME Gigabit Ethernet PCI driver.
 *
 * Copyright (C) 2021 ACME Network Cards GmbH
 * Based on an early prototype by Jörg Kessler.
 */

#include <linux/module.h>
#include <linux/pci.h>
#include <linux/netdevice.h>
#include <linux/etherdevice.h>
#include <net/rtnetlink.h>

#define ACME_MAX_PORTS		4
#define ACME_PORT_MGMT		3
#define ACME_FIRST_VF		1

struct acme_port {
	struct net_device *netdev;
	int index;
};

struct acme_adapter {
	struct pci_dev *pdev;
	struct acme_port *ports[ACME_MAX_PORTS];
	int num_ports;
	struct net_device *mgmt_dev;
	struct work_struct reset_task;
};

static const struct net_device_ops acme_netdev_ops;

static struct net_device *acme_port_netdev(struct acme_adapter *ad, int i)
{
	return ad->ports[i] ? ad->ports[i]->netdev : NULL;
}

static void acme_setup(struct net_device *netdev)
{
	ether_setup(netdev);
	netdev->netdev_ops = &acme_netdev_ops;
	netdev->mtu = 1500;
}

/* Register the extra ports of a multi-port card */
static int acme_register_ports(struct acme_adapter *ad)
{
	int i;

	for (i = 1; i < ad->num_ports; i++) {
		if (register_netdev(ad->ports[i]->netdev)) {
			dev_err(&ad->pdev->dev, "port %d: register failed\n", i);
			goto err_unwind;
		}
	}
	return 0;

err_unwind:
	while (--i > 0)
		unregister_netdev(ad->ports[i]->netdev);
	return -EIO;
}

static int acme_register_mgmt(struct acme_adapter *ad)
{
	struct net_device *mdev;

	mdev = alloc_netdev(0, "acmem%d", NET_NAME_ENUM, acme_setup);
	if (!mdev)
		return -ENOMEM;
	ad->mgmt_dev = mdev;

	return register_netdev(mdev);
}

static int acme_register_vf(struct acme_adapter *ad, int vf)
{
	struct acme_port *port = ad->ports[ACME_FIRST_VF + vf];
	int ret;

	ret = register_netdev(acme_port_netdev(ad,
					       ACME_FIRST_VF + vf));
	if (ret) {
		netdev_err(port->netdev, "VF %d: cannot register (%d)\n",
			   vf, ret);
		free_netdev(port->netdev);
		port->netdev = NULL;
		return ret;
	}
	return 0;
}

static int acme_sriov_configure(struct pci_dev *pdev, int num_vfs)
{
	struct acme_adapter *ad = pci_get_drvdata(pdev);
	int i, err;

	for (i = 0; i < num_vfs; i++) {
		err = acme_register_vf(ad, i);
		if (err)
			return err;
	}
	return num_vfs;
}

/*
 * Reset recovery: the port device was torn down by the firmware reset
 * and is registered again.  This runs with RTNL held.
 */
static void acme_reset_task(struct work_struct *work)
{
	struct acme_adapter *ad = container_of(work, struct acme_adapter,
					       reset_task);
	struct net_device *netdev = ad->ports[0]->netdev;
	int err;

	rtnl_lock();
	acme_hw_reset(ad);
	err = register_netdev(netdev);
	if (err)
		dev_err(&ad->pdev->dev, "re-register after reset: %d\n", err);
	rtnl_unlock();
}

/* devlink reload into another namespace */
int acme_reload_netns(struct acme_adapter *ad, struct net *net)
{
	struct net_device *netdev = ad->ports[0]->netdev;
	int err;

	err = dev_change_net_namespace(netdev, net,
				       "eth%d");
	if (err) {
		netdev_err(netdev, "move to new namespace failed: %d\n", err);
		return err;
	}

	netdev_info(netdev, "reloaded into new namespace\n");
	return 0;
}

static int acme_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct acme_adapter *ad;
	struct net_device *netdev;
	int err;

	err = pci_enable_device_mem(pdev);
	if (err)
		return err;

	netdev = alloc_etherdev(sizeof(*ad));
	if (!netdev) {
		err = -ENOMEM;
		goto err_disable;
	}
	ad = netdev_priv(netdev);
	ad->pdev = pdev;
	INIT_WORK(&ad->reset_task, acme_reset_task);
	acme_setup(netdev);

	err = register_netdev(netdev);
	if (err)
		goto err_free_netdev;

	err = acme_register_ports(ad);
	if (err)
		goto err_unregister;

#ifdef CONFIG_ACME_MGMT_PORT
	err = acme_register_mgmt(ad);
	if (err)
		goto err_unregister;
#endif

	pci_set_drvdata(pdev, ad);
	return 0;

err_unregister:
	unregister_netdev(netdev);
err_free_netdev:
	free_netdev(netdev);
err_disable:
	pci_disable_device(pdev);
	return err;
}

static void acme_remove(struct pci_dev *pdev)
{
	struct acme_adapter *ad = pci_get_drvdata(pdev);

	cancel_work_sync(&ad->reset_task);
	unregister_netdev(ad->ports[0]->netdev);
	pci_disable_device(pdev);
}

static const struct pci_device_id acme_pci_tbl[] = {
	{ PCI_VDEVICE(ACME, 0x1001) },
	{ PCI_VDEVICE(ACME, 0x1002) },
	{ }
};
MODULE_DEVICE_TABLE(pci, acme_pci_tbl);

static struct pci_driver acme_driver = {
	.name		= "acme",
	.id_table	= acme_pci_tbl,
	.probe		= acme_probe,
	.remove		= acme_remove,
	.sriov_configure = acme_sriov_configure,
};
module_pci_driver(acme_driver);

MODULE_DESCRIPTION("ACME Gigabit Ethernet driver");
MODULE_LICENSE("GPL");
