// SPDX-License-Identifier: GPL-2.0
/*
 * SOCK_DGRAM operations. Only release does anything yet; the rest is
 * the datagram protocol over VMCI datagrams, still to come.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/module.h>
#include <linux/net.h>
#include <net/sock.h>

#include "sock.h"

/* .family is left to af_vmsock.c, which copies this per reservation. */
const struct proto_ops vmsock_dgram_ops = {
	.owner = THIS_MODULE,
	.release = vmsock_release,
	.bind = sock_no_bind,
	.connect = sock_no_connect,
	.socketpair = sock_no_socketpair,
	.accept = sock_no_accept,
	.getname = sock_no_getname,
	.ioctl = sock_no_ioctl,
	.listen = sock_no_listen,
	.shutdown = sock_no_shutdown,
	.sendmsg = sock_no_sendmsg,
	.recvmsg = sock_no_recvmsg,
	.mmap = sock_no_mmap,
};
