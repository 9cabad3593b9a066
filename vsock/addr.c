// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/errno.h>
#include <net/sock.h>

#include "addr.h"
#include "sock.h"

/* The one hypervisor resource a vSockets datagram may target. */
#define VMSOCK_HYPERVISOR_DGRAM_PORT	14U

int vmsock_addr_check(const struct sockaddr_unsized *addr, int len, int family)
{
	/* Classic vsock and Linux's AF_VSOCK both say EINVAL for either. */
	if (!addr || len < (int)sizeof(struct sockaddr_vm) || addr->sa_family != family)
		return -EINVAL;
	return 0;
}

bool vmsock_dgram_dst_allowed(u32 cid, u32 port)
{
	return cid != VMADDR_CID_HYPERVISOR || port == VMSOCK_HYPERVISOR_DGRAM_PORT;
}

int vmsock_addr_bind(struct socket *sock, struct sockaddr_unsized *addr, int len,
		     int (*do_bind)(struct sock *sk, u32 cid, u32 port))
{
	const struct sockaddr_vm *svm = (const struct sockaddr_vm *)addr;
	struct sock *sk = sock->sk;
	int ret;

	ret = vmsock_addr_check(addr, len, sk->sk_family);
	if (ret)
		return ret;
	lock_sock(sk);
	ret = do_bind(sk, svm->svm_cid, svm->svm_port);
	release_sock(sk);
	return ret;
}

int vmsock_addr_name(struct sock *sk, struct sockaddr_vm *out, int peer,
		     bool connected, bool bound)
{
	const struct vmsock_sock *vsk = vmsock_sk(sk);

	if (peer && !connected)
		return -ENOTCONN;
	if (peer)
		*out = vsk->remote_addr;
	else if (bound)
		*out = vsk->local_addr;
	else
		vmsock_addr_init(out, sk->sk_family, VMADDR_CID_ANY, VMADDR_PORT_ANY);
	return sizeof(*out);
}
