// SPDX-License-Identifier: GPL-2.0
/*
 * The exported queue-pair API: argument checks common to every kind of
 * pair, the choice of backend, and the data path over an endpoint's two
 * queues. See qpair.h for the object and its locks.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/export.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/user_namespace.h>
#include <vmci/vmci_abi.h>
#include <vmci/vmcix.h>

#include "qpair.h"
#include "queue.h"
#include "route.h"
#include "vmci_trace.h"

/* Non-local pairs: the guest personality's, while its device works. */
static const struct vmci_qpair_backend *remote_backend;

void vmci_qpair_set_remote_backend(const struct vmci_qpair_backend *backend)
{
	WRITE_ONCE(remote_backend, backend);
}

/*
 * The one place that knows the kinds of pairs. Non-local pairs go over
 * the device while the guest personality has one working; otherwise this
 * kernel is a host, and the broker joins them to a VMM's pair.
 */
static const struct vmci_qpair_backend *backend_for(u32 flags)
{
	if (flags & VMCI_QPFLAG_LOCAL)
		return &vmci_qpair_local_backend;
	return READ_ONCE(remote_backend) ?: &vmci_qpair_broker_backend;
}

/* See struct vmci_qpair_backend: the queues may only be touched in between. */
static int lock_queues_how(const struct vmcix_qpair *qp, bool nowait)
{
	return qp->backend->lock_queues ? qp->backend->lock_queues(qp, nowait) : VMCI_SUCCESS;
}

static int lock_queues(const struct vmcix_qpair *qp)
{
	return lock_queues_how(qp, false);
}

static void unlock_queues(const struct vmcix_qpair *qp)
{
	if (qp->backend->unlock_queues)
		qp->backend->unlock_queues(qp);
}

/*
 * Checks everything that does not depend on existing pairs before any
 * memory is touched, so absurd sizes fail at once. NONBLOCK and PINNED
 * are ESX-only promises we cannot keep.
 */
static int check_alloc_args(u64 produce_size, u64 consume_size, u32 flags, u32 priv_flags)
{
	if (flags & ~VMCI_QP_ALL_FLAGS)
		return VMCI_ERROR_INVALID_ARGS;
	if (flags & (VMCI_QPFLAG_NONBLOCK | VMCI_QPFLAG_PINNED))
		return VMCI_ERROR_INVALID_ARGS;
	if (priv_flags & ~VMCI_PRIVILEGE_ALL_FLAGS)
		return VMCI_ERROR_INVALID_ARGS;
	if (!produce_size || !consume_size)
		return VMCI_ERROR_INVALID_ARGS;
	/* Written so that the sum is never formed when it could wrap. */
	if (produce_size > VMCI_MAX_GUEST_QP_MEMORY ||
	    consume_size > VMCI_MAX_GUEST_QP_MEMORY - produce_size)
		return VMCI_ERROR_NO_RESOURCES;
	return VMCI_SUCCESS;
}

/*
 * Between these two, every __GFP_ACCOUNT allocation on the way (ring
 * pages, page arrays, entries) is charged to the owner's memory cgroup
 * rather than to whichever task happens to run this, and @qp tells the
 * backend whose budget share to charge.
 */
static struct mem_cgroup *owner_begin(struct vmcix_qpair *qp, const struct vmcix_qp_owner *owner)
{
	qp->owner = owner;
	return owner->memcg ? set_active_memcg(owner->memcg) : NULL;
}

static void owner_end(struct vmcix_qpair *qp, struct mem_cgroup *old)
{
	if (qp->owner->memcg)
		set_active_memcg(old);
	qp->owner = NULL;
}

static int backend_alloc_for(const struct vmcix_qp_owner *owner, struct vmcix_qpair *qp,
			     struct vmci_handle handle, u32 priv_flags)
{
	struct mem_cgroup *old = owner_begin(qp, owner);
	int result;

	result = qp->backend->alloc(qp, handle, qp->peer, qp->flags, priv_flags);
	owner_end(qp, old);
	return result;
}

static struct vmcix_qpair *endpoint_new(const struct vmci_qpair_backend *backend,
					u64 produce_size, u64 consume_size, u32 peer, u32 flags)
{
	struct vmcix_qpair *qp = kzalloc(sizeof(*qp), GFP_KERNEL);

	if (!qp)
		return NULL;
	qp->backend = backend;
	qp->produce_size = produce_size;
	qp->consume_size = consume_size;
	qp->peer = peer;
	qp->flags = flags;
	mutex_init(&qp->produce_lock);
	mutex_init(&qp->consume_lock);
	return qp;
}

static void endpoint_free(struct vmcix_qpair *qp)
{
	if (!qp)
		return;
	mutex_destroy(&qp->produce_lock);
	mutex_destroy(&qp->consume_lock);
	kfree(qp);
}

int vmcix_qpair_alloc_for(const struct vmcix_qp_owner *owner, struct vmcix_qpair **qpair,
			  struct vmci_handle *handle, u64 produce_size, u64 consume_size,
			  u32 peer, u32 flags, u32 priv_flags)
{
	const struct vmci_qpair_backend *backend;
	struct vmci_handle traced;
	struct vmcix_qpair *qp;
	bool attach;
	int result;

	if (!owner || !qpair || !handle)
		return VMCI_ERROR_INVALID_ARGS;
	result = check_alloc_args(produce_size, consume_size, flags, priv_flags);
	if (result < VMCI_SUCCESS)
		return result;
	backend = backend_for(flags);
	if (!backend)
		return VMCI_ERROR_UNAVAILABLE;

	/* Naming a pair asks to join it; no name asks for a new one. */
	attach = !vmci_handle_is_invalid(*handle) && handle->resource != VMCI_INVALID_ID;
	qp = endpoint_new(backend, produce_size, consume_size, peer, flags);
	if (!qp)
		return VMCI_ERROR_NO_MEM;

	result = backend_alloc_for(owner, qp, *handle, priv_flags);
	traced = result < VMCI_SUCCESS ? *handle : qp->handle;
	if (attach)
		trace_vmci_qp_attach(vmci_route_local_cid(), traced, peer, produce_size,
				     consume_size, result);
	else
		trace_vmci_qp_alloc(vmci_route_local_cid(), traced, peer, produce_size,
				    consume_size, result);
	if (result < VMCI_SUCCESS) {
		endpoint_free(qp);
		return result;
	}
	*handle = qp->handle;
	*qpair = qp;
	return VMCI_SUCCESS;
}
EXPORT_SYMBOL_GPL(vmcix_qpair_alloc_for);

int vmcix_qpair_alloc_local_pair(const struct vmcix_qp_owner *owner,
				 struct vmcix_qpair **creator, struct vmcix_qpair **attacher,
				 struct vmci_handle *handle, u64 produce_size, u64 consume_size)
{
	const struct vmci_qpair_backend *backend = &vmci_qpair_local_backend;
	u32 cid = vmci_route_local_cid();
	struct vmcix_qpair *a, *b;
	struct mem_cgroup *old;
	int result;

	if (!owner || !creator || !attacher || !handle)
		return VMCI_ERROR_INVALID_ARGS;
	result = check_alloc_args(produce_size, consume_size, VMCI_QPFLAG_LOCAL,
				  VMCI_NO_PRIVILEGE_FLAGS);
	if (result < VMCI_SUCCESS)
		return result;
	a = endpoint_new(backend, produce_size, consume_size, cid, VMCI_QPFLAG_LOCAL);
	b = endpoint_new(backend, consume_size, produce_size, cid, VMCI_QPFLAG_LOCAL);
	result = VMCI_ERROR_NO_MEM;
	if (!a || !b)
		goto out_free;

	old = owner_begin(a, owner);
	result = vmci_qpair_local_alloc_both(a, b, cid);
	owner_end(a, old);
	trace_vmci_qp_alloc(cid, result < VMCI_SUCCESS ? VMCI_INVALID_HANDLE : a->handle, cid,
			    produce_size, consume_size, result);
	if (result < VMCI_SUCCESS)
		goto out_free;
	trace_vmci_qp_attach(cid, b->handle, cid, consume_size, produce_size, result);
	*handle = a->handle;
	*creator = a;
	*attacher = b;
	return VMCI_SUCCESS;

out_free:
	endpoint_free(a);
	endpoint_free(b);
	return result;
}
EXPORT_SYMBOL_GPL(vmcix_qpair_alloc_local_pair);

/* Kernel threads and workers have CAP_NET_ADMIN: the kernel is not a user. */
int vmcix_qpair_alloc(struct vmcix_qpair **qpair, struct vmci_handle *handle,
		      u64 produce_size, u64 consume_size, u32 peer, u32 flags, u32 priv_flags)
{
	const struct vmcix_qp_owner owner = {
		.uid = current_euid(),
		.privileged = ns_capable_noaudit(&init_user_ns, CAP_NET_ADMIN),
	};

	return vmcix_qpair_alloc_for(&owner, qpair, handle, produce_size, consume_size,
				     peer, flags, priv_flags);
}
EXPORT_SYMBOL_GPL(vmcix_qpair_alloc);

int vmcix_qpair_detach(struct vmcix_qpair **qpair)
{
	struct vmcix_qpair *qp;

	if (!qpair || !*qpair)
		return VMCI_ERROR_INVALID_ARGS;
	qp = *qpair;
	/* Its argument is a call (to another file) even when nobody traces. */
	if (trace_vmci_qp_detach_enabled())
		trace_vmci_qp_detach(vmci_route_local_cid(), qp->handle);
	qp->backend->detach(qp);
	endpoint_free(qp);
	*qpair = NULL;
	return VMCI_SUCCESS;
}
EXPORT_SYMBOL_GPL(vmcix_qpair_detach);

/*
 * The owner of @qpair has told the other end's owner that this end is
 * leaving, as vmsock does when both ends of a local pair are its
 * sockets: the detach of a local pair then raises no QP_PEER_DETACH,
 * which would reach only that owner, and which every other event raise
 * on the machine would wait behind. A pair with a peer elsewhere
 * detaches as usual; that peer learns it from its own side.
 */
void vmcix_qpair_peer_told(struct vmcix_qpair *qpair)
{
	if (qpair)
		qpair->peer_told = true;
}
EXPORT_SYMBOL_GPL(vmcix_qpair_peer_told);

/*
 * Snapshots; "produce" and "consume" are from this endpoint's side. What
 * the peer has ready in our produce queue is seen from the peer's side,
 * with the roles of the two queues exchanged (@peer_view).
 */
static s64 snapshot(const struct vmcix_qpair *qpair,
		    s64 (*measure)(const struct vmci_queue *produce_q,
				   const struct vmci_queue *consume_q),
		    bool peer_view, bool nowait)
{
	s64 result;

	if (!qpair)
		return VMCI_ERROR_INVALID_ARGS;
	result = lock_queues_how(qpair, nowait);
	if (result < VMCI_SUCCESS)
		return result;
	if (peer_view)
		result = measure(qpair->consume_q, qpair->produce_q);
	else
		result = measure(qpair->produce_q, qpair->consume_q);
	unlock_queues(qpair);
	return result;
}

s64 vmcix_qpair_produce_free_space(const struct vmcix_qpair *qpair)
{
	return snapshot(qpair, vmci_queue_free_space, false, false);
}
EXPORT_SYMBOL_GPL(vmcix_qpair_produce_free_space);

s64 vmcix_qpair_produce_buf_ready(const struct vmcix_qpair *qpair)
{
	return snapshot(qpair, vmci_queue_ready_bytes, true, false);
}
EXPORT_SYMBOL_GPL(vmcix_qpair_produce_buf_ready);

s64 vmcix_qpair_consume_free_space(const struct vmcix_qpair *qpair)
{
	return snapshot(qpair, vmci_queue_free_space, true, false);
}
EXPORT_SYMBOL_GPL(vmcix_qpair_consume_free_space);

/*
 * The two a peer's WAITING_READ and WAITING_WRITE ask about, for callers
 * that serve other sockets too and must not wait for one pair's memory:
 * VMCI_ERROR_WOULD_BLOCK while a VMM maps or unmaps it (qpair_broker.c),
 * where the other two would wait for any copy in progress to finish.
 */
s64 vmcix_qpair_produce_buf_ready_nowait(const struct vmcix_qpair *qpair)
{
	return snapshot(qpair, vmci_queue_ready_bytes, true, true);
}
EXPORT_SYMBOL_GPL(vmcix_qpair_produce_buf_ready_nowait);

s64 vmcix_qpair_consume_free_space_nowait(const struct vmcix_qpair *qpair)
{
	return snapshot(qpair, vmci_queue_free_space, true, true);
}
EXPORT_SYMBOL_GPL(vmcix_qpair_consume_free_space_nowait);

s64 vmcix_qpair_consume_buf_ready(const struct vmcix_qpair *qpair)
{
	return snapshot(qpair, vmci_queue_ready_bytes, false, false);
}
EXPORT_SYMBOL_GPL(vmcix_qpair_consume_buf_ready);

/* @mode is accepted for familiarity; every copy is the same kind. */
static ssize_t enqueue_iter(struct vmcix_qpair *qp, struct iov_iter *from, size_t len)
{
	ssize_t result;

	mutex_lock(&qp->produce_lock);
	result = lock_queues(qp);
	if (result == VMCI_SUCCESS) {
		result = vmci_queue_enqueue(qp->produce_q, qp->consume_q, from, len);
		unlock_queues(qp);
	}
	mutex_unlock(&qp->produce_lock);
	return result;
}

static ssize_t dequeue_iter(struct vmcix_qpair *qp, struct iov_iter *to, size_t len, bool peek)
{
	ssize_t result;

	mutex_lock(&qp->consume_lock);
	result = lock_queues(qp);
	if (result == VMCI_SUCCESS) {
		result = vmci_queue_dequeue(qp->produce_q, qp->consume_q, to, len, peek);
		unlock_queues(qp);
	}
	mutex_unlock(&qp->consume_lock);
	return result;
}

ssize_t vmcix_qpair_enqueue(struct vmcix_qpair *qpair, const void *buf, size_t len, int mode)
{
	struct kvec kv = { .iov_base = (void *)buf, .iov_len = len };
	struct iov_iter from;

	if (!qpair || !buf)
		return VMCI_ERROR_INVALID_ARGS;
	iov_iter_kvec(&from, ITER_SOURCE, &kv, 1, len);
	return enqueue_iter(qpair, &from, len);
}
EXPORT_SYMBOL_GPL(vmcix_qpair_enqueue);

static ssize_t dequeue_buf(struct vmcix_qpair *qpair, void *buf, size_t len, bool peek)
{
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	struct iov_iter to;

	if (!qpair || !buf)
		return VMCI_ERROR_INVALID_ARGS;
	iov_iter_kvec(&to, ITER_DEST, &kv, 1, len);
	return dequeue_iter(qpair, &to, len, peek);
}

ssize_t vmcix_qpair_dequeue(struct vmcix_qpair *qpair, void *buf, size_t len, int mode)
{
	return dequeue_buf(qpair, buf, len, false);
}
EXPORT_SYMBOL_GPL(vmcix_qpair_dequeue);

ssize_t vmcix_qpair_peek(struct vmcix_qpair *qpair, void *buf, size_t len, int mode)
{
	return dequeue_buf(qpair, buf, len, true);
}
EXPORT_SYMBOL_GPL(vmcix_qpair_peek);

ssize_t vmcix_qpair_enquev(struct vmcix_qpair *qpair, struct msghdr *msg, size_t len, int mode)
{
	if (!qpair || !msg)
		return VMCI_ERROR_INVALID_ARGS;
	return enqueue_iter(qpair, &msg->msg_iter, len);
}
EXPORT_SYMBOL_GPL(vmcix_qpair_enquev);

ssize_t vmcix_qpair_dequev(struct vmcix_qpair *qpair, struct msghdr *msg, size_t len, int mode)
{
	if (!qpair || !msg)
		return VMCI_ERROR_INVALID_ARGS;
	return dequeue_iter(qpair, &msg->msg_iter, len, false);
}
EXPORT_SYMBOL_GPL(vmcix_qpair_dequev);

ssize_t vmcix_qpair_peekv(struct vmcix_qpair *qpair, struct msghdr *msg, size_t len, int mode)
{
	if (!qpair || !msg)
		return VMCI_ERROR_INVALID_ARGS;
	return dequeue_iter(qpair, &msg->msg_iter, len, true);
}
EXPORT_SYMBOL_GPL(vmcix_qpair_peekv);
