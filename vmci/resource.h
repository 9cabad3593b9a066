/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The resource table: every VMCI object (datagram handle, doorbell, queue
 * pair) is registered under its handle so that incoming datagrams and
 * notifications can find their target.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_RESOURCE_H
#define VMCI_RESOURCE_H

#include <linux/completion.h>
#include <linux/llist.h>
#include <linux/refcount.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <vmci/vmci_abi.h>

enum vmci_resource_type {
	VMCI_RESOURCE_TYPE_ANY,		/* lookups only: matches every type */
	VMCI_RESOURCE_TYPE_DATAGRAM,
	VMCI_RESOURCE_TYPE_DOORBELL,
	VMCI_RESOURCE_TYPE_QPAIR_GUEST,
	VMCI_RESOURCE_TYPE_QPAIR_HOST,
};

/*
 * Embedded in the owner's object. Lifetime rules:
 * - @handle and @type are written by add before the entry is published and
 *   never change while it is in a table, so RCU readers may read them.
 * - @refs counts the table's own reference plus one per successful lookup
 *   or get. It reaches zero only after remove has unpublished the entry and
 *   dropped the table's reference; @released then wakes the remover.
 * - @node (in the list of entries sharing its resource ID) is changed only
 *   under the table's lock.
 * - @remove_rcu, @remove_node, @remove_wait and @release are used by a
 *   deferred remove only.
 * A handle whose context is VMCI_INVALID_ID is a wildcard: it is found by a
 * lookup for its resource ID from any context.
 */
struct vmci_resource {
	struct vmci_handle handle;
	enum vmci_resource_type type;
	struct hlist_node node;
	refcount_t refs;
	struct completion released;
	struct rcu_head remove_rcu;
	struct llist_node remove_node;
	struct work_struct remove_wait;
	void (*release)(struct vmci_resource *res);
};

/*
 * Entries are indexed by resource ID in @ids, an allocating xarray whose
 * slots are lists of the entries with that ID (usually one: an ID is
 * shared only by different contexts or types). Lookups, allocation of a
 * dynamic ID and insertion all cost O(log n) in the number of IDs in use,
 * so no number of entries, nor IDs bound just ahead of the next dynamic
 * one, makes any of them search linearly. One slot may instead hold a
 * placeholder, @pin_rid (see resource.c), which lookups never return.
 *
 * Locking rules:
 * - @ids' own lock (xa_lock, a plain spinlock: IRQs stay on) serialises
 *   writers: it protects the lists in @ids, @next_rid and @pin_rid. Every writer
 *   runs in process context; add and remove may sleep, add dropping the
 *   lock only inside the xarray to allocate a node.
 * - Lookups take no lock; they load the ID's list and walk it under
 *   rcu_read_lock() and may run in any context, hard IRQ included. They
 *   keep an entry only if refcount_inc_not_zero() succeeds. Lists emptied
 *   by a remove are freed after a grace period.
 * - remove sleeps (an RCU grace period and the wait for the last
 *   reference). A deferred remove unlinks without sleeping and leaves
 *   both waits to a worker.
 */
struct vmci_resource_table {
	struct xarray ids;	/* resource ID -> list of entries; see above */
	u32 next_rid;		/* where the next dynamic ID search starts */
	u32 first_rid;		/* dynamic IDs come from [first_rid, last_rid] */
	u32 last_rid;
	u32 pin_rid;		/* the placeholder's ID, or VMCI_INVALID_ID */
};

int vmci_resource_table_init(struct vmci_resource_table *t, u32 first_rid, u32 last_rid);
void vmci_resource_table_destroy(struct vmci_resource_table *t);
int vmci_resource_table_add(struct vmci_resource_table *t, struct vmci_resource *res,
			    enum vmci_resource_type type, struct vmci_handle handle);
bool vmci_resource_table_remove(struct vmci_resource_table *t, struct vmci_resource *res);
unsigned int vmci_resource_table_remove_many(struct vmci_resource_table *t,
					     struct vmci_resource **res, unsigned int n);
struct vmci_resource *vmci_resource_table_lookup(struct vmci_resource_table *t,
						 struct vmci_handle handle,
						 enum vmci_resource_type type);

/* The driver's table; dynamic IDs start above the reserved ones. */
int vmci_resource_init(void);
void vmci_resource_exit(void);
int vmci_resource_add(struct vmci_resource *res, enum vmci_resource_type type,
		      struct vmci_handle handle);
void vmci_resource_remove(struct vmci_resource *res);
/*
 * Never sleeps. Unlinks @res at once, as vmci_resource_remove() does, but
 * leaves the waiting to a worker: @release(res) runs in process context
 * once no reader can reach @res and every reference is gone. For owners
 * that free on a hot path and cannot afford an RCU grace period there.
 * One worker run releases every entry whose grace period ended together.
 */
void vmci_resource_remove_deferred(struct vmci_resource *res,
				   void (*release)(struct vmci_resource *res));
/*
 * Never sleeps. vmci_resource_remove_deferred() for an owner whose
 * @release may run in an RCU callback (softirq or an RCU kthread: no
 * sleeping, no lock taken without disabling softirqs elsewhere). If no
 * lookup holds @res when its grace period ends, @release runs in the
 * callback itself and no worker is woken; a held entry goes to the worker
 * as above.
 */
void vmci_resource_remove_deferred_atomic(struct vmci_resource *res,
					  void (*release)(struct vmci_resource *res));
/* May sleep. Returns once every release deferred before the call has run. */
void vmci_resource_barrier(void);
struct vmci_resource *vmci_resource_by_handle(struct vmci_handle handle,
					      enum vmci_resource_type type);

struct vmci_resource *vmci_resource_get(struct vmci_resource *res);
void vmci_resource_put(struct vmci_resource *res);
struct vmci_handle vmci_resource_handle(const struct vmci_resource *res);

#endif /* VMCI_RESOURCE_H */
