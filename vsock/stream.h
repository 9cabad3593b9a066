/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the SOCK_STREAM files share: stream_ports.c (who owns a port and
 * which socket a packet is for), stream_conn.c (handshake, teardown,
 * control packets), stream_io.c (data) and stream_opts.c (options).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMSOCK_STREAM_H
#define VMSOCK_STREAM_H

#include <linux/net.h>
#include <linux/types.h>
#include <net/sock.h>

#include "sock.h"

#define VMSOCK_STREAM_DEFAULT_BUFFER	(256 * 1024ULL)
#define VMSOCK_STREAM_DEFAULT_MIN	128ULL
#define VMSOCK_STREAM_DEFAULT_MAX	(256 * 1024ULL)
#define VMSOCK_STREAM_CONNECT_TIMEOUT	(2 * HZ)
#define VMSOCK_STREAM_CHILD_TIMEOUT	HZ

/* Module load and unload (af_vmsock.c). */
int vmsock_stream_init(void);
void vmsock_stream_exit(void);

/* A new stream socket's defaults (or a child's, from its listener). */
void vmsock_stream_sock_init(struct sock *sk, struct sock *parent);

/* stream_ports.c; all under the table lock they take themselves. */
int vmsock_stream_bind_port(struct sock *sk, u32 cid, u32 port);
void vmsock_stream_unbind_port(struct sock *sk);
void vmsock_stream_conn_insert(struct sock *sk);
void vmsock_stream_conn_remove(struct sock *sk);
/* A new child: its listener set and into the connection table, one hold. */
void vmsock_stream_child_insert(struct sock *child, struct sock *listener);
/*
 * Out of the connection and queue-pair tables, and with @unbind out of
 * the port table too, in one hold of the table lock: what a close does.
 */
void vmsock_stream_unhash(struct sock *sk, bool unbind);
/* The socket a packet is for, with a reference, or NULL. */
struct sock *vmsock_stream_lookup(u32 remote_cid, u32 remote_port, u32 local_port);
/*
 * Any context: wakes the connected socket a packet is for without taking
 * a reference or its lock; false when no connection matches.
 */
bool vmsock_stream_wake_conn(u32 remote_cid, u32 remote_port, u32 local_port);
/*
 * Any context: as vmsock_stream_wake_conn(), but only when the socket's
 * SO_RCVLOWAT lies in (@before, @after], the bytes queued before and
 * after a write: what wakes a poller waiting for more than one byte.
 */
void vmsock_stream_wake_conn_lowat(u32 remote_cid, u32 remote_port, u32 local_port,
				   s64 before, s64 after);
/* A child's listener, with a reference, or NULL once it has none. */
struct sock *vmsock_stream_get_listener(struct sock *child);
void vmsock_stream_set_listener(struct sock *child, struct sock *listener);
/*
 * Process context: calls @fn on every socket with a peer, holding a
 * reference but no lock (@fn may sleep). The table lock is taken for one
 * hash bucket at a time, never for the whole walk. Returns how many.
 */
typedef void (*vmsock_conn_fn)(struct sock *sk);
unsigned int vmsock_stream_visit_conns(vmsock_conn_fn fn);
/*
 * The queue-pair table: a socket is in it, keyed by st.qp_handle, from
 * before its peer can know the pair until before it detaches from it.
 */
void vmsock_stream_qp_insert(struct sock *sk);
/* Both ends of a local pair, in one hold. */
void vmsock_stream_qp_insert_both(struct sock *a, struct sock *b);
void vmsock_stream_qp_remove(struct sock *sk);
/*
 * Any context but hard IRQ: calls @fn, under the table lock (@fn must not
 * sleep), on every socket using the pair @handle. Returns how many.
 */
unsigned int vmsock_stream_visit_qp(struct vmci_handle handle, vmsock_conn_fn fn);

static inline bool vmsock_stream_bound(const struct vmsock_sock *vsk)
{
	return vsk->local_addr.svm_family != AF_UNSPEC;
}

/* stream_conn.c; "locked" means under lock_sock(). */
int vmsock_stream_connect(struct socket *sock, struct sockaddr_unsized *addr, int len, int flags);
int vmsock_stream_listen(struct socket *sock, int backlog);
int vmsock_stream_do_accept(struct socket *sock, struct socket *newsock, int flags, bool kern);
int vmsock_stream_release(struct socket *sock);
/* Sends a control packet of @type to the socket's peer (locked). */
int vmsock_stream_send_ctl(struct sock *sk, u8 type, u64 arg);
/* proto.release_cb: the control worker may have work the owner held up. */
void vmsock_stream_release_cb(struct sock *sk);

/*
 * stream_conn.c's handshake steps, shared with the local connect in
 * stream_local.c; each one's rules are at its definition.
 */
struct vmsock_packet;
bool vmsock_stream_trylock(struct sock *sk, int subclass, bool owe_retry);
bool vmsock_peer_allowed(const struct sock *sk, u32 cid);
/* Whether the socket's peer is in this kernel (its CID is ours). */
bool vmsock_stream_local_peer(const struct vmsock_sock *vsk);
void vmsock_stream_peer_gone(struct sock *sk);
u64 vmsock_child_queue_size(struct sock *listener, u64 asked);
struct sock *vmsock_child_new(struct sock *listener, u32 local_cid, u32 remote_cid,
			      u32 remote_port, u64 size, bool notify_pkt, int subclass);
void vmsock_child_ready(struct sock *listener, struct sock *child);
void vmsock_child_destroy(struct sock *listener, struct sock *child);
int vmsock_qpair_open(struct sock *sk, struct vmci_handle handle, bool attach);
int vmsock_qpair_open_local(struct sock *sk, struct sock *child);

/*
 * stream_local.c. Locked client of a blocking connect() to a peer in this
 * kernel, in TCP_SYN_SENT and in the connection table, nothing sent yet:
 * 0 when connected here and now, -EAGAIN when the packets must do it,
 * another error when the attempt failed as the packets would have failed
 * it (the caller ends it with that error).
 */
int vmsock_stream_connect_local(struct sock *sk);
/*
 * Locked socket, before it leaves its queue pair on close: a local peer
 * is told at once, when that can be done without sleeping and without
 * overtaking a packet; otherwise the detach event tells it, as ever.
 */
void vmsock_local_close(struct sock *sk);
/*
 * Any context: a control packet joins the worker's queue. Returns the
 * bucket it was counted in (-1: not from this kernel), for
 * vmsock_local_pkt_done() once the worker is finished with it.
 */
int vmsock_local_pkt_queued(const struct vmsock_packet *pkt);
void vmsock_local_pkt_done(int bucket);

/* stream_io.c */
int vmsock_stream_sendmsg(struct socket *sock, struct msghdr *msg, size_t len);
int vmsock_stream_recvmsg(struct socket *sock, struct msghdr *msg, size_t len, int flags);
__poll_t vmsock_stream_poll(struct file *file, struct socket *sock, poll_table *wait);
int vmsock_stream_shutdown(struct socket *sock, int how);
int vmsock_stream_ioctl(struct socket *sock, unsigned int cmd, unsigned long arg);
int vmsock_stream_set_rcvlowat(struct sock *sk, int val);
/* Locked, packet protocol: the peer sent WAITING_READ or WAITING_WRITE. */
void vmsock_stream_peer_waiting(struct sock *sk, u8 type);
/* Wakes everyone waiting on @sk, readers, writers and pollers alike. */
void vmsock_stream_wake(struct sock *sk);

/* stream_opts.c */
int vmsock_stream_setsockopt(struct socket *sock, int level, int optname,
			     sockptr_t optval, unsigned int optlen);
int vmsock_stream_getsockopt(struct socket *sock, int level, int optname,
			     char __user *optval, int __user *optlen);

#endif /* VMSOCK_STREAM_H */
