// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for the guest personality's value-only logic: capability
 * choice, interrupt causes, the DATA_IN buffer rules under hostile sizes,
 * queue-pair page lists and the notification bitmap.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <kunit/test.h>
#include <linux/errno.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <vmci/vmci_abi.h>

#include "event.h"
#include "guest.h"
#include "guest_logic.h"

#define ALL_CAPS	0x3fU

static void caps_datagram_is_required(struct kunit *test)
{
	u32 caps = 0xdead;

	KUNIT_EXPECT_EQ(test, vmci_guest_caps_choose(0, false, true, &caps), -ENODEV);
	KUNIT_EXPECT_EQ(test, vmci_guest_caps_choose(ALL_CAPS & ~VMCI_CAPS_DATAGRAM, false, true,
						     &caps), -ENODEV);
	KUNIT_EXPECT_EQ(test, caps, 0xdead);
	KUNIT_EXPECT_EQ(test, vmci_guest_caps_choose(VMCI_CAPS_DATAGRAM, false, true, &caps), 0);
	KUNIT_EXPECT_EQ(test, caps, VMCI_CAPS_DATAGRAM);
}

static void caps_port_io_takes_what_it_can_use(struct kunit *test)
{
	u32 caps;

	/* No DMA datagrams over the ports, and never the unused call bits. */
	KUNIT_ASSERT_EQ(test, vmci_guest_caps_choose(ALL_CAPS, false, true, &caps), 0);
	KUNIT_EXPECT_EQ(test, caps,
			VMCI_CAPS_DATAGRAM | VMCI_CAPS_NOTIFICATIONS | VMCI_CAPS_PPN64);
	/* No bitmap page, no notifications. */
	KUNIT_ASSERT_EQ(test, vmci_guest_caps_choose(ALL_CAPS, false, false, &caps), 0);
	KUNIT_EXPECT_EQ(test, caps, VMCI_CAPS_DATAGRAM | VMCI_CAPS_PPN64);
	/* A bitmap is no reason to ask for what the device lacks. */
	KUNIT_ASSERT_EQ(test, vmci_guest_caps_choose(VMCI_CAPS_DATAGRAM, false, true, &caps), 0);
	KUNIT_EXPECT_EQ(test, caps, VMCI_CAPS_DATAGRAM);
}

static void caps_mmio_needs_dma_datagrams(struct kunit *test)
{
	u32 caps;

	KUNIT_EXPECT_EQ(test, vmci_guest_caps_choose(VMCI_CAPS_DATAGRAM | VMCI_CAPS_PPN64, true,
						     true, &caps), -ENXIO);
	KUNIT_ASSERT_EQ(test, vmci_guest_caps_choose(ALL_CAPS, true, true, &caps), 0);
	KUNIT_EXPECT_EQ(test, caps, VMCI_CAPS_DATAGRAM | VMCI_CAPS_NOTIFICATIONS |
			VMCI_CAPS_PPN64 | VMCI_CAPS_DMA_DATAGRAM);
}

static void dma_mask_follows_ppn_size(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, vmci_guest_dma_bits(VMCI_CAPS_DATAGRAM), 32U + PAGE_SHIFT);
	KUNIT_EXPECT_EQ(test, vmci_guest_dma_bits(VMCI_CAPS_DATAGRAM | VMCI_CAPS_PPN64), 64U);
}

static void imr_and_vectors_follow_caps(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, vmci_guest_imr(VMCI_CAPS_DATAGRAM), VMCI_ICR_DATAGRAM);
	KUNIT_EXPECT_EQ(test, vmci_guest_imr(VMCI_CAPS_DATAGRAM | VMCI_CAPS_NOTIFICATIONS),
			VMCI_ICR_DATAGRAM | VMCI_ICR_NOTIFICATION);
	KUNIT_EXPECT_EQ(test, vmci_guest_imr(VMCI_CAPS_DATAGRAM | VMCI_CAPS_DMA_DATAGRAM),
			VMCI_ICR_DATAGRAM | VMCI_ICR_DMA_DATAGRAM);
	KUNIT_EXPECT_EQ(test, vmci_guest_exclusive_vectors(VMCI_CAPS_DATAGRAM), 2U);
	KUNIT_EXPECT_EQ(test, vmci_guest_exclusive_vectors(ALL_CAPS), 3U);
}

static void icr_zero_and_all_ones_are_not_ours(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, vmci_guest_icr_causes(0), 0U);
	KUNIT_EXPECT_EQ(test, vmci_guest_icr_causes(U32_MAX), 0U);
	KUNIT_EXPECT_EQ(test, vmci_guest_icr_causes(VMCI_ICR_DATAGRAM), VMCI_ICR_DATAGRAM);
	KUNIT_EXPECT_EQ(test, vmci_guest_icr_causes(0x7), 0x7U);
	/* Unknown bits are ignored, alone or beside known ones. */
	KUNIT_EXPECT_EQ(test, vmci_guest_icr_causes(0xf0 | VMCI_ICR_NOTIFICATION),
			VMCI_ICR_NOTIFICATION);
	KUNIT_EXPECT_EQ(test, vmci_guest_icr_causes(0x80000000U), 0U);
	KUNIT_EXPECT_EQ(test, vmci_guest_icr_causes(U32_MAX - 1), 0x6U);
}

static void irq_mode_parameter(struct kunit *test)
{
	enum vmci_irq_mode m[VMCI_IRQ_MODES];

	KUNIT_ASSERT_EQ(test, vmci_guest_irq_modes("auto", m), VMCI_IRQ_MODES);
	KUNIT_EXPECT_EQ(test, m[0], VMCI_IRQ_MSIX_EXCLUSIVE);
	KUNIT_EXPECT_EQ(test, m[1], VMCI_IRQ_MSIX_SHARED);
	KUNIT_EXPECT_EQ(test, m[2], VMCI_IRQ_MSI);
	KUNIT_EXPECT_EQ(test, m[3], VMCI_IRQ_INTX);
	KUNIT_EXPECT_EQ(test, vmci_guest_irq_modes("", m), VMCI_IRQ_MODES);
	KUNIT_EXPECT_EQ(test, vmci_guest_irq_modes(NULL, m), VMCI_IRQ_MODES);

	KUNIT_ASSERT_EQ(test, vmci_guest_irq_modes("msix", m), 1);
	KUNIT_EXPECT_EQ(test, m[0], VMCI_IRQ_MSIX_EXCLUSIVE);
	KUNIT_ASSERT_EQ(test, vmci_guest_irq_modes("msix1", m), 1);
	KUNIT_EXPECT_EQ(test, m[0], VMCI_IRQ_MSIX_SHARED);
	KUNIT_ASSERT_EQ(test, vmci_guest_irq_modes("msi", m), 1);
	KUNIT_EXPECT_EQ(test, m[0], VMCI_IRQ_MSI);
	KUNIT_ASSERT_EQ(test, vmci_guest_irq_modes("intx", m), 1);
	KUNIT_EXPECT_EQ(test, m[0], VMCI_IRQ_INTX);
	KUNIT_EXPECT_EQ(test, vmci_guest_irq_modes("MSI", m), -EINVAL);
	KUNIT_EXPECT_EQ(test, vmci_guest_irq_modes("legacy", m), -EINVAL);
	KUNIT_EXPECT_STREQ(test, vmci_guest_irq_mode_name(VMCI_IRQ_MSI), "msi");
	KUNIT_EXPECT_STREQ(test, vmci_guest_irq_mode_name(VMCI_IRQ_MODES), "?");
}

/* A buffer as the device fills it: all filler until datagrams are put in. */
static u8 *dg_buf(struct kunit *test, size_t size)
{
	u8 *buf = kunit_kmalloc(test, size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	memset(buf, 0xff, size);
	return buf;
}

static void put_dg(u8 *buf, size_t off, u64 payload_size)
{
	struct vmci_datagram *dg = (struct vmci_datagram *)(buf + off);

	dg->dst = vmci_make_handle(20, 1);
	dg->src = vmci_make_handle(VMCI_HOST_CONTEXT_ID, 7);
	dg->payload_size = payload_size;
}

static void step(const u8 *buf, size_t filled, size_t off, bool dma, struct vmci_dg_in_step *st)
{
	memset(st, 0x5a, sizeof(*st));
	vmci_guest_dg_in_step(buf, filled, off, dma, st);
}

static void dg_in_packed_datagrams_and_filler(struct kunit *test)
{
	u8 *buf = dg_buf(test, 2 * PAGE_SIZE);
	struct vmci_dg_in_step st;

	put_dg(buf, 0, 5);		/* 29 bytes, 32 aligned */
	put_dg(buf, 32, 8);		/* 32 bytes exactly */
	put_dg(buf, PAGE_SIZE, 0);	/* after the filler, at the page boundary */

	step(buf, 2 * PAGE_SIZE, 0, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_DATAGRAM);
	KUNIT_EXPECT_EQ(test, st.size, 29ULL);
	KUNIT_EXPECT_EQ(test, st.next, (size_t)32);
	step(buf, 2 * PAGE_SIZE, 32, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_DATAGRAM);
	KUNIT_EXPECT_EQ(test, st.next, (size_t)64);
	step(buf, 2 * PAGE_SIZE, 64, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_FILLER);
	KUNIT_EXPECT_EQ(test, st.next, (size_t)PAGE_SIZE);
	step(buf, 2 * PAGE_SIZE, PAGE_SIZE, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_DATAGRAM);
	KUNIT_EXPECT_EQ(test, st.size, (u64)VMCI_DG_HEADERSIZE);
	/* Filler in the last page ends the invocation. */
	step(buf, 2 * PAGE_SIZE, PAGE_SIZE + 24, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_END);
	/* Filler anywhere in a page skips to the next page. */
	step(buf, 2 * PAGE_SIZE, 0x5a0, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_FILLER);
	KUNIT_EXPECT_EQ(test, st.next, (size_t)PAGE_SIZE);
	/* Filler in the middle page of three skips to the third. */
	step(buf, 3 * PAGE_SIZE, PAGE_SIZE + 24, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_FILLER);
	KUNIT_EXPECT_EQ(test, st.next, (size_t)2 * PAGE_SIZE);

	/* DMA: the first filler ends the buffer, wherever it is. */
	step(buf, 2 * PAGE_SIZE, 64, true, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_END);
}

static void dg_in_buffer_used_up(struct kunit *test)
{
	u8 *buf = dg_buf(test, PAGE_SIZE);
	struct vmci_dg_in_step st;

	put_dg(buf, 0, PAGE_SIZE - VMCI_DG_HEADERSIZE);
	step(buf, PAGE_SIZE, 0, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_DATAGRAM);
	KUNIT_EXPECT_EQ(test, st.next, (size_t)PAGE_SIZE);
	step(buf, PAGE_SIZE, PAGE_SIZE, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_NEXT_BATCH);
	step(buf, PAGE_SIZE, PAGE_SIZE, true, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_END);
	/* Past the end is the same, never a read. */
	step(buf, PAGE_SIZE, PAGE_SIZE + 8, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_NEXT_BATCH);
	step(buf, 0, 0, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_NEXT_BATCH);
}

static void dg_in_cut_by_buffer_end(struct kunit *test)
{
	u8 *buf = dg_buf(test, PAGE_SIZE);
	struct vmci_dg_in_step st;

	/* Header whole, payload runs past the end: read the rest later. */
	put_dg(buf, PAGE_SIZE - 64, 100);
	step(buf, PAGE_SIZE, PAGE_SIZE - 64, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_PARTIAL);
	KUNIT_EXPECT_EQ(test, st.size, (u64)ALIGN(124, 8));
	step(buf, PAGE_SIZE, PAGE_SIZE - 64, true, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_BAD);

	/* Only 16 bytes of header: complete the header first. */
	memset(buf, 0xff, PAGE_SIZE);
	put_dg(buf, PAGE_SIZE - 24, 0);
	memmove(buf + PAGE_SIZE - 16, buf + PAGE_SIZE - 24, 16);
	step(buf, PAGE_SIZE, PAGE_SIZE - 16, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_PARTIAL);
	KUNIT_EXPECT_EQ(test, st.size, (u64)VMCI_DG_HEADERSIZE);
	step(buf, PAGE_SIZE, PAGE_SIZE - 16, true, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_BAD);

	/* The largest datagram fits a VMCI_MAX_DG_SIZE buffer exactly. */
	buf = dg_buf(test, VMCI_MAX_DG_SIZE);
	put_dg(buf, 0, VMCI_MAX_DG_PAYLOAD_SIZE);
	step(buf, PAGE_SIZE, 0, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_PARTIAL);
	KUNIT_EXPECT_EQ(test, st.size, (u64)VMCI_MAX_DG_SIZE);
	step(buf, VMCI_MAX_DG_SIZE, 0, true, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_DATAGRAM);
	KUNIT_EXPECT_EQ(test, st.size, (u64)VMCI_MAX_DG_SIZE);
	KUNIT_EXPECT_EQ(test, st.next, (size_t)VMCI_MAX_DG_SIZE);
}

static void dg_in_oversized_payloads(struct kunit *test)
{
	u8 *buf = dg_buf(test, PAGE_SIZE);
	struct vmci_dg_in_step st;

	put_dg(buf, 0, VMCI_MAX_DG_PAYLOAD_SIZE + 1);
	step(buf, PAGE_SIZE, 0, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_DISCARD);
	KUNIT_EXPECT_EQ(test, st.size, (u64)ALIGN(VMCI_MAX_DG_SIZE + 1, 8));
	step(buf, PAGE_SIZE, 0, true, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_BAD);

	/* Sizes that would wrap when the header is added. */
	put_dg(buf, 0, U64_MAX);
	step(buf, PAGE_SIZE, 0, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_BAD);
	put_dg(buf, 0, U64_MAX - VMCI_DG_HEADERSIZE + 1);
	step(buf, PAGE_SIZE, 0, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_BAD);
	put_dg(buf, 0, (u64)U32_MAX + 1);
	step(buf, PAGE_SIZE, 0, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_BAD);
	/* The discard bound itself. */
	put_dg(buf, 0, VMCI_GUEST_DISCARD_MAX - VMCI_DG_HEADERSIZE);
	step(buf, PAGE_SIZE, 0, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_DISCARD);
	KUNIT_EXPECT_EQ(test, st.size, (u64)VMCI_GUEST_DISCARD_MAX);
	put_dg(buf, 0, VMCI_GUEST_DISCARD_MAX - VMCI_DG_HEADERSIZE + 1);
	step(buf, PAGE_SIZE, 0, false, &st);
	KUNIT_EXPECT_EQ(test, st.kind, VMCI_DG_IN_BAD);
}

static const u64 hostile_payloads[] = {
	0, 1, 7, 8, 9, 4072, 4073, 4096, 8168, 8192, VMCI_MAX_DG_PAYLOAD_SIZE - 1,
	VMCI_MAX_DG_PAYLOAD_SIZE, VMCI_MAX_DG_PAYLOAD_SIZE + 1, VMCI_MAX_DG_SIZE,
	U32_MAX, (u64)U32_MAX + 24, S64_MAX, U64_MAX - 23, U64_MAX - 7, U64_MAX,
};

/* What a step claims must hold for the buffer; false stops the sweep. */
static bool step_is_sane(struct kunit *test, const struct vmci_dg_in_step *st, size_t filled,
			 size_t off, bool dma)
{
	switch (st->kind) {
	case VMCI_DG_IN_DATAGRAM:
		KUNIT_EXPECT_GE(test, st->size, (u64)VMCI_DG_HEADERSIZE);
		KUNIT_EXPECT_LE(test, st->size, (u64)VMCI_MAX_DG_SIZE);
		KUNIT_EXPECT_LE(test, off + ALIGN(st->size, 8), filled);
		KUNIT_EXPECT_EQ(test, st->next, off + (size_t)ALIGN(st->size, 8));
		break;
	case VMCI_DG_IN_PARTIAL:
		KUNIT_EXPECT_FALSE(test, dma);
		KUNIT_EXPECT_GT(test, st->size, (u64)(filled - off));
		KUNIT_EXPECT_LE(test, st->size, (u64)VMCI_MAX_DG_SIZE);
		break;
	case VMCI_DG_IN_DISCARD:
		KUNIT_EXPECT_FALSE(test, dma);
		KUNIT_EXPECT_GT(test, st->size, (u64)VMCI_MAX_DG_SIZE);
		KUNIT_EXPECT_LE(test, st->size, (u64)VMCI_GUEST_DISCARD_MAX);
		break;
	case VMCI_DG_IN_FILLER:
		KUNIT_EXPECT_GT(test, st->next, off);
		KUNIT_EXPECT_LT(test, st->next, filled);
		break;
	case VMCI_DG_IN_END:
	case VMCI_DG_IN_BAD:
		break;
	default:
		KUNIT_FAIL(test, "unexpected kind %d", st->kind);
	}
	return !test->status;
}

/*
 * Every payload size at every 8-byte offset of a two-page buffer: whatever
 * the step says must be true of the buffer, and nothing may point past it.
 */
static void dg_in_never_points_outside(struct kunit *test)
{
	const size_t filled = 2 * PAGE_SIZE;
	u8 *buf = dg_buf(test, filled);
	struct vmci_dg_in_step st;
	unsigned int i;
	size_t off;
	int dma;

	for (i = 0; i < ARRAY_SIZE(hostile_payloads); i++) {
		for (off = 0; off < filled; off += 8) {
			for (dma = 0; dma < 2; dma++) {
				memset(buf, 0xff, filled);
				if (off + sizeof(struct vmci_datagram) <= filled)
					put_dg(buf, off, hostile_payloads[i]);
				else	/* cut header: only the handles */
					memset(buf + off, 0x11, filled - off);
				step(buf, filled, off, dma, &st);
				if (!step_is_sane(test, &st, filled, off, dma)) {
					kunit_info(test, "payload %llu at %zu, dma %d\n",
						   hostile_payloads[i], off, dma);
					return;
				}
			}
		}
	}
}

#if IS_ENABLED(CONFIG_PCI)
/*
 * The DMA walk against a device that rewrites its buffer: the hook below
 * plays the device, scribbling over each datagram in the area as soon as
 * it is handed on, i.e. after its header was checked. What the receiver
 * holds must not change, so it must not be inside the area at all.
 */
struct dma_walk_probe {
	struct kunit *test;
	u8 *area;
	unsigned int delivered;
	size_t off[3];			/* where each datagram sits in the area */
	u64 payload[3];
};

static u8 dma_fill(size_t i)
{
	return (u8)(i * 7 + 3);
}

static void dma_walk_device_rewrites(void *ctx, struct vmci_datagram *dg, size_t size)
{
	struct dma_walk_probe *p = ctx;
	struct kunit *test = p->test;
	unsigned int n = p->delivered++;
	struct vmci_datagram *in_area;
	const u8 *payload;
	u64 want, seen;
	size_t i;

	KUNIT_ASSERT_LT(test, n, (unsigned int)ARRAY_SIZE(p->off));
	want = p->payload[n];
	in_area = (struct vmci_datagram *)(p->area + p->off[n]);
	KUNIT_EXPECT_EQ(test, (u64)size, VMCI_DG_HEADERSIZE + want);
	KUNIT_EXPECT_EQ(test, dg->payload_size, want);
	KUNIT_EXPECT_TRUE_MSG(test, (u8 *)dg + size <= p->area ||
			      (u8 *)dg >= p->area + VMCI_MAX_DG_SIZE,
			      "datagram %u delivered inside the device's buffer", n);

	/* The device, after the header check: a huge size and other bytes. */
	WRITE_ONCE(in_area->payload_size, VMCI_MAX_DG_PAYLOAD_SIZE + 4096);
	WRITE_ONCE(in_area->dst.resource, 0x5a5a);
	memset(in_area + 1, 0xee, want);

	/* Once, so that a failure message shows the value, not the macro. */
	seen = READ_ONCE(dg->payload_size);
	KUNIT_EXPECT_EQ(test, seen, want);
	KUNIT_EXPECT_EQ(test, dg->dst.resource, 1U);
	payload = (const u8 *)(dg + 1);
	for (i = 0; i < want; i++) {
		if (payload[i] != dma_fill(i)) {
			KUNIT_FAIL(test, "datagram %u byte %zu changed under us", n, i);
			break;
		}
	}
}

static void dma_put_dg(struct dma_walk_probe *p, unsigned int n, size_t off, u64 payload)
{
	size_t i;

	put_dg(p->area, off, payload);
	for (i = 0; i < payload; i++)
		p->area[off + VMCI_DG_HEADERSIZE + i] = dma_fill(i);
	p->off[n] = off;
	p->payload[n] = payload;
}

static void dma_walk_delivers_private_copies(struct kunit *test)
{
	struct dma_walk_probe p = { .test = test };
	u8 *copy;

	p.area = dg_buf(test, VMCI_MAX_DG_SIZE);
	copy = dg_buf(test, VMCI_MAX_DG_SIZE);
	dma_put_dg(&p, 0, 0, 40);
	dma_put_dg(&p, 1, ALIGN(VMCI_DG_HEADERSIZE + 40, 8), 3);
	dma_put_dg(&p, 2, p.off[1] + ALIGN(VMCI_DG_HEADERSIZE + 3, 8), 1000);
	/* The 0xff filler after the third ends the buffer. */
	KUNIT_EXPECT_TRUE(test, vmci_guest_dma_walk(p.area, copy,
						    dma_walk_device_rewrites, &p));
	KUNIT_EXPECT_EQ(test, p.delivered, 3U);

	/* The largest datagram fills the whole area and the whole copy. */
	memset(&p, 0, sizeof(p));
	p.test = test;
	p.area = dg_buf(test, VMCI_MAX_DG_SIZE);
	dma_put_dg(&p, 0, 0, VMCI_MAX_DG_PAYLOAD_SIZE);
	KUNIT_EXPECT_TRUE(test, vmci_guest_dma_walk(p.area, copy,
						    dma_walk_device_rewrites, &p));
	KUNIT_EXPECT_EQ(test, p.delivered, 1U);
}

static void dma_walk_count(void *ctx, struct vmci_datagram *dg, size_t size)
{
	(*(unsigned int *)ctx)++;
}

static void dma_walk_refuses_what_does_not_fit(struct kunit *test)
{
	u8 *area = dg_buf(test, VMCI_MAX_DG_SIZE);
	u8 *copy = dg_buf(test, VMCI_MAX_DG_SIZE);
	unsigned int n = 0;

	put_dg(area, 0, 16);
	put_dg(area, 40, VMCI_MAX_DG_PAYLOAD_SIZE);	/* runs past the end */
	KUNIT_EXPECT_FALSE(test, vmci_guest_dma_walk(area, copy, dma_walk_count, &n));
	KUNIT_EXPECT_EQ(test, n, 1U);

	n = 0;
	put_dg(area, 0, U64_MAX - VMCI_DG_HEADERSIZE + 1);	/* wraps to a size of 0 */
	KUNIT_EXPECT_FALSE(test, vmci_guest_dma_walk(area, copy, dma_walk_count, &n));
	KUNIT_EXPECT_EQ(test, n, 0U);
}
#endif

static void qp_page_counts_and_message_sizes(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, vmci_guest_qp_num_ppns(1, 1), 4ULL);
	KUNIT_EXPECT_EQ(test, vmci_guest_qp_num_ppns(PAGE_SIZE, PAGE_SIZE + 1), 5ULL);
	KUNIT_EXPECT_EQ(test, vmci_guest_qp_num_ppns(VMCI_MAX_GUEST_QP_MEMORY / 2,
						     VMCI_MAX_GUEST_QP_MEMORY / 2),
			VMCI_MAX_GUEST_QP_MEMORY / PAGE_SIZE + 2);

	KUNIT_EXPECT_EQ(test, sizeof(struct vmci_qp_alloc_msg), (size_t)64);
	KUNIT_EXPECT_EQ(test, vmci_guest_qp_alloc_msg_size(4, false, VMCI_MAX_DG_SIZE),
			(size_t)64 + 16);
	KUNIT_EXPECT_EQ(test, vmci_guest_qp_alloc_msg_size(4, true, VMCI_MAX_DG_SIZE),
			(size_t)64 + 32);
	/* (69632 - 64) / 8 = 8696 PPN64 entries fit one DMA datagram. */
	KUNIT_EXPECT_EQ(test, vmci_guest_qp_alloc_msg_size(8696, true, VMCI_MAX_DG_SIZE),
			(size_t)VMCI_MAX_DG_SIZE);
	KUNIT_EXPECT_EQ(test, vmci_guest_qp_alloc_msg_size(8697, true, VMCI_MAX_DG_SIZE),
			(size_t)0);
	KUNIT_EXPECT_EQ(test, vmci_guest_qp_alloc_msg_size(17392, false, VMCI_MAX_DG_SIZE),
			(size_t)VMCI_MAX_DG_SIZE);
	KUNIT_EXPECT_EQ(test, vmci_guest_qp_alloc_msg_size(U64_MAX, true, SIZE_MAX), (size_t)0);
	KUNIT_EXPECT_EQ(test, vmci_guest_qp_alloc_msg_size(U64_MAX / 4, false, SIZE_MAX),
			(size_t)0);
	KUNIT_EXPECT_EQ(test, vmci_guest_qp_alloc_msg_size(0, true, 63), (size_t)0);
}

static void ppn_lists(struct kunit *test)
{
	u64 list64[3] = {};
	u32 list32[3] = {};

	KUNIT_EXPECT_EQ(test, vmci_guest_ppn_put(list32, 1, 0x12345678, false), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, list32[1], 0x12345678U);
	KUNIT_EXPECT_EQ(test, vmci_guest_ppn_put(list32, 2, U32_MAX, false), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_guest_ppn_put(list32, 0, (u64)U32_MAX + 1, false),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, list32[0], 0U);
	KUNIT_EXPECT_EQ(test, vmci_guest_ppn_put(list64, 2, 0x123456789aULL, true), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, list64[2], 0x123456789aULL);
	KUNIT_EXPECT_EQ(test, list64[1], 0ULL);
}

static void bitmap_take_clears_only_bit_zero(struct kunit *test)
{
	u8 *bm = kunit_kzalloc(test, 16, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, bm);
	bm[3] = 0x3;
	bm[5] = 0x2;	/* other bits are not a ring */
	bm[9] = 0x1;	/* beyond the limit */

	KUNIT_EXPECT_EQ(test, vmci_guest_bitmap_take(bm, 0, 8), 3);
	KUNIT_EXPECT_EQ(test, bm[3], 0x2);
	KUNIT_EXPECT_EQ(test, vmci_guest_bitmap_take(bm, 4, 8), -1);
	KUNIT_EXPECT_EQ(test, vmci_guest_bitmap_take(bm, 0, 8), -1);
	KUNIT_EXPECT_EQ(test, vmci_guest_bitmap_take(bm, 0, 16), 9);
	KUNIT_EXPECT_EQ(test, bm[9], 0);
	KUNIT_EXPECT_EQ(test, vmci_guest_bitmap_take(bm, 8, 8), -1);
}

static void abi_layouts(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct vmci_data_in_out_header), (size_t)24);
	KUNIT_EXPECT_EQ(test, sizeof(struct vmci_sg_elem), (size_t)16);
	KUNIT_EXPECT_EQ(test, sizeof(struct vmci_resource_query_hdr), (size_t)32);
	KUNIT_EXPECT_EQ(test, sizeof(struct vmci_notify_bm_set_msg), (size_t)32);
	KUNIT_EXPECT_EQ(test, sizeof(struct vmci_doorbell_link_msg), (size_t)40);
	KUNIT_EXPECT_EQ(test, sizeof(struct vmci_doorbell_unlink_msg), (size_t)32);
	KUNIT_EXPECT_EQ(test, sizeof(struct vmci_doorbell_notify_msg), (size_t)32);
	KUNIT_EXPECT_EQ(test, sizeof(struct vmci_qp_detach_msg), (size_t)32);
	KUNIT_EXPECT_EQ(test, offsetof(struct vmci_qp_alloc_msg, num_ppns), (size_t)56);
}

static void cid_usable_matches_probe(struct kunit *test)
{
	KUNIT_EXPECT_FALSE(test, vmci_guest_cid_usable(VMCI_HYPERVISOR_CONTEXT_ID));
	KUNIT_EXPECT_FALSE(test, vmci_guest_cid_usable(1));
	KUNIT_EXPECT_FALSE(test, vmci_guest_cid_usable(VMCI_HOST_CONTEXT_ID));
	KUNIT_EXPECT_FALSE(test, vmci_guest_cid_usable(VMCI_INVALID_ID));
	KUNIT_EXPECT_TRUE(test, vmci_guest_cid_usable(3));
	KUNIT_EXPECT_TRUE(test, vmci_guest_cid_usable(0x7ffffffe));
}

#if IS_ENABLED(CONFIG_PCI)
/*
 * CTX_ID_UPDATE from the hypervisor goes through the guest's own
 * subscription: an ID that probe would refuse must leave the CID alone.
 * Only unusable IDs are raised, so a real guest bound meanwhile keeps its.
 */
static void cid_update_rejects_unusable_ids(struct kunit *test)
{
	static const u32 bad[] = { VMCI_HYPERVISOR_CONTEXT_ID, 1, VMCI_HOST_CONTEXT_ID,
				   VMCI_INVALID_ID };
	struct vmci_event_payld_ctx payload = {};
	struct vmci_guest *g;
	unsigned int i;
	u32 cid;

	g = kunit_kzalloc(test, sizeof(*g), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, g);
	g->pdev = kunit_kzalloc(test, sizeof(*g->pdev), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, g->pdev);
	g->cid = 1234;
	KUNIT_ASSERT_EQ(test, vmci_guest_events_subscribe(g), 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		payload.context_id = bad[i];
		KUNIT_EXPECT_EQ(test, vmci_event_raise(VMCI_EVENT_CTX_ID_UPDATE, &payload,
						       sizeof(payload)), VMCI_SUCCESS);
		cid = READ_ONCE(g->cid);
		KUNIT_EXPECT_EQ_MSG(test, cid, 1234U, "update to %u", bad[i]);
	}
	vmci_guest_events_unsubscribe(g);
}
#endif

static struct kunit_case vmci_guest_cases[] = {
	KUNIT_CASE(caps_datagram_is_required),
	KUNIT_CASE(caps_port_io_takes_what_it_can_use),
	KUNIT_CASE(caps_mmio_needs_dma_datagrams),
	KUNIT_CASE(dma_mask_follows_ppn_size),
	KUNIT_CASE(imr_and_vectors_follow_caps),
	KUNIT_CASE(icr_zero_and_all_ones_are_not_ours),
	KUNIT_CASE(irq_mode_parameter),
	KUNIT_CASE(dg_in_packed_datagrams_and_filler),
	KUNIT_CASE(dg_in_buffer_used_up),
	KUNIT_CASE(dg_in_cut_by_buffer_end),
	KUNIT_CASE(dg_in_oversized_payloads),
	KUNIT_CASE(dg_in_never_points_outside),
#if IS_ENABLED(CONFIG_PCI)
	KUNIT_CASE(dma_walk_delivers_private_copies),
	KUNIT_CASE(dma_walk_refuses_what_does_not_fit),
#endif
	KUNIT_CASE(qp_page_counts_and_message_sizes),
	KUNIT_CASE(ppn_lists),
	KUNIT_CASE(bitmap_take_clears_only_bit_zero),
	KUNIT_CASE(abi_layouts),
	KUNIT_CASE(cid_usable_matches_probe),
#if IS_ENABLED(CONFIG_PCI)
	KUNIT_CASE(cid_update_rejects_unusable_ids),
#endif
	{}
};

static struct kunit_suite vmci_guest_suite = {
	.name = "vmci_guest",
	.test_cases = vmci_guest_cases,
};

kunit_test_suite(vmci_guest_suite);
