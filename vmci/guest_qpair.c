// SPDX-License-Identifier: GPL-2.0
/*
 * Queue pairs with the hypervisor: we allocate both queues in guest
 * memory and hand their page numbers to the device in a QUEUEPAIR_ALLOC
 * hypercall; QUEUEPAIR_DETACH gives them back. The peer (the host, or
 * whoever the hypervisor connects) maps the same pages.
 *
 * Page numbers are physical frame numbers: the device reads guest memory
 * without an IOMMU in every VMware VM we know of.
 *
 * Life of an entry:
 * - alloc publishes it in the resource table (VMCI_RESOURCE_TYPE_QPAIR_GUEST,
 *   so its handle is unique among all pairs of this kernel) and on @entries.
 * - When the device goes away, or the hypervisor says on QP_RESUMED that it
 *   forgot every pair, the entry is marked @gone: the client may still use
 *   its queues (the memory is ours) until it detaches, but no hypercall is
 *   made for it any more.
 * - Detach gives the pair back to the hypervisor and unlinks the entry at
 *   once; the pages, and with them the budget charge, go on vmci's removal
 *   worker after an RCU grace period, so that no close waits for one (under
 *   TCG that wait was most of a guest close's 858 ms, docs/performance.md).
 * - If a DETACH hypercall fails the peer may still write into the pages, so
 *   they are not freed but parked until the module goes.
 *
 * gqp_lock (mutex: hypercall messages are allocated, resources removed)
 * protects @entries, @gone, @orphans and gqp_dev. An entry's budget
 * charge and its rings are taken before it (guest_alloc()), since the
 * rings may reclaim in their owner's memory cgroup; guest_budget has its
 * own lock, inside gqp_lock when a parked entry is freed.
 *
 * Every pair, created or attached, is our memory: it is charged to its
 * owner's share of guest_budget (page-rounded ring bytes, see
 * qpair_budget.h) and its pages to the owner's memory cgroup. The charge
 * stays with the entry until its pages are freed, so a parked pair keeps
 * its charge until the module goes.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "guest.h"
#include "qpair.h"
#include "qpair_budget.h"
#include "queue.h"
#include "route.h"

struct guest_entry {
	struct vmci_qpair_resource qres;
	struct vmci_queue *produce_q;
	struct vmci_queue *consume_q;
	struct list_head node;		/* in @entries or @orphans */
	bool gone;			/* no hypercall for it any more */
	bool park;			/* the peer may still use the pages */
	struct vmci_qp_charge charge;	/* the owner's; given back with the pages */
};

static DEFINE_MUTEX(gqp_lock);
static LIST_HEAD(entries);
static LIST_HEAD(orphans);
static struct vmci_guest *gqp_dev;
static struct vmci_qp_budget guest_budget = VMCI_QP_BUDGET_INIT(VMCI_MAX_GUEST_QP_MEMORY);

static void entry_free(struct guest_entry *e)
{
	vmci_qp_budget_uncharge(&guest_budget, &e->charge);
	vmci_queue_free(e->produce_q);
	vmci_queue_free(e->consume_q);
	kfree(e);
}

/* Runs once no lookup can reach the entry and nobody holds a reference. */
static void entry_release(struct vmci_resource *res)
{
	entry_free(container_of(res, struct guest_entry, qres.res));
}

static u64 queue_pfn_at(const struct vmci_queue *q, unsigned int i)
{
	/* Index 0 is the header page, then the ring pages in order. */
	if (!i)
		return page_to_pfn(virt_to_page(q->q_header));
	return page_to_pfn(q->pages[i - 1]);
}

/* Caller holds gqp_lock and the device is there. */
static int alloc_hypercall(struct guest_entry *e, struct vmci_handle handle, u32 peer, u32 flags)
{
	bool ppn64 = gqp_dev->caps & VMCI_CAPS_PPN64;
	bool dma = gqp_dev->caps & VMCI_CAPS_DMA_DATAGRAM;
	const struct vmci_queue *qs[2] = { e->produce_q, e->consume_q };
	struct vmci_qp_alloc_msg *msg;
	unsigned int q, i, n = 0;
	u64 num_ppns;
	size_t size;
	int result;

	num_ppns = vmci_guest_qp_num_ppns(e->produce_q->size, e->consume_q->size);
	/* Port I/O takes larger hypercalls than the DMA buffer holds. */
	size = vmci_guest_qp_alloc_msg_size(num_ppns, ppn64, dma ? VMCI_MAX_DG_SIZE : SZ_1G);
	if (!size)
		return VMCI_ERROR_NO_RESOURCES;
	msg = kvzalloc(size, GFP_KERNEL);
	if (!msg)
		return VMCI_ERROR_NO_MEM;
	msg->handle = handle;
	msg->peer = peer;
	msg->flags = flags;
	msg->produce_size = e->produce_q->size;
	msg->consume_size = e->consume_q->size;
	msg->num_ppns = num_ppns;
	for (q = 0; q < 2; q++) {
		for (i = 0; i <= qs[q]->num_pages; i++) {
			result = vmci_guest_ppn_put(msg + 1, n++, queue_pfn_at(qs[q], i), ppn64);
			if (result < VMCI_SUCCESS)
				goto out;
		}
	}
	result = vmci_guest_hypercall(gqp_dev, &msg->hdr, VMCI_QUEUEPAIR_ALLOC,
				      size - VMCI_DG_HEADERSIZE);
out:
	kvfree(msg);
	return result;
}

/* Caller holds gqp_lock. VMCI_SUCCESS, or the hypervisor's refusal. */
static int detach_hypercall(struct guest_entry *e)
{
	struct vmci_qp_detach_msg msg = { .handle = e->qres.res.handle };

	return vmci_guest_hypercall(gqp_dev, &msg.hdr, VMCI_QUEUEPAIR_DETACH,
				    sizeof(msg) - VMCI_DG_HEADERSIZE);
}

static int guest_alloc(struct vmcix_qpair *qp, struct vmci_handle handle, u32 peer,
		       u32 flags, u32 priv_flags)
{
	u64 bytes = vmci_qp_charge_bytes(qp->produce_size, qp->consume_size);
	struct guest_entry *e;
	u32 cid;
	int result;

	/* A guest endpoint has no privileges to offer the hypervisor. */
	if (priv_flags != VMCI_NO_PRIVILEGE_FLAGS)
		return VMCI_ERROR_NO_ACCESS;
	cid = vmci_route_local_cid();
	if (flags & VMCI_QPFLAG_ATTACH_ONLY) {
		/* The creator named the pair: the host, or the peer of an OFFER. */
		if (handle.context == VMCI_INVALID_ID || handle.resource == VMCI_INVALID_ID)
			return VMCI_ERROR_INVALID_ARGS;
	} else if (vmci_handle_is_invalid(handle)) {
		handle = vmci_make_handle(cid, VMCI_INVALID_ID);
	} else if (handle.context != cid) {
		return VMCI_ERROR_INVALID_ARGS;
	}

	e = kzalloc(sizeof(*e), GFP_KERNEL_ACCOUNT);
	if (!e)
		return VMCI_ERROR_NO_MEM;
	e->qres.backend = qp->backend;
	INIT_LIST_HEAD(&e->node);

	/*
	 * Charged and allocated before gqp_lock: the rings are the owner's
	 * memory cgroup's, and one user's allocation that reclaims there
	 * must not hold up every other pair's alloc and detach.
	 */
	lockdep_assert_not_held(&gqp_lock);
	result = vmci_qp_budget_charge(&guest_budget, qp->owner, bytes, &e->charge);
	if (result < VMCI_SUCCESS)
		goto err_free;
	result = VMCI_ERROR_NO_MEM;
	/* The hypervisor maps these pages: zeroed, see vmci_queue_alloc(). */
	e->produce_q = vmci_queue_alloc(qp->produce_size, true);
	e->consume_q = vmci_queue_alloc(qp->consume_size, true);
	if (!e->produce_q || !e->consume_q)
		goto err_free;

	mutex_lock(&gqp_lock);
	result = VMCI_ERROR_UNAVAILABLE;
	if (!gqp_dev)
		goto err_unlock;
	result = vmci_resource_add(&e->qres.res, VMCI_RESOURCE_TYPE_QPAIR_GUEST, handle);
	if (result < VMCI_SUCCESS)
		goto err_unlock;
	result = alloc_hypercall(e, vmci_resource_handle(&e->qres.res), peer, flags);
	if (result < VMCI_SUCCESS) {
		vmci_resource_remove(&e->qres.res);
		goto err_unlock;
	}
	list_add(&e->node, &entries);
	mutex_unlock(&gqp_lock);

	qp->handle = vmci_resource_handle(&e->qres.res);
	qp->produce_q = e->produce_q;
	qp->consume_q = e->consume_q;
	qp->backend_data = e;
	return VMCI_SUCCESS;

err_unlock:
	mutex_unlock(&gqp_lock);
err_free:
	entry_free(e);
	return result;
}

static void guest_detach(struct vmcix_qpair *qp)
{
	struct guest_entry *e = qp->backend_data;
	int result;

	mutex_lock(&gqp_lock);
	list_del_init(&e->node);
	if (!e->gone && gqp_dev) {
		result = detach_hypercall(e);
		if (result < VMCI_SUCCESS) {
			dev_warn(&gqp_dev->pdev->dev,
				 "queue pair {%u,%u} detach refused (%d): keeping its pages\n",
				 e->qres.res.handle.context, e->qres.res.handle.resource, result);
			e->park = true;
		}
	}
	if (e->park) {
		/* Parked pages stay until the module goes: no hurry here. */
		list_add(&e->node, &orphans);
		vmci_resource_remove(&e->qres.res);
	} else {
		vmci_resource_remove_deferred(&e->qres.res, entry_release);
	}
	mutex_unlock(&gqp_lock);
}

static const struct vmci_qpair_backend guest_backend = {
	.alloc = guest_alloc,
	.detach = guest_detach,
};

void vmci_guest_qpair_attach_device(struct vmci_guest *g)
{
	mutex_lock(&gqp_lock);
	gqp_dev = g;
	mutex_unlock(&gqp_lock);
	vmci_qpair_set_remote_backend(&guest_backend);
}

/* Gives every pair back to the hypervisor while the device still works. */
void vmci_guest_qpair_detach_device(struct vmci_guest *g)
{
	struct guest_entry *e;

	vmci_qpair_set_remote_backend(NULL);
	mutex_lock(&gqp_lock);
	list_for_each_entry(e, &entries, node) {
		if (!e->gone && detach_hypercall(e) < VMCI_SUCCESS) {
			dev_warn(&g->pdev->dev, "queue pair {%u,%u} detach refused at removal\n",
				 e->qres.res.handle.context, e->qres.res.handle.resource);
			e->park = true;
		}
		e->gone = true;
	}
	gqp_dev = NULL;
	mutex_unlock(&gqp_lock);
}

void vmci_guest_qpair_resumed(void)
{
	struct guest_entry *e;

	mutex_lock(&gqp_lock);
	list_for_each_entry(e, &entries, node)
		e->gone = true;
	mutex_unlock(&gqp_lock);
}

/* Module exit: the device is gone, so parked pages are nobody's any more. */
void vmci_guest_qpair_exit(void)
{
	struct guest_entry *e, *tmp;

	mutex_lock(&gqp_lock);
	list_for_each_entry_safe(e, tmp, &orphans, node) {
		list_del(&e->node);
		entry_free(e);
	}
	mutex_unlock(&gqp_lock);
	vmci_qp_budget_drop_idle(&guest_budget);
}
