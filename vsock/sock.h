/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A vSockets socket, shared by the stream and datagram halves.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMSOCK_SOCK_H
#define VMSOCK_SOCK_H

#include <linux/build_bug.h>
#include <linux/net.h>
#include <linux/stddef.h>
#include <linux/vm_sockets.h>
#include <net/sock.h>

#include <vmci/vmci_abi.h>

struct vmsock_sock {
	struct sock sk;		/* first: sk_alloc() hands out the whole object */
	bool trusted;		/* may reach VMCI endpoints that demand it */
	/*
	 * Under lock_sock(). sk_alloc() zeroes them, so svm_family 0 means
	 * not bound / no peer; dg_handle (SOCK_DGRAM) is valid once bound.
	 */
	struct sockaddr_vm local_addr;
	struct sockaddr_vm remote_addr;
	struct vmci_handle dg_handle;
};

static_assert(offsetof(struct vmsock_sock, sk) == 0);

static inline struct vmsock_sock *vmsock_sk(struct sock *sk)
{
	return container_of(sk, struct vmsock_sock, sk);
}

int vmsock_release(struct socket *sock);

/*
 * One table per socket type (stream.c, dgram.c). Each reservation of a
 * family number gets its own copy with .family set; see af_vmsock.c.
 */
extern const struct proto_ops vmsock_stream_ops;
extern const struct proto_ops vmsock_dgram_ops;

#endif /* VMSOCK_SOCK_H */
