// SPDX-License-Identifier: GPL-2.0
/*
 * SOCK_STREAM data: bytes go straight into the queue pair, our produce
 * queue being the peer's consume queue. Wakeups of a remote peer follow
 * the queue-state notification protocol: a writer that fills an empty
 * queue sends WROTE, a reader that drains a full one sends READ, because
 * only then can the other side be asleep waiting for it. A peer in this
 * kernel is woken directly instead, and after every read (see
 * vmsock_after_read()).
 *
 * Old peers (st.notify_pkt) use the packet protocol instead: they say
 * WAITING_READ/WAITING_WRITE before they sleep and expect WROTE/READ only
 * then. We keep the queue-state rule as well (a spare notification costs
 * a wakeup, a missing one a hang), answer their WAITING_* and send ours
 * before every sleep. The wait info (generation, offset) stays zero:
 * peers act on the packet type only.
 *
 * Locking (the rule is in sock.h): the socket lock covers state checks,
 * notifications and sleeps, but is dropped around every enqueue, dequeue
 * and peek, because those copy from or to user memory. The copy runs
 * under the socket's tx_lock (enqueues) or rx_lock (dequeues and peeks)
 * instead, which keeps one of each at a time. Without the socket lock the
 * pair itself must stay: it does, because only teardown detaches it, and
 * teardown reaches a connected socket only from release, which cannot run
 * while a send or receive holds the file. A copy that hangs on a fault
 * thus keeps only the callers of its own mutex waiting, and they can be
 * interrupted; the control worker and every other socket carry on.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <asm/ioctls.h>
#include <linux/errno.h>
#include <linux/moduleparam.h>
#include <linux/poll.h>
#include <linux/sched/signal.h>
#include <linux/sockios.h>
#include <linux/uaccess.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include <vmci/vmci_abi.h>
#include <vmci/vmcix.h>

#include "packet.h"
#include "stream.h"
#include "vmci_errno.h"

/* Linux's error-queue level and type for vSockets (SOL_VSOCK is 6.7+). */
#define VMSOCK_SOL_VSOCK	287
#define VMSOCK_RECVERR		1

void vmsock_stream_wake(struct sock *sk)
{
	sk->sk_state_change(sk);
}

static bool vmsock_connected(const struct sock *sk)
{
	return sk->sk_state == TCP_ESTABLISHED && vmsock_sk((struct sock *)sk)->st.qpair;
}

/* Locked. The peer will read no more, or we will write no more. */
static bool vmsock_send_closed(const struct sock *sk)
{
	return (sk->sk_shutdown & SEND_SHUTDOWN) ||
	       (vmsock_sk((struct sock *)sk)->st.peer_shutdown & VMSOCK_SHUTDOWN_RCV);
}

/* Locked. No byte will arrive that is not already in the queue. */
static bool vmsock_recv_closed(const struct sock *sk)
{
	return (sk->sk_shutdown & RCV_SHUTDOWN) ||
	       (vmsock_sk((struct sock *)sk)->st.peer_shutdown & VMSOCK_SHUTDOWN_SEND) ||
	       sock_flag(sk, SOCK_DONE);
}

static s64 vmsock_send_space(const struct sock *sk)
{
	struct vmcix_qpair *qp = vmsock_sk((struct sock *)sk)->st.qpair;

	return qp ? vmcix_qpair_produce_free_space(qp) : 0;
}

static s64 vmsock_recv_ready(const struct sock *sk)
{
	struct vmcix_qpair *qp = vmsock_sk((struct sock *)sk)->st.qpair;

	return qp ? vmcix_qpair_consume_buf_ready(qp) : 0;
}

/*
 * Locked. INVALID_SIZE from the ring arithmetic means the peer wrote a
 * head or tail outside the ring: nothing in the pair can be trusted any
 * more, so the connection ends as if reset, and readers, writers and
 * pollers all learn it at once.
 */
static bool vmsock_queue_corrupt(struct sock *sk, s64 n)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);

	if (n != VMCI_ERROR_INVALID_SIZE)
		return false;
	if (!sock_flag(sk, SOCK_DONE) || vsk->st.peer_shutdown != VMSOCK_SHUTDOWN_ALL)
		pr_warn_ratelimited("peer %u:%u corrupted the queue pair's offsets; connection reset\n",
				    vsk->remote_addr.svm_cid, vsk->remote_addr.svm_port);
	vsk->st.peer_shutdown = VMSOCK_SHUTDOWN_ALL;
	sock_set_flag(sk, SOCK_DONE);
	sk->sk_err = ECONNRESET;
	vmsock_stream_wake(sk);
	return true;
}

/*
 * Off, local streams take the remote path: WROTE and READ datagrams
 * through the control worker, the rules a guest connection follows. The
 * benchmark switches it to measure that path without a device (make
 * bench's "vmsock pkt" column); it changes no result a program sees.
 */
static bool vmsock_local_wakeups = true;
module_param_named(stream_local_wakeups, vmsock_local_wakeups, bool, 0644);
MODULE_PARM_DESC(stream_local_wakeups,
		 "Wake a peer in this kernel directly instead of sending WROTE/READ (default Y)");

/* Locked. The peer lives in this kernel and may be woken directly. */
static bool vmsock_local_shortcut(const struct vmsock_sock *vsk)
{
	return READ_ONCE(vmsock_local_wakeups) && vsk->st.peer_local;
}

/*
 * Locked. A peer in this kernel is woken straight through the connection
 * table, as its control callback would do on a WROTE or READ packet;
 * false when the peer is elsewhere or closing (not in the table).
 */
static bool vmsock_wake_local_peer(struct sock *sk)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);

	return vmsock_local_shortcut(vsk) &&
	       vmsock_stream_wake_conn(vsk->remote_addr.svm_cid, vsk->local_addr.svm_port,
				       vsk->remote_addr.svm_port);
}

/*
 * Locked. WROTE and READ only wake the peer, whichever notification
 * protocol it runs, so a local peer is woken without the datagram.
 */
static void vmsock_notify_peer(struct sock *sk, u8 type)
{
	if (!vmsock_wake_local_peer(sk))
		vmsock_stream_send_ctl(sk, type, 0);
}

/*
 * Locked, after @n bytes went into the queue: WROTE when the queue was
 * empty, or when an old peer asked, because only then can the reader be
 * asleep waiting for it. Waking on every write instead would make a
 * streaming writer wake a reader that is already awake, once per write.
 */
static void vmsock_after_write(struct sock *sk, ssize_t n)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);
	s64 ready = vmcix_qpair_produce_buf_ready(vsk->st.qpair);

	if (ready == n || vsk->st.peer_waiting_read) {
		vsk->st.peer_waiting_read = false;
		vmsock_notify_peer(sk, VMSOCK_PKT_WROTE);
		return;
	}
	/* A local poller waiting for SO_RCVLOWAT bytes wakes when they are there. */
	if (vmsock_local_shortcut(vsk))
		vmsock_stream_wake_conn_lowat(vsk->remote_addr.svm_cid, vsk->local_addr.svm_port,
					      vsk->remote_addr.svm_port, ready - n, ready);
}

/*
 * Locked, after @n bytes left the queue. As AF_UNIX wakes a writer each
 * time one of its buffers is consumed, a local peer is woken after every
 * read, even when it only waits for our answer. In a request-response
 * exchange the peer is then still running, or only just asleep, when the
 * answer comes, instead of idle; under QEMU this took the ping-pong round
 * trip from 1.5x to 0.9x AF_UNIX's (docs/vmsock-sockets.md, "Wakeups").
 * A remote peer gets READ only when the queue was full, or when an old
 * peer asked: a datagram per read would cost more than it saves.
 */
static void vmsock_after_read(struct sock *sk, ssize_t n)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);

	if (vmsock_wake_local_peer(sk)) {
		vsk->st.peer_waiting_write = false;
		return;
	}
	if (vmcix_qpair_consume_free_space(vsk->st.qpair) == n || vsk->st.peer_waiting_write) {
		vsk->st.peer_waiting_write = false;
		vmsock_stream_send_ctl(sk, VMSOCK_PKT_READ, 0);
	}
}

/* Locked: an old peer only wakes for what it asked. */
static void vmsock_pkt_before_sleep(struct sock *sk, u8 type)
{
	if (vmsock_sk(sk)->st.notify_pkt)
		vmsock_stream_send_ctl(sk, type, 0);
}

/*
 * Locked, on the control worker, which serves every socket: so the queue
 * figures are taken without waiting. A pair whose VMM is mapping or
 * unmapping it (behind a host copy stuck in a fault, perhaps) answers
 * VMCI_ERROR_WOULD_BLOCK, and the answer is left to the flag: our next
 * write sends WROTE, our next read READ. Nothing is lost by that. A
 * peer waits to read only on an empty queue and to write only on a full
 * one, and the write that fills the empty queue or the read that frees
 * the full one notifies anyway; the check here only covers a write or
 * read that ran before the WAITING packet came.
 */
void vmsock_stream_peer_waiting(struct sock *sk, u8 type)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);

	if (!vsk->st.qpair)
		return;
	if (type == VMSOCK_PKT_WAITING_READ) {
		vsk->st.peer_waiting_read = true;
		if (vmcix_qpair_produce_buf_ready_nowait(vsk->st.qpair) > 0) {
			vsk->st.peer_waiting_read = false;
			vmsock_notify_peer(sk, VMSOCK_PKT_WROTE);
		}
	} else {
		vsk->st.peer_waiting_write = true;
		if (vmcix_qpair_consume_free_space_nowait(vsk->st.qpair) > 0) {
			vsk->st.peer_waiting_write = false;
			vmsock_notify_peer(sk, VMSOCK_PKT_READ);
		}
	}
}

/* Locked: what ends a writer's sleep, and what ends a reader's. */
static bool vmsock_send_wake_cond(struct sock *sk)
{
	return vmsock_send_space(sk) > 0 || sk->sk_err || vmsock_send_closed(sk) ||
	       !vmsock_connected(sk);
}

static bool vmsock_recv_wake_cond(struct sock *sk)
{
	return vmsock_recv_ready(sk) > 0 || sk->sk_err || vmsock_recv_closed(sk);
}

/*
 * Locked. Sleeps until the queue has room (@for_data false) or data, or
 * says why it may not. The wait entry goes on the socket's queue only
 * before the first sleep: a call that finds data or room at once, the
 * common case in a request-response exchange, never touches the queue's
 * lock.
 */
static int vmsock_sleep(struct sock *sk, struct wait_queue_entry *wait, bool *queued,
			long *timeo, bool for_data)
{
	if (!*timeo)
		return -EAGAIN;
	if (signal_pending(current))
		return sock_intr_errno(*timeo);
	if (!*queued)
		add_wait_queue(sk_sleep(sk), wait);
	*queued = true;
	vmsock_pkt_before_sleep(sk, for_data ? VMSOCK_PKT_WAITING_READ :
				VMSOCK_PKT_WAITING_WRITE);
	sk_wait_event(sk, timeo, for_data ? vmsock_recv_wake_cond(sk) :
		      vmsock_send_wake_cond(sk), wait);
	return 0;
}

static void vmsock_end_sleep(struct sock *sk, struct wait_queue_entry *wait, bool queued)
{
	if (queued)
		remove_wait_queue(sk_sleep(sk), wait);
}

/*
 * A VMM peer's pages are absent from its pair: it detached or closed
 * /dev/vmci (a QP_PEER_DETACH is on its way, or came while we copied), or
 * it unmapped them for a while. Nothing can be read or written, as with
 * an empty or full queue: the caller waits, and ends with EOF or EPIPE
 * once the peer's shutdown is known, instead of failing with EINVAL.
 */
static bool vmsock_peer_mem_absent(ssize_t n)
{
	return n == VMCI_ERROR_QUEUEPAIR_NOTATTACHED;
}

typedef ssize_t (*vmsock_copy_fn)(struct vmcix_qpair *qpair, struct msghdr *msg, size_t len,
				  int mode);

/*
 * Locked, connected. Runs one queue-pair copy of up to @len bytes with the
 * socket unlocked and @io held, and returns with the socket locked again:
 * the copy's result, or VMCI_SUCCESS with *@err set when a signal came
 * while another caller of this socket held @io. Non-blocking callers wait
 * for @io too, as they waited for the socket lock before: another copy is
 * short unless it faults, and then only this socket waits.
 */
static ssize_t vmsock_copy(struct sock *sk, struct mutex *io, vmsock_copy_fn copy,
			   struct msghdr *msg, size_t len, long timeo, int *err)
{
	struct vmcix_qpair *qp = vmsock_sk(sk)->st.qpair;
	ssize_t n = VMCI_SUCCESS;

	release_sock(sk);
	if (mutex_lock_interruptible(io)) {
		*err = sock_intr_errno(timeo);
	} else {
		n = copy(qp, msg, len, 0);
		mutex_unlock(io);
	}
	lock_sock(sk);
	return n;
}

int vmsock_stream_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	struct sock *sk = sock->sk;
	struct vmsock_sock *vsk = vmsock_sk(sk);
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	bool queued = false;
	size_t written = 0;
	ssize_t n;
	long timeo;
	int err = 0;

	if (msg->msg_flags & MSG_OOB)
		return -EOPNOTSUPP;
	lock_sock(sk);
	/* A stream has one destination: an address is refused, as by Linux. */
	if (msg->msg_namelen) {
		err = sk->sk_state == TCP_ESTABLISHED ? -EISCONN : -EOPNOTSUPP;
		goto out;
	}
	if (vmsock_send_closed(sk)) {
		err = -EPIPE;
		goto out;
	}
	if (!vmsock_connected(sk)) {
		err = -ENOTCONN;
		goto out;
	}
	timeo = sock_sndtimeo(sk, msg->msg_flags & MSG_DONTWAIT);

	while (written < len) {
		if (sk->sk_err) {
			err = sock_error(sk);
			break;
		}
		if (vmsock_send_closed(sk) || !vmsock_connected(sk)) {
			err = -EPIPE;
			break;
		}
		n = vmsock_copy(sk, &vsk->tx_lock, vmcix_qpair_enquev, msg, len - written,
				timeo, &err);
		if (err)
			break;
		if (n == VMCI_ERROR_QUEUEPAIR_NOSPACE || vmsock_peer_mem_absent(n)) {
			err = vmsock_sleep(sk, &wait, &queued, &timeo, false);
			if (err)
				break;
			continue;
		}
		if (vmsock_queue_corrupt(sk, n)) {
			err = sock_error(sk);
			break;
		}
		if (n < 0) {
			err = n == VMCI_ERROR_INVALID_ARGS ? -EFAULT : vmsock_vmci_errno(n);
			break;
		}
		if (!n) {
			err = -EFAULT;
			break;
		}
		written += n;
		vmsock_after_write(sk, n);
	}
	vmsock_end_sleep(sk, &wait, queued);
out:
	release_sock(sk);
	if (written)
		return written;
	if (err == -EPIPE && !(msg->msg_flags & MSG_NOSIGNAL))
		send_sig(SIGPIPE, current, 0);
	return err;
}

/*
 * Locked. The queue was empty and the call short of its target: sleeps
 * and returns 0, or returns 1 when the call should end with what it has,
 * or an error.
 *
 * The copy that found the queue empty ran unlocked, so the peer may have
 * written its last bytes and then shut down or closed since. A peer's
 * bytes are in the queue before its SHUTDOWN or RST leaves it, so once
 * the shutdown is seen here, a queue that is still empty stays empty; a
 * queue that is not gets copied first (returning 0 goes round again).
 */
static int vmsock_wait_data(struct sock *sk, struct wait_queue_entry *wait, bool *queued,
			    long *timeo)
{
	if (sk->sk_err)
		return sock_error(sk);
	if (vmsock_recv_closed(sk))
		return vmsock_recv_ready(sk) > 0 ? 0 : 1;
	return vmsock_sleep(sk, wait, queued, timeo, true);
}

int vmsock_stream_recvmsg(struct socket *sock, struct msghdr *msg, size_t len, int flags)
{
	struct sock *sk = sock->sk;
	struct vmsock_sock *vsk = vmsock_sk(sk);
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	bool queued = false;
	size_t copied = 0;
	int target, err = 0;
	ssize_t n;
	long timeo;

	/*
	 * Nothing is ever queued there (no zerocopy), so this says EAGAIN
	 * as Linux's AF_VSOCK does, instead of reading ordinary data.
	 */
	if (flags & MSG_ERRQUEUE)
		return sock_recv_errqueue(sk, msg, len, VMSOCK_SOL_VSOCK, VMSOCK_RECVERR);
	if (flags & MSG_OOB)
		return -EOPNOTSUPP;
	lock_sock(sk);
	if (!vmsock_connected(sk)) {
		err = -ENOTCONN;
		goto out;
	}
	if (sk->sk_shutdown & RCV_SHUTDOWN)
		goto out;
	if (!len)
		goto out;
	target = sock_rcvlowat(sk, flags & MSG_WAITALL, len);
	timeo = sock_rcvtimeo(sk, flags & MSG_DONTWAIT);

	while (copied < len) {
		/*
		 * An empty queue needs no unlocked copy to say so (and no second
		 * round of the socket lock): straight to the wait, which looks
		 * again before it sleeps. A negative count (a peer away, a
		 * corrupt queue) still goes to the copy, which tells which.
		 */
		if (!vmsock_recv_ready(sk))
			n = VMCI_ERROR_QUEUEPAIR_NODATA;
		else
			n = vmsock_copy(sk, &vsk->rx_lock, flags & MSG_PEEK ?
					vmcix_qpair_peekv : vmcix_qpair_dequev,
					msg, len - copied, timeo, &err);
		if (err)
			break;
		if (n == VMCI_ERROR_QUEUEPAIR_NODATA || vmsock_peer_mem_absent(n)) {
			if (copied >= target)
				break;
			err = vmsock_wait_data(sk, &wait, &queued, &timeo);
			if (err) {
				err = err > 0 ? 0 : err;
				break;
			}
			continue;
		}
		if (vmsock_queue_corrupt(sk, n)) {
			err = sock_error(sk);
			break;
		}
		if (n <= 0) {
			err = n == VMCI_ERROR_INVALID_ARGS || !n ? -EFAULT : vmsock_vmci_errno(n);
			break;
		}
		copied += n;
		/* Peeking again would only see the same bytes. */
		if (flags & MSG_PEEK)
			break;
		vmsock_after_read(sk, n);
	}
	vmsock_end_sleep(sk, &wait, queued);
out:
	release_sock(sk);
	return copied ? copied : err;
}

__poll_t vmsock_stream_poll(struct file *file, struct socket *sock, poll_table *wait)
{
	struct sock *sk = sock->sk;
	struct vmsock_sock *vsk = vmsock_sk(sk);
	__poll_t mask = 0;

	sock_poll_wait(file, sock, wait);
	lock_sock(sk);
	/* A poller must see a corrupted pair as readers and writers do. */
	if (vmsock_connected(sk) && !vmsock_queue_corrupt(sk, vmsock_recv_ready(sk)))
		vmsock_queue_corrupt(sk, vmsock_send_space(sk));
	if (sk->sk_err)
		mask |= EPOLLERR;
	if (sk->sk_state == TCP_LISTEN) {
		if (!list_empty(&vsk->st.accept_q))
			mask |= EPOLLIN | EPOLLRDNORM;
		goto out;
	}
	/*
	 * Hang-up once neither side will send again, as TCP and AF_VSOCK
	 * report it: a peer's close alone is RDHUP, so a program that stops
	 * at POLLHUP still reads what the peer wrote before closing.
	 */
	if (sk->sk_shutdown == SHUTDOWN_MASK ||
	    ((sk->sk_shutdown & SEND_SHUTDOWN) &&
	     (vsk->st.peer_shutdown & VMSOCK_SHUTDOWN_SEND)))
		mask |= EPOLLHUP;
	if ((sk->sk_shutdown & RCV_SHUTDOWN) ||
	    (vsk->st.peer_shutdown & VMSOCK_SHUTDOWN_SEND) || sock_flag(sk, SOCK_DONE))
		mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
	if (vmsock_connected(sk)) {
		/* Readable from SO_RCVLOWAT bytes on, as recv() would return. */
		if (vmsock_recv_ready(sk) >= sock_rcvlowat(sk, 0, INT_MAX))
			mask |= EPOLLIN | EPOLLRDNORM;
		else if (!vmsock_recv_closed(sk))
			vmsock_pkt_before_sleep(sk, VMSOCK_PKT_WAITING_READ);
		if (!vmsock_send_closed(sk) && vmsock_send_space(sk) > 0)
			mask |= EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
		else if (vmsock_send_closed(sk))
			mask |= EPOLLOUT | EPOLLWRNORM;
		else
			vmsock_pkt_before_sleep(sk, VMSOCK_PKT_WAITING_WRITE);
	} else if (sk->sk_state == TCP_CLOSE) {
		/* Unconnected, or the connect failed: as TCP reports it. */
		mask |= EPOLLOUT | EPOLLWRNORM | EPOLLHUP;
	}
out:
	release_sock(sk);
	return mask;
}

/*
 * SO_RCVLOWAT; the core calls this with the socket locked. No more than
 * the queue can hold, or poll() could never report the socket readable;
 * Linux's AF_VSOCK has the same rule. A poller re-checks with the new
 * mark.
 */
int vmsock_stream_set_rcvlowat(struct sock *sk, int val)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);
	u64 limit = vsk->st.qpair ? vsk->st.queue_size : vsk->st.buffer_size;

	if (val > limit)
		return -EINVAL;
	WRITE_ONCE(sk->sk_rcvlowat, val ? : 1);
	vmsock_stream_wake(sk);
	return 0;
}

int vmsock_stream_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	int mode, ret = 0;

	/* SHUT_RD, SHUT_WR, SHUT_RDWR become the packet's modes 1, 2, 3. */
	mode = how + 1;
	if (mode <= 0 || mode > VMSOCK_SHUTDOWN_ALL)
		return -EINVAL;

	lock_sock(sk);
	if (sock->state == SS_UNCONNECTED && sk->sk_state != TCP_LISTEN) {
		ret = -ENOTCONN;
		goto out;
	}
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown |
		   (mode & VMSOCK_SHUTDOWN_RCV ? RCV_SHUTDOWN : 0) |
		   (mode & VMSOCK_SHUTDOWN_SEND ? SEND_SHUTDOWN : 0));
	if (vmsock_connected(sk))
		vmsock_stream_send_ctl(sk, VMSOCK_PKT_SHUTDOWN, mode);
out:
	release_sock(sk);
	vmsock_stream_wake(sk);
	return ret;
}

int vmsock_stream_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg)
{
	struct sock *sk = sock->sk;
	s64 bytes;
	int ret = 0;

	if (cmd != SIOCINQ && cmd != SIOCOUTQ)
		return -ENOIOCTLCMD;
	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN) {
		ret = -EINVAL;
	} else if (!vmsock_connected(sk)) {
		bytes = 0;
	} else if (cmd == SIOCINQ) {
		bytes = vmsock_recv_ready(sk);
	} else {
		/* Written and not yet read by the peer. */
		bytes = vmcix_qpair_produce_buf_ready(vmsock_sk(sk)->st.qpair);
	}
	release_sock(sk);
	if (ret)
		return ret;
	return put_user(bytes > 0 ? (int)min_t(s64, bytes, INT_MAX) : 0,
			(int __user *)arg);
}
