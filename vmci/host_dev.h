/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_HOST_DEV_H
#define VMCI_HOST_DEV_H

int vmci_host_dev_init(void);
void vmci_host_dev_exit(void);

#endif
