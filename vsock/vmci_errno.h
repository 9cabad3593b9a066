/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMSOCK_VMCI_ERRNO_H
#define VMSOCK_VMCI_ERRNO_H

/* The errno a socket call reports for a failed VMCI call (@vmci_err < 0). */
int vmsock_vmci_errno(int vmci_err);

#endif /* VMSOCK_VMCI_ERRNO_H */
