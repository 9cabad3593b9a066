// SPDX-License-Identifier: GPL-2.0
/*
 * The resource table: handles to objects, looked up from any context and
 * removed only once nobody can reach the object any more.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/llist.h>
#include <linux/rculist.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "resource.h"

static bool type_is_valid(enum vmci_resource_type type)
{
	return type >= VMCI_RESOURCE_TYPE_DATAGRAM && type <= VMCI_RESOURCE_TYPE_QPAIR_HOST;
}

static bool type_matches(const struct vmci_resource *r, enum vmci_resource_type type)
{
	return type == VMCI_RESOURCE_TYPE_ANY || r->type == type;
}

/*
 * The entries registered under one resource ID. Readers walk @entries
 * under RCU; the list is freed a grace period after it became empty.
 */
struct rid_slot {
	struct hlist_head entries;
	struct rcu_head rcu;
};

int vmci_resource_table_init(struct vmci_resource_table *t, u32 first_rid, u32 last_rid)
{
	/* The range must hold at least one ID other than VMCI_INVALID_ID. */
	if (first_rid > last_rid || first_rid == VMCI_INVALID_ID)
		return -EINVAL;

	/* Index nodes are charged to whoever registers the entry. */
	xa_init_flags(&t->ids, XA_FLAGS_ALLOC | XA_FLAGS_ACCOUNT);
	t->first_rid = first_rid;
	t->last_rid = last_rid;
	t->next_rid = first_rid;
	t->pin_rid = VMCI_INVALID_ID;
	return 0;
}

/*
 * The placeholder: an entry that is not a list, at the first ID of the
 * xarray leaf (XA_CHUNK_SIZE IDs) the newest dynamic ID is in. Dynamic IDs
 * increase, and a connection's queue pair is often the only entry of its
 * leaf, so without it each close freed that leaf and the next connect
 * allocated it again (docs/performance.md, "The path of a connect"). It
 * sits below the search, which therefore never meets it before wrapping;
 * lookups skip it, and a handle registered at its ID replaces it. There is
 * one per table, so at most one leaf stays charged to the user who caused
 * it after that user's entries are gone.
 */
#define RID_PLACEHOLDER xa_mk_value(0)

static bool is_placeholder(const void *entry)
{
	return xa_is_value(entry);
}

/* Caller holds the table's lock. Lets the placeholder's leaf go. */
static void unpin_locked(struct vmci_resource_table *t)
{
	if (t->pin_rid != VMCI_INVALID_ID)
		__xa_erase(&t->ids, t->pin_rid);
	t->pin_rid = VMCI_INVALID_ID;
}

/* Caller holds the table's lock and has just stored an entry at @rid. */
static void pin_leaf_locked(struct vmci_resource_table *t, u32 rid)
{
	u32 pin = rid & ~(u32)(XA_CHUNK_SIZE - 1);

	if (pin == t->pin_rid)
		return;
	unpin_locked(t);
	/*
	 * @rid's leaf exists, so this allocates nothing. It fails if an entry
	 * is at @pin already, which keeps the leaf just as well.
	 */
	if (!__xa_insert(&t->ids, pin, RID_PLACEHOLDER, GFP_NOWAIT))
		t->pin_rid = pin;
}

/* The caller guarantees no add, remove or lookup can still be running. */
void vmci_resource_table_destroy(struct vmci_resource_table *t)
{
	xa_lock(&t->ids);
	unpin_locked(t);
	xa_unlock(&t->ids);
	WARN(!xa_empty(&t->ids), "vmci: resource table destroyed while not empty\n");
	xa_destroy(&t->ids);
}

/*
 * Caller holds the table's lock. A wildcard handle claims its resource ID
 * in every context, so it clashes with any handle of that ID and type:
 * otherwise vSockets could bind {ANY, P} and {our CID, P} at once, and
 * which socket a datagram reaches would depend on who bound first.
 */
static bool handle_taken(const struct rid_slot *slot, struct vmci_handle handle,
			 enum vmci_resource_type type)
{
	struct vmci_resource *r;

	hlist_for_each_entry(r, &slot->entries, node)
		if (r->type == type &&
		    (r->handle.context == handle.context ||
		     r->handle.context == VMCI_INVALID_ID ||
		     handle.context == VMCI_INVALID_ID))
			return true;
	return false;
}

/*
 * Caller holds the table's lock, which the xarray may drop and retake to
 * allocate. Stores the empty list @fresh at a free ID of the dynamic
 * range, searching upwards from next_rid and wrapping once; the search
 * skips runs of used IDs in O(log n), so IDs bound ahead of it cost
 * nothing. VMCI_INVALID_ID is never handed out.
 */
static int alloc_dynamic_locked(struct vmci_resource_table *t, struct rid_slot *fresh,
				u32 *rid)
{
	u32 last = min_t(u32, t->last_rid, VMCI_INVALID_ID - 1);
	int err;

	err = __xa_alloc_cyclic(&t->ids, rid, fresh, XA_LIMIT(t->first_rid, last),
				&t->next_rid, GFP_KERNEL_ACCOUNT);
	if (err == -EBUSY && t->pin_rid != VMCI_INVALID_ID) {
		/* The range is full but for, perhaps, the placeholder's ID. */
		unpin_locked(t);
		err = __xa_alloc_cyclic(&t->ids, rid, fresh, XA_LIMIT(t->first_rid, last),
					&t->next_rid, GFP_KERNEL_ACCOUNT);
	}
	if (err >= 0)
		pin_leaf_locked(t, *rid);
	if (err == -ENOMEM)
		return VMCI_ERROR_NO_MEM;
	return err < 0 ? VMCI_ERROR_NO_HANDLE : VMCI_SUCCESS;
}

/*
 * Caller holds the table's lock. Finds the list for @rid, storing @fresh
 * there if there is none; *@used_fresh says whether it was.
 */
static int slot_for_locked(struct vmci_resource_table *t, u32 rid, struct rid_slot *fresh,
			   struct rid_slot **out, bool *used_fresh)
{
	struct rid_slot *slot;
	int err;

	*used_fresh = false;
	for (;;) {
		slot = xa_load(&t->ids, rid);
		if (is_placeholder(slot)) {
			/* Replacing it in place keeps its leaf; nothing to allocate. */
			if (xa_is_err(__xa_cmpxchg(&t->ids, rid, slot, fresh, GFP_NOWAIT)))
				return VMCI_ERROR_NO_MEM;
			t->pin_rid = VMCI_INVALID_ID;
			*out = fresh;
			*used_fresh = true;
			return VMCI_SUCCESS;
		}
		if (slot) {
			*out = slot;
			return VMCI_SUCCESS;
		}
		err = __xa_insert(&t->ids, rid, fresh, GFP_KERNEL_ACCOUNT);
		if (!err) {
			*out = fresh;
			*used_fresh = true;
			return VMCI_SUCCESS;
		}
		/* -EBUSY: another add stored a list while the lock was dropped. */
		if (err != -EBUSY)
			return VMCI_ERROR_NO_MEM;
	}
}

/*
 * Registers @res, which must not be in any table. With handle.resource ==
 * VMCI_INVALID_ID a fresh ID is allocated and written to res->handle.
 * Process context; may sleep to allocate. Returns VMCI_SUCCESS, after
 * which the table holds one reference.
 */
int vmci_resource_table_add(struct vmci_resource_table *t, struct vmci_resource *res,
			    enum vmci_resource_type type, struct vmci_handle handle)
{
	struct rid_slot *fresh, *slot = NULL;
	bool used_fresh = false;
	int result;
	u32 rid;

	might_sleep();
	if (!t || !res || !type_is_valid(type))
		return VMCI_ERROR_INVALID_ARGS;
	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	if (!fresh)
		return VMCI_ERROR_NO_MEM;

	xa_lock(&t->ids);
	if (handle.resource == VMCI_INVALID_ID) {
		result = alloc_dynamic_locked(t, fresh, &rid);
		if (result == VMCI_SUCCESS) {
			handle.resource = rid;
			slot = fresh;
			used_fresh = true;
		}
	} else {
		result = slot_for_locked(t, handle.resource, fresh, &slot, &used_fresh);
		if (result == VMCI_SUCCESS && handle_taken(slot, handle, type))
			result = VMCI_ERROR_ALREADY_EXISTS;
	}
	if (result == VMCI_SUCCESS) {
		/* Everything a reader looks at is set before publication. */
		res->handle = handle;
		res->type = type;
		refcount_set(&res->refs, 1);
		init_completion(&res->released);
		hlist_add_head_rcu(&res->node, &slot->entries);
	}
	xa_unlock(&t->ids);
	/* An explicit ID that clashed leaves no list behind: it had one already. */
	if (!used_fresh)
		kfree(fresh);
	return result;
}

/*
 * Takes exactly @res out of @t's lookups (see below why by identity). One
 * walk of the xarray finds the list and, when it empties, erases it: the
 * last detach of every local connection comes here.
 */
static bool table_unlink(struct vmci_resource_table *t, struct vmci_resource *res)
{
	XA_STATE(xas, &t->ids, res->handle.resource);
	struct vmci_resource *r;
	struct rid_slot *slot;
	bool found = false;

	xas_lock(&xas);
	slot = xas_load(&xas);
	if (slot && !is_placeholder(slot)) {
		hlist_for_each_entry(r, &slot->entries, node) {
			if (r == res) {
				found = true;
				break;
			}
		}
	}
	if (found) {
		hlist_del_rcu(&res->node);
		if (hlist_empty(&slot->entries)) {
			xas_store(&xas, NULL);
			kfree_rcu(slot, rcu);
		}
	}
	xas_unlock(&xas);
	return found;
}

/*
 * May sleep. Unlinks exactly @res, found by identity rather than by handle:
 * another entry may carry the same handle (other type, or a stale duplicate),
 * and unlinking that one instead would leave @res reachable after its owner
 * frees it. Returns once no reader can reach @res and every reference is
 * gone, so the caller may free it at once. Returns false, touching nothing
 * else, if @res was not in @t (never added, or already removed).
 */
bool vmci_resource_table_remove(struct vmci_resource_table *t, struct vmci_resource *res)
{
	might_sleep();
	if (!t || !res || !table_unlink(t, res))
		return false;

	/* Readers still walking the bucket may be looking at res->node. */
	synchronize_rcu();
	vmci_resource_put(res);
	wait_for_completion(&res->released);
	return true;
}

/*
 * May sleep. vmci_resource_table_remove() for @n entries at once, with one
 * grace period for all of them instead of one each. Entries of @res that
 * were not in @t are set to NULL. Returns how many were removed.
 */
unsigned int vmci_resource_table_remove_many(struct vmci_resource_table *t,
					     struct vmci_resource **res, unsigned int n)
{
	unsigned int i, removed = 0;

	might_sleep();
	if (!t || !res)
		return 0;
	for (i = 0; i < n; i++) {
		if (res[i] && table_unlink(t, res[i]))
			removed++;
		else
			res[i] = NULL;
	}
	if (!removed)
		return 0;
	synchronize_rcu();
	for (i = 0; i < n; i++) {
		if (!res[i])
			continue;
		vmci_resource_put(res[i]);
		wait_for_completion(&res[i]->released);
	}
	return removed;
}

/* Caller is in an RCU read-side section. */
static struct vmci_resource *grab(struct rid_slot *slot, u32 context,
				  enum vmci_resource_type type)
{
	struct vmci_resource *r;

	hlist_for_each_entry_rcu(r, &slot->entries, node) {
		/* A zero count means remove has already given up on it. */
		if (r->handle.context == context && type_matches(r, type) &&
		    refcount_inc_not_zero(&r->refs))
			return r;
	}
	return NULL;
}

/*
 * Any context, hard IRQ included. An exact handle wins over a wildcard
 * registered for the same resource ID. The caller must put the result.
 */
struct vmci_resource *vmci_resource_table_lookup(struct vmci_resource_table *t,
						 struct vmci_handle handle,
						 enum vmci_resource_type type)
{
	struct vmci_resource *r = NULL;
	struct rid_slot *slot;

	if (!t)
		return NULL;

	rcu_read_lock();
	/* Handle and wildcard share the ID's slot: one walk of the ID tree. */
	slot = xa_load(&t->ids, handle.resource);
	if (slot && !is_placeholder(slot)) {
		r = grab(slot, handle.context, type);
		if (!r && handle.context != VMCI_INVALID_ID)
			r = grab(slot, VMCI_INVALID_ID, type);
	}
	rcu_read_unlock();
	return r;
}

/* Caller must already hold a reference. */
struct vmci_resource *vmci_resource_get(struct vmci_resource *res)
{
	refcount_inc(&res->refs);
	return res;
}

/* Any context. */
void vmci_resource_put(struct vmci_resource *res)
{
	if (refcount_dec_and_test(&res->refs))
		complete(&res->released);
}

struct vmci_handle vmci_resource_handle(const struct vmci_resource *res)
{
	return res->handle;
}

static struct vmci_resource_table vmci_resources;
/* Runs deferred removals; unload waits for them here. */
static struct workqueue_struct *remove_wq;

int vmci_resource_init(void)
{
	int err;

	err = vmci_resource_table_init(&vmci_resources, VMCI_RESERVED_RESOURCE_ID_MAX + 1,
				       VMCI_INVALID_ID - 1);
	if (err)
		return err;
	remove_wq = alloc_workqueue("vmci_res", WQ_UNBOUND, 0);
	return remove_wq ? 0 : -ENOMEM;
}

void vmci_resource_exit(void)
{
	vmci_resource_barrier();
	destroy_workqueue(remove_wq);
	remove_wq = NULL;
	vmci_resource_table_destroy(&vmci_resources);
}

int vmci_resource_add(struct vmci_resource *res, enum vmci_resource_type type,
		      struct vmci_handle handle)
{
	return vmci_resource_table_add(&vmci_resources, res, type, handle);
}

/* May sleep; see vmci_resource_table_remove(). */
void vmci_resource_remove(struct vmci_resource *res)
{
	WARN_ONCE(!vmci_resource_table_remove(&vmci_resources, res),
		  "vmci: removing a resource that is not registered\n");
}

/*
 * Deferred removals. Each entry waits out a grace period with call_rcu()
 * and then joins remove_ready; one run of remove_batch releases all the
 * entries whose grace period ended together. A local connection frees a
 * queue pair per close, and a worker run (a wakeup and two context
 * switches) per pair was a visible share of the connection rate
 * (docs/performance.md, "The path of a connect"). An entry that a lookup
 * still holds is left to a work item of its own, so that one slow holder
 * delays only its own release, never the batch.
 */
static LLIST_HEAD(remove_ready);

static void remove_wait_work(struct work_struct *work)
{
	struct vmci_resource *res = container_of(work, struct vmci_resource, remove_wait);

	/* Lookups hold a reference only briefly. */
	wait_for_completion(&res->released);
	res->release(res);
}

static void remove_batch_work(struct work_struct *work)
{
	struct llist_node *ready = llist_del_all(&remove_ready);
	struct vmci_resource *res, *next;

	llist_for_each_entry_safe(res, next, ready, remove_node) {
		vmci_resource_put(res);
		if (try_wait_for_completion(&res->released)) {
			res->release(res);
			continue;
		}
		INIT_WORK(&res->remove_wait, remove_wait_work);
		queue_work(remove_wq, &res->remove_wait);
	}
}

static DECLARE_WORK(remove_batch, remove_batch_work);

/* A grace period after the unlink: readers have left res->node. */
static void remove_grace_done(struct rcu_head *rcu)
{
	struct vmci_resource *res = container_of(rcu, struct vmci_resource, remove_rcu);

	/* Only the first entry of a batch needs to queue the worker. */
	if (llist_add(&res->remove_node, &remove_ready))
		queue_work(remove_wq, &remove_batch);
}

/*
 * The same, for an owner that can be released in the callback. A worker
 * run is a wakeup and two context switches of another CPU; for local queue
 * pairs, released at the rate sockets close, it was a visible share of the
 * connection rate (docs/performance.md, "connect+accept+close, local").
 */
static void remove_grace_done_atomic(struct rcu_head *rcu)
{
	struct vmci_resource *res = container_of(rcu, struct vmci_resource, remove_rcu);

	/* Only the table's reference is left, and no reader can take another. */
	if (refcount_dec_if_one(&res->refs)) {
		res->release(res);
		return;
	}
	remove_grace_done(rcu);
}

static void remove_deferred(struct vmci_resource *res,
			    void (*release)(struct vmci_resource *res), rcu_callback_t done)
{
	if (WARN_ONCE(!table_unlink(&vmci_resources, res),
		      "vmci: removing a resource that is not registered\n"))
		return;
	res->release = release;
	call_rcu(&res->remove_rcu, done);
}

void vmci_resource_remove_deferred(struct vmci_resource *res,
				   void (*release)(struct vmci_resource *res))
{
	remove_deferred(res, release, remove_grace_done);
}

void vmci_resource_remove_deferred_atomic(struct vmci_resource *res,
					  void (*release)(struct vmci_resource *res))
{
	remove_deferred(res, release, remove_grace_done_atomic);
}

void vmci_resource_barrier(void)
{
	/* Every grace period done: each entry is on remove_ready, the batch queued. */
	rcu_barrier();
	flush_work(&remove_batch);
	/* The entries the batch left to a work item of their own. */
	flush_workqueue(remove_wq);
}

struct vmci_resource *vmci_resource_by_handle(struct vmci_handle handle,
					      enum vmci_resource_type type)
{
	return vmci_resource_table_lookup(&vmci_resources, handle, type);
}
