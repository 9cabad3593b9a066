// SPDX-License-Identifier: GPL-2.0
/*
 * The context table: creation with CID allocation, lookup, destruction,
 * and the "tell me when context X goes away" subscriptions.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/rculist.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "context.h"
#include "doorbell.h"
#include "event.h"
#include "privilege.h"
#include "route.h"

/*
 * Table of live contexts; see the locking rules in context.h. The list is
 * for walks; ctx_by_cid indexes the same contexts by CID, so that a
 * lookup (every datagram to a context, every CID picked) costs no walk of
 * every context. Both change together under ctx_table_lock.
 */
static LIST_HEAD(ctx_table);
static DEFINE_XARRAY(ctx_by_cid);
static DEFINE_MUTEX(ctx_table_lock);
static u32 ctx_table_size;
static atomic_t vmm_count = ATOMIC_INIT(0);
static struct vmci_ctx *host_ctx;

struct ctx_subscription {
	struct list_head node;
	u32 remote_cid;
};

/* CTX_REMOVED as a VMM reads it from its queue. */
struct ctx_removed_msg {
	struct vmci_event_msg msg;
	struct vmci_event_payld_ctx payload;
};

static struct vmci_ctx *ctx_alloc(u32 priv_flags)
{
	struct vmci_ctx *ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);

	if (!ctx)
		return NULL;
	ctx->priv_flags = priv_flags;
	kref_init(&ctx->refs);
	init_waitqueue_head(&ctx->wait);
	spin_lock_init(&ctx->lock);
	INIT_LIST_HEAD(&ctx->pending);
	INIT_LIST_HEAD(&ctx->subscriptions);
	INIT_LIST_HEAD(&ctx->doorbells);
	INIT_LIST_HEAD(&ctx->dbell_pending);
	INIT_LIST_HEAD(&ctx->qp_pairs);
	return ctx;
}

/* Caller holds ctx_table_lock. */
static struct vmci_ctx *ctx_find_locked(u32 cid)
{
	return xa_load(&ctx_by_cid, cid);
}

static u32 cid_after(u32 cid)
{
	return cid >= VMCI_INVALID_ID - 1 ? VMCI_RESERVED_CID_LIMIT : cid + 1;
}

/*
 * Caller holds ctx_table_lock. CIDs below VMCI_RESERVED_CID_LIMIT name the
 * hypervisor, the obsolete well-known context, the host and future fixed
 * roles, so a VMM never gets one; neither does our own guest CID when the
 * guest personality is up, since datagrams to it are delivered locally.
 * A taken CID is bumped to the next free one. With n contexts in the
 * table at most n candidates are taken, so n + 1 tries always succeed.
 */
static u32 pick_cid(u32 wanted)
{
	u32 cid = wanted;
	u32 tries;

	if (cid < VMCI_RESERVED_CID_LIMIT || cid == VMCI_INVALID_ID)
		cid = VMCI_RESERVED_CID_LIMIT;
	for (tries = 0; tries <= ctx_table_size + 1; tries++, cid = cid_after(cid)) {
		if (cid != vmci_route_local_cid() && !ctx_find_locked(cid))
			return cid;
	}
	return VMCI_INVALID_ID;
}

/*
 * Caller holds ctx_table_lock; publication makes the context findable.
 * Fails only when the index cannot allocate (-ENOMEM); @ctx->cid is free.
 */
static int ctx_publish_locked(struct vmci_ctx *ctx)
{
	int err = xa_insert(&ctx_by_cid, ctx->cid, ctx, GFP_KERNEL);

	if (err)
		return err;
	list_add_tail_rcu(&ctx->table_node, &ctx_table);
	ctx_table_size++;
	return 0;
}

/* Caller holds ctx_table_lock: contexts the process @owner created and still has. */
static u32 owner_count_locked(const struct pid *owner)
{
	const struct vmci_ctx *ctx;
	u32 n = 0;

	list_for_each_entry(ctx, &ctx_table, table_node)
		n += ctx->owner == owner;
	return n;
}

/*
 * Creates a VMM context. @wanted_cid is a hint (see pick_cid()); the CID
 * actually given is in (*ctx_out)->cid. The caller owns the one reference
 * and ends the context with vmci_ctx_destroy(). @owner (NULL for in-kernel
 * callers) is charged with the context; creation fails with
 * VMCI_ERROR_NO_RESOURCES when it already has @owner_max of them.
 * VMCI_ERROR_NO_HANDLE: no CID is free.
 */
static int ctx_create(u32 wanted_cid, u32 priv_flags, struct pid *owner, u32 owner_max,
		      struct vmci_ctx **ctx_out)
{
	struct vmci_ctx *ctx;
	u32 cid;

	if (!ctx_out || !vmci_priv_flags_valid(priv_flags))
		return VMCI_ERROR_INVALID_ARGS;

	ctx = ctx_alloc(priv_flags);
	if (!ctx)
		return VMCI_ERROR_NO_MEM;

	mutex_lock(&ctx_table_lock);
	if (owner && owner_count_locked(owner) >= owner_max) {
		mutex_unlock(&ctx_table_lock);
		kfree(ctx);
		return VMCI_ERROR_NO_RESOURCES;
	}
	cid = pick_cid(wanted_cid);
	if (cid == VMCI_INVALID_ID) {
		mutex_unlock(&ctx_table_lock);
		kfree(ctx);
		return VMCI_ERROR_NO_HANDLE;
	}
	ctx->cid = cid;
	ctx->owner = get_pid(owner);
	if (ctx_publish_locked(ctx)) {
		mutex_unlock(&ctx_table_lock);
		put_pid(ctx->owner);
		kfree(ctx);
		return VMCI_ERROR_NO_MEM;
	}
	atomic_inc(&vmm_count);
	mutex_unlock(&ctx_table_lock);

	*ctx_out = ctx;
	return VMCI_SUCCESS;
}

int vmci_ctx_create(u32 wanted_cid, u32 priv_flags, struct vmci_ctx **ctx_out)
{
	return ctx_create(wanted_cid, priv_flags, NULL, 0, ctx_out);
}

int vmci_ctx_create_for_process(u32 wanted_cid, u32 priv_flags, u32 max_per_process,
				struct vmci_ctx **ctx_out)
{
	return ctx_create(wanted_cid, priv_flags, task_tgid(current), max_per_process, ctx_out);
}

/* Any context: the index is read under RCU, and contexts are freed after a grace period. */
struct vmci_ctx *vmci_ctx_get(u32 cid)
{
	struct vmci_ctx *ctx;

	rcu_read_lock();
	ctx = xa_load(&ctx_by_cid, cid);
	if (ctx && !kref_get_unless_zero(&ctx->refs))
		ctx = NULL;
	rcu_read_unlock();
	return ctx;
}

static void ctx_release(struct kref *kref)
{
	struct vmci_ctx *ctx = container_of(kref, struct vmci_ctx, refs);
	struct ctx_subscription *sub, *tmp;

	/* Destroy emptied the queue and the table no longer lists us. */
	WARN_ON_ONCE(!list_empty(&ctx->pending) || ctx->notify_page ||
		     !list_empty(&ctx->doorbells));
	list_for_each_entry_safe(sub, tmp, &ctx->subscriptions, node)
		kfree(sub);
	put_pid(ctx->owner);
	/* RCU readers of the table may still be looking at table_node. */
	kfree_rcu(ctx, rcu);
}

void vmci_ctx_put(struct vmci_ctx *ctx)
{
	kref_put(&ctx->refs, ctx_release);
}

/* Removes @remote_cid from @ctx's subscriptions; true if it was there. */
static bool ctx_unsubscribe(struct vmci_ctx *ctx, u32 remote_cid)
{
	struct ctx_subscription *sub, *found = NULL;
	unsigned long flags;

	spin_lock_irqsave(&ctx->lock, flags);
	list_for_each_entry(sub, &ctx->subscriptions, node) {
		if (sub->remote_cid == remote_cid) {
			list_del(&sub->node);
			ctx->subscription_count--;
			found = sub;
			break;
		}
	}
	spin_unlock_irqrestore(&ctx->lock, flags);
	kfree(found);
	return found;
}

/*
 * Caller holds ctx_table_lock and has already unlinked @gone. Every
 * subscriber gets the event as a datagram in its queue; the subscription
 * is spent, so a later context that reuses the CID is not reported.
 */
static void report_removal_locked(u32 gone_cid)
{
	struct ctx_removed_msg ev = {
		.msg.hdr.dst.resource = VMCI_EVENT_HANDLER,
		.msg.hdr.src = vmci_make_handle(VMCI_HYPERVISOR_CONTEXT_ID,
						VMCI_CONTEXT_RESOURCE_ID),
		.msg.hdr.payload_size = sizeof(ev) - sizeof(ev.msg.hdr),
		.msg.event_data.event = VMCI_EVENT_CTX_REMOVED,
		.payload.context_id = gone_cid,
	};
	struct vmci_ctx *ctx;

	list_for_each_entry(ctx, &ctx_table, table_node) {
		if (!ctx_unsubscribe(ctx, gone_cid))
			continue;
		ev.msg.hdr.dst.context = ctx->cid;
		/* A subscriber whose queue is full loses the event, as with any datagram. */
		vmci_ctx_enqueue_datagram(ctx, &ev.msg.hdr, GFP_KERNEL);
	}
}

static void ctx_unlink_locked(struct vmci_ctx *ctx)
{
	unsigned long flags;

	xa_erase(&ctx_by_cid, ctx->cid);
	list_del_rcu(&ctx->table_node);
	ctx_table_size--;
	spin_lock_irqsave(&ctx->lock, flags);
	ctx->dead = true;
	spin_unlock_irqrestore(&ctx->lock, flags);
}

/*
 * Ends a VMM context and drops the creator's reference. Queued datagrams
 * are freed at once (not when the last reference goes), so memory and the
 * counters come back as soon as the VMM closes its file.
 */
void vmci_ctx_destroy(struct vmci_ctx *ctx)
{
	struct vmci_event_payld_ctx payload = { .context_id = ctx->cid };

	might_sleep();
	mutex_lock(&ctx_table_lock);
	ctx_unlink_locked(ctx);
	atomic_dec(&vmm_count);
	report_removal_locked(ctx->cid);
	mutex_unlock(&ctx_table_lock);

	vmci_doorbell_ctx_shutdown(ctx);
	vmci_ctx_queue_shutdown(ctx);
	/* In-kernel host subscribers; their callbacks may sleep and call back in. */
	vmci_event_raise(VMCI_EVENT_CTX_REMOVED, &payload, sizeof(payload));
	vmci_ctx_put(ctx);
}

/*
 * Asks for a CTX_REMOVED event datagram when @remote_cid is destroyed.
 * The remote must exist now; the table lock makes the check and the
 * insertion atomic against that context's destruction, so no subscription
 * is ever left for a CID that is already gone.
 */
int vmci_ctx_add_notification(struct vmci_ctx *ctx, u32 remote_cid)
{
	struct ctx_subscription *sub, *cur;
	struct vmci_ctx *remote;
	unsigned long flags;
	int result = VMCI_SUCCESS;

	if (remote_cid == ctx->cid)
		return VMCI_ERROR_INVALID_ARGS;
	sub = kzalloc(sizeof(*sub), GFP_KERNEL);
	if (!sub)
		return VMCI_ERROR_NO_MEM;
	sub->remote_cid = remote_cid;

	mutex_lock(&ctx_table_lock);
	remote = ctx_find_locked(remote_cid);
	if (!remote) {
		result = VMCI_ERROR_NOT_FOUND;
		goto out;
	}
	if (!vmci_privileges_allow(ctx->priv_flags, remote->priv_flags)) {
		result = VMCI_ERROR_NO_ACCESS;
		goto out;
	}
	spin_lock_irqsave(&ctx->lock, flags);
	list_for_each_entry(cur, &ctx->subscriptions, node) {
		if (cur->remote_cid == remote_cid) {
			result = VMCI_ERROR_ALREADY_EXISTS;
			break;
		}
	}
	if (result == VMCI_SUCCESS && ctx->subscription_count >= VMCI_CTX_MAX_SUBSCRIPTIONS)
		result = VMCI_ERROR_NO_RESOURCES;
	if (result == VMCI_SUCCESS) {
		list_add_tail(&sub->node, &ctx->subscriptions);
		ctx->subscription_count++;
		sub = NULL;
	}
	spin_unlock_irqrestore(&ctx->lock, flags);
out:
	mutex_unlock(&ctx_table_lock);
	kfree(sub);
	return result;
}

int vmci_ctx_remove_notification(struct vmci_ctx *ctx, u32 remote_cid)
{
	bool found;

	mutex_lock(&ctx_table_lock);
	found = ctx_unsubscribe(ctx, remote_cid);
	mutex_unlock(&ctx_table_lock);
	return found ? VMCI_SUCCESS : VMCI_ERROR_NOT_FOUND;
}

u32 vmci_ctx_subscriptions(struct vmci_ctx *ctx, u32 *cids, u32 max)
{
	struct ctx_subscription *sub;
	unsigned long flags;
	u32 n = 0;

	spin_lock_irqsave(&ctx->lock, flags);
	list_for_each_entry(sub, &ctx->subscriptions, node) {
		if (n < max)
			cids[n] = sub->remote_cid;
		n++;
	}
	spin_unlock_irqrestore(&ctx->lock, flags);
	return n;
}

u32 vmci_ctx_vmm_count(void)
{
	return atomic_read(&vmm_count);
}

/* The host context is findable by CID like any other, for the whole module life. */
int vmci_ctx_init(void)
{
	int err;

	host_ctx = ctx_alloc(VMCI_NO_PRIVILEGE_FLAGS);
	if (!host_ctx)
		return -ENOMEM;
	host_ctx->cid = VMCI_HOST_CONTEXT_ID;
	mutex_lock(&ctx_table_lock);
	err = ctx_publish_locked(host_ctx);
	mutex_unlock(&ctx_table_lock);
	if (err) {
		kfree(host_ctx);
		host_ctx = NULL;
	}
	return err;
}

/* Every /dev/vmci file is closed by now, so only the host context is left. */
void vmci_ctx_exit(void)
{
	mutex_lock(&ctx_table_lock);
	ctx_unlink_locked(host_ctx);
	WARN_ON_ONCE(!list_empty(&ctx_table) || !xa_empty(&ctx_by_cid));
	mutex_unlock(&ctx_table_lock);
	vmci_ctx_queue_shutdown(host_ctx);
	vmci_ctx_put(host_ctx);
	host_ctx = NULL;
}

/* /proc/driver/vmci/contexts: one line per VMM context (stats.c). */
void vmci_ctx_show_all(struct seq_file *m)
{
	struct vmci_ctx *ctx;

	seq_puts(m, "cid priv_flags pid pending_datagrams pending_bytes doorbells subscriptions\n");
	mutex_lock(&ctx_table_lock);
	list_for_each_entry(ctx, &ctx_table, table_node) {
		u32 count, dbells, subs;
		unsigned long flags;
		size_t bytes;

		spin_lock_irqsave(&ctx->lock, flags);
		count = ctx->pending_count;
		bytes = ctx->pending_bytes;
		dbells = ctx->doorbell_count;
		subs = ctx->subscription_count;
		spin_unlock_irqrestore(&ctx->lock, flags);
		seq_printf(m, "%u 0x%x %d %u %zu %u %u\n", ctx->cid, ctx->priv_flags,
			   ctx->owner ? pid_vnr(ctx->owner) : 0, count, bytes, dbells, subs);
	}
	mutex_unlock(&ctx_table_lock);
}
