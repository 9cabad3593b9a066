// SPDX-License-Identifier: GPL-2.0
/*
 * VMCI host ABI version negotiation with a VMX process.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <vmci/vmci_abi.h>

#include "version.h"

/*
 * A VMX older than host queue pairs speaks its own dialect and must get
 * its own version echoed back so it keeps to it; anything newer (or a
 * nonsensical 0) is told what we speak and adapts down itself.
 */
u32 vmci_negotiate_version(u32 vmx_version)
{
	if (vmx_version > 0 && vmx_version < VMCI_VERSION_HOSTQP)
		return vmx_version;
	return VMCI_VERSION;
}

/* What IOCTL_VMCI_VERSION reports once VERSION2 may have pinned a dialect. */
u32 vmci_reported_version(u32 negotiated)
{
	return negotiated ? negotiated : VMCI_VERSION;
}
