/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMCI privilege rule, shared by datagram routing and context
 * notifications.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_PRIVILEGE_H
#define VMCI_PRIVILEGE_H

#include <linux/types.h>
#include <vmci/vmci_abi.h>

static inline bool vmci_priv_flags_valid(u32 flags)
{
	return !(flags & ~VMCI_PRIVILEGE_ALL_FLAGS);
}

/*
 * Two endpoints may interact unless one of them is RESTRICTED and the
 * other is not TRUSTED: a restricted VM may reach only services the host
 * has explicitly vetted.
 */
static inline bool vmci_privileges_allow(u32 a, u32 b)
{
	if ((a & VMCI_PRIVILEGE_FLAG_RESTRICTED) && !(b & VMCI_PRIVILEGE_FLAG_TRUSTED))
		return false;
	if ((b & VMCI_PRIVILEGE_FLAG_RESTRICTED) && !(a & VMCI_PRIVILEGE_FLAG_TRUSTED))
		return false;
	return true;
}

#endif /* VMCI_PRIVILEGE_H */
