/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _VARY_H
#define _VARY_H

int vary_attach(struct net_device *dev);

#endif
