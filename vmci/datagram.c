// SPDX-License-Identifier: GPL-2.0
/*
 * Datagram handles and delivery to them, directly or from a workqueue.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <vmci/fuzz_kcov.h>

#include "datagram.h"
#include "privilege.h"
#include "resource.h"
#include "route.h"

#define VMCI_DG_VALID_FLAGS	(VMCI_FLAG_ANYCID_DG_HND | VMCI_FLAG_DG_DELAYED_CB)

/*
 * Everything but @state is written before the resource is published and
 * never changes, so deliverers read it without a lock.
 */
struct dg_entry {
	struct vmci_resource res;
	vmcix_datagram_recv_cb cb;
	void *client_data;
	u32 flags;
	u32 priv_flags;
	unsigned long state;
	/* Set by an asynchronous destroy, called once the entry is unused. */
	void (*gone)(void *client_data);
};

/* Set by the one destroy call that wins for an entry. */
#define DG_ENTRY_DYING	0

/* A copied datagram waiting for its delayed callback; it holds an entry reference. */
struct dg_delayed {
	struct work_struct work;
	struct dg_entry *entry;
	u64 data[];
};

static struct workqueue_struct *dg_wq;
static atomic_t handle_count = ATOMIC_INIT(0);
static atomic_t delayed_count = ATOMIC_INIT(0);

static struct dg_entry *dg_entry_lookup(struct vmci_handle handle)
{
	struct vmci_resource *res;

	res = vmci_resource_by_handle(handle, VMCI_RESOURCE_TYPE_DATAGRAM);
	return res ? container_of(res, struct dg_entry, res) : NULL;
}

static void dg_entry_put(struct dg_entry *entry)
{
	vmci_resource_put(&entry->res);
}

int vmci_datagram_create_handle(u32 resource_id, u32 flags, u32 priv_flags,
				vmcix_datagram_recv_cb cb, void *client_data,
				struct vmci_handle *out_handle)
{
	struct dg_entry *entry;
	u32 context;
	int result;

	/* VMCI_FLAG_WELLKNOWN_DG_HND died with VM-to-VM datagrams. */
	if (!cb || !out_handle || (flags & ~VMCI_DG_VALID_FLAGS) ||
	    !vmci_priv_flags_valid(priv_flags))
		return VMCI_ERROR_INVALID_ARGS;

	if (flags & VMCI_FLAG_ANYCID_DG_HND) {
		context = VMCI_INVALID_ID;
	} else {
		/* An unknown CID would silently turn the handle into a wildcard. */
		context = vmci_route_local_cid();
		if (context == VMCI_INVALID_ID)
			return VMCI_ERROR_NO_RESOURCES;
	}

	entry = kzalloc(sizeof(*entry), GFP_KERNEL);
	if (!entry)
		return VMCI_ERROR_NO_MEM;
	entry->cb = cb;
	entry->client_data = client_data;
	entry->flags = flags;
	entry->priv_flags = priv_flags;

	result = vmci_resource_add(&entry->res, VMCI_RESOURCE_TYPE_DATAGRAM,
				   vmci_make_handle(context, resource_id));
	if (result != VMCI_SUCCESS) {
		kfree(entry);
		return result;
	}
	atomic_inc(&handle_count);
	*out_handle = vmci_resource_handle(&entry->res);
	return VMCI_SUCCESS;
}

/*
 * Looks @handle up for its one destroyer: NULL if it is not ours (the
 * lookup falls back to a wildcard with the same resource ID, which is
 * somebody else's handle) or if a racing destroy already claimed it.
 */
static struct dg_entry *dg_entry_claim(struct vmci_handle handle)
{
	struct dg_entry *entry = dg_entry_lookup(handle);

	if (!entry)
		return NULL;
	if (!vmci_handle_equal(vmci_resource_handle(&entry->res), handle) ||
	    test_and_set_bit(DG_ENTRY_DYING, &entry->state)) {
		dg_entry_put(entry);
		return NULL;
	}
	dg_entry_put(entry);
	/* The handle no longer counts once its ID is free for a new one. */
	atomic_dec(&handle_count);
	return entry;
}

int vmci_datagram_destroy_handle(struct vmci_handle handle)
{
	struct dg_entry *entry;

	might_sleep();
	entry = dg_entry_claim(handle);
	if (!entry)
		return VMCI_ERROR_NOT_FOUND;
	/* Waits for running callbacks and queued delayed datagrams. */
	vmci_resource_remove(&entry->res);
	kfree(entry);
	return VMCI_SUCCESS;
}

static void dg_entry_release(struct vmci_resource *res)
{
	struct dg_entry *entry = container_of(res, struct dg_entry, res);

	entry->gone(entry->client_data);
	kfree(entry);
}

int vmci_datagram_destroy_handle_async(struct vmci_handle handle,
				       void (*gone)(void *client_data))
{
	struct dg_entry *entry;

	if (!gone)
		return VMCI_ERROR_INVALID_ARGS;
	entry = dg_entry_claim(handle);
	if (!entry)
		return VMCI_ERROR_NOT_FOUND;
	entry->gone = gone;
	vmci_resource_remove_deferred(&entry->res, dg_entry_release);
	return VMCI_SUCCESS;
}

static void dg_delayed_work(struct work_struct *work)
{
	struct dg_delayed *d = container_of(work, struct dg_delayed, work);
	struct dg_entry *entry = d->entry;
	bool kcov = vmci_fuzz_work_start();

	entry->cb(entry->client_data, (struct vmci_datagram *)d->data);
	vmci_fuzz_work_stop(kcov);
	atomic_dec(&delayed_count);
	kfree(d);
	/* Last: destroy may free the entry and its owner unload once this is put. */
	dg_entry_put(entry);
}

/*
 * Consumes the caller's reference on @entry. @payload is the size the
 * caller read once; the copy carries it, whatever @dg's header says by now.
 */
static int dg_queue_delayed(struct dg_entry *entry, const struct vmci_datagram *dg,
			    u64 payload, gfp_t gfp)
{
	size_t size = VMCI_DG_HEADERSIZE + payload;
	struct dg_delayed *d;

	if (atomic_inc_return(&delayed_count) > VMCI_MAX_DELAYED_DGS) {
		atomic_dec(&delayed_count);
		dg_entry_put(entry);
		return VMCI_ERROR_NO_RESOURCES;
	}
	d = kmalloc(sizeof(*d) + size, gfp | __GFP_NOWARN);
	if (!d) {
		atomic_dec(&delayed_count);
		dg_entry_put(entry);
		return VMCI_ERROR_NO_MEM;
	}
	memcpy(d->data, dg, size);
	((struct vmci_datagram *)d->data)->payload_size = payload;
	d->entry = entry;
	INIT_WORK(&d->work, dg_delayed_work);
	queue_work(dg_wq, &d->work);
	return VMCI_SUCCESS;
}

int vmci_datagram_deliver(struct vmci_datagram *dg, u32 src_priv_flags, gfp_t gfp)
{
	/*
	 * Read once: the callers validated @dg, but a size read again could
	 * differ from the one they checked if anyone can still write @dg.
	 */
	u64 payload = READ_ONCE(dg->payload_size);
	struct dg_entry *entry;
	int result;

	if (payload > VMCI_MAX_DG_PAYLOAD_SIZE)
		return VMCI_ERROR_INVALID_ARGS;
	entry = dg_entry_lookup(dg->dst);
	if (!entry)
		return VMCI_ERROR_INVALID_RESOURCE;
	if (!vmci_privileges_allow(src_priv_flags, entry->priv_flags)) {
		dg_entry_put(entry);
		return VMCI_ERROR_NO_ACCESS;
	}
	if (entry->flags & VMCI_FLAG_DG_DELAYED_CB)
		return dg_queue_delayed(entry, dg, payload, gfp);

	/* Our reference keeps destroy waiting until the callback is done. */
	result = entry->cb(entry->client_data, dg);
	dg_entry_put(entry);
	return result < VMCI_SUCCESS ? result : VMCI_SUCCESS;
}

u32 vmci_datagram_priv_flags(struct vmci_handle handle)
{
	struct dg_entry *entry = dg_entry_lookup(handle);
	u32 flags;

	if (!entry)
		return VMCI_NO_PRIVILEGE_FLAGS;
	flags = entry->priv_flags;
	dg_entry_put(entry);
	return flags;
}

u32 vmci_datagram_handle_count(void)
{
	return atomic_read(&handle_count);
}

u32 vmci_datagram_delayed_count(void)
{
	return atomic_read(&delayed_count);
}

int vmci_datagram_init(void)
{
	/* Not ordered: a callback that blocks must not hold up other handles. */
	dg_wq = alloc_workqueue("vmci_dg", WQ_PERCPU, 0);
	return dg_wq ? 0 : -ENOMEM;
}

/* Every handle is destroyed by now; this only waits for work functions to return. */
void vmci_datagram_exit(void)
{
	destroy_workqueue(dg_wq);
	dg_wq = NULL;
	WARN_ON_ONCE(atomic_read(&handle_count));
}
