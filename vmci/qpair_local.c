// SPDX-License-Identifier: GPL-2.0
/*
 * Local queue pairs (VMCI_QPFLAG_LOCAL): both endpoints live in this
 * kernel, as when vSockets connects to its own CID. No hypercall is made;
 * we allocate both queues, initialise their headers and tell the creator
 * about attach and detach with locally raised events.
 *
 * Life of an entry:
 * - The creator's alloc makes it with one user and publishes it in the
 *   resource table (type VMCI_RESOURCE_TYPE_QPAIR_GUEST, see qpair.h).
 * - One attach, a second alloc with the same handle, makes two users.
 *   vmcix_qpair_alloc_local_pair() makes an entry with both at once.
 *   An entry takes one attach in its whole life: any later alloc for the
 *   handle gets VMCI_ERROR_ALREADY_EXISTS, even after the attacher left,
 *   because a second endpoint on the same side would corrupt the rings.
 * - Each detach drops a user. The last one unpublishes the entry, and the
 *   queues are freed after an RCU grace period, in its callback (so the
 *   detaching socket does not wait for one, and no worker is woken per
 *   closed connection; a lookup still holding the entry, or rings bigger
 *   than vSockets' default, leave it to vmci's removal worker). The user
 *   count is the entry's reference count: an endpoint is a user until its
 *   own detach, so a peer that is mid-enqueue or mid-dequeue when the
 *   other side detaches still has live queues.
 *
 * qp_lock (a mutex) serialises the lookup, publication and detach of
 * entries, and protects users, attached_once and the totals. A creator's
 * budget charge and allocation come before it (entry_new()): one user's
 * allocation that waits for memory, or reclaims in that user's memory
 * cgroup, must not hold up every other local connect and close. The
 * budget has its own lock, inside qp_lock at the last detach. Events are
 * raised only after qp_lock is dropped, because event callbacks may
 * allocate or detach pairs themselves.
 *
 * The creator pays for both queues: the pair is charged to its owner's
 * share of local_budget (page-rounded ring bytes, see qpair_budget.h)
 * and its pages to the owner's memory cgroup; attaching costs nothing.
 * The budget's charge is given back at the last detach, when nobody can
 * use the pair any more, not when the queues are freed a grace period
 * later: a user who connects and closes faster than grace periods pass
 * would otherwise find its share full of closed pairs. Until they are
 * freed, their pages stay charged to the memory cgroup.
 *
 * The entry and both queues are one allocation, and ring pages are
 * allocated on the first write that reaches them
 * (vmci_queue_pair_alloc_lazy(): a connection that carries a few bytes never
 * allocates, and under init_on_alloc never zeroes, 2 x 256 KiB), charged
 * to the creator's memory cgroup like the rest, and not zeroed beyond
 * what init_on_alloc does. Nothing outside this
 * kernel maps them: no hypercall names them, and the host broker never
 * takes VMCI_QPFLAG_LOCAL. The headers are kernel memory that only
 * vmci_queue_enqueue() and vmci_queue_dequeue() write, and both ends
 * reach the rings only through those two, so the only read of a ring is
 * a dequeue or peek of the bytes between consumer_head and
 * producer_tail: bytes the producer wrote during this pair's life, as it
 * advances the tail by what copy_from_iter() stored, not by what it was
 * asked for. The same holds for pipe and socket buffer pages, which the
 * kernel does not zero either.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/mutex.h>
#include <linux/slab.h>
#include <vmci/vmci_abi.h>

#include "event.h"
#include "qpair.h"
#include "qpair_budget.h"
#include "queue.h"
#include "route.h"

struct local_entry {
	struct vmci_qpair_resource qres;
	/* The creator's view; the attacher sees them swapped. */
	struct vmci_queue *produce_q;
	struct vmci_queue *consume_q;
	u32 flags;			/* without VMCI_QPFLAG_ATTACH_ONLY */
	unsigned int users;		/* under qp_lock */
	bool attached_once;		/* under qp_lock */
	struct vmci_qp_charge charge;	/* the creator's; given back at the last detach */
};

/* Both rings of vSockets' default 256 KiB queues: 128 pages at most. */
#define LOCAL_RELEASE_ATOMIC_BYTES	(2 * 256 * 1024ULL)

static DEFINE_MUTEX(qp_lock);
static u32 live_pairs;			/* under qp_lock */
static u64 live_bytes;			/* under qp_lock: ring bytes of live pairs */
static struct vmci_qp_budget local_budget = VMCI_QP_BUDGET_INIT(VMCI_MAX_GUEST_QP_MEMORY);

static u64 entry_bytes(const struct local_entry *e)
{
	return e->produce_q->size + e->consume_q->size;
}

/* A pair that was never published still holds its charge. */
static void entry_free(struct local_entry *e)
{
	if (e->charge.bytes)
		vmci_qp_budget_uncharge(&local_budget, &e->charge);
	/* The entry is the head of its queues' block. */
	vmci_queue_pair_free_lazy(e, e->produce_q, e->consume_q);
}

static void raise_qp_event(u32 event, struct vmci_handle handle)
{
	struct vmci_event_payld_qp payload = { .handle = handle };

	/* Every local connect attaches, and nobody in vmsock listens for it. */
	if (!vmci_event_wanted(event))
		return;
	/* Both sides are this machine. */
	payload.peer_id = vmci_route_local_cid();
	vmci_event_raise(event, &payload, sizeof(payload));
}

/*
 * The creator's charge and allocation, made before qp_lock: an allocation
 * that reclaims in the creator's memory cgroup, or waits for memory at
 * all, then stalls only the creator, not every local connect and close
 * on the machine.
 */
static struct local_entry *entry_new(struct vmcix_qpair *qp, u32 flags, int *result)
{
	struct vmci_queue *produce_q, *consume_q;
	struct vmci_qp_charge charge;
	struct local_entry *e;

	lockdep_assert_not_held(&qp_lock);
	/* Charged before allocating, so a flood of requests fails cheaply. */
	*result = vmci_qp_budget_charge(&local_budget, qp->owner,
					vmci_qp_charge_bytes(qp->produce_size, qp->consume_size),
					&charge);
	if (*result < VMCI_SUCCESS)
		return NULL;

	/* Both queues charged to the creator, the consume queue's pages too. */
	e = vmci_queue_pair_alloc_lazy(sizeof(*e), qp->produce_size, qp->consume_size,
				       qp->owner->memcg, &produce_q, &consume_q);
	if (!e) {
		vmci_qp_budget_uncharge(&local_budget, &charge);
		*result = VMCI_ERROR_NO_MEM;
		return NULL;
	}
	e->charge = charge;
	e->produce_q = produce_q;
	e->consume_q = consume_q;
	e->qres.backend = &vmci_qpair_local_backend;
	e->flags = flags;
	return e;
}

/* Caller holds qp_lock. On failure the caller still owns @e. */
static int publish_locked(struct vmcix_qpair *qp, struct local_entry *e,
			  struct vmci_handle handle)
{
	int result;

	result = vmci_resource_add(&e->qres.res, VMCI_RESOURCE_TYPE_QPAIR_GUEST, handle);
	if (result < VMCI_SUCCESS)
		return result;
	/* Nobody can attach before qp_lock is dropped, so this is in time. */
	handle = vmci_resource_handle(&e->qres.res);
	vmci_queue_header_init(e->produce_q->q_header, handle);
	vmci_queue_header_init(e->consume_q->q_header, handle);
	e->users = 1;
	live_pairs++;
	live_bytes += entry_bytes(e);

	qp->handle = handle;
	qp->produce_q = e->produce_q;
	qp->consume_q = e->consume_q;
	qp->backend_data = e;
	return VMCI_SUCCESS;
}

/* Caller holds qp_lock: @qp becomes the attacher of the published @e. */
static void enter_locked(struct vmcix_qpair *qp, struct local_entry *e)
{
	e->users++;
	e->attached_once = true;
	qp->handle = vmci_resource_handle(&e->qres.res);
	qp->produce_q = e->consume_q;
	qp->consume_q = e->produce_q;
	qp->backend_data = e;
}

/* Caller holds qp_lock and the lookup's reference on @res. */
static int attach_locked(struct vmcix_qpair *qp, struct vmci_resource *res, u32 flags)
{
	struct vmci_qpair_resource *qres = container_of(res, struct vmci_qpair_resource, res);
	struct local_entry *e;

	/* A guest pair with this handle exists: it is not ours to join locally. */
	if (qres->backend != &vmci_qpair_local_backend)
		return VMCI_ERROR_QUEUEPAIR_MISMATCH;
	e = container_of(qres, struct local_entry, qres);

	if (e->attached_once)
		return VMCI_ERROR_ALREADY_EXISTS;
	if (flags != e->flags)
		return VMCI_ERROR_QUEUEPAIR_MISMATCH;
	if (qp->produce_size != e->consume_q->size || qp->consume_size != e->produce_q->size)
		return VMCI_ERROR_QUEUEPAIR_MISMATCH;
	enter_locked(qp, e);
	return VMCI_SUCCESS;
}

/* Caller holds qp_lock. Joins the pair @handle names: 1 if there is none. */
static int join_locked(struct vmcix_qpair *qp, struct vmci_handle handle, u32 flags)
{
	struct vmci_resource *res;
	int result;

	if (handle.resource == VMCI_INVALID_ID)
		return 1;
	res = vmci_resource_by_handle(handle, VMCI_RESOURCE_TYPE_QPAIR_GUEST);
	if (!res)
		return 1;
	result = attach_locked(qp, res, flags);
	vmci_resource_put(res);
	return result;
}

/* The end of an alloc that joined an existing pair, or was refused. */
static int join_result(struct vmcix_qpair *qp, int result)
{
	if (result == VMCI_SUCCESS)
		raise_qp_event(VMCI_EVENT_QP_PEER_ATTACH, qp->handle);
	return result;
}

static int local_alloc(struct vmcix_qpair *qp, struct vmci_handle handle, u32 peer,
		       u32 flags, u32 priv_flags)
{
	u32 cid = vmci_route_local_cid();
	bool attach_only = flags & VMCI_QPFLAG_ATTACH_ONLY;
	bool created = false;
	struct local_entry *e;
	int result;

	/* Both ends are here, so privileges cannot separate them. */
	if (peer != cid && peer != VMCI_INVALID_ID)
		return VMCI_ERROR_INVALID_ARGS;
	if (vmci_handle_is_invalid(handle))
		handle = vmci_make_handle(cid, VMCI_INVALID_ID);
	else if (handle.context != cid)
		return VMCI_ERROR_INVALID_ARGS;
	flags &= ~VMCI_QPFLAG_ATTACH_ONLY;

	/* A named pair that exists is joined; only without one is an entry made. */
	if (handle.resource != VMCI_INVALID_ID) {
		mutex_lock(&qp_lock);
		result = join_locked(qp, handle, flags);
		mutex_unlock(&qp_lock);
		if (result <= 0)
			return join_result(qp, result);
	}
	if (attach_only)
		return VMCI_ERROR_NOT_FOUND;

	e = entry_new(qp, flags, &result);
	if (!e)
		return result;
	mutex_lock(&qp_lock);
	/* Another alloc may have made the named pair meanwhile: join it. */
	result = join_locked(qp, handle, flags);
	if (result > 0) {
		result = publish_locked(qp, e, handle);
		created = result == VMCI_SUCCESS;
	}
	mutex_unlock(&qp_lock);
	if (created)
		return VMCI_SUCCESS;
	entry_free(e);
	return join_result(qp, result);
}

/*
 * Both ends of a new pair: what local_alloc() for @creator and then for
 * @attacher with the new handle would do, in one hold of qp_lock and
 * without the attacher's lookup. The caller set both endpoints' sizes
 * (the attacher's swapped) and flags.
 */
int vmci_qpair_local_alloc_both(struct vmcix_qpair *creator, struct vmcix_qpair *attacher,
				u32 cid)
{
	struct local_entry *e;
	int result;

	e = entry_new(creator, creator->flags, &result);
	if (!e)
		return result;
	mutex_lock(&qp_lock);
	result = publish_locked(creator, e, vmci_make_handle(cid, VMCI_INVALID_ID));
	if (result == VMCI_SUCCESS)
		enter_locked(attacher, e);
	mutex_unlock(&qp_lock);
	if (result < VMCI_SUCCESS) {
		entry_free(e);
		return result;
	}
	return join_result(attacher, result);
}

/*
 * No lookup can reach the entry any more and nobody holds a reference.
 * Runs in an RCU callback for pairs up to LOCAL_RELEASE_ATOMIC_BYTES
 * (vmci_resource_remove_deferred_atomic()), so it frees only: the last
 * detach gave the budget's charge back, and pages, the block and memory
 * cgroup references may go from softirq.
 */
static void entry_release(struct vmci_resource *res)
{
	struct local_entry *e = container_of(res, struct local_entry, qres.res);

	vmci_queue_pair_free_lazy(e, e->produce_q, e->consume_q);
}

static void local_detach(struct vmcix_qpair *qp)
{
	struct local_entry *e = qp->backend_data;

	mutex_lock(&qp_lock);
	if (--e->users) {
		mutex_unlock(&qp_lock);
		if (!qp->peer_told)
			raise_qp_event(VMCI_EVENT_QP_PEER_DETACH, qp->handle);
		return;
	}
	live_pairs--;
	live_bytes -= entry_bytes(e);
	vmci_qp_budget_uncharge(&local_budget, &e->charge);
	/*
	 * The handle is free for a new pair at once; the grace period before
	 * the queues go is waited for elsewhere, not by every closing socket.
	 * A pair with bigger rings than vSockets' default may have thousands
	 * of pages to free: that goes to the worker, not into a softirq.
	 */
	if (entry_bytes(e) <= LOCAL_RELEASE_ATOMIC_BYTES)
		vmci_resource_remove_deferred_atomic(&e->qres.res, entry_release);
	else
		vmci_resource_remove_deferred(&e->qres.res, entry_release);
	mutex_unlock(&qp_lock);
}

const struct vmci_qpair_backend vmci_qpair_local_backend = {
	.alloc = local_alloc,
	.detach = local_detach,
};

/* Module exit: vmsock and every other client are gone, and so are their pairs. */
void vmci_qpair_local_exit(void)
{
	vmci_qp_budget_drop_idle(&local_budget);
}

u32 vmci_qpair_local_count(void)
{
	u32 n;

	mutex_lock(&qp_lock);
	n = live_pairs;
	mutex_unlock(&qp_lock);
	return n;
}

u64 vmci_qpair_local_memory(void)
{
	u64 n;

	mutex_lock(&qp_lock);
	n = live_bytes;
	mutex_unlock(&qp_lock);
	return n;
}

u64 vmci_qpair_local_charged(void)
{
	return vmci_qp_budget_used(&local_budget);
}

u64 vmci_qpair_local_user_memory(kuid_t uid)
{
	return vmci_qp_budget_user_used(&local_budget, uid);
}

u64 vmci_qpair_local_set_budget(u64 bytes)
{
	return vmci_qp_budget_set_limit(&local_budget, bytes);
}
