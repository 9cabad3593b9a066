// SPDX-License-Identifier: GPL-2.0
/*
 * Datagrams from the device to us. Runs from rx_work, in process context,
 * because a DMA receive waits for the device and events may sleep.
 *
 * The buffer rules (what filler means, when a datagram is cut or too big)
 * are in guest_logic.c; this file moves bytes and hands datagrams on.
 *
 * The read-once rule. Memory the device (or a peer) can still write is
 * never checked in place: it could change between the check and the use,
 * and the second reader would trust a size nobody checked. So, in order:
 *
 *   1. copy: the header into private memory, then (its size known from
 *      the copy and bounded by VMCI_MAX_DG_SIZE) the payload behind it;
 *   2. validate: only the private copy;
 *   3. deliver: only the private copy; nothing downstream ever sees a
 *      pointer into the device's buffer.
 *
 * Here that is the DMA data area (the device writes it whenever it likes,
 * busy flag or not); the port-I/O buffer is ours, the device reaches it
 * only through the DATA_IN reads we make. Elsewhere the same rule covers
 * the queue-pair offsets in shared header pages (read once, then checked
 * against the queue size, queue.c) and event payloads (copied before any
 * check, event.c).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/minmax.h>
#include <linux/pci.h>
#include <linux/string.h>

#include "datagram.h"
#include "event.h"
#include "guest.h"
#include "route.h"

/* Device reads per invocation before we let other work run. */
#define VMCI_GUEST_RX_BATCHES	64U

static void deliver(void *ctx, struct vmci_datagram *dg, size_t size)
{
	struct vmci_guest *g = ctx;
	int result;

	result = vmci_datagram_validate(dg, size);
	if (result != VMCI_SUCCESS)
		goto refused;
	if (dg->src.context == VMCI_HYPERVISOR_CONTEXT_ID &&
	    dg->dst.resource == VMCI_EVENT_HANDLER)
		result = vmci_event_dispatch(dg);
	else
		result = vmci_datagram_deliver(dg, VMCI_NO_PRIVILEGE_FLAGS, GFP_KERNEL);
	if (result >= VMCI_SUCCESS)
		return;
refused:
	dev_dbg_ratelimited(&g->pdev->dev, "datagram {%u,%u} -> {%u,%u} dropped: %d\n",
			    dg->src.context, dg->src.resource, dg->dst.context,
			    dg->dst.resource, result);
}

static void read_in(struct vmci_guest *g, void *dst, size_t len)
{
	ioread8_rep(g->regs + VMCI_DATA_IN_ADDR, dst, len);
}

/* The head of an oversized datagram is in the buffer; read the rest away. */
static void discard(struct vmci_guest *g, u64 bytes)
{
	size_t n;

	while (bytes) {
		n = min_t(u64, bytes, VMCI_MAX_DG_SIZE);
		read_in(g, g->rx_buf, n);
		bytes -= n;
	}
}

/* Returns true when the device may have more and we stopped early. */
static bool rx_pio(struct vmci_guest *g)
{
	size_t batch = PAGE_SIZE, filled = 0, off = 0, have;
	unsigned int reads = 0;
	struct vmci_dg_in_step st;

	for (;;) {
		vmci_guest_dg_in_step(g->rx_buf, filled, off, false, &st);
		switch (st.kind) {
		case VMCI_DG_IN_DATAGRAM:
			deliver(g, (struct vmci_datagram *)(g->rx_buf + off), st.size);
			off = st.next;
			break;
		case VMCI_DG_IN_FILLER:
			off = st.next;
			break;
		case VMCI_DG_IN_END:
			return false;
		case VMCI_DG_IN_BAD:
			dev_warn_ratelimited(&g->pdev->dev, "malformed datagram stream, dropped\n");
			return false;
		case VMCI_DG_IN_NEXT_BATCH:
			/* Only here is nothing lost by stopping. */
			if (reads++ == VMCI_GUEST_RX_BATCHES)
				return true;
			read_in(g, g->rx_buf, batch);
			filled = batch;
			off = 0;
			break;
		case VMCI_DG_IN_PARTIAL:
			/* Move the head to the front and read the rest behind it. */
			have = filled - off;
			memmove(g->rx_buf, g->rx_buf + off, have);
			if (st.size > batch)
				batch = VMCI_MAX_DG_SIZE;
			read_in(g, g->rx_buf + have, batch - have);
			filled = batch;
			off = 0;
			break;
		case VMCI_DG_IN_DISCARD:
			discard(g, st.size - (filled - off));
			filled = 0;
			off = 0;
			break;
		}
	}
}

/*
 * The step looks at the header copy alone, told how much of the area is
 * left, so the size it returns is the one @copy holds. 8-byte steps through
 * an area of a multiple of 8 leave at least the destination handle, which
 * is all the step reads of a header shorter than VMCI_DG_HEADERSIZE.
 */
bool vmci_guest_dma_walk(const u8 *area, u8 *copy, vmci_guest_deliver_fn deliver, void *ctx)
{
	struct vmci_dg_in_step st;
	size_t off = 0, left;

	BUILD_BUG_ON(VMCI_MAX_DG_SIZE % 8);
	while (off < VMCI_MAX_DG_SIZE) {
		left = VMCI_MAX_DG_SIZE - off;
		memcpy(copy, area + off, min_t(size_t, left, VMCI_DG_HEADERSIZE));
		vmci_guest_dg_in_step(copy, left, 0, true, &st);
		if (st.kind != VMCI_DG_IN_DATAGRAM)
			return st.kind != VMCI_DG_IN_BAD;
		/* st.size <= left <= VMCI_MAX_DG_SIZE: inside the area and the copy. */
		memcpy(copy + VMCI_DG_HEADERSIZE, area + off + VMCI_DG_HEADERSIZE,
		       st.size - VMCI_DG_HEADERSIZE);
		deliver(ctx, (struct vmci_datagram *)copy, st.size);
		off += st.next;
	}
	return true;
}

static void rx_dma(struct vmci_guest *g)
{
	struct vmci_data_in_out_header *hdr = g->rx_dma;
	struct vmci_sg_elem *sg = (struct vmci_sg_elem *)(hdr + 1);
	u8 *data = (u8 *)g->rx_dma + PAGE_SIZE;

	hdr->opcode = VMCI_DATA_IN_OUT_OP_RECV;
	hdr->size = 1;
	hdr->rsvd = 0;
	hdr->result = 0;
	sg->addr = g->rx_dma_addr + PAGE_SIZE;
	sg->size = VMCI_MAX_DG_SIZE;
	/* A device that copies nothing must leave an empty buffer behind. */
	memset(data, 0xff, VMCI_DG_HEADERSIZE);
	WRITE_ONCE(hdr->busy, 0);
	vmci_guest_write(g, VMCI_DATA_IN_LOW_ADDR, lower_32_bits(g->rx_dma_addr));
	if (!wait_event_timeout(g->dma_wait, READ_ONCE(hdr->busy), HZ)) {
		dev_warn_ratelimited(&g->pdev->dev, "DMA receive timed out\n");
		return;
	}
	dma_rmb();

	if (!vmci_guest_dma_walk(data, g->rx_buf, deliver, g))
		dev_warn_ratelimited(&g->pdev->dev, "malformed DMA datagram, dropped\n");
}

void vmci_guest_rx_work(struct work_struct *work)
{
	struct vmci_guest *g = container_of(work, struct vmci_guest, rx_work);

	if (g->caps & VMCI_CAPS_DMA_DATAGRAM)
		rx_dma(g);
	else if (rx_pio(g))
		vmci_guest_queue_rx(g);
}
