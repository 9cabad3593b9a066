/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMSOCK_VSOCK_DEV_H
#define VMSOCK_VSOCK_DEV_H

int vmsock_dev_init(void);
void vmsock_dev_exit(void);

#endif
