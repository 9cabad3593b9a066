// SPDX-License-Identifier: GPL-2.0
/*
 * The vSockets address family: registering it under whichever number
 * family.c chooses, and a socket's life from socket() to its last
 * reference. The protocols themselves live in stream.c and dgram.c.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/sysfs.h>
#include <linux/user_namespace.h>
#include <net/sock.h>

#include "af_vmsock.h"
#include "diag.h"
#include "family.h"
#include "sock.h"
#include "stream.h"

static int vmsock_pinned_af = VMSOCK_AF_AUTO;
static bool vmsock_prefer_af_vsock = true;
static unsigned int vmsock_af_linger = 30;

static int vmsock_param_af_set(const char *val, const struct kernel_param *kp)
{
	int value;

	if (kstrtoint(val, 0, &value) ||
	    (value != VMSOCK_AF_AUTO && (value <= AF_UNSPEC || value >= AF_MAX))) {
		pr_err("af=%s: want -1 (choose) or a family number from 1 to %d\n",
		       val, AF_MAX - 1);
		return -EINVAL;
	}
	*(int *)kp->arg = value;
	return 0;
}

static const struct kernel_param_ops vmsock_param_af_ops = {
	.set = vmsock_param_af_set,
	.get = param_get_int,
};

module_param_cb(af, &vmsock_param_af_ops, &vmsock_pinned_af, 0444);
MODULE_PARM_DESC(af, "Use only this address-family number (default -1: choose one)");
module_param_named(prefer_af_vsock, vmsock_prefer_af_vsock, bool, 0444);
MODULE_PARM_DESC(prefer_af_vsock,
		 "Take AF_VSOCK (40) when free, from load until unload (default Y); N leaves 40 alone");

module_param_named(af_linger, vmsock_af_linger, uint, 0444);
MODULE_PARM_DESC(af_linger,
		 "Seconds a family number stays registered after its last user (default 30; 0: none); each registration logs");

static struct vmsock_family vmsock_family = { .af = VMSOCK_AF_NONE };

static int vmsock_param_af_value_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", vmsock_family_current(&vmsock_family));
}

static int vmsock_param_af_value_set(const char *val, const struct kernel_param *kp)
{
	pr_err("af_value is read-only; af= chooses the number\n");
	return -EINVAL;
}

static const struct kernel_param_ops vmsock_param_af_value_ops = {
	.set = vmsock_param_af_value_set,
	.get = vmsock_param_af_value_get,
};

module_param_cb(af_value, &vmsock_param_af_value_ops, NULL, 0444);
MODULE_PARM_DESC(af_value, "Address-family number registered now, -1 when none (read-only)");

static struct proto vmsock_proto = {
	.name = "VMSOCK",
	.owner = THIS_MODULE,
	.obj_size = sizeof(struct vmsock_sock),
	/* Datagram sockets never owe the control worker a retry. */
	.release_cb = vmsock_stream_release_cb,
};

/*
 * sock->ops is a const pointer shared by all sockets of a type, and
 * .family must be the number in use. Each reservation therefore gets its
 * own copies of the two tables, built before the number is registered and
 * freed after it is unregistered. Every socket holds the reservation, so
 * no socket can outlive its tables (KASAN would catch one that did), and
 * no table changes while a socket uses it.
 */
static struct {
	const struct proto_ops *stream;
	const struct proto_ops *dgram;
} vmsock_ops;

static const struct proto_ops *vmsock_ops_dup(const struct proto_ops *tmpl, int family)
{
	const struct proto_ops *ops = kmemdup(tmpl, sizeof(*tmpl), GFP_KERNEL);

	/* Nobody else has seen this copy yet. */
	if (ops)
		*(int *)&ops->family = family;
	return ops;
}

static int vmsock_create(struct net *net, struct socket *sock, int protocol,
			 int kern);

/* Not const: .family follows the reservation, always under the family lock. */
static struct net_proto_family vmsock_pf = {
	.family = AF_UNSPEC,
	.create = vmsock_create,
	.owner = THIS_MODULE,
};

static int vmsock_family_claim(void *ctx, int family)
{
	const struct proto_ops *stream, *dgram;
	int err = -ENOMEM;

	stream = vmsock_ops_dup(&vmsock_stream_ops, family);
	dgram = vmsock_ops_dup(&vmsock_dgram_ops, family);
	if (!stream || !dgram)
		goto free;
	vmsock_pf.family = family;
	err = sock_register(&vmsock_pf);
	if (err)
		goto free;
	vmsock_ops.stream = stream;
	vmsock_ops.dgram = dgram;
	/* "ss --vsock" asks sock_diag for 40 by number; other numbers have no ss. */
	if (family == AF_VSOCK)
		vmsock_diag_register();
	pr_info("address family %d registered\n", family);
	return 0;
free:
	kfree(stream);
	kfree(dgram);
	return err;
}

static void vmsock_family_release(void *ctx, int family)
{
	if (family == AF_VSOCK)
		vmsock_diag_unregister();
	/* Waits out every socket() that could still see the family. */
	sock_unregister(family);
	kfree(vmsock_ops.stream);
	kfree(vmsock_ops.dgram);
	vmsock_ops.stream = NULL;
	vmsock_ops.dgram = NULL;
	pr_info("address family %d unregistered\n", family);
}

static const struct vmsock_family_ops vmsock_family_ops = {
	.claim = vmsock_family_claim,
	.release = vmsock_family_release,
};

int vmsock_af_hold_fd(void **fd_hold)
{
	int ret = vmsock_family_hold_fd(&vmsock_family, fd_hold);

	/* /dev/vsock is world-usable: do not let a loop flood the log. */
	if (ret == -EAFNOSUPPORT && vmsock_pinned_af != VMSOCK_AF_AUTO)
		pr_warn_ratelimited("af=%d: address family %d is used by another protocol; vSockets has no family\n",
				    vmsock_pinned_af, vmsock_pinned_af);
	else if (ret == -EAFNOSUPPORT)
		pr_warn_ratelimited("no free address-family number; vSockets has no family\n");
	else if (ret < 0)
		pr_warn_ratelimited("cannot register an address family: %d\n", ret);
	return ret;
}

void vmsock_af_put_fd(void **fd_hold)
{
	vmsock_family_put_fd(&vmsock_family, fd_hold);
}

/* May run in atomic context (last sock_put() from softirq or RCU). */
static void vmsock_sk_destruct(struct sock *sk)
{
	vmsock_diag_untrack(sk);
	mutex_destroy(&vmsock_sk(sk)->tx_lock);
	mutex_destroy(&vmsock_sk(sk)->rx_lock);
	vmsock_family_put_socket(&vmsock_family);
}

/* What every new socket needs before anyone can reach it (see sock.h). */
static void vmsock_sk_init(struct sock *sk)
{
	mutex_init(&vmsock_sk(sk)->tx_lock);
	mutex_init(&vmsock_sk(sk)->rx_lock);
	init_waitqueue_head(&vmsock_sk(sk)->dg_room);
	/* From here sk_free() drops the hold on the family and leaves the list. */
	sk->sk_destruct = vmsock_sk_destruct;
	vmsock_diag_track(sk);
}

static int vmsock_create(struct net *net, struct socket *sock, int protocol,
			 int kern)
{
	const struct proto_ops *ops;
	struct sock *sk;
	int family;

	if (protocol)
		return -EPROTONOSUPPORT;
	if (sock->type != SOCK_STREAM && sock->type != SOCK_DGRAM)
		return -ESOCKTNOSUPPORT;

	family = vmsock_family_hold_socket(&vmsock_family);
	if (family < 0)
		return family;
	/* Our hold keeps this reservation's tables alive and unchanged. */
	ops = sock->type == SOCK_STREAM ? vmsock_ops.stream : vmsock_ops.dgram;

	sk = sk_alloc(net, family, GFP_KERNEL, &vmsock_proto, kern);
	if (!sk) {
		vmsock_family_put_socket(&vmsock_family);
		return -ENOMEM;
	}
	sock_init_data(sock, sk);
	vmsock_sk_init(sk);
	/* Recorded, not enforced: nothing to audit when it is missing. */
	vmsock_sk(sk)->trusted = kern ||
		ns_capable_noaudit(&init_user_ns, CAP_NET_ADMIN);
	if (sock->type == SOCK_STREAM)
		vmsock_stream_sock_init(sk, NULL);

	sock->ops = ops;
	sock->state = SS_UNCONNECTED;
	return 0;
}

struct sock *vmsock_sk_alloc_child(struct sock *parent)
{
	struct sock *sk;
	int family;

	family = vmsock_family_hold_socket(&vmsock_family);
	if (family < 0)
		return NULL;
	/* The parent's hold keeps the number; this one is the child's own. */
	sk = sk_alloc(sock_net(parent), family, GFP_KERNEL, &vmsock_proto,
		      parent->sk_kern_sock);
	if (!sk) {
		vmsock_family_put_socket(&vmsock_family);
		return NULL;
	}
	sock_init_data(NULL, sk);
	vmsock_sk_init(sk);
	sk->sk_type = parent->sk_type;
	vmsock_sk(sk)->trusted = vmsock_sk(parent)->trusted;
	return sk;
}

void vmsock_release_locked(struct socket *sock)
{
	struct sock *sk = sock->sk;

	sock_orphan(sk);
	WRITE_ONCE(sk->sk_shutdown, SHUTDOWN_MASK);
	release_sock(sk);
	sock->sk = NULL;
	sock_put(sk);
}

int vmsock_release(struct socket *sock)
{
	if (!sock->sk)
		return 0;
	lock_sock(sock->sk);
	vmsock_release_locked(sock);
	return 0;
}

int vmsock_af_init(void)
{
	const struct vmsock_af_policy policy = {
		.pinned = vmsock_pinned_af,
		.prefer_vsock = vmsock_prefer_af_vsock,
	};
	int err;

	err = vmsock_stream_init();
	if (err)
		return err;
	err = proto_register(&vmsock_proto, 1);
	if (err) {
		pr_err("cannot register protocol %s: %d\n", vmsock_proto.name, err);
		vmsock_stream_exit();
		return err;
	}
	vmsock_family_init(&vmsock_family, &vmsock_family_ops, NULL, &policy);
	vmsock_family.linger = min_t(unsigned long, vmsock_af_linger, 3600) * HZ;
	if (!vmsock_af_registers_at_load(&policy))
		return 0;
	err = vmsock_family_hold_for_module(&vmsock_family, AF_VSOCK);
	if (err == -EAFNOSUPPORT)
		pr_info("AF_VSOCK (40) is in use (in-tree vsock?); GET_AF_VALUE reserves another number on demand\n");
	else if (err)
		pr_warn("cannot register AF_VSOCK (40): %d; GET_AF_VALUE retries on demand\n", err);
	return 0;
}

void vmsock_af_exit(void)
{
	vmsock_family_shutdown(&vmsock_family);
	proto_unregister(&vmsock_proto);
	vmsock_stream_exit();
}
