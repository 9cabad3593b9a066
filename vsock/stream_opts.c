// SPDX-License-Identifier: GPL-2.0
/*
 * SOCK_STREAM options at the family's own level: the queue size the
 * socket proposes or accepts (0, 1, 2), the connect timeout in both time
 * layouts (6 and 8), and whether the socket is trusted (5).
 *
 * Locking (sock.h): a value is copied in from the user before lock_sock()
 * and out to the user after release_sock(), so a fault on the user's
 * buffer never holds the lock the control worker needs. Options at
 * SOL_SOCKET never reach us: the core handles them, and a few of those
 * (SO_LINGER, SO_RCVTIMEO, SO_ATTACH_FILTER) copy under the lock; 6.1 has
 * no flag to route them here, so the control worker never waits for a
 * lock a task owns (stream_conn.c).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <linux/sockptr.h>
#include <linux/time64.h>
#include <linux/uaccess.h>
#include <linux/vm_sockets.h>
#include <net/sock.h>

#include "stream.h"

/* Half of what all queue pairs may use together: one pair's one queue. */
#define VMSOCK_STREAM_MAX_QUEUE		(64ULL * 1024 * 1024)

/*
 * The largest queue an untrusted socket (created without CAP_NET_ADMIN)
 * may ask for. Larger requests get the cap silently, as SO_SNDBUF past
 * wmem_max and AF_VSOCK's virtio transport past its maximum do;
 * getsockopt() shows what was kept. A pair is two queues, so the default
 * lets one user hold two such connections within vmci's default per-user
 * share (a quarter of 128 MiB). Read at each setsockopt().
 */
static unsigned long long vmsock_user_buffer_max = 8ULL * 1024 * 1024;

static int vmsock_user_buffer_max_set(const char *val, const struct kernel_param *kp)
{
	unsigned long long v;

	if (kstrtoull(val, 0, &v) || !v || v > VMSOCK_STREAM_MAX_QUEUE)
		return -EINVAL;
	WRITE_ONCE(vmsock_user_buffer_max, v);
	return 0;
}

static const struct kernel_param_ops vmsock_user_buffer_max_ops = {
	.set = vmsock_user_buffer_max_set,
	.get = param_get_ullong,
};

module_param_cb(stream_user_buffer_max, &vmsock_user_buffer_max_ops,
		&vmsock_user_buffer_max, 0644);
MODULE_PARM_DESC(stream_user_buffer_max,
		 "Largest SO_VMCI_BUFFER_* an unprivileged stream socket keeps, in bytes (1 to 64 MiB, default 8 MiB)");

/* Option numbers both APIs agree on; upstream's 8 is the y2038 timeout. */
#define VMSOCK_OPT_BUFFER_SIZE		0
#define VMSOCK_OPT_BUFFER_MIN		1
#define VMSOCK_OPT_BUFFER_MAX		2
#define VMSOCK_OPT_TRUSTED		5
#define VMSOCK_OPT_TIMEOUT_OLD		6
#define VMSOCK_OPT_TIMEOUT_NEW		8

/*
 * Locked. The classic rules: size below min lowers min, above max raises
 * max; max below size lowers size; min above size raises size. min <=
 * size <= max holds afterwards whatever the order of calls.
 */
static void vmsock_set_buffer(struct vmsock_stream *st, int optname, u64 val)
{
	switch (optname) {
	case VMSOCK_OPT_BUFFER_SIZE:
		st->buffer_size = val;
		st->buffer_min = min(st->buffer_min, val);
		st->buffer_max = max(st->buffer_max, val);
		break;
	case VMSOCK_OPT_BUFFER_MIN:
		st->buffer_min = val;
		st->buffer_size = max(st->buffer_size, val);
		st->buffer_max = max(st->buffer_max, val);
		break;
	case VMSOCK_OPT_BUFFER_MAX:
		st->buffer_max = val;
		st->buffer_size = min(st->buffer_size, val);
		st->buffer_min = min(st->buffer_min, val);
		break;
	}
}

static int vmsock_timeout_from_user(long *timeo, sockptr_t optval, unsigned int optlen,
				    bool old)
{
	struct __kernel_sock_timeval tv;
	int ret;

	if (optlen > INT_MAX)
		return -EINVAL;
	ret = sock_copy_user_timeval(&tv, optval, optlen, old);
	if (ret)
		return ret;
	if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= USEC_PER_SEC ||
	    tv.tv_sec >= MAX_SCHEDULE_TIMEOUT / HZ - 1)
		return -ERANGE;
	*timeo = tv.tv_sec * HZ + DIV_ROUND_UP((unsigned long)tv.tv_usec, USEC_PER_SEC / HZ);
	/* Zero asks for the default back. */
	if (!*timeo)
		*timeo = VMSOCK_STREAM_CONNECT_TIMEOUT;
	return 0;
}

int vmsock_stream_setsockopt(struct socket *sock, int level, int optname,
			     sockptr_t optval, unsigned int optlen)
{
	struct sock *sk = sock->sk;
	struct vmsock_sock *vsk = vmsock_sk(sk);
	long timeo;
	u64 val;
	int ret;

	if (level != sk->sk_family)
		return -ENOPROTOOPT;
	switch (optname) {
	case VMSOCK_OPT_BUFFER_SIZE:
	case VMSOCK_OPT_BUFFER_MIN:
	case VMSOCK_OPT_BUFFER_MAX:
		if (optlen < sizeof(val))
			return -EINVAL;
		if (copy_from_sockptr(&val, optval, sizeof(val)))
			return -EFAULT;
		/* A queue pair cannot be empty or larger than the budget. */
		if (!val || val > VMSOCK_STREAM_MAX_QUEUE)
			return -EINVAL;
		if (!vsk->trusted)
			val = min(val, (u64)READ_ONCE(vmsock_user_buffer_max));
		lock_sock(sk);
		vmsock_set_buffer(&vsk->st, optname, val);
		release_sock(sk);
		return 0;
	case VMSOCK_OPT_TIMEOUT_OLD:
	case VMSOCK_OPT_TIMEOUT_NEW:
		ret = vmsock_timeout_from_user(&timeo, optval, optlen,
					       optname == VMSOCK_OPT_TIMEOUT_OLD);
		if (ret)
			return ret;
		lock_sock(sk);
		vsk->st.connect_timeout = timeo;
		release_sock(sk);
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

int vmsock_stream_getsockopt(struct socket *sock, int level, int optname,
			     char __user *optval, int __user *optlen)
{
	struct sock *sk = sock->sk;
	struct vmsock_sock *vsk = vmsock_sk(sk);
	union {
		u64 val;
		int flag;
		struct __kernel_old_timeval old_tv;
		struct __kernel_sock_timeval tv;
	} buf;
	int len, size;

	if (level != sk->sk_family)
		return -ENOPROTOOPT;
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < 0)
		return -EINVAL;
	memset(&buf, 0, sizeof(buf));

	lock_sock(sk);
	switch (optname) {
	case VMSOCK_OPT_BUFFER_SIZE:
		buf.val = vsk->st.buffer_size;
		size = sizeof(buf.val);
		break;
	case VMSOCK_OPT_BUFFER_MIN:
		buf.val = vsk->st.buffer_min;
		size = sizeof(buf.val);
		break;
	case VMSOCK_OPT_BUFFER_MAX:
		buf.val = vsk->st.buffer_max;
		size = sizeof(buf.val);
		break;
	case VMSOCK_OPT_TRUSTED:
		buf.flag = vsk->trusted;
		size = sizeof(buf.flag);
		break;
	case VMSOCK_OPT_TIMEOUT_OLD:
	case VMSOCK_OPT_TIMEOUT_NEW:
		size = sock_get_timeout(vsk->st.connect_timeout, &buf,
					optname == VMSOCK_OPT_TIMEOUT_OLD);
		break;
	default:
		size = -ENOPROTOOPT;
		break;
	}
	release_sock(sk);
	if (size < 0)
		return size;
	/* The classic module wanted the whole value; no silent truncation. */
	if (len < size)
		return -EINVAL;
	if (copy_to_user(optval, &buf, size) || put_user(size, optlen))
		return -EFAULT;
	return 0;
}
