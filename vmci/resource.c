// SPDX-License-Identifier: GPL-2.0
/*
 * The resource table: handles to objects, looked up from any context and
 * removed only once nobody can reach the object any more.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/rcupdate.h>
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

int vmci_resource_table_init(struct vmci_resource_table *t, u32 first_rid, u32 last_rid)
{
	/* The range must hold at least one ID other than VMCI_INVALID_ID. */
	if (first_rid > last_rid || first_rid == VMCI_INVALID_ID)
		return -EINVAL;

	spin_lock_init(&t->lock);
	hash_init(t->buckets);
	t->first_rid = first_rid;
	t->last_rid = last_rid;
	t->next_rid = first_rid;
	return 0;
}

/* The caller guarantees no add, remove or lookup can still be running. */
void vmci_resource_table_destroy(struct vmci_resource_table *t)
{
	WARN(!hash_empty(t->buckets), "vmci: resource table destroyed while not empty\n");
}

/* Caller holds t->lock. Dynamic IDs must be unique whatever the context. */
static bool rid_in_use(struct vmci_resource_table *t, u32 rid)
{
	struct vmci_resource *r;

	hash_for_each_possible(t->buckets, r, node, rid)
		if (r->handle.resource == rid)
			return true;
	return false;
}

/*
 * Caller holds t->lock. A wildcard handle claims its resource ID in every
 * context, so it clashes with any handle of that ID and type: otherwise
 * vSockets could bind {ANY, P} and {our CID, P} at once, and which socket a
 * datagram reaches would depend on who bound first.
 */
static bool handle_taken(struct vmci_resource_table *t, struct vmci_handle handle,
			 enum vmci_resource_type type)
{
	struct vmci_resource *r;

	hash_for_each_possible(t->buckets, r, node, handle.resource)
		if (r->handle.resource == handle.resource && r->type == type &&
		    (r->handle.context == handle.context ||
		     r->handle.context == VMCI_INVALID_ID ||
		     handle.context == VMCI_INVALID_ID))
			return true;
	return false;
}

static u32 rid_after(const struct vmci_resource_table *t, u32 rid)
{
	return rid == t->last_rid ? t->first_rid : rid + 1;
}

/*
 * Caller holds t->lock. Tries each ID of the range at most once, so a full
 * range ends the search instead of spinning; VMCI_INVALID_ID means none left.
 */
static u32 alloc_dynamic_rid(struct vmci_resource_table *t)
{
	u64 span = (u64)t->last_rid - t->first_rid + 1;
	u32 rid = t->next_rid;
	u64 tried;

	for (tried = 0; tried < span; tried++, rid = rid_after(t, rid)) {
		if (rid == VMCI_INVALID_ID || rid_in_use(t, rid))
			continue;
		t->next_rid = rid_after(t, rid);
		return rid;
	}
	return VMCI_INVALID_ID;
}

/*
 * Registers @res, which must not be in any table. With handle.resource ==
 * VMCI_INVALID_ID a fresh ID is allocated and written to res->handle. Never
 * sleeps. Returns VMCI_SUCCESS, after which the table holds one reference.
 */
int vmci_resource_table_add(struct vmci_resource_table *t, struct vmci_resource *res,
			    enum vmci_resource_type type, struct vmci_handle handle)
{
	unsigned long flags;
	int result = VMCI_SUCCESS;

	if (!t || !res || !type_is_valid(type))
		return VMCI_ERROR_INVALID_ARGS;

	spin_lock_irqsave(&t->lock, flags);
	if (handle.resource == VMCI_INVALID_ID) {
		handle.resource = alloc_dynamic_rid(t);
		if (handle.resource == VMCI_INVALID_ID)
			result = VMCI_ERROR_NO_HANDLE;
	} else if (handle_taken(t, handle, type)) {
		result = VMCI_ERROR_ALREADY_EXISTS;
	}
	if (result == VMCI_SUCCESS) {
		/* Everything a reader looks at is set before publication. */
		res->handle = handle;
		res->type = type;
		refcount_set(&res->refs, 1);
		init_completion(&res->released);
		hash_add_rcu(t->buckets, &res->node, handle.resource);
	}
	spin_unlock_irqrestore(&t->lock, flags);
	return result;
}

/* Takes exactly @res out of @t's lookups (see below why by identity). */
static bool table_unlink(struct vmci_resource_table *t, struct vmci_resource *res)
{
	struct vmci_resource *r;
	unsigned long flags;
	bool found = false;

	spin_lock_irqsave(&t->lock, flags);
	hash_for_each_possible(t->buckets, r, node, res->handle.resource) {
		if (r == res) {
			hash_del_rcu(&res->node);
			found = true;
			break;
		}
	}
	spin_unlock_irqrestore(&t->lock, flags);
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

/* Caller is in an RCU read-side section. */
static struct vmci_resource *grab(struct vmci_resource_table *t, u32 context, u32 rid,
				  enum vmci_resource_type type)
{
	struct vmci_resource *r;

	hash_for_each_possible_rcu(t->buckets, r, node, rid) {
		/* A zero count means remove has already given up on it. */
		if (r->handle.resource == rid && r->handle.context == context &&
		    type_matches(r, type) && refcount_inc_not_zero(&r->refs))
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
	struct vmci_resource *r;

	if (!t)
		return NULL;

	rcu_read_lock();
	r = grab(t, handle.context, handle.resource, type);
	if (!r && handle.context != VMCI_INVALID_ID)
		r = grab(t, VMCI_INVALID_ID, handle.resource, type);
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
	/* Every grace period queues its work before the barrier returns. */
	rcu_barrier();
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

/* A grace period after the unlink: readers have left res->node. */
static void remove_deferred_work(struct work_struct *work)
{
	struct vmci_resource *res = container_of(to_rcu_work(work), struct vmci_resource,
						 remove_work);

	vmci_resource_put(res);
	/* Lookups hold a reference only briefly. */
	wait_for_completion(&res->released);
	res->release(res);
}

void vmci_resource_remove_deferred(struct vmci_resource *res,
				   void (*release)(struct vmci_resource *res))
{
	if (WARN_ONCE(!table_unlink(&vmci_resources, res),
		      "vmci: removing a resource that is not registered\n"))
		return;
	res->release = release;
	INIT_RCU_WORK(&res->remove_work, remove_deferred_work);
	queue_rcu_work(remove_wq, &res->remove_work);
}

struct vmci_resource *vmci_resource_by_handle(struct vmci_handle handle,
					      enum vmci_resource_type type)
{
	return vmci_resource_table_lookup(&vmci_resources, handle, type);
}
