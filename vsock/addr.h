/* SPDX-License-Identifier: GPL-2.0 */
/*
 * struct sockaddr_vm as it crosses the socket API: checking what user
 * space passes in and building what we hand back.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMSOCK_ADDR_H
#define VMSOCK_ADDR_H

#include <linux/socket.h>
#include <linux/types.h>
#include <linux/vm_sockets.h>

/*
 * Checks a caller's address for bind, connect and sendto on a socket of
 * @family: 0, -EINVAL when shorter than struct sockaddr_vm, -EAFNOSUPPORT
 * when it names another family. svm_flags and svm_zero are ignored:
 * classic programs never had to clear them.
 */
int vmsock_addr_check(const struct sockaddr *addr, int len, int family);

/* A fully zeroed address, so no kernel byte reaches user space. */
void vmsock_addr_init(struct sockaddr_vm *addr, int family, u32 cid, u32 port);

/*
 * Whether a datagram socket may send to {@cid, @port}: the hypervisor
 * only ever accepts its unity RPC port from vSockets.
 */
bool vmsock_dgram_dst_allowed(u32 cid, u32 port);

#endif /* VMSOCK_ADDR_H */
