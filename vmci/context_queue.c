// SPDX-License-Identifier: GPL-2.0
/*
 * A context's pending datagrams and the ways its VMM learns about them:
 * the notify byte in a pinned user page, and the wait queue behind poll().
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/atomic.h>
#include <linux/highmem.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "context.h"
#include "pin_account.h"

static atomic64_t total_pending_dgs = ATOMIC64_INIT(0);
static atomic64_t total_pending_bytes = ATOMIC64_INIT(0);

/*
 * Caller holds ctx->lock. The byte mirrors "something is pending"
 * (datagrams or rung doorbells), so a VMM that polls it never misses work
 * and never spins on stale work.
 * kmap_local_page() works in any context, so routers in atomic context
 * may update it.
 */
void vmci_ctx_update_notify_locked(struct vmci_ctx *ctx)
{
	u8 *mapped;

	if (!ctx->notify_page)
		return;
	mapped = kmap_local_page(ctx->notify_page);
	WRITE_ONCE(mapped[ctx->notify_offset], vmci_ctx_work_pending_locked(ctx));
	kunmap_local(mapped);
}

/*
 * Caller holds ctx->lock. The bytes and entries counted are those queued
 * plus those a receiver has taken off the queue but not yet freed or put
 * back (see vmci_ctx_dequeue_datagram()), so neither a requeue nor the
 * higher bound of events can leave the queue holding more than its bound
 * for ordinary datagrams without this check refusing them: the
 * subtraction is only formed once pending_bytes is known to be below it.
 */
static bool ctx_has_room_locked(const struct vmci_ctx *ctx, size_t size, bool from_hypervisor)
{
	size_t max_bytes = VMCI_MAX_DATAGRAM_QUEUE_SIZE;
	u32 max_count = VMCI_CTX_MAX_PENDING_DGS;

	if (from_hypervisor) {
		max_bytes = VMCI_MAX_DATAGRAM_AND_EVENT_QUEUE_SIZE;
		max_count += VMCI_CTX_EVENT_EXTRA;
	}
	if (ctx->pending_count >= max_count || ctx->pending_bytes > max_bytes)
		return false;
	return size <= max_bytes - ctx->pending_bytes;
}

static void ctx_account_locked(struct vmci_ctx *ctx, struct vmci_ctx_dg *e, bool add)
{
	if (add) {
		ctx->pending_count++;
		ctx->pending_bytes += e->size;
		atomic64_inc(&total_pending_dgs);
		atomic64_add(e->size, &total_pending_bytes);
	} else {
		ctx->pending_count--;
		ctx->pending_bytes -= e->size;
		atomic64_dec(&total_pending_dgs);
		atomic64_sub(e->size, &total_pending_bytes);
	}
}

/*
 * Copies @dg (VMCI_DG_SIZE bytes, already validated by the router) to the
 * end of @ctx's queue. Results: VMCI_SUCCESS; VMCI_ERROR_NO_RESOURCES when
 * the queue is full; VMCI_ERROR_DST_UNREACHABLE when @ctx is being
 * destroyed; VMCI_ERROR_NO_MEM.
 */
int vmci_ctx_enqueue_datagram(struct vmci_ctx *ctx, const struct vmci_datagram *dg, gfp_t gfp)
{
	bool from_hypervisor = dg->src.context == VMCI_HYPERVISOR_CONTEXT_ID;
	size_t size = VMCI_DG_SIZE(dg);
	struct vmci_ctx_dg *e;
	unsigned long flags;
	int result = VMCI_SUCCESS;

	e = kmalloc(sizeof(*e) + size, gfp | __GFP_NOWARN);
	if (!e)
		return VMCI_ERROR_NO_MEM;
	/* Exactly @size bytes: the whole entry is initialised, nothing stale reaches user space. */
	memcpy(e->data, dg, size);
	e->size = size;
	e->owner = NULL;

	spin_lock_irqsave(&ctx->lock, flags);
	if (ctx->dead)
		result = VMCI_ERROR_DST_UNREACHABLE;
	else if (!ctx_has_room_locked(ctx, size, from_hypervisor))
		result = VMCI_ERROR_NO_RESOURCES;
	if (result == VMCI_SUCCESS) {
		list_add_tail(&e->node, &ctx->pending);
		ctx_account_locked(ctx, e, true);
		vmci_ctx_update_notify_locked(ctx);
		e = NULL;
	}
	spin_unlock_irqrestore(&ctx->lock, flags);

	kfree(e);
	if (result == VMCI_SUCCESS)
		wake_up_interruptible(&ctx->wait);
	return result;
}

/*
 * Takes the oldest datagram if it fits in @max_size. Results:
 * VMCI_SUCCESS (*@out set); VMCI_ERROR_NO_MORE_DATAGRAMS; VMCI_ERROR_NO_MEM
 * when the oldest is larger than @max_size (it stays first in line).
 * The entry leaves the queue but stays charged to @ctx until it is freed
 * or requeued, so a receiver stalled on its user buffer (a fault handled
 * by userfaultfd, say) keeps its room and cannot make room for more.
 */
int vmci_ctx_dequeue_datagram(struct vmci_ctx *ctx, size_t max_size, struct vmci_ctx_dg **out)
{
	struct vmci_ctx_dg *e;
	unsigned long flags;
	int result = VMCI_SUCCESS;

	spin_lock_irqsave(&ctx->lock, flags);
	e = list_first_entry_or_null(&ctx->pending, struct vmci_ctx_dg, node);
	if (!e) {
		result = VMCI_ERROR_NO_MORE_DATAGRAMS;
	} else if (e->size > max_size) {
		result = VMCI_ERROR_NO_MEM;
	} else {
		list_del(&e->node);
		e->owner = ctx;
		vmci_ctx_update_notify_locked(ctx);
		*out = e;
	}
	spin_unlock_irqrestore(&ctx->lock, flags);
	return result;
}

/*
 * Puts back a datagram the caller could not deliver (a faulting user
 * buffer). It never stopped being counted, so putting it back cannot push
 * the queue past its bound.
 */
void vmci_ctx_requeue_datagram(struct vmci_ctx *ctx, struct vmci_ctx_dg *e)
{
	unsigned long flags;
	bool requeued = false;

	spin_lock_irqsave(&ctx->lock, flags);
	if (!ctx->dead) {
		list_add(&e->node, &ctx->pending);
		e->owner = NULL;
		vmci_ctx_update_notify_locked(ctx);
		requeued = true;
	}
	spin_unlock_irqrestore(&ctx->lock, flags);
	if (requeued)
		wake_up_interruptible(&ctx->wait);
	else
		vmci_ctx_free_datagram(e);
}

/* The caller still holds the reference on e->owner it dequeued with. */
void vmci_ctx_free_datagram(struct vmci_ctx_dg *e)
{
	struct vmci_ctx *ctx = e->owner;
	unsigned long flags;

	spin_lock_irqsave(&ctx->lock, flags);
	ctx_account_locked(ctx, e, false);
	spin_unlock_irqrestore(&ctx->lock, flags);
	kfree(e);
}

bool vmci_ctx_has_pending(struct vmci_ctx *ctx)
{
	unsigned long flags;
	bool pending;

	spin_lock_irqsave(&ctx->lock, flags);
	pending = vmci_ctx_work_pending_locked(ctx);
	spin_unlock_irqrestore(&ctx->lock, flags);
	return pending;
}

/* A pinned notify page and the mm its pin is charged to. */
struct notify_pin {
	struct page *page;
	struct mm_struct *mm;
};

/* Swaps in @pin (page may be NULL) as the notify page; *@pin gets the old one. */
static void ctx_swap_notify_page(struct vmci_ctx *ctx, struct notify_pin *pin,
				 unsigned int offset)
{
	struct notify_pin old;
	unsigned long flags;

	spin_lock_irqsave(&ctx->lock, flags);
	old.page = ctx->notify_page;
	old.mm = ctx->notify_mm;
	ctx->notify_page = pin->page;
	ctx->notify_mm = pin->mm;
	ctx->notify_offset = offset;
	vmci_ctx_update_notify_locked(ctx);
	spin_unlock_irqrestore(&ctx->lock, flags);
	*pin = old;
}

static void unpin_notify_page(struct notify_pin *pin)
{
	if (!pin->page)
		return;
	unpin_user_pages_dirty_lock(&pin->page, 1, true);
	vmci_pin_uncharge(pin->mm, 1);
}

/*
 * Registers the user byte at @uva as this context's notify flag (0
 * unregisters). The page stays pinned until replaced or the context dies,
 * because routers write the byte from contexts that cannot fault pages
 * in; the pin is charged to the caller's RLIMIT_MEMLOCK (pin_account.h).
 * Returns 0, -EFAULT when @uva is not a writable user address, or
 * -ENOMEM when the caller may not pin another page.
 */
int vmci_ctx_set_notify_uva(struct vmci_ctx *ctx, u64 uva)
{
	struct notify_pin pin = { };
	unsigned long addr = uva;
	int pinned, err;

	might_sleep();
	if (uva) {
		if (addr != uva || !access_ok((void __user *)addr, 1))
			return -EFAULT;
		err = vmci_pin_charge(1, &pin.mm);
		if (err)
			return err;
		pinned = pin_user_pages_fast(addr & PAGE_MASK, 1, FOLL_WRITE | FOLL_LONGTERM,
					     &pin.page);
		/* @page means something only when exactly one page was pinned. */
		if (pinned != 1) {
			vmci_pin_uncharge(pin.mm, 1);
			return -EFAULT;
		}
	}
	ctx_swap_notify_page(ctx, &pin, offset_in_page(addr));
	unpin_notify_page(&pin);
	return 0;
}

void vmci_ctx_queue_shutdown(struct vmci_ctx *ctx)
{
	struct notify_pin pin = { };
	struct vmci_ctx_dg *e, *tmp;
	unsigned long flags;
	LIST_HEAD(doomed);

	spin_lock_irqsave(&ctx->lock, flags);
	list_for_each_entry_safe(e, tmp, &ctx->pending, node) {
		list_move_tail(&e->node, &doomed);
		ctx_account_locked(ctx, e, false);
	}
	spin_unlock_irqrestore(&ctx->lock, flags);

	list_for_each_entry_safe(e, tmp, &doomed, node)
		kfree(e);
	ctx_swap_notify_page(ctx, &pin, 0);
	unpin_notify_page(&pin);
}

void vmci_ctx_pending_totals(u64 *datagrams, u64 *bytes)
{
	*datagrams = atomic64_read(&total_pending_dgs);
	*bytes = atomic64_read(&total_pending_bytes);
}
