// SPDX-License-Identifier: GPL-2.0
/*
 * A local datagram sender waits for room in a full receiver of its own
 * user instead of losing the datagram, as an AF_UNIX sender does. Across
 * users nothing changes: the datagram is dropped and counted (dgram.c),
 * so that a user who never reads cannot hold another user's sender, a
 * daemon replying to it for instance.
 *
 * Only senders of this kernel wait: datagrams from a guest, a VMM or the
 * hypervisor arrive through vmci and are never held. A sender that does
 * not block (O_NONBLOCK, MSG_DONTWAIT, a zero SO_SNDTIMEO) keeps the
 * datagram semantics of VMware's vSockets: the datagram is dropped.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <net/sock.h>

#include "dgram.h"
#include "sock.h"

/*
 * Port -> endpoint of every bound datagram socket of this kernel. vmci
 * gives a wildcard handle its resource ID in every context, so a local
 * port names at most one of them.
 */
static DEFINE_XARRAY(vmsock_dgram_ports);

void vmsock_dgram_room_publish(struct vmsock_dgram_ep *ep)
{
	/*
	 * Fails only for a stale twin in vmci's table or without memory;
	 * senders to this socket then drop as they always did.
	 */
	ep->published = !xa_insert(&vmsock_dgram_ports, ep->port, ep, GFP_KERNEL_ACCOUNT);
}

void vmsock_dgram_room_unpublish(struct vmsock_dgram_ep *ep)
{
	if (ep->published)
		xa_erase(&vmsock_dgram_ports, ep->port);
}

/* The receiver bound to @port in this kernel, held, or NULL. */
static struct sock *vmsock_dgram_receiver(u32 port)
{
	struct vmsock_dgram_ep *ep;
	struct sock *rsk = NULL;

	rcu_read_lock();
	ep = xa_load(&vmsock_dgram_ports, port);
	if (ep) {
		spin_lock_irq(&ep->lock);
		rsk = ep->sk;
		if (rsk)
			sock_hold(rsk);
		spin_unlock_irq(&ep->lock);
	}
	rcu_read_unlock();
	return rsk;
}

/* A released receiver takes nothing, but a sender waits for it no more. */
static bool vmsock_dgram_has_room(struct sock *rsk)
{
	return !vmsock_dgram_rcvq_full(rsk) || sock_flag(rsk, SOCK_DEAD);
}

int vmsock_dgram_room_wait(struct sock *sk, u32 port, long *timeo)
{
	struct sock *rsk;
	long left;
	int ret = 0;

	if (!*timeo)
		return 0;
	rsk = vmsock_dgram_receiver(port);
	if (!rsk)
		return 0;
	/*
	 * The owners are compared only for a full queue, and not under
	 * ep->lock: before 7.x sk_uid() takes a BH lock. A socket sending to
	 * itself does not wait (its reader may be this very thread), nor
	 * does AF_UNIX's.
	 */
	if (vmsock_dgram_has_room(rsk) || rsk == sk || !uid_eq(sk_uid(rsk), sk_uid(sk)))
		goto out;
	/* Without our lock: bind, connect and shutdown need not wait. */
	release_sock(sk);
	left = wait_event_interruptible_timeout(vmsock_sk(rsk)->dg_room,
						vmsock_dgram_has_room(rsk), *timeo);
	lock_sock(sk);
	if (left > 0)
		*timeo = left;
	else if (!left)
		ret = -EAGAIN;
	else
		ret = sock_intr_errno(*timeo);
	if (!ret && (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN))
		ret = -EPIPE;
out:
	sock_put(rsk);
	return ret;
}

void vmsock_dgram_room_made(struct sock *sk)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);

	/* Its barrier pairs with the one in the waiter's prepare_to_wait_event(). */
	if (wq_has_sleeper(&vsk->dg_room))
		wake_up_interruptible_all(&vsk->dg_room);
}
