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
#include <linux/string.h>
#include <linux/types.h>
#include <linux/vm_sockets.h>

/*
 * Checks a caller's address for bind, connect and sendto on a socket of
 * @family: 0, or -EINVAL when shorter than struct sockaddr_vm or naming
 * another family (docs/vmsock-sockets.md, "Calls that differ"). svm_flags
 * and svm_zero are ignored:
 * classic programs never had to clear them.
 */
int vmsock_addr_check(const struct sockaddr_unsized *addr, int len, int family);

/*
 * A fully zeroed address, so no kernel byte reaches user space. Inline:
 * a connection fills four of them.
 */
static inline void vmsock_addr_init(struct sockaddr_vm *addr, int family, u32 cid, u32 port)
{
	memset(addr, 0, sizeof(*addr));
	addr->svm_family = family;
	addr->svm_cid = cid;
	addr->svm_port = port;
}

/*
 * Whether a datagram socket may send to {@cid, @port}: the hypervisor
 * only ever accepts its unity RPC port from vSockets.
 */
bool vmsock_dgram_dst_allowed(u32 cid, u32 port);

struct sock;
struct socket;

/*
 * bind(2) for either socket type: checks @addr, then runs @do_bind with
 * the socket locked.
 */
int vmsock_addr_bind(struct socket *sock, struct sockaddr_unsized *addr, int len,
		     int (*do_bind)(struct sock *sk, u32 cid, u32 port));

/*
 * getsockname/getpeername for either socket type; the caller holds the
 * socket lock, so @connected and @bound cannot change under us. An
 * unbound socket reports {ANY, ANY}, as vsock(7) programs expect.
 */
int vmsock_addr_name(struct sock *sk, struct sockaddr_vm *out, int peer,
		     bool connected, bool bound);

#endif /* VMSOCK_ADDR_H */
