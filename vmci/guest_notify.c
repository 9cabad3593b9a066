// SPDX-License-Identifier: GPL-2.0
/*
 * Doorbells through the device: the notification bitmap page the device
 * marks when one of our doorbells is rung, and the LINK / UNLINK / NOTIFY
 * hypercalls.
 *
 * Each linked doorbell gets its own bitmap index (one byte each, one page
 * of them); the index table maps an index back to the doorbell handle,
 * which the core then rings like any local doorbell. Index 0 is never
 * handed out, so a zeroed slot means "free".
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "doorbell.h"
#include "guest.h"

#define VMCI_GUEST_BITMAP_SLOTS	PAGE_SIZE

/* idx_lock protects idx_table and idx_limit; taken from work and process context. */
static DEFINE_SPINLOCK(idx_lock);
/* Set while our doorbell hooks are registered with the core. */
static struct vmci_guest *notify_dev;
static struct vmci_handle *idx_table;
static unsigned int idx_limit;		/* one past the highest index in use */

int vmci_guest_notify_alloc(struct vmci_guest *g)
{
	unsigned int i;

	idx_table = kvcalloc(VMCI_GUEST_BITMAP_SLOTS, sizeof(*idx_table), GFP_KERNEL);
	if (!idx_table)
		return -ENOMEM;
	for (i = 0; i < VMCI_GUEST_BITMAP_SLOTS; i++)
		idx_table[i] = VMCI_INVALID_HANDLE;
	idx_limit = 1;
	g->bitmap = dma_alloc_coherent(&g->pdev->dev, PAGE_SIZE, &g->bitmap_addr, GFP_KERNEL);
	if (!g->bitmap) {
		kvfree(idx_table);
		idx_table = NULL;
		return -ENOMEM;
	}
	return 0;
}

void vmci_guest_notify_free(struct vmci_guest *g)
{
	if (g->bitmap)
		dma_free_coherent(&g->pdev->dev, PAGE_SIZE, g->bitmap, g->bitmap_addr);
	g->bitmap = NULL;
	kvfree(idx_table);
	idx_table = NULL;
}

/* Tells the device where the bitmap is; again after every reset. */
int vmci_guest_notify_register(struct vmci_guest *g)
{
	struct vmci_notify_bm_set_msg msg = {};
	u64 ppn = g->bitmap_addr >> PAGE_SHIFT;
	int result;

	if (g->caps & VMCI_CAPS_PPN64) {
		msg.bitmap_ppn64 = ppn;
	} else {
		/* The DMA mask keeps coherent memory below 2^44. */
		if (ppn > U32_MAX)
			return -EIO;
		msg.bitmap_ppn32 = ppn;
	}
	result = vmci_guest_hypercall(g, &msg.hdr, VMCI_SET_NOTIFY_BITMAP,
				      sizeof(msg) - VMCI_DG_HEADERSIZE);
	if (result < VMCI_SUCCESS) {
		dev_err(&g->pdev->dev, "notification bitmap refused: %d\n", result);
		return -EIO;
	}
	return 0;
}

/* Rings every doorbell whose byte the device set; runs from notify_work. */
void vmci_guest_notify_work(struct work_struct *work)
{
	struct vmci_guest *g = container_of(work, struct vmci_guest, notify_work);
	struct vmci_handle handle;
	unsigned int limit;
	int idx = 0;

	if (!g->bitmap)
		return;
	for (;;) {
		spin_lock(&idx_lock);
		limit = idx_limit;
		spin_unlock(&idx_lock);
		idx = vmci_guest_bitmap_take(g->bitmap, idx, limit);
		if (idx < 0)
			return;
		spin_lock(&idx_lock);
		handle = idx_table[idx];
		spin_unlock(&idx_lock);
		/* Unlinked meanwhile, or a stray byte: nobody to ring. */
		if (!vmci_handle_is_invalid(handle))
			vmci_doorbell_notify(handle, VMCI_NO_PRIVILEGE_FLAGS);
		idx++;
	}
}

static int idx_claim(struct vmci_handle handle)
{
	unsigned int i;
	int idx = -1;

	spin_lock(&idx_lock);
	for (i = 1; i < VMCI_GUEST_BITMAP_SLOTS; i++) {
		if (vmci_handle_is_invalid(idx_table[i])) {
			idx_table[i] = handle;
			idx_limit = max(idx_limit, i + 1);
			idx = i;
			break;
		}
	}
	spin_unlock(&idx_lock);
	return idx;
}

static void idx_release(unsigned int idx)
{
	spin_lock(&idx_lock);
	idx_table[idx] = VMCI_INVALID_HANDLE;
	while (idx_limit > 1 && vmci_handle_is_invalid(idx_table[idx_limit - 1]))
		idx_limit--;
	spin_unlock(&idx_lock);
}

static int idx_find(struct vmci_handle handle)
{
	unsigned int i;
	int idx = -1;

	if (!idx_table)
		return -1;
	spin_lock(&idx_lock);
	for (i = 1; i < idx_limit; i++) {
		if (vmci_handle_equal(idx_table[i], handle)) {
			idx = i;
			break;
		}
	}
	spin_unlock(&idx_lock);
	return idx;
}

static int doorbell_link(struct vmci_guest *g, struct vmci_handle handle)
{
	struct vmci_doorbell_link_msg msg = {};
	int idx, result;

	if (!g->bitmap || !(g->caps & VMCI_CAPS_NOTIFICATIONS))
		return VMCI_ERROR_UNAVAILABLE;
	idx = idx_claim(handle);
	if (idx < 0)
		return VMCI_ERROR_NO_RESOURCES;
	msg.handle = handle;
	msg.notify_idx = idx;
	result = vmci_guest_hypercall(g, &msg.hdr, VMCI_DOORBELL_LINK,
				      sizeof(msg) - VMCI_DG_HEADERSIZE);
	if (result < VMCI_SUCCESS)
		idx_release(idx);
	return result;
}

/* The hypervisor may have forgotten the link (reset, resume): errors are fine. */
static void doorbell_unlink(struct vmci_guest *g, struct vmci_handle handle)
{
	struct vmci_doorbell_unlink_msg msg = {};
	int idx = idx_find(handle);

	if (idx < 0)
		return;
	msg.handle = handle;
	vmci_guest_hypercall(g, &msg.hdr, VMCI_DOORBELL_UNLINK, sizeof(msg) - VMCI_DG_HEADERSIZE);
	idx_release(idx);
}

static int doorbell_notify(struct vmci_guest *g, struct vmci_handle handle)
{
	struct vmci_doorbell_notify_msg msg = { .handle = handle };

	return vmci_guest_hypercall(g, &msg.hdr, VMCI_DOORBELL_NOTIFY,
				    sizeof(msg) - VMCI_DG_HEADERSIZE);
}

/* After a reset the device knows no links: tell it every one again. */
void vmci_guest_notify_relink_all(struct vmci_guest *g)
{
	struct vmci_doorbell_link_msg msg;
	unsigned int i, limit;

	if (!idx_table)
		return;
	spin_lock(&idx_lock);
	limit = idx_limit;
	spin_unlock(&idx_lock);
	for (i = 1; i < limit; i++) {
		memset(&msg, 0, sizeof(msg));
		spin_lock(&idx_lock);
		msg.handle = idx_table[i];
		spin_unlock(&idx_lock);
		if (vmci_handle_is_invalid(msg.handle))
			continue;
		msg.notify_idx = i;
		vmci_guest_hypercall(g, &msg.hdr, VMCI_DOORBELL_LINK,
				     sizeof(msg) - VMCI_DG_HEADERSIZE);
	}
}

static int guest_link(struct vmci_handle handle)
{
	return doorbell_link(notify_dev, handle);
}

static void guest_unlink(struct vmci_handle handle)
{
	doorbell_unlink(notify_dev, handle);
}

static int guest_notify(struct vmci_handle handle)
{
	return doorbell_notify(notify_dev, handle);
}

static const struct vmci_doorbell_guest_ops guest_dbell_ops = {
	.link = guest_link,
	.unlink = guest_unlink,
	.notify = guest_notify,
};

int vmci_guest_notify_start(struct vmci_guest *g)
{
	int err;

	notify_dev = g;
	err = vmci_doorbell_register_guest(&guest_dbell_ops);
	if (err)
		notify_dev = NULL;
	return err;
}

void vmci_guest_notify_stop(struct vmci_guest *g)
{
	if (notify_dev != g)
		return;
	vmci_doorbell_unregister_guest(&guest_dbell_ops);
	notify_dev = NULL;
}
