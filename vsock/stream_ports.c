// SPDX-License-Identifier: GPL-2.0
/*
 * Which stream socket owns a port, which socket a control packet is
 * for, and which sockets use a queue pair. Three hash tables under one
 * IRQ-safe spinlock: bind, connect, release and the control-packet
 * worker use them from process context, and the control handle's
 * callback, which may run in any context, wakes a connected socket
 * straight from the table (vmsock_stream_wake_conn()). A socket leaves
 * the connection and queue-pair tables before its last reference goes,
 * so one found under the lock is alive until the lock is dropped.
 *
 * - the port table holds every socket that owns its local port (bound
 *   sockets, listeners, clients); accepted children share their
 *   listener's port and are not in it;
 * - the queue-pair table holds every socket attached to (or attaching
 *   to) a queue pair, keyed by its handle, so that one module-wide
 *   QP_PEER_DETACH subscription finds the socket a detach is for; both
 *   ends of a local pair may be in it under the same handle;
 * - the connection table holds every socket with a peer, keyed by (peer
 *   CID, peer port, local port): connecting clients (from before their
 *   REQUEST goes out, keyed by the peer they asked for), pending and
 *   accepted children, established sockets.
 *
 * A packet is for the socket its full key names; only when none matches
 * may it be for a listener found by the port alone. Everything else
 * ignores strangers, so nobody can reset or shut down a connection that
 * is not theirs by sending to its port.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/capability.h>
#include <linux/errno.h>
#include <linux/hash.h>
#include <linux/hashtable.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/random.h>
#include <linux/spinlock.h>
#include <net/tcp_states.h>

#include <vmci/vmcix.h>

#include "addr.h"
#include "stream.h"

/*
 * 4,096 buckets per table (32 KiB each): at 10,000 connections, 20,000
 * ends, a lookup walks about five entries. With 256, a close at 10,000
 * open connections cost 2.6x one at 100 (make bench-close), every
 * lookup walking some 80 entries under the table lock.
 */
#define VMSOCK_STREAM_HASH_BITS		12
/* Automatic binding gives up after this many taken ports. */
#define VMSOCK_STREAM_PORT_RETRIES	24
#define VMSOCK_STREAM_FIRST_EPHEMERAL	(VMCI_RESERVED_RESOURCE_ID_MAX + 1)

static DEFINE_SPINLOCK(vmsock_stream_table_lock);
static DEFINE_HASHTABLE(vmsock_stream_ports, VMSOCK_STREAM_HASH_BITS);
static DEFINE_HASHTABLE(vmsock_stream_conns, VMSOCK_STREAM_HASH_BITS);
static DEFINE_HASHTABLE(vmsock_stream_qps, VMSOCK_STREAM_HASH_BITS);

static u32 vmsock_conn_key(u32 remote_cid, u32 remote_port, u32 local_port)
{
	return hash_32(remote_cid ^ hash_32(remote_port ^ hash_32(local_port, 32), 32), 32);
}

/* Called with the table lock held. */
static bool vmsock_port_taken(u32 port)
{
	struct vmsock_sock *vsk;

	hash_for_each_possible(vmsock_stream_ports, vsk, st.bound_node, port)
		if (vsk->local_addr.svm_port == port)
			return true;
	return false;
}

static u32 vmsock_ephemeral_port(void)
{
	u32 range = VMADDR_PORT_ANY - VMSOCK_STREAM_FIRST_EPHEMERAL;

	return VMSOCK_STREAM_FIRST_EPHEMERAL + get_random_u32() % range;
}

int vmsock_stream_bind_port(struct sock *sk, u32 cid, u32 port)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);
	unsigned long flags;
	int tries, ret = 0;

	if (vmsock_stream_bound(vsk))
		return -EINVAL;
	if (cid != VMADDR_CID_ANY && cid != vmcix_get_context_id())
		return -EADDRNOTAVAIL;
	if (port != VMADDR_PORT_ANY && port <= VMCI_RESERVED_RESOURCE_ID_MAX &&
	    !capable(CAP_NET_BIND_SERVICE))
		return -EACCES;

	spin_lock_irqsave(&vmsock_stream_table_lock, flags);
	if (port == VMADDR_PORT_ANY) {
		for (tries = 0; tries < VMSOCK_STREAM_PORT_RETRIES; tries++) {
			port = vmsock_ephemeral_port();
			if (!vmsock_port_taken(port))
				break;
		}
		if (tries == VMSOCK_STREAM_PORT_RETRIES)
			ret = -EADDRNOTAVAIL;
	} else if (vmsock_port_taken(port)) {
		ret = -EADDRINUSE;
	}
	if (!ret) {
		vmsock_addr_init(&vsk->local_addr, sk->sk_family, cid, port);
		hash_add(vmsock_stream_ports, &vsk->st.bound_node, port);
		vsk->st.in_bound = true;
	}
	spin_unlock_irqrestore(&vmsock_stream_table_lock, flags);
	return ret;
}

/* The *_locked helpers run under the table lock; the others take it. */
static void vmsock_unbind_locked(struct vmsock_sock *vsk)
{
	if (vsk->st.in_bound)
		hash_del(&vsk->st.bound_node);
	vsk->st.in_bound = false;
}

static void vmsock_conn_insert_locked(struct vmsock_sock *vsk)
{
	if (!vsk->st.in_conn)
		hash_add(vmsock_stream_conns, &vsk->st.conn_node,
			 vmsock_conn_key(vsk->remote_addr.svm_cid, vsk->remote_addr.svm_port,
					 vsk->local_addr.svm_port));
	vsk->st.in_conn = true;
}

static void vmsock_conn_remove_locked(struct vmsock_sock *vsk)
{
	if (vsk->st.in_conn)
		hash_del(&vsk->st.conn_node);
	vsk->st.in_conn = false;
}

static void vmsock_qp_remove_locked(struct vmsock_sock *vsk)
{
	if (vsk->st.in_qp)
		hash_del(&vsk->st.qp_node);
	vsk->st.in_qp = false;
}

void vmsock_stream_unbind_port(struct sock *sk)
{
	unsigned long flags;

	spin_lock_irqsave(&vmsock_stream_table_lock, flags);
	vmsock_unbind_locked(vmsock_sk(sk));
	spin_unlock_irqrestore(&vmsock_stream_table_lock, flags);
}

void vmsock_stream_conn_insert(struct sock *sk)
{
	unsigned long flags;

	spin_lock_irqsave(&vmsock_stream_table_lock, flags);
	vmsock_conn_insert_locked(vmsock_sk(sk));
	spin_unlock_irqrestore(&vmsock_stream_table_lock, flags);
}

void vmsock_stream_child_insert(struct sock *child, struct sock *listener)
{
	struct vmsock_sock *cvsk = vmsock_sk(child);
	unsigned long flags;

	spin_lock_irqsave(&vmsock_stream_table_lock, flags);
	cvsk->st.listener = listener;
	vmsock_conn_insert_locked(cvsk);
	spin_unlock_irqrestore(&vmsock_stream_table_lock, flags);
}

void vmsock_stream_conn_remove(struct sock *sk)
{
	unsigned long flags;

	spin_lock_irqsave(&vmsock_stream_table_lock, flags);
	vmsock_conn_remove_locked(vmsock_sk(sk));
	spin_unlock_irqrestore(&vmsock_stream_table_lock, flags);
}

void vmsock_stream_unhash(struct sock *sk, bool unbind)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);
	unsigned long flags;

	spin_lock_irqsave(&vmsock_stream_table_lock, flags);
	vmsock_conn_remove_locked(vsk);
	vmsock_qp_remove_locked(vsk);
	if (unbind)
		vmsock_unbind_locked(vsk);
	spin_unlock_irqrestore(&vmsock_stream_table_lock, flags);
}

/* Called with the table lock held. */
static struct sock *vmsock_conn_find(u32 remote_cid, u32 remote_port, u32 local_port)
{
	struct vmsock_sock *vsk;

	hash_for_each_possible(vmsock_stream_conns, vsk, st.conn_node,
			       vmsock_conn_key(remote_cid, remote_port, local_port))
		if (vsk->remote_addr.svm_cid == remote_cid &&
		    vsk->remote_addr.svm_port == remote_port &&
		    vsk->local_addr.svm_port == local_port)
			return &vsk->sk;
	return NULL;
}

struct sock *vmsock_stream_lookup(u32 remote_cid, u32 remote_port, u32 local_port)
{
	struct vmsock_sock *vsk;
	struct sock *found;
	unsigned long flags;

	spin_lock_irqsave(&vmsock_stream_table_lock, flags);
	found = vmsock_conn_find(remote_cid, remote_port, local_port);
	if (found)
		goto out;
	/*
	 * Only a listener takes packets from anyone. A bound, connecting or
	 * connected socket owning the port is no business of a stranger's:
	 * its own peer reaches it through the connection table above.
	 */
	hash_for_each_possible(vmsock_stream_ports, vsk, st.bound_node, local_port) {
		if (vsk->local_addr.svm_port == local_port &&
		    READ_ONCE(vsk->sk.sk_state) == TCP_LISTEN) {
			found = &vsk->sk;
			goto out;
		}
	}
out:
	if (found)
		sock_hold(found);
	spin_unlock_irqrestore(&vmsock_stream_table_lock, flags);
	return found;
}

bool vmsock_stream_wake_conn(u32 remote_cid, u32 remote_port, u32 local_port)
{
	unsigned long flags;
	struct sock *sk;

	spin_lock_irqsave(&vmsock_stream_table_lock, flags);
	sk = vmsock_conn_find(remote_cid, remote_port, local_port);
	/* Waking takes only the wait queue's own IRQ-safe lock. */
	if (sk)
		vmsock_stream_wake(sk);
	spin_unlock_irqrestore(&vmsock_stream_table_lock, flags);
	return sk;
}

void vmsock_stream_wake_conn_lowat(u32 remote_cid, u32 remote_port, u32 local_port,
				   s64 before, s64 after)
{
	unsigned long flags;
	struct sock *sk;
	int lowat;

	spin_lock_irqsave(&vmsock_stream_table_lock, flags);
	sk = vmsock_conn_find(remote_cid, remote_port, local_port);
	if (sk) {
		lowat = READ_ONCE(sk->sk_rcvlowat);
		if (before < lowat && after >= lowat)
			vmsock_stream_wake(sk);
	}
	spin_unlock_irqrestore(&vmsock_stream_table_lock, flags);
}

/*
 * The listener pointer changes under the table lock (and the listener's
 * lock), so a reader holding either sees a listener that is still alive.
 */
struct sock *vmsock_stream_get_listener(struct sock *child)
{
	struct sock *listener;
	unsigned long flags;

	spin_lock_irqsave(&vmsock_stream_table_lock, flags);
	listener = vmsock_sk(child)->st.listener;
	if (listener)
		sock_hold(listener);
	spin_unlock_irqrestore(&vmsock_stream_table_lock, flags);
	return listener;
}

/* The child's reference on its old listener is the caller's to drop. */
void vmsock_stream_set_listener(struct sock *child, struct sock *listener)
{
	unsigned long flags;

	spin_lock_irqsave(&vmsock_stream_table_lock, flags);
	vmsock_sk(child)->st.listener = listener;
	spin_unlock_irqrestore(&vmsock_stream_table_lock, flags);
}

/*
 * One walk at a time: st.visit_node is free whenever this is not held.
 * Each bucket's sockets are collected with references under the table
 * lock, then handed to @fn after it is dropped.
 */
static DEFINE_MUTEX(vmsock_stream_visit_lock);

unsigned int vmsock_stream_visit_conns(vmsock_conn_fn fn)
{
	struct vmsock_sock *vsk, *tmp;
	unsigned int bkt, n = 0;
	LIST_HEAD(batch);

	mutex_lock(&vmsock_stream_visit_lock);
	for (bkt = 0; bkt < HASH_SIZE(vmsock_stream_conns); bkt++) {
		spin_lock_irq(&vmsock_stream_table_lock);
		hlist_for_each_entry(vsk, &vmsock_stream_conns[bkt], st.conn_node) {
			sock_hold(&vsk->sk);
			list_add_tail(&vsk->st.visit_node, &batch);
		}
		spin_unlock_irq(&vmsock_stream_table_lock);

		list_for_each_entry_safe(vsk, tmp, &batch, st.visit_node) {
			list_del(&vsk->st.visit_node);
			fn(&vsk->sk);
			sock_put(&vsk->sk);
			n++;
		}
		cond_resched();
	}
	mutex_unlock(&vmsock_stream_visit_lock);
	return n;
}

static u32 vmsock_qp_key(struct vmci_handle handle)
{
	return hash_32(handle.context ^ hash_32(handle.resource, 32), 32);
}

static void vmsock_qp_insert_locked(struct vmsock_sock *vsk)
{
	if (!vsk->st.in_qp)
		hash_add(vmsock_stream_qps, &vsk->st.qp_node, vmsock_qp_key(vsk->st.qp_handle));
	vsk->st.in_qp = true;
}

void vmsock_stream_qp_insert(struct sock *sk)
{
	unsigned long flags;

	spin_lock_irqsave(&vmsock_stream_table_lock, flags);
	vmsock_qp_insert_locked(vmsock_sk(sk));
	spin_unlock_irqrestore(&vmsock_stream_table_lock, flags);
}

void vmsock_stream_qp_insert_both(struct sock *a, struct sock *b)
{
	unsigned long flags;

	spin_lock_irqsave(&vmsock_stream_table_lock, flags);
	vmsock_qp_insert_locked(vmsock_sk(a));
	vmsock_qp_insert_locked(vmsock_sk(b));
	spin_unlock_irqrestore(&vmsock_stream_table_lock, flags);
}

void vmsock_stream_qp_remove(struct sock *sk)
{
	unsigned long flags;

	spin_lock_irqsave(&vmsock_stream_table_lock, flags);
	vmsock_qp_remove_locked(vmsock_sk(sk));
	spin_unlock_irqrestore(&vmsock_stream_table_lock, flags);
}

unsigned int vmsock_stream_visit_qp(struct vmci_handle handle, vmsock_conn_fn fn)
{
	struct vmsock_sock *vsk;
	unsigned int n = 0;
	unsigned long flags;

	spin_lock_irqsave(&vmsock_stream_table_lock, flags);
	hash_for_each_possible(vmsock_stream_qps, vsk, st.qp_node, vmsock_qp_key(handle)) {
		if (vmci_handle_equal(vsk->st.qp_handle, handle)) {
			fn(&vsk->sk);
			n++;
		}
	}
	spin_unlock_irqrestore(&vmsock_stream_table_lock, flags);
	return n;
}
