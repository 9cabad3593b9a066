/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest personality as main.c sees it: a PCI driver that exists only
 * on kernels with PCI.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_GUEST_PCI_H
#define VMCI_GUEST_PCI_H

#include <linux/kconfig.h>

#if IS_ENABLED(CONFIG_PCI)
/* Process context; after the core is up, before vmci_host_dev_exit(). */
int vmci_guest_init(void);
void vmci_guest_exit(void);
#else
static inline int vmci_guest_init(void)
{
	return 0;
}

static inline void vmci_guest_exit(void)
{
}
#endif

#endif /* VMCI_GUEST_PCI_H */
