/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_STATS_H
#define VMCI_STATS_H

/* /sys/kernel/debug/vmci/stats; failures are not fatal, debugfs is optional. */
void vmci_stats_init(void);
void vmci_stats_exit(void);

#endif /* VMCI_STATS_H */
