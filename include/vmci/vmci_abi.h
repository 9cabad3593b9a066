/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMCI wire and ioctl constants fixed by VMware's ABI (hypervisors and
 * existing VMX/user binaries depend on these exact values).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_ABI_H
#define VMCI_ABI_H

#include <linux/types.h>

/* Context IDs. */
#define VMCI_HYPERVISOR_CONTEXT_ID	0U
#define VMCI_WELL_KNOWN_CONTEXT_ID	1U
#define VMCI_HOST_CONTEXT_ID		2U
#define VMCI_INVALID_ID			0xFFFFFFFFU

/* Version words are (major << 16) | minor. */
#define VMCI_MAKE_VERSION(major, minor)	(((major) << 16) | (minor))
#define VMCI_VERSION_PREVERS2		VMCI_MAKE_VERSION(1, 0)
#define VMCI_VERSION_HOSTQP		VMCI_MAKE_VERSION(9, 0)
#define VMCI_VERSION_NOTIFY		VMCI_MAKE_VERSION(10, 0)
#define VMCI_VERSION_NOVMVM		VMCI_MAKE_VERSION(11, 0)
#define VMCI_VERSION			VMCI_VERSION_NOVMVM

/*
 * /dev/vmci ioctls are _IO(7, nr) with no size or direction bits; VMware
 * numbers them in decimal from 1951.
 */
#define IOCTL_VMCI_VERSION		1951
#define IOCTL_VMCI_INIT_CONTEXT		1952
#define IOCTL_VMCI_VERSION2		1959
#define IOCTL_VMCI_GET_CONTEXT_ID	1971

/* /dev/vsock ioctls (the vSockets block of the same numbering). */
#define IOCTL_VMCI_SOCKETS_VERSION		1972
#define IOCTL_VMCI_SOCKETS_GET_AF_VALUE		1976
#define IOCTL_VMCI_SOCKETS_GET_LOCAL_CID	1977

#endif /* VMCI_ABI_H */
