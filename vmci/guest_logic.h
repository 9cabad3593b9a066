/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Decisions of the guest personality that depend only on values: which
 * capabilities to use, what an interrupt cause register means, how the
 * DATA_IN stream is cut into datagrams, how page lists are written. Kept
 * free of PCI so the KUnit suite runs on any kernel.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_GUEST_LOGIC_H
#define VMCI_GUEST_LOGIC_H

#include <linux/types.h>
#include <vmci/vmci_abi.h>

/*
 * Capabilities to write back to CAPS for a device offering @offered.
 * @mmio: registers are reached through the MMIO window, which only works
 * with DMA datagrams. @have_bitmap: a notification bitmap page exists.
 * 0, or -ENODEV (no datagrams at all) or -ENXIO (MMIO without DMA
 * datagrams; port I/O may still work).
 */
int vmci_guest_caps_choose(u32 offered, bool mmio, bool have_bitmap, u32 *in_use);

/* Address bits the device can take: a 32-bit page number, or 64 bits. */
unsigned int vmci_guest_dma_bits(u32 caps_in_use);

/* Causes to unmask in IMR, and MSI-X vectors for one vector per cause. */
u32 vmci_guest_imr(u32 caps_in_use);
unsigned int vmci_guest_exclusive_vectors(u32 caps_in_use);

/*
 * Causes to handle for an ICR value read in shared-vector mode; 0 means
 * "not ours" (nothing pending, or all-ones from a device that is gone).
 */
u32 vmci_guest_icr_causes(u32 icr);

/*
 * Whether the hypervisor may hand us @cid as our own context ID: never
 * the hypervisor's, the reserved one, the host's or the invalid ID, since
 * routing would then deliver our datagrams to ourselves or nowhere.
 */
bool vmci_guest_cid_usable(u32 cid);

enum vmci_irq_mode {
	VMCI_IRQ_MSIX_EXCLUSIVE,	/* one MSI-X vector per cause */
	VMCI_IRQ_MSIX_SHARED,		/* one MSI-X vector, ICR says why */
	VMCI_IRQ_MSI,
	VMCI_IRQ_INTX,
	VMCI_IRQ_MODES
};

/*
 * The modes to try, best first, for the irq_mode module parameter
 * ("auto", "msix", "msix1", "msi", "intx"); the count, or -EINVAL.
 */
int vmci_guest_irq_modes(const char *param, enum vmci_irq_mode out[VMCI_IRQ_MODES]);
const char *vmci_guest_irq_mode_name(enum vmci_irq_mode mode);

/*
 * Reading received datagrams out of a buffer the device filled. The first
 * @filled bytes of @buf hold the device's data; @off (8-byte aligned) is
 * where the next thing starts.
 */
enum vmci_dg_in_kind {
	VMCI_DG_IN_DATAGRAM,	/* a whole datagram of @size bytes at @off */
	VMCI_DG_IN_FILLER,	/* no datagram here: continue at @next */
	VMCI_DG_IN_END,		/* nothing more in this invocation */
	VMCI_DG_IN_NEXT_BATCH,	/* buffer used up: read more from the start */
	VMCI_DG_IN_PARTIAL,	/* starts here, needs @size bytes, fewer are here */
	VMCI_DG_IN_DISCARD,	/* too large to deliver: @size bytes to throw away */
	VMCI_DG_IN_BAD,		/* the device broke the rules: stop reading */
};

struct vmci_dg_in_step {
	enum vmci_dg_in_kind kind;
	u64 size;
	size_t next;
};

/*
 * Port I/O: filler means "skip to the next page"; a datagram cut by the end
 * of the buffer is completed by the next read; oversized ones are read and
 * thrown away. DMA (@dma): the device copied whole datagrams only, so the
 * first filler ends the buffer and anything cut or oversized is BAD.
 */
void vmci_guest_dg_in_step(const void *buf, size_t filled, size_t off, bool dma,
			   struct vmci_dg_in_step *step);

/* Largest datagram the port-I/O path reads only to throw it away. */
#define VMCI_GUEST_DISCARD_MAX	(16U * 1024U * 1024U)

/* Pages of a queue pair: a header page and the ring pages per queue. */
u64 vmci_guest_qp_num_ppns(u64 produce_size, u64 consume_size);

/*
 * Bytes of a QUEUEPAIR_ALLOC datagram with @num_ppns page numbers, or 0
 * if that is more than @limit.
 */
size_t vmci_guest_qp_alloc_msg_size(u64 num_ppns, bool ppn64, size_t limit);

/*
 * Writes page number @pfn at index @idx of the list that follows a
 * QUEUEPAIR_ALLOC header. VMCI_SUCCESS, or VMCI_ERROR_INVALID_ARGS when a
 * 32-bit list cannot hold @pfn.
 */
int vmci_guest_ppn_put(void *list, size_t idx, u64 pfn, bool ppn64);

/*
 * Finds the next rung index of the notification bitmap in [@from, @limit),
 * clears it, and returns it; -1 when none is left.
 */
int vmci_guest_bitmap_take(u8 *bitmap, unsigned int from, unsigned int limit);

#endif /* VMCI_GUEST_LOGIC_H */
