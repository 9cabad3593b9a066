// SPDX-License-Identifier: GPL-2.0
/*
 * A stream connect() to a listener in this kernel, done by connect()
 * itself.
 *
 * The handshake in stream_conn.c is four control packets and two runs of
 * the control worker; between two sockets of one kernel every packet is a
 * wakeup of another CPU, and those wakeups, not the work, bounded the
 * local connection rate (docs/performance.md, "The path of a connect").
 * Here a blocking connect() that finds a listener on the port takes the
 * listener's lock without sleeping and plays both parts at once: the
 * child, the queue pair (both ends in one call, charged to the client's
 * user as the client's create is on the packet path), both ends
 * ESTABLISHED, the child on the accept queue, accept() woken. Nothing is
 * sent. From then on the connection is like any other local one.
 *
 * What the packet path guarantees and this one must keep: a peer's
 * packets are handled in the order they were sent. A packet that an
 * earlier socket on the same pair of ports sent (a SHUTDOWN from a client
 * that then closed and whose port was bound again) may still wait for
 * the worker. On the packet path it is handled before the new REQUEST
 * and finds the old socket or none; made directly, the new connection
 * would be in the table first and take it. So each local packet queued
 * for the worker is counted in a bucket of its port pair (either
 * direction) until the worker is done with it, and a connect whose bucket
 * is not empty takes the packet path. Only the two sockets of the pair
 * send on it, and the client's is locked here, so the count cannot grow
 * behind our back.
 *
 * Anything unusual takes the packet path, which knows how to refuse: no
 * listener, a listener its owner holds, a full backlog, buffer sizes that
 * do not agree, a client asking in the old protocol, a module parameter
 * saying no (tests and make bench's "vmsock pkt" column), a child that
 * cannot be allocated. Non-blocking connects keep their EINPROGRESS.
 *
 * The same holds at the other end of a connection: when one end of an
 * established local connection closes, its peer learns it from the
 * queue pair's detach event, through the control worker (another
 * wakeup). vmsock_local_close() tells the peer on the closing task
 * instead, under the same two conditions: its lock can be had without
 * sleeping, and no packet of the pair waits (a SHUTDOWN sent before the
 * close must still come first). It then marks its end of the pair
 * (vmcix_qpair_peer_told()), so that its detach raises no event at all:
 * the event would only find the peer told (vmsock_peer_left()).
 *
 * Lock order: the client (connect()'s), then the listener (trylock, one
 * level down), then the new child (two levels down), which nobody else
 * can hold yet. A closing socket takes its peer's lock only by trylock.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/atomic.h>
#include <linux/hash.h>
#include <linux/kernel.h>
#include <linux/moduleparam.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include <vmci/vmcix.h>

#include "diag.h"
#include "packet.h"
#include "stream.h"

#define VMSOCK_LOCAL_BUCKET_BITS	8

static bool vmsock_local_connect = true;
module_param_named(stream_local_connect, vmsock_local_connect, bool, 0644);
MODULE_PARM_DESC(stream_local_connect,
		 "Connect to a listener in this kernel without control packets (default Y)");

/* Local control packets the worker has not finished, per port-pair bucket. */
static atomic_t vmsock_local_queued[1 << VMSOCK_LOCAL_BUCKET_BITS];

/* Both directions of a port pair share a bucket. */
static unsigned int vmsock_local_bucket(u32 a, u32 b)
{
	return hash_32(min(a, b) ^ hash_32(max(a, b), 32), VMSOCK_LOCAL_BUCKET_BITS);
}

int vmsock_local_pkt_queued(const struct vmsock_packet *pkt)
{
	unsigned int bucket;

	if (pkt->dg.src.context != vmcix_get_context_id())
		return -1;
	bucket = vmsock_local_bucket(pkt->src_port, pkt->dst_port);
	atomic_inc(&vmsock_local_queued[bucket]);
	return bucket;
}

void vmsock_local_pkt_done(int bucket)
{
	if (bucket >= 0)
		atomic_dec(&vmsock_local_queued[bucket]);
}

/* Whether a local packet between ports @a and @b may still wait (either way). */
static bool vmsock_local_pair_busy(u32 a, u32 b)
{
	return atomic_read(&vmsock_local_queued[vmsock_local_bucket(a, b)]);
}

/* Locked client and listener: makes the pair and the child; 0 or an error. */
static int vmsock_local_join(struct sock *sk, struct sock *listener, u64 size)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);
	u32 cid = vsk->remote_addr.svm_cid;
	struct sock *child;
	int ret;

	child = vmsock_child_new(listener, cid, cid, vsk->local_addr.svm_port, size, false,
				 SINGLE_DEPTH_NESTING + 1);
	if (!child)
		return -EAGAIN;
	if (vsk->local_addr.svm_cid == VMADDR_CID_ANY)
		vsk->local_addr.svm_cid = cid;
	vsk->st.queue_size = size;
	ret = vmsock_qpair_open_local(sk, child);
	if (ret) {
		vmsock_child_destroy(listener, child);
		release_sock(child);
		sock_put(child);
		return ret;
	}
	vmsock_child_ready(listener, child);
	release_sock(child);
	vmsock_stream_set_state(sk, TCP_ESTABLISHED);
	if (sk->sk_socket)
		sk->sk_socket->state = SS_CONNECTED;
	vmsock_note_local_connect();
	/* As on the packet path: wakes one accept() or EPOLLEXCLUSIVE waiter. */
	listener->sk_data_ready(listener);
	return 0;
}

int vmsock_stream_connect_local(struct sock *sk)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);
	u32 port = vsk->local_addr.svm_port;
	u32 cid = vsk->remote_addr.svm_cid;
	u32 lport = vsk->remote_addr.svm_port;
	struct sock *listener;
	int ret = -EAGAIN;
	u64 size;

	if (!READ_ONCE(vmsock_local_connect) || vmsock_local_pair_busy(port, lport))
		return -EAGAIN;
	listener = vmsock_stream_lookup(cid, port, lport);
	if (!listener)
		return -EAGAIN;
	if (!vmsock_stream_trylock(listener, SINGLE_DEPTH_NESTING, false)) {
		sock_put(listener);
		return -EAGAIN;
	}
	/* The packet path would be refused or fail EPROTO: let it. */
	size = vmsock_child_queue_size(listener, vsk->st.buffer_size);
	if (listener->sk_state == TCP_LISTEN && !(listener->sk_shutdown & RCV_SHUTDOWN) &&
	    !sk_acceptq_is_full(listener) && vmsock_peer_allowed(listener, cid) &&
	    size >= vsk->st.buffer_min && size <= vsk->st.buffer_max)
		ret = vmsock_local_join(sk, listener, size);
	release_sock(listener);
	sock_put(listener);
	return ret;
}

/* Whether @peer is still the other end of @vsk's pair (peer locked or not). */
static bool vmsock_local_is_peer(const struct vmsock_sock *vsk, struct sock *peer)
{
	const struct vmsock_sock *pvsk = vmsock_sk(peer);

	return READ_ONCE(peer->sk_state) == TCP_ESTABLISHED && pvsk->st.qpair &&
	       vmci_handle_equal(pvsk->st.qp_handle, vsk->st.qp_handle);
}

void vmsock_local_close(struct sock *sk)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);
	u32 cid = vsk->remote_addr.svm_cid;
	u32 port = vsk->local_addr.svm_port;
	u32 rport = vsk->remote_addr.svm_port;
	struct sock *peer;

	/*
	 * SOCK_DONE: the connection has ended (the peer closed first, as a
	 * server usually does, or reset it); a lookup would find at most the
	 * listener, and the peer, if any is left, still learns from the detach.
	 */
	if (!READ_ONCE(vmsock_local_connect) || sk->sk_state != TCP_ESTABLISHED ||
	    sock_flag(sk, SOCK_DONE) || !vsk->st.qpair || !vsk->st.peer_local ||
	    vmsock_local_pair_busy(port, rport))
		return;
	peer = vmsock_stream_lookup(cid, port, rport);
	if (!peer)
		return;
	if (peer != sk && vmsock_local_is_peer(vsk, peer) &&
	    vmsock_stream_trylock(peer, SINGLE_DEPTH_NESTING, false)) {
		/* What vmsock_detach() does once the worker gets to it. */
		if (vmsock_local_is_peer(vsk, peer)) {
			vmsock_stream_peer_gone(peer);
			/* So our detach raises no event that would find it told. */
			vmcix_qpair_peer_told(vsk->st.qpair);
		}
		release_sock(peer);
	}
	sock_put(peer);
}
