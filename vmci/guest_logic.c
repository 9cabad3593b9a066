// SPDX-License-Identifier: GPL-2.0
/*
 * Value-only decisions of the guest personality; see guest_logic.h.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/limits.h>
#include <linux/math.h>
#include <linux/mm.h>
#include <linux/string.h>

#include "guest_logic.h"

int vmci_guest_caps_choose(u32 offered, bool mmio, bool have_bitmap, u32 *in_use)
{
	u32 caps = VMCI_CAPS_DATAGRAM;

	if (!(offered & VMCI_CAPS_DATAGRAM))
		return -ENODEV;
	/* The MMIO window has no byte-stream data ports. */
	if (mmio) {
		if (!(offered & VMCI_CAPS_DMA_DATAGRAM))
			return -ENXIO;
		caps |= VMCI_CAPS_DMA_DATAGRAM;
	}
	caps |= offered & VMCI_CAPS_PPN64;
	if (have_bitmap)
		caps |= offered & VMCI_CAPS_NOTIFICATIONS;
	*in_use = caps;
	return 0;
}

unsigned int vmci_guest_dma_bits(u32 caps_in_use)
{
	return caps_in_use & VMCI_CAPS_PPN64 ? 64 : 32 + PAGE_SHIFT;
}

u32 vmci_guest_imr(u32 caps_in_use)
{
	u32 imr = VMCI_ICR_DATAGRAM;

	if (caps_in_use & VMCI_CAPS_NOTIFICATIONS)
		imr |= VMCI_ICR_NOTIFICATION;
	if (caps_in_use & VMCI_CAPS_DMA_DATAGRAM)
		imr |= VMCI_ICR_DMA_DATAGRAM;
	return imr;
}

/* The notification vector exists even when notifications are not used. */
unsigned int vmci_guest_exclusive_vectors(u32 caps_in_use)
{
	return caps_in_use & VMCI_CAPS_DMA_DATAGRAM ? VMCI_MAX_INTRS_DMA_DATAGRAM :
						      VMCI_MAX_INTRS_NOTIFICATION;
}

u32 vmci_guest_icr_causes(u32 icr)
{
	/* All-ones is what a read from a surprise-removed device returns. */
	if (icr == 0 || icr == U32_MAX)
		return 0;
	return icr & (VMCI_ICR_DATAGRAM | VMCI_ICR_NOTIFICATION | VMCI_ICR_DMA_DATAGRAM);
}

bool vmci_guest_cid_usable(u32 cid)
{
	return cid != VMCI_INVALID_ID && cid > VMCI_HOST_CONTEXT_ID;
}

static const char *const irq_mode_names[VMCI_IRQ_MODES] = {
	[VMCI_IRQ_MSIX_EXCLUSIVE] = "msix",
	[VMCI_IRQ_MSIX_SHARED] = "msix1",
	[VMCI_IRQ_MSI] = "msi",
	[VMCI_IRQ_INTX] = "intx",
};

const char *vmci_guest_irq_mode_name(enum vmci_irq_mode mode)
{
	return mode < VMCI_IRQ_MODES ? irq_mode_names[mode] : "?";
}

int vmci_guest_irq_modes(const char *param, enum vmci_irq_mode out[VMCI_IRQ_MODES])
{
	enum vmci_irq_mode m;

	if (!param || !*param || !strcmp(param, "auto")) {
		for (m = 0; m < VMCI_IRQ_MODES; m++)
			out[m] = m;
		return VMCI_IRQ_MODES;
	}
	for (m = 0; m < VMCI_IRQ_MODES; m++) {
		if (!strcmp(param, irq_mode_names[m])) {
			out[0] = m;
			return 1;
		}
	}
	return -EINVAL;
}

void vmci_guest_dg_in_step(const void *buf, size_t filled, size_t off, bool dma,
			   struct vmci_dg_in_step *step)
{
	/* @buf and @off are 8-byte aligned, so the header may be read in place. */
	const struct vmci_datagram *dg = (const void *)((const u8 *)buf + off);
	size_t left;
	u64 payload, size;

	step->size = 0;
	step->next = off;
	if (off >= filled) {
		step->kind = dma ? VMCI_DG_IN_END : VMCI_DG_IN_NEXT_BATCH;
		return;
	}
	left = filled - off;
	/* Offsets step by 8, so the destination (bytes 0..7) is always inside. */
	if (left < offsetof(struct vmci_datagram, src) ||
	    READ_ONCE(dg->dst.resource) == VMCI_INVALID_ID) {
		step->next = dma ? filled : ALIGN(off + 1, PAGE_SIZE);
		step->kind = step->next >= filled ? VMCI_DG_IN_END : VMCI_DG_IN_FILLER;
		return;
	}
	if (left < VMCI_DG_HEADERSIZE) {
		step->kind = dma ? VMCI_DG_IN_BAD : VMCI_DG_IN_PARTIAL;
		step->size = VMCI_DG_HEADERSIZE;
		return;
	}
	payload = READ_ONCE(dg->payload_size);
	if (payload > VMCI_MAX_DG_PAYLOAD_SIZE) {
		/* Throwing away means reading it all: only bounded amounts. */
		if (dma || payload > VMCI_GUEST_DISCARD_MAX - VMCI_DG_HEADERSIZE) {
			step->kind = VMCI_DG_IN_BAD;
			return;
		}
		step->kind = VMCI_DG_IN_DISCARD;
		step->size = ALIGN(payload + VMCI_DG_HEADERSIZE, 8);
		return;
	}
	size = payload + VMCI_DG_HEADERSIZE;
	if (ALIGN(size, 8) > left) {
		step->kind = dma ? VMCI_DG_IN_BAD : VMCI_DG_IN_PARTIAL;
		step->size = ALIGN(size, 8);
		return;
	}
	step->kind = VMCI_DG_IN_DATAGRAM;
	step->size = size;
	step->next = off + ALIGN(size, 8);
}

u64 vmci_guest_qp_num_ppns(u64 produce_size, u64 consume_size)
{
	return DIV_ROUND_UP_ULL(produce_size, PAGE_SIZE) +
	       DIV_ROUND_UP_ULL(consume_size, PAGE_SIZE) + 2;
}

size_t vmci_guest_qp_alloc_msg_size(u64 num_ppns, bool ppn64, size_t limit)
{
	size_t ppn_size = ppn64 ? sizeof(u64) : sizeof(u32);
	size_t head = sizeof(struct vmci_qp_alloc_msg);

	if (limit < head || num_ppns > (limit - head) / ppn_size)
		return 0;
	return head + num_ppns * ppn_size;
}

int vmci_guest_ppn_put(void *list, size_t idx, u64 pfn, bool ppn64)
{
	if (ppn64) {
		((u64 *)list)[idx] = pfn;
		return VMCI_SUCCESS;
	}
	if (pfn > U32_MAX)
		return VMCI_ERROR_INVALID_ARGS;
	((u32 *)list)[idx] = pfn;
	return VMCI_SUCCESS;
}

int vmci_guest_bitmap_take(u8 *bitmap, unsigned int from, unsigned int limit)
{
	unsigned int i;
	u8 v;

	for (i = from; i < limit; i++) {
		v = READ_ONCE(bitmap[i]);
		if (v & 1) {
			/* The device may set the byte again at once: that is a new ring. */
			WRITE_ONCE(bitmap[i], v & ~1);
			return i;
		}
	}
	return -1;
}
