// SPDX-License-Identifier: GPL-2.0
/*
 * VMCI events: who is subscribed to what, and handing each event to them.
 * Subscriptions never leave this machine; the hypervisor sends every event
 * to resource VMCI_EVENT_HANDLER and we fan it out here.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/export.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/xarray.h>
#include <vmci/vmcix.h>

#include "event.h"
#include "fuzz_plant.h"

/*
 * @id, @event, @cb and @client_data never change once published.
 * @active, @dead and @orphan are protected by subs_lock.
 */
struct vmci_subscription {
	u32 id;
	u32 event;
	vmci_event_cb cb;
	void *client_data;
	unsigned int active;	/* callbacks in progress */
	bool dead;		/* unsubscribed: no new callback starts */
	bool orphan;		/* unsubscribed by its own callback: the last one frees it */
	struct completion idle;	/* dead, not orphaned, and @active reached zero */
};

/*
 * Locking rules:
 * - subs_lock protects the fields above and every change to @subs. It is
 *   never held while a callback runs, so callbacks may subscribe and
 *   unsubscribe.
 * - deliver_lock is held by the one task delivering an event, callbacks
 *   included; @deliver_owner names that task (written only by it, under
 *   deliver_lock) so that a raise from a callback runs inline instead of
 *   taking the lock again, and so that unsubscribe knows it runs inside a
 *   callback, where every callback in progress is on its own stack.
 * - Order: deliver_lock, then subs_lock.
 * - A subscription keeps its ID in @subs until it is freed, so an ID is not
 *   handed out again while a callback of the old owner may still run.
 */
static DEFINE_MUTEX(deliver_lock);
static struct task_struct *deliver_owner;
static DEFINE_MUTEX(subs_lock);
/*
 * Callbacks made since load: shows what an event costs, as a count that
 * does not depend on the machine's speed (a close must cost one callback
 * per subscriber, not one per open connection).
 */
static atomic64_t callbacks_made = ATOMIC64_INIT(0);
/*
 * Live subscriptions per event. An event nobody listens to (every local
 * pair raises QP_PEER_ATTACH, which vmsock does not watch) returns before
 * deliver_lock, which every other raise on the machine takes.
 */
static atomic_t listeners[VMCI_EVENT_MAX];
static struct xarray subs;
static u32 next_id;

/* 0 and VMCI_INVALID_ID stay free so that callers may use either as "none". */
#define SUB_ID_LIMIT	XA_LIMIT(1, VMCI_INVALID_ID - 1)

/* MEM_ACCESS_* go to the VMX and vmkernel only, never to a guest or host kernel. */
static bool event_is_valid(u32 event)
{
	return event < VMCI_EVENT_MAX && event != VMCI_EVENT_MEM_ACCESS_ON &&
	       event != VMCI_EVENT_MEM_ACCESS_OFF;
}

/* Bytes that must follow struct vmci_event_data for @event to make sense. */
static size_t event_payload_size(u32 event)
{
	switch (event) {
	case VMCI_EVENT_CTX_ID_UPDATE:
	case VMCI_EVENT_CTX_REMOVED:
		return sizeof(struct vmci_event_payld_ctx);
	case VMCI_EVENT_QP_PEER_ATTACH:
	case VMCI_EVENT_QP_PEER_DETACH:
		return sizeof(struct vmci_event_payld_qp);
	default:
		return 0;
	}
}

static bool in_callback(void)
{
	return READ_ONCE(deliver_owner) == current;
}

int vmci_event_init(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(listeners); i++)
		atomic_set(&listeners[i], 0);
	xa_init_flags(&subs, XA_FLAGS_ALLOC);
	next_id = 1;
	return 0;
}

/*
 * Nothing can be delivering any more. A subscription still here is its
 * owner's bug, but the owner is gone too, so just free it.
 */
void vmci_event_exit(void)
{
	struct vmci_subscription *sub;
	unsigned int left = 0;
	unsigned long id;

	xa_for_each(&subs, id, sub) {
		xa_erase(&subs, id);
		kfree(sub);
		left++;
	}
	xa_destroy(&subs);
	if (left)
		pr_info("freed %u event subscriptions left at unload\n", left);
}

int vmci_event_subscribe(u32 event, vmci_event_cb cb, void *client_data, u32 *subscription_id)
{
	struct vmci_subscription *sub;
	int err;

	might_sleep();
	if (!cb || !subscription_id)
		return VMCI_ERROR_INVALID_ARGS;
	if (!event_is_valid(event))
		return VMCI_ERROR_EVENT_UNKNOWN;

	sub = kzalloc(sizeof(*sub), GFP_KERNEL);
	if (!sub)
		return VMCI_ERROR_NO_MEM;
	sub->event = event;
	sub->cb = cb;
	sub->client_data = client_data;
	init_completion(&sub->idle);

	/* Cyclic allocation skips IDs in use and wraps at the top of the range. */
	mutex_lock(&subs_lock);
	err = xa_alloc_cyclic(&subs, &sub->id, sub, SUB_ID_LIMIT, &next_id, GFP_KERNEL);
	mutex_unlock(&subs_lock);
	if (err < 0) {
		kfree(sub);
		return err == -EBUSY ? VMCI_ERROR_NO_HANDLE : VMCI_ERROR_NO_MEM;
	}
	atomic_inc(&listeners[event]);
	*subscription_id = sub->id;
	return VMCI_SUCCESS;
}

/* Caller holds subs_lock. Ends one callback of @sub, which may then go. */
static void callback_ended(struct vmci_subscription *sub)
{
	if (--sub->active || !sub->dead)
		return;
	if (sub->orphan) {
		xa_erase(&subs, sub->id);
		kfree(sub);
	} else {
		complete(&sub->idle);
	}
}

int vmci_event_unsubscribe(u32 subscription_id)
{
	struct vmci_subscription *sub;
	bool running;

	might_sleep();
	mutex_lock(&subs_lock);
	sub = xa_load(&subs, subscription_id);
	if (!sub || sub->dead) {
		mutex_unlock(&subs_lock);
		return VMCI_ERROR_NOT_FOUND;
	}
	sub->dead = true;
	atomic_dec(&listeners[sub->event]);
	running = sub->active;
	if (running && in_callback()) {
		/*
		 * Its running callbacks are our own callers: waiting for them
		 * would never end. The last of them frees it on return.
		 */
		sub->orphan = true;
		mutex_unlock(&subs_lock);
		return VMCI_SUCCESS;
	}
	mutex_unlock(&subs_lock);

	if (running)
		wait_for_completion(&sub->idle);

	/* A delivery walking @subs may still be looking at it until erased. */
	mutex_lock(&subs_lock);
	xa_erase(&subs, sub->id);
	mutex_unlock(&subs_lock);
	kfree(sub);
	return VMCI_SUCCESS;
}

/*
 * Calls every live subscriber of the event in @ev. The subscriber is
 * marked active before subs_lock is dropped for its callback, which keeps
 * it, and its place in @subs, alive until the callback returns.
 */
static void deliver(const struct vmci_event_data_max *ev)
{
	struct vmci_subscription *sub;
	bool outermost = !in_callback();
	unsigned long id;

	if (!atomic_read(&listeners[ev->event_data.event]))
		return;
	if (outermost) {
		mutex_lock(&deliver_lock);
		WRITE_ONCE(deliver_owner, current);
	}

	mutex_lock(&subs_lock);
	xa_for_each(&subs, id, sub) {
		if (sub->dead || sub->event != ev->event_data.event)
			continue;
		sub->active++;
		mutex_unlock(&subs_lock);
		atomic64_inc(&callbacks_made);
		sub->cb(sub->id, &ev->event_data, sub->client_data);
		mutex_lock(&subs_lock);
		callback_ended(sub);
	}
	mutex_unlock(&subs_lock);

	if (outermost) {
		WRITE_ONCE(deliver_owner, NULL);
		mutex_unlock(&deliver_lock);
	}
}

/*
 * @data holds @size bytes: struct vmci_event_data and the event's payload.
 * They may sit in a buffer the device still writes to, so they are read
 * once, into a zeroed copy, after @size is known to be sane; everything
 * later looks at the copy only.
 */
static int deliver_checked(const void *data, u64 size)
{
	struct vmci_event_data_max ev;

	if (size < sizeof(struct vmci_event_data) || size > sizeof(ev))
		return VMCI_ERROR_INVALID_ARGS;

	memset(&ev, 0, sizeof(ev));
	memcpy(&ev, data, size);
	if (!event_is_valid(ev.event_data.event))
		return VMCI_ERROR_EVENT_UNKNOWN;
	if (size < sizeof(struct vmci_event_data) + event_payload_size(ev.event_data.event))
		return VMCI_ERROR_INVALID_ARGS;

	vmci_fuzz_plant_event(&ev);
	deliver(&ev);
	return VMCI_SUCCESS;
}

int vmci_event_dispatch(const struct vmci_datagram *dg)
{
	might_sleep();
	if (!dg || dg->src.context != VMCI_HYPERVISOR_CONTEXT_ID ||
	    dg->dst.resource != VMCI_EVENT_HANDLER)
		return VMCI_ERROR_INVALID_ARGS;
	return deliver_checked((const u8 *)dg + VMCI_DG_HEADERSIZE, READ_ONCE(dg->payload_size));
}

/*
 * Events that originate in this driver are what the hypervisor would have
 * sent as the datagram's payload, and pass the same checks.
 */
int vmci_event_raise(u32 event, const void *payload, size_t payload_size)
{
	struct vmci_event_data_max ev;

	might_sleep();
	if (payload_size > sizeof(ev.payload) || (payload_size && !payload))
		return VMCI_ERROR_INVALID_ARGS;

	memset(&ev, 0, sizeof(ev));
	ev.event_data.event = event;
	if (payload_size)
		memcpy(&ev.payload, payload, payload_size);
	return deliver_checked(&ev, sizeof(ev.event_data) + payload_size);
}

bool vmci_event_wanted(u32 event)
{
	return event_is_valid(event) && atomic_read(&listeners[event]);
}

u64 vmci_event_callback_count(void)
{
	return atomic64_read(&callbacks_made);
}

void vmci_event_set_next_id(u32 id)
{
	mutex_lock(&subs_lock);
	next_id = id;
	mutex_unlock(&subs_lock);
}

int vmcix_event_subscribe(u32 event, vmcix_event_cb cb, void *client_data, u32 *sub_id)
{
	return vmci_event_subscribe(event, cb, client_data, sub_id);
}
EXPORT_SYMBOL_GPL(vmcix_event_subscribe);

int vmcix_event_unsubscribe(u32 sub_id)
{
	return vmci_event_unsubscribe(sub_id);
}
EXPORT_SYMBOL_GPL(vmcix_event_unsubscribe);
