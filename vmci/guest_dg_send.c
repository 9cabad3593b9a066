// SPDX-License-Identifier: GPL-2.0
/*
 * Datagrams from us to the device: everything the router sends towards
 * the hypervisor and the guest personality's own hypercalls.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/string.h>

#include "guest.h"

/*
 * The device clears busy before the register write returns on every host
 * we know; the bound only keeps a broken device from hanging a CPU that
 * has interrupts off. A send still busy after the first millisecond asks
 * STATUS whether the device was reset, which would leave it busy forever.
 */
#define VMCI_GUEST_SEND_SPIN_US		(1000U * 1000U)
#define VMCI_GUEST_SEND_RESET_CHECK_US	1000U

static int send_pio(struct vmci_guest *g, const struct vmci_datagram *dg, size_t size)
{
	iowrite8_rep(g->regs + VMCI_DATA_OUT_ADDR, dg, size);
	return (s32)vmci_guest_read(g, VMCI_RESULT_LOW_ADDR);
}

static int send_dma(struct vmci_guest *g, const struct vmci_datagram *dg, size_t size)
{
	struct vmci_data_in_out_header *hdr = g->tx_dma;
	unsigned int waited = 0;

	if (size > VMCI_MAX_DG_SIZE)
		return VMCI_ERROR_INVALID_ARGS;
	memcpy(hdr + 1, dg, size);
	hdr->opcode = VMCI_DATA_IN_OUT_OP_SEND;
	hdr->size = size;
	hdr->rsvd = 0;
	hdr->result = 0;
	WRITE_ONCE(hdr->busy, 1);
	/* iowrite32 orders the buffer writes above before the doorbell write. */
	vmci_guest_write(g, VMCI_DATA_OUT_LOW_ADDR, lower_32_bits(g->tx_dma_addr));
	while (READ_ONCE(hdr->busy)) {
		if (++waited > VMCI_GUEST_SEND_SPIN_US)
			return VMCI_ERROR_TIMEOUT;
		if (waited == VMCI_GUEST_SEND_RESET_CHECK_US && vmci_guest_reset_seen(g))
			return VMCI_ERROR_TIMEOUT;
		udelay(1);
	}
	dma_rmb();
	/* Hosts set RESULT_LOW in both modes; in-tree drivers read only it. */
	return (s32)vmci_guest_read(g, VMCI_RESULT_LOW_ADDR);
}

int vmci_guest_send(struct vmci_guest *g, struct vmci_datagram *dg)
{
	unsigned long flags;
	bool recover = false;
	size_t size;
	int result;

	/* Port I/O takes hypercalls above VMCI_MAX_DG_SIZE; keep the sum from wrapping. */
	if (dg->payload_size > SZ_1G)
		return VMCI_ERROR_INVALID_ARGS;
	size = VMCI_DG_SIZE(dg);

	spin_lock_irqsave(&g->send_lock, flags);
	if (g->wedged) {
		result = VMCI_ERROR_DST_UNREACHABLE;
	} else if (g->caps & VMCI_CAPS_DMA_DATAGRAM) {
		result = send_dma(g, dg, size);
		/* One second with interrupts off is all a dead device gets. */
		if (result == VMCI_ERROR_TIMEOUT)
			recover = vmci_guest_mark_lost(g);
	} else {
		result = send_pio(g, dg, size);
	}
	spin_unlock_irqrestore(&g->send_lock, flags);
	if (recover) {
		dev_warn(&g->pdev->dev, "device stopped answering DMA datagrams: setting it up again\n");
		schedule_work(&g->recover_work);
	}
	return result;
}

int vmci_guest_hypercall(struct vmci_guest *g, struct vmci_datagram *dg, u32 rid,
			 u64 payload_size)
{
	dg->dst = vmci_make_handle(VMCI_HYPERVISOR_CONTEXT_ID, rid);
	dg->src = VMCI_ANON_SRC_HANDLE;
	dg->payload_size = payload_size;
	return vmci_guest_send(g, dg);
}
