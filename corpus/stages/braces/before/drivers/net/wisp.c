// SPDX-License-Identifier: GPL-2.0
/*
 * wisp: made-up switch ports that move between namespaces and are enslaved
 * to a master; un-braced branches next to comments and #ifdef arms.
 */

#include <linux/netdevice.h>

struct wisp_port {
	struct net_device *netdev;
	struct net_device *master;
	bool legacy;
	int id;
};

int wisp_legacy_move(struct wisp_port *port);

int wisp_move(struct wisp_port *port, struct net *net)
{
	struct net_device *dev = port->netdev;
	int err;

	if (net)
		err = dev_change_net_namespace(dev, net, "wisp%d");
#ifdef CONFIG_WISP_LEGACY
	else if (port->legacy)
		err = wisp_legacy_move(port);
#endif
	else
		err = -EINVAL;

	return err;
}

int wisp_park(struct wisp_port *port, struct net *net)
{
	struct net_device *dev = port->netdev;
	int err;

	if (net)
		err = dev_change_net_namespace(dev, net, "wisp%d");
	/* without a namespace the port stays where it is */
	else
		err = -EINVAL;

	return err;
}

int wisp_move_noted(struct wisp_port *port, struct net *net)
{
	struct net_device *dev = port->netdev;
	int err = 0;

	if (net) /* only when asked */
		err = dev_change_net_namespace(dev, net, "w%d"); /* sleeps */
	return err;
}

int wisp_move_back(struct wisp_port *port, struct net *net)
{
	struct net_device *dev = port->netdev;
	int err;

#ifdef CONFIG_WISP_LEGACY
	if (port->legacy) {
		err = wisp_legacy_move(port);
	} else
#endif
	{
		err = dev_change_net_namespace(dev, net, "wisp%d");
	}
	return err;
}

int wisp_move_named(struct wisp_port *port, struct net *net)
{
	struct net_device *dev = port->netdev;
	int err = 0;

	if (net)
		err = dev_change_net_namespace(dev, net,
#ifdef CONFIG_WISP_LEGACY
					       "legacy%d");
#else
					       "wisp%d");
#endif
	return err;
}

int wisp_move_either(struct wisp_port *port, struct net *net)
{
	struct net_device *dev = port->netdev;
	int err = 0;

	if (net)
#ifdef CONFIG_WISP_NS
		err = dev_change_net_namespace(dev, net, "wisp%d");
#else
		err = wisp_legacy_move(port);
#endif
	return err;
}

int wisp_enslave(struct wisp_port *port)
{
	struct net_device *dev = port->netdev;
	int err;

	if (port->master)
		err = netdev_master_upper_dev_link(dev, port->master,
#ifdef CONFIG_WISP_INFO
						   &port->info,
#else
						   NULL,
#endif
						   /* no upper info, no extack */
						   NULL, NULL);
	else
		err = -ENODEV;
	return err;
}

int wisp_enslave_legacy(struct wisp_port *port)
{
	struct net_device *dev = port->netdev;
	int err;

	if (port->master)
		err = netdev_master_upper_dev_link(dev, port->master, NULL,
						   NULL, NULL);
#ifdef CONFIG_WISP_LEGACY
	else if (port->legacy)
		err = wisp_legacy_move(port);
#endif
	else
		err = -ENODEV;
	return err;
}
