/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API of vmci.ko for vmsock.ko and other in-kernel users.
 * Exported in the VMCIX symbol namespace with the vmcix_ prefix, so it
 * never collides with the in-tree vmw_vmci exports.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCIX_H
#define VMCIX_H

#include <linux/types.h>

/* Context ID of this machine as peers address it. */
u32 vmcix_get_context_id(void);

#endif /* VMCIX_H */
