/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMSOCK_AF_VMSOCK_H
#define VMSOCK_AF_VMSOCK_H

int vmsock_af_init(void);
void vmsock_af_exit(void);

/*
 * GET_AF_VALUE for one /dev/vsock fd: the family number, which stays
 * registered until vmsock_af_put_fd() on the same @fd_hold (initially
 * NULL; the file's private_data). Asking again does not add a hold.
 */
int vmsock_af_hold_fd(void **fd_hold);
void vmsock_af_put_fd(void **fd_hold);

#endif /* VMSOCK_AF_VMSOCK_H */
