// SPDX-License-Identifier: GPL-2.0
/*
 * The host's queue-pair broker (see qpair_broker.h for its rules).
 *
 * Life of an entry:
 * - The first party's alloc creates it (published in the resource table
 *   as VMCI_RESOURCE_TYPE_QPAIR_HOST, which also hands out the host's
 *   dynamic resource IDs and is where the broker finds it by handle) and
 *   puts it on broker_list. While a VMM is a party, the entry is also on
 *   that context's qp_pairs, which carries the count and bytes its
 *   budget is checked against.
 * - The second party's alloc attaches; the entry never takes another.
 * - The VMM's SETVA pins its pages and maps both header pages into the
 *   kernel; unmap (SETVA with va 0), the VMM's detach and its context's
 *   teardown unpin them.
 * - Each detach drops a party; the last one unlinks the entry, which is
 *   freed once the last reference taken by an operation in flight is gone.
 *   A host endpoint is a party until its own vmcix_qpair_detach(), so its
 *   vmci_queue structs (embedded here) outlive every data call.
 *
 * Locks, in the order they are taken (never the other way round):
 * 1. entry->mem_lock (rwsem, one per pair). The host endpoint's data calls
 *    hold it for reading while they copy to or from the queues, and may
 *    fault on their caller's buffers meanwhile, so a reader can stay for
 *    as long as a user keeps a fault unserved; readers take no other
 *    lock of ours. Installing and taking out the VMM's memory hold it for
 *    writing, so pages are never unpinned under a copy; such a writer
 *    holds no other lock while it waits, so only the parties of that one
 *    pair can wait for it.
 * 2. broker_lock (mutex, global) serialises alloc, set_va, detach and
 *    teardown and protects broker_list, the party fields, every VMM
 *    context's qp_pairs and its count and bytes, the totals and the
 *    budget. Nothing waits under it for a per-pair lock or for user
 *    memory: its holders never fault, pin or wait for a mem_lock (they
 *    may already hold one), and wait only for memory and the resource
 *    table's short lookups (never for a grace period: a pair's removal
 *    from the table is finished by vmci's removal worker), so every VMM's
 *    ioctls get through it in bounded time.
 * An operation on a pair finds the entry and takes a reference under
 * broker_lock, drops it, waits for mem_lock, takes broker_lock again and
 * checks that the pair is still in the state it found. SETVA pins the
 * VMM's pages (mmap_lock, user faults) before it takes any of these, and
 * pages are unpinned after both are dropped.
 * Events to the host are raised only after broker_lock is dropped (their
 * callbacks may allocate or detach pairs); datagrams to a VMM context are
 * queued under it, since that never calls out.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <vmci/vmci_abi.h>

#include "context.h"
#include "pin_account.h"
#include "pin_leak_plant.h"
#include "event.h"
#include "privilege.h"
#include "qpair.h"
#include "qpair_broker.h"
#include "queue.h"
#include "vmci_trace.h"

struct broker_entry {
	struct vmci_qpair_resource qres;
	struct list_head node;		/* in broker_list while it has a party */
	struct list_head vmm_node;	/* in vmm->qp_pairs while vmm is set */
	/* One for broker_list, one per operation that dropped broker_lock. */
	struct kref refs;
	/* Fixed at creation; sizes and queues are from the VMM's viewpoint. */
	u64 produce_size;
	u64 consume_size;
	u32 flags;			/* without VMCI_QPFLAG_ATTACH_ONLY */
	u32 creator_cid;
	u32 creator_peer;		/* the peer the creator allowed */
	u32 creator_priv;
	/* Parties, under broker_lock. */
	struct vmci_ctx *vmm;		/* holds a reference; NULL once it left */
	bool host;
	bool attached_once;
	/* Memory: written with mem_lock held for writing and broker_lock. */
	struct rw_semaphore mem_lock;
	bool mapped;
	struct page **pages;		/* all pinned pages, VMM order */
	unsigned int num_pages;
	struct mm_struct *pin_mm;	/* charged for them (pin_account.h) */
	void *headers;			/* produce header page, then consume's */
	struct vmci_queue vmm_produce_q;
	struct vmci_queue vmm_consume_q;
};

/* QP_PEER_ATTACH / QP_PEER_DETACH as a VMM reads it from its queue. */
struct qp_event_msg {
	struct vmci_event_msg msg;
	struct vmci_event_payld_qp payload;
};

static DEFINE_MUTEX(broker_lock);
static LIST_HEAD(broker_list);		/* under broker_lock */
static u32 live_pairs;			/* under broker_lock */
static u64 pinned_pages;		/* under broker_lock */
static u64 ctx_budget = VMCI_MAX_GUEST_QP_MEMORY;	/* under broker_lock */

static u64 entry_bytes(const struct broker_entry *e)
{
	return e->produce_size + e->consume_size;
}

/*
 * Caller holds broker_lock. The resource table's lookup is O(log n) in the
 * IDs in use; under broker_lock, the entries it can find are exactly those
 * on broker_list, since both are joined and left together. Its reference
 * is dropped at once: the table's own keeps the entry while we hold the
 * lock.
 */
static struct broker_entry *find_locked(struct vmci_handle handle)
{
	struct vmci_resource *res;
	struct broker_entry *e;

	res = vmci_resource_by_handle(handle, VMCI_RESOURCE_TYPE_QPAIR_HOST);
	if (!res)
		return NULL;
	e = container_of(res, struct broker_entry, qres.res);
	vmci_resource_put(res);
	/* A wildcard never reaches the broker; match the handle exactly. */
	return vmci_handle_equal(res->handle, handle) ? e : NULL;
}

/* Caller holds broker_lock: may @ctx take @bytes more of pair memory? */
static int ctx_charge_ok_locked(const struct vmci_ctx *ctx, u64 bytes)
{
	if (ctx->qp_pair_count >= VMCI_QP_BROKER_MAX_PAIRS_PER_CTX)
		return VMCI_ERROR_NO_RESOURCES;
	if (ctx->qp_bytes > ctx_budget || bytes > ctx_budget - ctx->qp_bytes)
		return VMCI_ERROR_NO_RESOURCES;
	return VMCI_SUCCESS;
}

/* Caller holds broker_lock; @ctx becomes @e's VMM party and is charged. */
static void set_vmm_locked(struct broker_entry *e, struct vmci_ctx *ctx)
{
	kref_get(&ctx->refs);
	e->vmm = ctx;
	list_add_tail(&e->vmm_node, &ctx->qp_pairs);
	ctx->qp_pair_count++;
	ctx->qp_bytes += entry_bytes(e);
}

/*
 * Caller holds broker_lock; @e's VMM party leaves and is uncharged. The
 * caller puts the context's reference once the lock is dropped.
 */
static void clear_vmm_locked(struct broker_entry *e)
{
	struct vmci_ctx *ctx = e->vmm;

	list_del(&e->vmm_node);
	ctx->qp_pair_count--;
	ctx->qp_bytes -= entry_bytes(e);
	e->vmm = NULL;
}

/*
 * Caller holds broker_lock; @acting_cid is the side that attached or
 * detached. Queued like any datagram, so a VMM with a full queue misses
 * it, as it would miss a hypervisor event.
 */
static void tell_vmm_locked(struct vmci_ctx *ctx, u32 event, struct vmci_handle handle,
			    u32 acting_cid)
{
	struct qp_event_msg ev = {
		.msg.hdr.dst = vmci_make_handle(ctx->cid, VMCI_EVENT_HANDLER),
		.msg.hdr.src = vmci_make_handle(VMCI_HYPERVISOR_CONTEXT_ID,
						VMCI_CONTEXT_RESOURCE_ID),
		.msg.hdr.payload_size = sizeof(ev) - sizeof(ev.msg.hdr),
		.msg.event_data.event = event,
		.payload.handle = handle,
		.payload.peer_id = acting_cid,
	};

	vmci_ctx_enqueue_datagram(ctx, &ev.msg.hdr, GFP_KERNEL);
}

/* No lock held: host subscribers' callbacks may call back into us. */
static void tell_host(u32 event, struct vmci_handle handle, u32 acting_cid)
{
	struct vmci_event_payld_qp payload = {
		.handle = handle,
		.peer_id = acting_cid,
	};

	vmci_event_raise(event, &payload, sizeof(payload));
}

static void unpin_pages(struct page **pages, unsigned int n)
{
	/* Nonzero only in a planted build (pin_leak_plant.h). */
	unsigned int kept = min(VMCI_PAGES_KEPT_PINNED, n);

	if (n > kept)
		unpin_user_pages_dirty_lock(pages + kept, n - kept, true);
	kvfree(pages);
}

/* The VMM's memory of one pair, while it is moved in or out of an entry. */
struct broker_mem {
	struct page **pages;
	unsigned int num_pages;
	struct mm_struct *pin_mm;	/* charged for the pages (pin_account.h) */
	void *headers;
};

/* No lock held: vunmap and unpinning may sleep. */
static void release_mem(struct broker_mem *mem)
{
	vunmap(mem->headers);
	if (mem->pages) {
		unpin_pages(mem->pages, mem->num_pages);
		vmci_pin_uncharge(mem->pin_mm, mem->num_pages);
	}
}

static void entry_free(struct kref *kref)
{
	kfree(container_of(kref, struct broker_entry, refs));
}

static void entry_put(struct broker_entry *e)
{
	kref_put(&e->refs, entry_free);
}

/*
 * Caller holds mem_lock for writing and broker_lock. Moves the VMM's
 * memory into @mem for release_mem() after both are dropped; the host
 * endpoint sees NOTATTACHED afterwards.
 */
static void take_mem_locked(struct broker_entry *e, struct broker_mem *mem)
{
	lockdep_assert_held_write(&e->mem_lock);
	lockdep_assert_held(&broker_lock);
	if (!e->mapped)
		return;
	e->mapped = false;
	mem->pages = e->pages;
	mem->num_pages = e->num_pages;
	mem->pin_mm = e->pin_mm;
	mem->headers = e->headers;
	e->pages = NULL;
	e->num_pages = 0;
	e->pin_mm = NULL;
	e->headers = NULL;
	e->vmm_produce_q.q_header = NULL;
	e->vmm_produce_q.pages = NULL;
	e->vmm_consume_q.q_header = NULL;
	e->vmm_consume_q.pages = NULL;
	pinned_pages -= mem->num_pages;
}

/* A grace period after the unlink, no lookup of the table holds the entry. */
static void entry_release(struct vmci_resource *res)
{
	entry_put(container_of(res, struct broker_entry, qres.res));
}

/*
 * Caller holds broker_lock; the last party has gone, and the VMM's memory
 * went with the VMM. Entries still referenced are freed by the last put.
 * The handle is free at once; the list's reference is dropped by vmci's
 * removal worker after a grace period. Waiting for that here would hold
 * broker_lock, and with it every VMM's alloc, SETVA and detach, for a
 * grace period per pair that goes.
 */
static void unlink_locked(struct broker_entry *e)
{
	WARN_ON_ONCE(e->mapped);
	list_del(&e->node);
	live_pairs--;
	vmci_resource_remove_deferred(&e->qres.res, entry_release);
}

/* Caller holds broker_lock; only sizes, flags and privileges are compared. */
static int mirror_check(const struct broker_entry *e, u32 flags, u64 vmm_produce,
			u64 vmm_consume, u32 priv_flags)
{
	if (flags != e->flags)
		return VMCI_ERROR_QUEUEPAIR_MISMATCH;
	if (vmm_produce != e->produce_size || vmm_consume != e->consume_size)
		return VMCI_ERROR_QUEUEPAIR_MISMATCH;
	if (!vmci_privileges_allow(e->creator_priv, priv_flags))
		return VMCI_ERROR_NO_ACCESS;
	return VMCI_SUCCESS;
}

/* Caller holds broker_lock. @handle's resource may be VMCI_INVALID_ID. */
static int create_locked(struct vmci_handle handle, u32 creator_cid, u32 peer, u32 flags,
			 u64 vmm_produce, u64 vmm_consume, u32 priv_flags,
			 struct broker_entry **out)
{
	struct broker_entry *e;
	int result;

	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e)
		return VMCI_ERROR_NO_MEM;
	e->qres.backend = &vmci_qpair_broker_backend;
	e->produce_size = vmm_produce;
	e->consume_size = vmm_consume;
	e->flags = flags;
	e->creator_cid = creator_cid;
	e->creator_peer = peer;
	e->creator_priv = priv_flags;
	kref_init(&e->refs);
	init_rwsem(&e->mem_lock);
	e->vmm_produce_q.size = vmm_produce;
	e->vmm_produce_q.num_pages = DIV_ROUND_UP(vmm_produce, PAGE_SIZE);
	e->vmm_consume_q.size = vmm_consume;
	e->vmm_consume_q.num_pages = DIV_ROUND_UP(vmm_consume, PAGE_SIZE);

	result = vmci_resource_add(&e->qres.res, VMCI_RESOURCE_TYPE_QPAIR_HOST, handle);
	if (result < VMCI_SUCCESS) {
		kfree(e);
		return result;
	}
	list_add_tail(&e->node, &broker_list);
	live_pairs++;
	*out = e;
	return VMCI_SUCCESS;
}

/* Checks that need no entry; the same for both kinds of party. */
static int check_flags_sizes(u32 flags, u64 produce_size, u64 consume_size)
{
	if (flags & ~VMCI_QP_ALL_FLAGS)
		return VMCI_ERROR_INVALID_ARGS;
	/* Local pairs never reach the broker; NONBLOCK and PINNED are ESX's. */
	if (flags & (VMCI_QPFLAG_LOCAL | VMCI_QPFLAG_NONBLOCK | VMCI_QPFLAG_PINNED))
		return VMCI_ERROR_INVALID_ARGS;
	if (!produce_size || !consume_size)
		return VMCI_ERROR_INVALID_ARGS;
	/* Written so that the sum is never formed when it could wrap. */
	if (produce_size > VMCI_MAX_GUEST_QP_MEMORY ||
	    consume_size > VMCI_MAX_GUEST_QP_MEMORY - produce_size)
		return VMCI_ERROR_NO_RESOURCES;
	return VMCI_SUCCESS;
}

/* Caller holds broker_lock. */
static int vmm_attach_locked(struct vmci_ctx *ctx, struct broker_entry *e, u32 flags,
			     u64 produce_size, u64 consume_size)
{
	int result;

	if (e->vmm == ctx)
		return VMCI_ERROR_ALREADY_EXISTS;
	/* Created by another VMM: no VM-to-VM pairs. */
	if (e->creator_cid != VMCI_HOST_CONTEXT_ID)
		return VMCI_ERROR_DST_UNREACHABLE;
	if (e->attached_once || !e->host)
		return VMCI_ERROR_ALREADY_EXISTS;
	if (e->creator_peer != VMCI_INVALID_ID && e->creator_peer != ctx->cid)
		return VMCI_ERROR_NO_ACCESS;
	result = mirror_check(e, flags, produce_size, consume_size, ctx->priv_flags);
	if (result < VMCI_SUCCESS)
		return result;
	result = ctx_charge_ok_locked(ctx, entry_bytes(e));
	if (result < VMCI_SUCCESS)
		return result;
	set_vmm_locked(e, ctx);
	e->attached_once = true;
	return VMCI_SUCCESS;
}

int vmci_qp_broker_vmm_alloc(struct vmci_ctx *ctx, struct vmci_handle handle, u32 peer,
			     u32 flags, u64 produce_size, u64 consume_size)
{
	bool attach_only = flags & VMCI_QPFLAG_ATTACH_ONLY;
	struct broker_entry *e;
	bool attached = false;
	int result;

	if (!ctx)
		return VMCI_ERROR_INVALID_ARGS;
	result = check_flags_sizes(flags, produce_size, consume_size);
	if (result < VMCI_SUCCESS)
		return result;
	if (handle.context == VMCI_INVALID_ID || handle.resource == VMCI_INVALID_ID)
		return VMCI_ERROR_INVALID_ARGS;
	/* A VMM's only possible peer is the host. */
	if (peer != VMCI_INVALID_ID && peer != VMCI_HOST_CONTEXT_ID)
		return VMCI_ERROR_DST_UNREACHABLE;
	flags &= ~VMCI_QPFLAG_ATTACH_ONLY;

	mutex_lock(&broker_lock);
	e = find_locked(handle);
	if (e) {
		result = vmm_attach_locked(ctx, e, flags, produce_size, consume_size);
		attached = result == VMCI_SUCCESS;
	} else if (attach_only) {
		result = VMCI_ERROR_NOT_FOUND;
	} else if (handle.context != ctx->cid) {
		/* Only the owner of a handle's context may create under it. */
		result = VMCI_ERROR_NO_ACCESS;
	} else {
		result = ctx_charge_ok_locked(ctx, produce_size + consume_size);
		if (result == VMCI_SUCCESS)
			result = create_locked(handle, ctx->cid, peer, flags, produce_size,
					       consume_size, ctx->priv_flags, &e);
		if (result == VMCI_SUCCESS)
			set_vmm_locked(e, ctx);
	}
	mutex_unlock(&broker_lock);

	if (e && !attached && result == VMCI_SUCCESS)
		trace_vmci_qp_alloc(ctx->cid, handle, peer, produce_size, consume_size, result);
	else
		trace_vmci_qp_attach(ctx->cid, handle, peer, produce_size, consume_size, result);
	if (attached)
		tell_host(VMCI_EVENT_QP_PEER_ATTACH, handle, ctx->cid);
	return result;
}

/*
 * Pins @n pages from @va for writing; all or nothing. The caller has
 * checked that the range is a valid user range.
 */
static int pin_range(u64 va, unsigned int n, struct page ***out)
{
	struct page **pages;
	unsigned int done = 0;
	int got;

	pages = kvcalloc(n, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return VMCI_ERROR_NO_MEM;
	while (done < n) {
		got = pin_user_pages_fast(va + (u64)done * PAGE_SIZE, n - done,
					  FOLL_WRITE | FOLL_LONGTERM, pages + done);
		if (got <= 0)
			break;
		done += got;
	}
	if (done < n) {
		unpin_pages(pages, done);
		return VMCI_ERROR_NO_MEM;
	}
	*out = pages;
	return VMCI_SUCCESS;
}

/*
 * No lock held: pins the pair's @n pages from @va and maps both header
 * pages. This may fault on the VMM's memory for as long as the VMM lets
 * it, which delays nobody else.
 */
static int prepare_mem(u64 va, unsigned int n, unsigned int produce_pages,
		       struct broker_mem *mem)
{
	struct page *hdr_pages[2];
	struct mm_struct *pin_mm;
	struct page **pages;
	int result;

	/* The pinning process pays for the pages against its RLIMIT_MEMLOCK. */
	if (vmci_pin_charge(n, &pin_mm))
		return VMCI_ERROR_NO_RESOURCES;
	result = pin_range(va, n, &pages);
	if (result < VMCI_SUCCESS) {
		vmci_pin_uncharge(pin_mm, n);
		return result;
	}
	/* The VMM's layout: produce header, its ring, consume header, its ring. */
	hdr_pages[0] = pages[0];
	hdr_pages[1] = pages[produce_pages + 1];
	mem->headers = vmap(hdr_pages, ARRAY_SIZE(hdr_pages), VM_MAP, PAGE_KERNEL);
	if (!mem->headers) {
		unpin_pages(pages, n);
		vmci_pin_uncharge(pin_mm, n);
		return VMCI_ERROR_NO_MEM;
	}
	mem->pages = pages;
	mem->num_pages = n;
	mem->pin_mm = pin_mm;
	return VMCI_SUCCESS;
}

/* Caller holds mem_lock for writing and broker_lock; @e is unmapped. */
static void install_mem_locked(struct broker_entry *e, struct broker_mem *mem)
{
	unsigned int p = e->vmm_produce_q.num_pages;

	lockdep_assert_held_write(&e->mem_lock);
	lockdep_assert_held(&broker_lock);
	e->pages = mem->pages;
	e->num_pages = mem->num_pages;
	e->pin_mm = mem->pin_mm;
	e->headers = mem->headers;
	vmci_queue_init(&e->vmm_produce_q, mem->headers, mem->pages + 1, p, e->produce_size);
	vmci_queue_init(&e->vmm_consume_q, mem->headers + PAGE_SIZE, mem->pages + p + 2,
			e->vmm_consume_q.num_pages, e->consume_size);
	e->mapped = true;
	pinned_pages += mem->num_pages;
	*mem = (struct broker_mem){};
}

/*
 * Takes broker_lock, finds @handle's entry and checks that it is @ctx's;
 * on VMCI_SUCCESS *@out holds a reference and broker_lock is still held.
 */
static int get_own_entry(struct vmci_ctx *ctx, struct vmci_handle handle,
			 struct broker_entry **out)
{
	struct broker_entry *e;

	mutex_lock(&broker_lock);
	e = find_locked(handle);
	if (!e) {
		mutex_unlock(&broker_lock);
		return VMCI_ERROR_NOT_FOUND;
	}
	if (e->vmm != ctx) {
		mutex_unlock(&broker_lock);
		return VMCI_ERROR_QUEUEPAIR_NOTOWNER;
	}
	kref_get(&e->refs);
	*out = e;
	return VMCI_SUCCESS;
}

/*
 * Locks @e for a change of its memory: mem_lock first, with no other lock
 * held, then broker_lock. Returns false, with nothing held, if @ctx left
 * the pair while we waited (a racing detach or unmap of the same VMM).
 */
static bool lock_entry_for(struct vmci_ctx *ctx, struct broker_entry *e)
{
	down_write(&e->mem_lock);
	mutex_lock(&broker_lock);
	if (e->vmm == ctx)
		return true;
	mutex_unlock(&broker_lock);
	up_write(&e->mem_lock);
	return false;
}

static void unlock_entry(struct broker_entry *e)
{
	mutex_unlock(&broker_lock);
	up_write(&e->mem_lock);
}

/* SETVA with va 0: the VMM takes its memory back but stays a party. */
static int vmm_unmap(struct vmci_ctx *ctx, struct broker_entry *e)
{
	struct broker_mem mem = {};
	int result;

	if (!lock_entry_for(ctx, e))
		return VMCI_ERROR_QUEUEPAIR_NOTOWNER;
	result = e->mapped ? VMCI_SUCCESS : VMCI_ERROR_QUEUEPAIR_NOTSET;
	take_mem_locked(e, &mem);
	unlock_entry(e);
	release_mem(&mem);
	return result;
}

static int vmm_map(struct vmci_ctx *ctx, struct broker_entry *e, u64 va, unsigned int n,
		   unsigned int produce_pages)
{
	struct broker_mem mem = {};
	int result;

	result = prepare_mem(va, n, produce_pages, &mem);
	if (result < VMCI_SUCCESS)
		return result;
	if (!lock_entry_for(ctx, e)) {
		result = VMCI_ERROR_QUEUEPAIR_NOTOWNER;
	} else {
		/* A racing SETVA of the same VMM may have won. */
		if (e->mapped)
			result = VMCI_ERROR_REGION_ALREADY_SHARED;
		else
			install_mem_locked(e, &mem);
		unlock_entry(e);
	}
	release_mem(&mem);
	return result;
}

int vmci_qp_broker_vmm_set_va(struct vmci_ctx *ctx, struct vmci_handle handle, u64 va,
			      u64 num_pages)
{
	unsigned int produce_pages;
	struct broker_entry *e;
	u64 n, bytes;
	int result;

	if (!ctx)
		return VMCI_ERROR_INVALID_ARGS;
	if (!PAGE_ALIGNED(va))
		return VMCI_ERROR_NOT_PAGE_ALIGNED;

	result = get_own_entry(ctx, handle, &e);
	if (result < VMCI_SUCCESS)
		return result;
	/* Fixed at creation, so what is checked here still holds later. */
	n = vmci_qp_broker_pair_pages(e->produce_size, e->consume_size);
	produce_pages = e->vmm_produce_q.num_pages;
	if (va && e->mapped)
		result = VMCI_ERROR_REGION_ALREADY_SHARED;
	mutex_unlock(&broker_lock);
	if (result < VMCI_SUCCESS)
		goto out;
	if (!va) {
		result = vmm_unmap(ctx, e);
		goto out;
	}
	/* Sizes are bounded at alloc, so neither product can wrap. */
	bytes = n * PAGE_SIZE;
	if (num_pages && num_pages != n) {
		result = VMCI_ERROR_INVALID_SIZE;
		goto out;
	}
	if (va > U64_MAX - bytes || !access_ok(u64_to_user_ptr(va), bytes)) {
		result = VMCI_ERROR_INVALID_ARGS;
		goto out;
	}
	result = vmm_map(ctx, e, va, n, produce_pages);
out:
	entry_put(e);
	return result;
}

/*
 * @e's VMM party @ctx leaves; the caller holds a reference to @e and no
 * lock. Waits for the host's data calls on this pair only. Returns
 * VMCI_ERROR_QUEUEPAIR_NOTATTACHED if @ctx had already left.
 */
static int vmm_leave(struct vmci_ctx *ctx, struct broker_entry *e)
{
	struct vmci_handle handle = e->qres.res.handle;
	struct broker_mem mem = {};
	bool tell;

	if (!lock_entry_for(ctx, e))
		return VMCI_ERROR_QUEUEPAIR_NOTATTACHED;
	trace_vmci_qp_detach(ctx->cid, handle);
	take_mem_locked(e, &mem);
	clear_vmm_locked(e);
	tell = e->host;
	if (!tell)
		unlink_locked(e);
	unlock_entry(e);

	release_mem(&mem);
	vmci_ctx_put(ctx);
	if (tell)
		tell_host(VMCI_EVENT_QP_PEER_DETACH, handle, ctx->cid);
	return VMCI_SUCCESS;
}

int vmci_qp_broker_vmm_detach(struct vmci_ctx *ctx, struct vmci_handle handle)
{
	struct broker_entry *e;
	int result;

	if (!ctx)
		return VMCI_ERROR_INVALID_ARGS;
	result = get_own_entry(ctx, handle, &e);
	if (result == VMCI_ERROR_QUEUEPAIR_NOTOWNER)
		return VMCI_ERROR_QUEUEPAIR_NOTATTACHED;
	if (result < VMCI_SUCCESS)
		return result;
	mutex_unlock(&broker_lock);
	result = vmm_leave(ctx, e);
	entry_put(e);
	return result;
}

/*
 * One pair at a time, so that no lock is held while waiting or raising
 * events; each is the first of the context's own, so a teardown costs no
 * walk of every pair.
 */
void vmci_qp_broker_ctx_shutdown(struct vmci_ctx *ctx)
{
	struct broker_entry *found;

	for (;;) {
		mutex_lock(&broker_lock);
		found = list_first_entry_or_null(&ctx->qp_pairs, struct broker_entry,
						 vmm_node);
		if (found)
			kref_get(&found->refs);
		mutex_unlock(&broker_lock);
		if (!found)
			return;
		vmm_leave(ctx, found);
		entry_put(found);
	}
}

/* Caller holds broker_lock; the host (in @qp) joins the VMM's pair @e. */
static int host_attach_locked(struct vmcix_qpair *qp, struct broker_entry *e, u32 peer,
			      u32 flags, u32 priv_flags)
{
	int result;

	if (e->host || e->creator_cid == VMCI_HOST_CONTEXT_ID)
		return VMCI_ERROR_ALREADY_EXISTS;
	if (e->attached_once || !e->vmm)
		return VMCI_ERROR_ALREADY_EXISTS;
	if (e->creator_peer != VMCI_INVALID_ID && e->creator_peer != VMCI_HOST_CONTEXT_ID)
		return VMCI_ERROR_NO_ACCESS;
	if (peer != VMCI_INVALID_ID && peer != e->creator_cid)
		return VMCI_ERROR_NO_ACCESS;
	/* The host's view is the mirror of the VMM's. */
	result = mirror_check(e, flags, qp->consume_size, qp->produce_size, priv_flags);
	if (result < VMCI_SUCCESS)
		return result;
	e->host = true;
	e->attached_once = true;
	return VMCI_SUCCESS;
}

static int broker_alloc(struct vmcix_qpair *qp, struct vmci_handle handle, u32 peer,
			u32 flags, u32 priv_flags)
{
	bool attach_only = flags & VMCI_QPFLAG_ATTACH_ONLY;
	struct broker_entry *e = NULL;
	bool attached = false;
	int result;

	result = check_flags_sizes(flags, qp->produce_size, qp->consume_size);
	if (result < VMCI_SUCCESS)
		return result;
	/* Only a VMM can be the host's peer here; host-to-host pairs are local. */
	if (peer != VMCI_INVALID_ID && peer < VMCI_RESERVED_CID_LIMIT)
		return VMCI_ERROR_INVALID_ARGS;
	if (vmci_handle_is_invalid(handle))
		handle = vmci_make_handle(VMCI_HOST_CONTEXT_ID, VMCI_INVALID_ID);
	flags &= ~VMCI_QPFLAG_ATTACH_ONLY;

	mutex_lock(&broker_lock);
	if (handle.resource != VMCI_INVALID_ID)
		e = find_locked(handle);
	if (e) {
		result = host_attach_locked(qp, e, peer, flags, priv_flags);
		attached = result == VMCI_SUCCESS;
	} else if (attach_only) {
		result = VMCI_ERROR_NOT_FOUND;
	} else if (handle.context != VMCI_HOST_CONTEXT_ID) {
		result = VMCI_ERROR_NO_ACCESS;
	} else {
		result = create_locked(handle, VMCI_HOST_CONTEXT_ID, peer, flags,
				       qp->consume_size, qp->produce_size, priv_flags, &e);
		if (result == VMCI_SUCCESS)
			e->host = true;
	}
	if (result == VMCI_SUCCESS) {
		qp->handle = e->qres.res.handle;
		qp->produce_q = &e->vmm_consume_q;
		qp->consume_q = &e->vmm_produce_q;
		qp->backend_data = e;
		if (attached)
			tell_vmm_locked(e->vmm, VMCI_EVENT_QP_PEER_ATTACH, qp->handle,
					VMCI_HOST_CONTEXT_ID);
	}
	mutex_unlock(&broker_lock);
	return result;
}

static void broker_detach(struct vmcix_qpair *qp)
{
	struct broker_entry *e = qp->backend_data;

	mutex_lock(&broker_lock);
	e->host = false;
	if (e->vmm)
		tell_vmm_locked(e->vmm, VMCI_EVENT_QP_PEER_DETACH, qp->handle,
				VMCI_HOST_CONTEXT_ID);
	else
		unlink_locked(e);
	mutex_unlock(&broker_lock);
}

/*
 * The VMM's memory may be absent (not mapped yet, unmapped, VMM gone).
 * A reader can wait here for as long as a fault takes: a mapping change
 * waits for a stuck copy, and readers queue behind it.
 */
static int broker_lock_queues(const struct vmcix_qpair *qp, bool nowait)
{
	struct broker_entry *e = qp->backend_data;

	if (!nowait)
		down_read(&e->mem_lock);
	else if (!down_read_trylock(&e->mem_lock))
		return VMCI_ERROR_WOULD_BLOCK;
	if (e->mapped)
		return VMCI_SUCCESS;
	up_read(&e->mem_lock);
	return VMCI_ERROR_QUEUEPAIR_NOTATTACHED;
}

static void broker_unlock_queues(const struct vmcix_qpair *qp)
{
	struct broker_entry *e = qp->backend_data;

	up_read(&e->mem_lock);
}

const struct vmci_qpair_backend vmci_qpair_broker_backend = {
	.alloc = broker_alloc,
	.detach = broker_detach,
	.lock_queues = broker_lock_queues,
	.unlock_queues = broker_unlock_queues,
};

u32 vmci_qp_broker_count(void)
{
	u32 n;

	mutex_lock(&broker_lock);
	n = live_pairs;
	mutex_unlock(&broker_lock);
	return n;
}

u64 vmci_qp_broker_pinned_pages(void)
{
	u64 n;

	mutex_lock(&broker_lock);
	n = pinned_pages;
	mutex_unlock(&broker_lock);
	return n;
}

u64 vmci_qp_broker_set_ctx_budget(u64 bytes)
{
	u64 old;

	mutex_lock(&broker_lock);
	old = ctx_budget;
	ctx_budget = bytes;
	mutex_unlock(&broker_lock);
	return old;
}

/* /proc/driver/vmci/queue_pairs: the broker's pairs (stats.c). */
void vmci_qp_broker_show_all(struct seq_file *m)
{
	struct broker_entry *e;

	mutex_lock(&broker_lock);
	list_for_each_entry(e, &broker_list, node)
		seq_printf(m, "vmm %u:%u creator %u vmm %u host %s produce %llu consume %llu pinned_pages %u\n",
			   e->qres.res.handle.context, e->qres.res.handle.resource,
			   e->creator_cid, e->vmm ? e->vmm->cid : VMCI_INVALID_ID,
			   e->host ? "yes" : "no", e->produce_size, e->consume_size,
			   e->num_pages);
	mutex_unlock(&broker_lock);
}
