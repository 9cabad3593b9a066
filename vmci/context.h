/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMCI contexts of the host personality: the host itself (CID 2, alive
 * while the module is loaded) and one context per VMM process, created
 * through /dev/vmci and destroyed when its file is closed. A VMM context
 * owns a queue of datagrams waiting for the VMM to fetch them.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_CONTEXT_H
#define VMCI_CONTEXT_H

#include <linux/gfp.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <vmci/vmci_abi.h>

struct mm_struct;
struct page;
struct pid;

/*
 * Bounds on one context's pending queue. Bytes are counted as
 * VMCI_DG_SIZE of each datagram. The count bound caps the per-entry
 * overhead that a stream of empty datagrams would otherwise pile up
 * under the byte bound (139264 / 24 = 5802 entries). Datagrams from the
 * hypervisor context (events) get VMCI_MAX_DATAGRAM_AND_EVENT_QUEUE_SIZE
 * bytes and VMCI_CTX_EVENT_EXTRA more entries, so a VMM that stopped
 * reading still learns that peers went away.
 */
#define VMCI_CTX_MAX_PENDING_DGS	1024U
#define VMCI_CTX_EVENT_EXTRA		1024U

/* Contexts whose removal one context may watch at a time. */
#define VMCI_CTX_MAX_SUBSCRIPTIONS	256U

/*
 * Locking rules:
 * - The context table (context.c) is an RCU list. vmci_ctx_get() may run
 *   in any context; it takes a reference only while @refs is not zero.
 *   Insertion, removal, walks that allocate, and subscription changes are
 *   serialised by the table mutex, so they happen in process context.
 * - @cid, @priv_flags and @owner never change after creation.
 * - @lock (IRQ-safe spinlock) protects everything below it. The notify
 *   byte is written only under @lock, so it always matches the queue.
 * - A context is "dead" once vmci_ctx_destroy() has started: it is no
 *   longer in the table and refuses new datagrams, but holders of a
 *   reference may still use the object until they put it.
 */
struct vmci_ctx {
	u32 cid;
	u32 priv_flags;
	struct pid *owner;		/* process that created it; NULL: in-kernel */
	struct kref refs;
	struct list_head table_node;
	struct rcu_head rcu;
	wait_queue_head_t wait;		/* woken when a datagram is queued */

	/*
	 * The broker's pairs this VMM is a party of, and their count and
	 * bytes: under the broker's lock (qpair_broker.c), so that charging
	 * a pair and tearing the context down cost no walk of every pair.
	 */
	struct list_head qp_pairs;
	u32 qp_pair_count;
	u64 qp_bytes;

	spinlock_t lock;		/* protects the members below */
	bool dead;
	struct list_head pending;	/* struct vmci_ctx_dg, oldest first */
	u32 pending_count;
	size_t pending_bytes;
	struct page *notify_page;	/* pinned user page holding the notify byte */
	struct mm_struct *notify_mm;	/* its pin is charged here (pin_account.h) */
	unsigned int notify_offset;
	struct list_head subscriptions;	/* contexts whose removal we report */
	u32 subscription_count;
	struct list_head doorbells;	/* doorbells the VMM registered (doorbell.c) */
	u32 doorbell_count;
	struct list_head dbell_pending;	/* of those, the ones rung and not yet fetched */
	u32 dbell_pending_count;
};

/* Caller holds ctx->lock: what the notify byte and poll() report. */
static inline bool vmci_ctx_work_pending_locked(const struct vmci_ctx *ctx)
{
	return !list_empty(&ctx->pending) || !list_empty(&ctx->dbell_pending);
}

/*
 * One pending datagram; exactly @size bytes of @data are the datagram.
 * @owner is set while a receiver holds it off the queue: the context it
 * is still charged to (see vmci_ctx_dequeue_datagram()).
 */
struct vmci_ctx_dg {
	struct list_head node;
	struct vmci_ctx *owner;
	size_t size;
	u64 data[];
};

static inline struct vmci_datagram *vmci_ctx_dg_datagram(struct vmci_ctx_dg *e)
{
	return (struct vmci_datagram *)e->data;
}

int vmci_ctx_init(void);
void vmci_ctx_exit(void);

/*
 * Process context. vmci_ctx_create() is for in-kernel users;
 * vmci_ctx_create_for_process() creates one on behalf of the calling
 * process (its thread group), which may hold at most @max_per_process at
 * a time: VMCI_ERROR_NO_RESOURCES beyond that. Both give
 * VMCI_ERROR_NO_HANDLE when no CID is free.
 */
int vmci_ctx_create(u32 wanted_cid, u32 priv_flags, struct vmci_ctx **ctx_out);
int vmci_ctx_create_for_process(u32 wanted_cid, u32 priv_flags, u32 max_per_process,
				struct vmci_ctx **ctx_out);
void vmci_ctx_destroy(struct vmci_ctx *ctx);
int vmci_ctx_add_notification(struct vmci_ctx *ctx, u32 remote_cid);
int vmci_ctx_remove_notification(struct vmci_ctx *ctx, u32 remote_cid);
int vmci_ctx_set_notify_uva(struct vmci_ctx *ctx, u64 uva);
/* Copies up to @max subscribed CIDs to @cids; returns how many there are. */
u32 vmci_ctx_subscriptions(struct vmci_ctx *ctx, u32 *cids, u32 max);

/* Any context. */
struct vmci_ctx *vmci_ctx_get(u32 cid);
void vmci_ctx_put(struct vmci_ctx *ctx);
struct seq_file;
/* Every VMM context, one line each (/proc/driver/vmci/contexts). */
void vmci_ctx_show_all(struct seq_file *m);

/*
 * The pending queue. Enqueue never sleeps unless @gfp allows it; dequeue
 * hands the oldest datagram to the caller only if it is at most
 * @max_size bytes. A dequeued entry is freed with vmci_ctx_free_datagram()
 * or given back, still first in line, with vmci_ctx_requeue_datagram(),
 * while the caller still holds its reference on the context: until then
 * it counts against the queue's bounds.
 */
int vmci_ctx_enqueue_datagram(struct vmci_ctx *ctx, const struct vmci_datagram *dg, gfp_t gfp);
int vmci_ctx_dequeue_datagram(struct vmci_ctx *ctx, size_t max_size, struct vmci_ctx_dg **out);
void vmci_ctx_requeue_datagram(struct vmci_ctx *ctx, struct vmci_ctx_dg *e);
void vmci_ctx_free_datagram(struct vmci_ctx_dg *e);
bool vmci_ctx_has_pending(struct vmci_ctx *ctx);
/* Caller holds ctx->lock; rewrites the notify byte after a change of work. */
void vmci_ctx_update_notify_locked(struct vmci_ctx *ctx);

/* For context.c: empties the queue and drops the notify page on destroy. */
void vmci_ctx_queue_shutdown(struct vmci_ctx *ctx);

/* Counters for tests (debugfs). */
u32 vmci_ctx_vmm_count(void);
void vmci_ctx_pending_totals(u64 *datagrams, u64 *bytes);

#endif /* VMCI_CONTEXT_H */
