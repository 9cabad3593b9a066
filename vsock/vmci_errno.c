// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/errno.h>

#include <vmci/vmci_abi.h>
#include "vmci_errno.h"

int vmsock_vmci_errno(int vmci_err)
{
	switch (vmci_err) {
	case VMCI_ERROR_NO_MEM:
		return -ENOMEM;
	case VMCI_ERROR_DUPLICATE_ENTRY:
	case VMCI_ERROR_ALREADY_EXISTS:
		return -EADDRINUSE;
	case VMCI_ERROR_NO_ACCESS:
		return -EPERM;
	case VMCI_ERROR_NO_RESOURCES:
		return -ENOBUFS;
	/*
	 * Upstream folds an unreachable destination into EINVAL; naming the
	 * real reason costs nothing and matches what a UDP user expects.
	 */
	case VMCI_ERROR_INVALID_RESOURCE:
	case VMCI_ERROR_DST_UNREACHABLE:
		return -EHOSTUNREACH;
	default:
		return -EINVAL;
	}
}
