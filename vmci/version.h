/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_VERSION_NEGOTIATION_H
#define VMCI_VERSION_NEGOTIATION_H

#include <linux/types.h>

u32 vmci_negotiate_version(u32 vmx_version);
u32 vmci_reported_version(u32 negotiated);

#endif
