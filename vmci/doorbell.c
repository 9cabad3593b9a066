// SPDX-License-Identifier: GPL-2.0
/*
 * Doorbells: host doorbells with callbacks for in-kernel clients, and the
 * doorbells VMX processes register for their contexts. Both are resources
 * of type VMCI_RESOURCE_TYPE_DOORBELL, so one lookup finds either kind.
 *
 * Lifetime: a ring holds a resource reference while it fires, and a queued
 * delayed call holds one until its callback has returned. Removal from the
 * resource table waits for every reference, so once it returns nobody can
 * reach the doorbell, mark it pending or queue its work again.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/export.h>
#include <linux/rcupdate.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <vmci/fuzz_kcov.h>

#include "context.h"
#include "doorbell.h"
#include "privilege.h"
#include "resource.h"
#include "route.h"

/*
 * Bits in @state. A doorbell is published in the resource table before it
 * is fully set up (linked into its context, told to the hypervisor), and
 * a racing destroy can find it there; it may only claim it once LIVE is
 * set, which the creator does last. Neither bit is ever cleared.
 */
#define DBELL_LIVE	0	/* set up completely: a destroyer may claim it */
#define DBELL_DYING	1	/* one destroyer has claimed it */

struct vmci_doorbell {
	struct vmci_resource res;
	u32 priv_flags;			/* a VMM doorbell has its context's */
	u32 flags;
	unsigned long state;
	vmcix_doorbell_cb cb;		/* host doorbells only */
	void *client_data;
	struct work_struct work;
	struct vmci_ctx *ctx;		/* owner of a VMM doorbell, NULL for the host */
	struct list_head ctx_node;	/* in ctx->doorbells, under ctx->lock */
	struct list_head pending_node;	/* in ctx->dbell_pending; empty when not pending */
};

static struct workqueue_struct *dbell_wq;

/*
 * The guest personality's hooks: readers of @guest_ops hold guest_ops_sem
 * for reading (link, unlink: they sleep) or rcu_read_lock() (notify).
 */
static const struct vmci_doorbell_guest_ops __rcu *guest_ops;
static DECLARE_RWSEM(guest_ops_sem);
static atomic_t host_count = ATOMIC_INIT(0);
static atomic_t vmm_count = ATOMIC_INIT(0);
static atomic_t pending_count = ATOMIC_INIT(0);

static struct vmci_doorbell *dbell_lookup(struct vmci_handle handle)
{
	struct vmci_resource *res;

	if (handle.context == VMCI_INVALID_ID || handle.resource == VMCI_INVALID_ID)
		return NULL;
	res = vmci_resource_by_handle(handle, VMCI_RESOURCE_TYPE_DOORBELL);
	return res ? container_of(res, struct vmci_doorbell, res) : NULL;
}

static void dbell_put(struct vmci_doorbell *db)
{
	vmci_resource_put(&db->res);
}

static void dbell_work_fn(struct work_struct *work)
{
	struct vmci_doorbell *db = container_of(work, struct vmci_doorbell, work);
	bool kcov = vmci_fuzz_work_start();

	db->cb(db->client_data);
	vmci_fuzz_work_stop(kcov);
	dbell_put(db);
}

/* Caller holds ctx->lock. */
static bool dbell_mark_pending_locked(struct vmci_doorbell *db)
{
	struct vmci_ctx *ctx = db->ctx;

	if (ctx->dead || !list_empty(&db->pending_node))
		return false;
	list_add_tail(&db->pending_node, &ctx->dbell_pending);
	ctx->dbell_pending_count++;
	atomic_inc(&pending_count);
	vmci_ctx_update_notify_locked(ctx);
	return true;
}

static void dbell_mark_pending(struct vmci_doorbell *db)
{
	unsigned long flags;
	bool woke;

	spin_lock_irqsave(&db->ctx->lock, flags);
	woke = dbell_mark_pending_locked(db);
	spin_unlock_irqrestore(&db->ctx->lock, flags);
	if (woke)
		wake_up_interruptible(&db->ctx->wait);
}

/* Caller holds a reference on @db. */
static void dbell_fire(struct vmci_doorbell *db)
{
	if (db->ctx) {
		dbell_mark_pending(db);
	} else if (db->flags & VMCI_FLAG_DELAYED_CB) {
		/* A ring while the call is still queued folds into it. */
		vmci_resource_get(&db->res);
		if (!queue_work(dbell_wq, &db->work))
			dbell_put(db);
	} else {
		db->cb(db->client_data);
	}
}

/* Rings the doorbell behind a lookup reference, then drops it. */
static int dbell_ring(struct vmci_doorbell *db, u32 src_priv_flags)
{
	int result = VMCI_SUCCESS;

	if (vmci_privileges_allow(src_priv_flags, db->priv_flags))
		dbell_fire(db);
	else
		result = VMCI_ERROR_NO_ACCESS;
	dbell_put(db);
	return result;
}

/* In a guest, a doorbell of another context is rung by the hypervisor. */
static int dbell_notify_remote(struct vmci_handle handle)
{
	const struct vmci_doorbell_guest_ops *ops;
	int result = VMCI_ERROR_NOT_FOUND;

	if (handle.context == vmci_route_local_cid())
		return result;
	rcu_read_lock();
	ops = rcu_dereference(guest_ops);
	if (ops)
		result = ops->notify(handle);
	rcu_read_unlock();
	return result;
}

int vmci_doorbell_notify(struct vmci_handle handle, u32 src_priv_flags)
{
	struct vmci_doorbell *db;

	if (!vmci_priv_flags_valid(src_priv_flags))
		return VMCI_ERROR_INVALID_ARGS;
	db = dbell_lookup(handle);
	if (!db)
		return dbell_notify_remote(handle);
	return dbell_ring(db, src_priv_flags);
}

static struct vmci_doorbell *dbell_alloc(u32 flags, u32 priv_flags)
{
	struct vmci_doorbell *db = kzalloc(sizeof(*db), GFP_KERNEL);

	if (!db)
		return NULL;
	db->flags = flags;
	db->priv_flags = priv_flags;
	INIT_WORK(&db->work, dbell_work_fn);
	INIT_LIST_HEAD(&db->ctx_node);
	INIT_LIST_HEAD(&db->pending_node);
	return db;
}

static int dbell_guest_link(struct vmci_handle handle)
{
	const struct vmci_doorbell_guest_ops *ops;
	int result = VMCI_SUCCESS;

	down_read(&guest_ops_sem);
	ops = rcu_dereference_protected(guest_ops, lockdep_is_held(&guest_ops_sem));
	if (ops)
		result = ops->link(handle);
	up_read(&guest_ops_sem);
	return result;
}

static void dbell_guest_unlink(struct vmci_handle handle)
{
	const struct vmci_doorbell_guest_ops *ops;

	down_read(&guest_ops_sem);
	ops = rcu_dereference_protected(guest_ops, lockdep_is_held(&guest_ops_sem));
	if (ops)
		ops->unlink(handle);
	up_read(&guest_ops_sem);
}

int vmci_doorbell_register_guest(const struct vmci_doorbell_guest_ops *ops)
{
	int err = 0;

	down_write(&guest_ops_sem);
	if (rcu_access_pointer(guest_ops))
		err = -EBUSY;
	else
		rcu_assign_pointer(guest_ops, ops);
	up_write(&guest_ops_sem);
	return err;
}

void vmci_doorbell_unregister_guest(const struct vmci_doorbell_guest_ops *ops)
{
	down_write(&guest_ops_sem);
	if (rcu_access_pointer(guest_ops) == ops)
		RCU_INIT_POINTER(guest_ops, NULL);
	up_write(&guest_ops_sem);
	/* Notifies run inside RCU read-side sections. */
	synchronize_rcu();
}

/*
 * Last step of a create: from now on a destroyer may claim @db and free it,
 * so the creator must not touch it afterwards. Everything written before
 * is visible to a claimer (the claim's test_and_set_bit() is ordered).
 */
static void dbell_set_live(struct vmci_doorbell *db)
{
	/* Orders the creator's stores before the bit a claimer tests. */
	smp_mb__before_atomic();
	set_bit(DBELL_LIVE, &db->state);
}

int vmci_doorbell_create(struct vmci_handle *handle, u32 flags, u32 priv_flags,
			 vmcix_doorbell_cb cb, void *client_data)
{
	u32 local_cid = vmci_route_local_cid();
	struct vmci_handle h;
	struct vmci_doorbell *db;
	int result;

	might_sleep();
	if (!handle || !cb || (flags & ~VMCI_FLAG_DELAYED_CB) ||
	    !vmci_priv_flags_valid(priv_flags))
		return VMCI_ERROR_INVALID_ARGS;
	if (handle->context != VMCI_INVALID_ID && handle->context != local_cid)
		return VMCI_ERROR_INVALID_ARGS;
	db = dbell_alloc(flags, priv_flags);
	if (!db)
		return VMCI_ERROR_NO_MEM;
	db->cb = cb;
	db->client_data = client_data;

	h = vmci_make_handle(local_cid, handle->resource);
	result = vmci_resource_add(&db->res, VMCI_RESOURCE_TYPE_DOORBELL, h);
	if (result != VMCI_SUCCESS) {
		kfree(db);
		return result;
	}
	result = dbell_guest_link(vmci_resource_handle(&db->res));
	if (result != VMCI_SUCCESS) {
		vmci_resource_remove(&db->res);
		kfree(db);
		return result;
	}
	atomic_inc(&host_count);
	*handle = vmci_resource_handle(&db->res);
	dbell_set_live(db);
	return VMCI_SUCCESS;
}

/*
 * Looks @handle up and claims it for destruction if it belongs to @ctx
 * (NULL: the host). Exactly one of concurrent destroyers wins, and only
 * once the creator has finished with it: a doorbell still being created
 * is "not found", as if the destroy had come first.
 */
static struct vmci_doorbell *dbell_claim(struct vmci_handle handle, struct vmci_ctx *ctx)
{
	struct vmci_doorbell *db = dbell_lookup(handle);

	if (!db)
		return NULL;
	if (db->ctx != ctx || !test_bit(DBELL_LIVE, &db->state) ||
	    test_and_set_bit(DBELL_DYING, &db->state)) {
		dbell_put(db);
		return NULL;
	}
	dbell_put(db);
	return db;
}

/* Unpublishes a claimed doorbell and waits until no ring or callback uses it. */
static void dbell_unpublish(struct vmci_doorbell *db)
{
	vmci_resource_remove(&db->res);
	/* The last delayed call may still be returning from the callback. */
	flush_work(&db->work);
}

int vmci_doorbell_destroy(struct vmci_handle handle)
{
	struct vmci_doorbell *db;

	might_sleep();
	db = dbell_claim(handle, NULL);
	if (!db)
		return VMCI_ERROR_NOT_FOUND;
	dbell_guest_unlink(db->res.handle);
	dbell_unpublish(db);
	atomic_dec(&host_count);
	kfree(db);
	return VMCI_SUCCESS;
}

int vmci_doorbell_ctx_register(struct vmci_ctx *ctx, struct vmci_handle *handle)
{
	struct vmci_doorbell *db;
	unsigned long flags;
	int result = VMCI_SUCCESS;

	might_sleep();
	if (handle->context != ctx->cid)
		return VMCI_ERROR_INVALID_ARGS;
	db = dbell_alloc(0, ctx->priv_flags);
	if (!db)
		return VMCI_ERROR_NO_MEM;
	db->ctx = ctx;

	/* Reserve a slot first, so the bound holds against concurrent ioctls. */
	spin_lock_irqsave(&ctx->lock, flags);
	if (ctx->dead)
		result = VMCI_ERROR_INVALID_ARGS;
	else if (ctx->doorbell_count >= VMCI_CTX_MAX_DOORBELLS)
		result = VMCI_ERROR_NO_RESOURCES;
	else
		ctx->doorbell_count++;
	spin_unlock_irqrestore(&ctx->lock, flags);
	if (result != VMCI_SUCCESS)
		goto err_free;

	result = vmci_resource_add(&db->res, VMCI_RESOURCE_TYPE_DOORBELL, *handle);
	if (result != VMCI_SUCCESS) {
		spin_lock_irqsave(&ctx->lock, flags);
		ctx->doorbell_count--;
		spin_unlock_irqrestore(&ctx->lock, flags);
		goto err_free;
	}
	spin_lock_irqsave(&ctx->lock, flags);
	list_add_tail(&db->ctx_node, &ctx->doorbells);
	spin_unlock_irqrestore(&ctx->lock, flags);
	atomic_inc(&vmm_count);
	*handle = vmci_resource_handle(&db->res);
	/* Until here an unregister of the same handle cannot claim it. */
	dbell_set_live(db);
	return VMCI_SUCCESS;

err_free:
	kfree(db);
	return result;
}

/*
 * Unpublishes a claimed VMM doorbell, forgets it in its context and frees
 * it. It leaves the context's list before the table: once unpublished its
 * handle may be registered again, and a checkpoint must never list the
 * handle twice. It leaves the pending list only after, since until then a
 * ring may put it there again.
 */
static void dbell_ctx_release(struct vmci_doorbell *db)
{
	struct vmci_ctx *ctx = db->ctx;
	unsigned long flags;

	spin_lock_irqsave(&ctx->lock, flags);
	list_del(&db->ctx_node);
	spin_unlock_irqrestore(&ctx->lock, flags);
	dbell_unpublish(db);
	spin_lock_irqsave(&ctx->lock, flags);
	ctx->doorbell_count--;
	if (!list_empty(&db->pending_node)) {
		list_del_init(&db->pending_node);
		ctx->dbell_pending_count--;
		atomic_dec(&pending_count);
		vmci_ctx_update_notify_locked(ctx);
	}
	spin_unlock_irqrestore(&ctx->lock, flags);
	atomic_dec(&vmm_count);
	kfree(db);
}

int vmci_doorbell_ctx_unregister(struct vmci_ctx *ctx, struct vmci_handle handle)
{
	struct vmci_doorbell *db;

	might_sleep();
	if (handle.context != ctx->cid)
		return VMCI_ERROR_INVALID_ARGS;
	db = dbell_claim(handle, ctx);
	if (!db)
		return VMCI_ERROR_NOT_FOUND;
	dbell_ctx_release(db);
	return VMCI_SUCCESS;
}

int vmci_doorbell_ctx_ring(struct vmci_ctx *ctx, struct vmci_handle handle)
{
	enum vmci_route route;
	struct vmci_doorbell *db;
	int result;

	if (handle.context == VMCI_INVALID_ID || handle.resource == VMCI_INVALID_ID)
		return VMCI_ERROR_INVALID_ARGS;
	result = vmci_route_decide(ctx->cid, handle, &route);
	if (result != VMCI_SUCCESS)
		return result;
	if (route != VMCI_ROUTE_LOCAL)
		return VMCI_ERROR_DST_UNREACHABLE;
	db = dbell_lookup(handle);
	if (!db)
		return VMCI_ERROR_NOT_FOUND;
	if (db->ctx) {
		/* Only host doorbells are local; never let a VMM reach another VM. */
		dbell_put(db);
		return VMCI_ERROR_DST_UNREACHABLE;
	}
	return dbell_ring(db, ctx->priv_flags);
}

int vmci_doorbell_ctx_take_pending(struct vmci_ctx *ctx, struct vmci_handle *out, u32 max)
{
	struct vmci_doorbell *db, *tmp;
	unsigned long flags;
	int n = 0;

	spin_lock_irqsave(&ctx->lock, flags);
	if (ctx->dbell_pending_count > max) {
		spin_unlock_irqrestore(&ctx->lock, flags);
		return -EMSGSIZE;
	}
	list_for_each_entry_safe(db, tmp, &ctx->dbell_pending, pending_node) {
		out[n++] = db->res.handle;
		list_del_init(&db->pending_node);
		atomic_dec(&pending_count);
	}
	ctx->dbell_pending_count = 0;
	vmci_ctx_update_notify_locked(ctx);
	spin_unlock_irqrestore(&ctx->lock, flags);
	return n;
}

void vmci_doorbell_ctx_restore_pending(struct vmci_ctx *ctx, const struct vmci_handle *handles,
				       u32 count)
{
	struct vmci_doorbell *db;
	u32 i;

	for (i = 0; i < count; i++) {
		db = dbell_lookup(handles[i]);
		if (!db)
			continue;	/* destroyed meanwhile: nothing left to tell */
		if (db->ctx == ctx)
			dbell_mark_pending(db);
		dbell_put(db);
	}
}

u32 vmci_doorbell_ctx_handles(struct vmci_ctx *ctx, struct vmci_handle *out, u32 max)
{
	struct vmci_doorbell *db;
	unsigned long flags;
	u32 n = 0;

	spin_lock_irqsave(&ctx->lock, flags);
	list_for_each_entry(db, &ctx->doorbells, ctx_node) {
		if (n < max)
			out[n] = vmci_resource_handle(&db->res);
		n++;
	}
	spin_unlock_irqrestore(&ctx->lock, flags);
	return n;
}

void vmci_doorbell_ctx_shutdown(struct vmci_ctx *ctx)
{
	struct vmci_doorbell *db, *tmp;
	unsigned long flags;
	LIST_HEAD(doomed);

	might_sleep();
	spin_lock_irqsave(&ctx->lock, flags);
	list_splice_init(&ctx->doorbells, &doomed);
	spin_unlock_irqrestore(&ctx->lock, flags);

	/* The file's ioctls have all returned, so no unregister competes. */
	list_for_each_entry_safe(db, tmp, &doomed, ctx_node) {
		set_bit(DBELL_DYING, &db->state);
		dbell_ctx_release(db);
	}
}

u32 vmci_doorbell_host_count(void)
{
	return atomic_read(&host_count);
}

u32 vmci_doorbell_vmm_count(void)
{
	return atomic_read(&vmm_count);
}

u32 vmci_doorbell_pending_count(void)
{
	return atomic_read(&pending_count);
}

int vmci_doorbell_init(void)
{
	dbell_wq = alloc_workqueue("vmci_dbell", WQ_PERCPU, 0);
	return dbell_wq ? 0 : -ENOMEM;
}

void vmci_doorbell_exit(void)
{
	/* Every client destroyed its doorbells before we could be unloaded. */
	WARN_ON_ONCE(atomic_read(&host_count) || atomic_read(&vmm_count));
	destroy_workqueue(dbell_wq);
}

int vmcix_doorbell_create(struct vmci_handle *handle, u32 flags, u32 priv_flags,
			  vmcix_doorbell_cb cb, void *client_data)
{
	return vmci_doorbell_create(handle, flags, priv_flags, cb, client_data);
}
EXPORT_SYMBOL_GPL(vmcix_doorbell_create);

int vmcix_doorbell_destroy(struct vmci_handle handle)
{
	return vmci_doorbell_destroy(handle);
}
EXPORT_SYMBOL_GPL(vmcix_doorbell_destroy);

int vmcix_doorbell_notify(struct vmci_handle handle, u32 priv_flags)
{
	return vmci_doorbell_notify(handle, priv_flags);
}
EXPORT_SYMBOL_GPL(vmcix_doorbell_notify);
