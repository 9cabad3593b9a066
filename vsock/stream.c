// SPDX-License-Identifier: GPL-2.0
/*
 * SOCK_STREAM operations: the table the socket layer calls, with bind
 * and getname. The connection protocol is in stream_conn.c, data in
 * stream_io.c, options in stream_opts.c, ports in stream_ports.c.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/module.h>
#include <linux/net.h>
#include <net/sock.h>

#include "addr.h"
#include "stream.h"

static int vmsock_stream_bind(struct socket *sock, struct sockaddr_unsized *addr, int len)
{
	return vmsock_addr_bind(sock, addr, len, vmsock_stream_bind_port);
}

static int vmsock_stream_getname(struct socket *sock, struct sockaddr *addr, int peer)
{
	struct sock *sk = sock->sk;
	int ret;

	lock_sock(sk);
	ret = vmsock_addr_name(sk, (struct sockaddr_vm *)addr, peer,
			       sock->state == SS_CONNECTED,
			       vmsock_stream_bound(vmsock_sk(sk)));
	release_sock(sk);
	return ret;
}

static COMPAT_ACCEPT_FN(vmsock_stream_accept)
{
	return vmsock_stream_do_accept(sock, newsock, COMPAT_ACCEPT_FLAGS, COMPAT_ACCEPT_KERN);
}

/* .family is left to af_vmsock.c, which copies this per reservation. */
const struct proto_ops vmsock_stream_ops = {
	.owner = THIS_MODULE,
	.release = vmsock_stream_release,
	.bind = vmsock_stream_bind,
	.connect = vmsock_stream_connect,
	.socketpair = sock_no_socketpair,
	.accept = vmsock_stream_accept,
	.getname = vmsock_stream_getname,
	.poll = vmsock_stream_poll,
	.ioctl = vmsock_stream_ioctl,
	.listen = vmsock_stream_listen,
	.shutdown = vmsock_stream_shutdown,
	.setsockopt = vmsock_stream_setsockopt,
	.getsockopt = vmsock_stream_getsockopt,
	.sendmsg = vmsock_stream_sendmsg,
	.recvmsg = vmsock_stream_recvmsg,
	.mmap = sock_no_mmap,
	.set_rcvlowat = vmsock_stream_set_rcvlowat,
};
