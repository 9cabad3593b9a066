/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by dgram.c (the socket calls) and dgram_room.c (a local sender
 * waiting for room in a receiver of its own user).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMSOCK_DGRAM_H
#define VMSOCK_DGRAM_H

#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <net/sock.h>

/*
 * What a bound socket's datagram handle delivers to. Release detaches the
 * socket under @lock and destroys the handle without waiting for an RCU
 * grace period (a program closing thousands of datagram sockets would wait
 * one per socket): callbacks still running or queued find @sk NULL and
 * drop. vmci reports once no callback can run; the endpoint is then freed
 * after a grace period, for dgram_room.c's lockless lookups.
 */
struct vmsock_dgram_ep {
	spinlock_t lock;	/* callbacks may run with interrupts off */
	struct sock *sk;	/* NULL once the socket is released */
	u32 port;		/* its key in dgram_room.c's table */
	bool published;		/* it holds that key */
	struct rcu_head rcu;
};

/*
 * Whether @sk's receive queue takes no more: the receive callback drops
 * then, and a waiting sender waits while it holds.
 */
static inline bool vmsock_dgram_rcvq_full(const struct sock *sk)
{
	return atomic_read(&sk->sk_rmem_alloc) >= READ_ONCE(sk->sk_rcvbuf);
}

/* Makes @ep findable by local senders, if its port is free there. */
void vmsock_dgram_room_publish(struct vmsock_dgram_ep *ep);
/* Called at release, before the handle goes: no new waiter finds @ep. */
void vmsock_dgram_room_unpublish(struct vmsock_dgram_ep *ep);

/*
 * Waits, up to *@timeo, while the local receiver bound to @port is full,
 * if it belongs to @sk's user. Called with @sk locked; the lock is dropped
 * only while waiting. 0 when the datagram may go (room, no such receiver,
 * another user's receiver), -EAGAIN once *@timeo ran out, -EPIPE if @sk
 * was shut down meanwhile, or the errno of a signal.
 */
int vmsock_dgram_room_wait(struct sock *sk, u32 port, long *timeo);

/* A reader of @sk freed queue space: wakes senders waiting for it. */
void vmsock_dgram_room_made(struct sock *sk);

#endif /* VMSOCK_DGRAM_H */
