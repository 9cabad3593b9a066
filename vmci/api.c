// SPDX-License-Identifier: GPL-2.0
/*
 * Exported kernel API of vmci.ko (VMCIX namespace).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/export.h>
#include <vmci/vmci_abi.h>
#include <vmci/vmcix.h>

/*
 * Without a guest personality bound to a device we are the host, and
 * peers reach the host at the fixed host context ID.
 */
u32 vmcix_get_context_id(void)
{
	return VMCI_HOST_CONTEXT_ID;
}
EXPORT_SYMBOL_GPL(vmcix_get_context_id);
