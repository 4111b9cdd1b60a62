/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _MWRAP_H
#define _MWRAP_H

#define MWRAP_ENSLAVE(upper, lower, extack)				\
	netdev_master_upper_dev_link((lower), (upper), NULL, NULL,	\
				     (extack))

/* Standalone devices of the driver register on their own. */
#define mwrap_register_standalone(d)	register_netdev(d)

#endif
