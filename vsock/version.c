// SPDX-License-Identifier: GPL-2.0
/*
 * The version word VMCISock_Version() returns to programs.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <vmci/version_info.h>

#include "version.h"

/*
 * Programs decode this with VMCI_SOCKETS_VERSION_EPOCH/MAJOR/MINOR, i.e.
 * bits 31-24, 23-16 and 15-0; fields that do not fit are truncated the
 * same way VMware's header does rather than bleeding into a neighbour.
 */
u32 vmsock_version_word(u32 epoch, u32 major, u32 minor)
{
	return (epoch & 0xFF) << 24 | (major & 0xFF) << 16 | (minor & 0xFFFF);
}

u32 vmsock_driver_version(void)
{
	return vmsock_version_word(VMCI_VMSOCK_VERSION_MAJOR,
				   VMCI_VMSOCK_VERSION_MINOR,
				   VMCI_VMSOCK_VERSION_PATCH);
}
