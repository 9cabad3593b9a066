/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A vSockets socket, shared by the stream and datagram halves.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMSOCK_SOCK_H
#define VMSOCK_SOCK_H

#include <linux/build_bug.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/net.h>
#include <linux/stddef.h>
#include <linux/vm_sockets.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/sock.h>

#include <vmci/vmci_abi.h>

struct vmcix_qpair;

/* SOCK_STREAM state; stream_conn.c explains states and locking. */
struct vmsock_stream {
	struct hlist_node bound_node;	/* port table: owns local port */
	struct hlist_node conn_node;	/* connection table: (peer, local port) */
	struct hlist_node qp_node;	/* queue-pair table: qp_handle */
	struct list_head visit_node;	/* on a connection walk's batch */
	bool in_bound, in_conn, in_qp;
	struct vmcix_qpair *qpair;
	struct vmci_handle qp_handle;
	/*
	 * With qpair: a local pair, its other end a socket of this kernel.
	 * Decided once at open, not per call from the peer's CID: every
	 * read and write asks it.
	 */
	bool peer_local;
	u64 queue_size;
	u64 buffer_size, buffer_min, buffer_max;
	long connect_timeout;
	u8 peer_shutdown;		/* VMSOCK_SHUTDOWN_* the peer announced */
	bool notify_pkt;		/* old peer: packet notification protocol */
	bool sent_old_request;		/* client: REQUEST, not REQUEST2 */
	bool ignore_rst;		/* client: one RST may follow INVALID */
	bool autobound;			/* client: connect() chose the local port */
	bool peer_waiting_read;		/* packet protocol: WAITING_READ seen */
	bool peer_waiting_write;	/* packet protocol: WAITING_WRITE seen */
	struct sock *listener;		/* pending or unaccepted child: its listener */
	struct list_head accept_node;	/* on the listener's pending or accept list */
	struct list_head pending;	/* listener: children still connecting */
	struct list_head accept_q;	/* listener: children ready for accept() */
	struct delayed_work timeout_work;	/* connect timeout, child expiry */
	struct work_struct detach_work;		/* peer left the queue pair */
	unsigned long work_flags;
	/*
	 * Control worker only: what waits for the socket lock, in arrival
	 * order: packets (backlog_len of them) and, where a peer detach or
	 * a timeout fell due, its mark (on the list only while it waits).
	 */
	struct list_head backlog;
	unsigned int backlog_len;
	struct list_head detach_mark;
	struct list_head timeout_mark;
	struct list_head defer_node;	/* on the worker's deferred list */
};

struct vmsock_dgram_ep;

/*
 * Locking rule for every vSockets socket: lock_sock() is held only for
 * short checks and updates of socket state, never across a copy to or
 * from user memory. Such a copy can fault for as long as a userfaultfd
 * or FUSE page wants, and the stream control worker (stream_conn.c),
 * which serves the packets, timeouts and detaches of every connection on
 * the machine, takes lock_sock() on the socket a packet is for: a lock
 * held across a stuck copy would stall them all. So:
 * - stream data (stream_io.c) is copied under tx_lock or rx_lock alone,
 *   which serialise the senders, resp. the receivers, of one socket; they
 *   are taken with the socket unlocked and never while it is locked, and
 *   a stuck copy stalls only the callers queued on that one mutex;
 * - options (stream_opts.c) are copied in before, and out after, the lock;
 * - datagram sockets (dgram.c) copy outside lock_sock() as well, though
 *   the control worker never locks them.
 * The core's own SOL_SOCKET options are outside this rule (stream_opts.c),
 * which is why the control worker never sleeps on a lock a task owns.
 */
struct vmsock_sock {
	struct sock sk;		/* first: sk_alloc() hands out the whole object */
	struct list_head all_node;	/* on diag.c's list of every socket */
	bool trusted;		/* may reach VMCI endpoints that demand it */
	struct mutex tx_lock;	/* SOCK_STREAM: one sender's copy at a time */
	struct mutex rx_lock;	/* SOCK_STREAM: one receiver's copy at a time */
	/*
	 * Under lock_sock(). sk_alloc() zeroes them, so svm_family 0 means
	 * not bound / no peer; dg_handle (SOCK_DGRAM) is valid once bound.
	 */
	struct sockaddr_vm local_addr;
	struct sockaddr_vm remote_addr;
	struct vmci_handle dg_handle;
	struct vmsock_dgram_ep *dg_ep;	/* dgram.c's; set with dg_handle */
	wait_queue_head_t dg_room;	/* SOCK_DGRAM: local senders waiting for room */
	struct vmsock_stream st;	/* SOCK_STREAM only */
};

static_assert(offsetof(struct vmsock_sock, sk) == 0);

static inline struct vmsock_sock *vmsock_sk(struct sock *sk)
{
	return container_of(sk, struct vmsock_sock, sk);
}

int vmsock_release(struct socket *sock);
/*
 * The end of every release, @sock's socket locked: orphaned, unlocked,
 * and the socket's reference dropped.
 */
void vmsock_release_locked(struct socket *sock);

/*
 * A socket for a connection a stream listener accepts: same family,
 * namespace and trust as @parent, no struct socket until accept().
 */
struct sock *vmsock_sk_alloc_child(struct sock *parent);

/*
 * One table per socket type (stream.c, dgram.c). Each reservation of a
 * family number gets its own copy with .family set; see af_vmsock.c.
 */
extern const struct proto_ops vmsock_stream_ops;
extern const struct proto_ops vmsock_dgram_ops;

#endif /* VMSOCK_SOCK_H */
