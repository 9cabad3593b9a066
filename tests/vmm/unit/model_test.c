// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the VMCI device model: registers, both datagram
 * paths, hypervisor calls, and a guest receive loop written from the
 * facts sheet running against the DATA_IN stream.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdlib.h>

#include "../vmci_model.h"
#include "../../user/tap.h"
#include "guest_mem.h"

#define CID 77u

static uint32_t irq_causes;
static int irq_count;
static bool irq_level;

static void irq(void *opaque, uint32_t causes, bool level)
{
	(void)opaque;
	irq_causes |= causes;
	if (causes)
		irq_count++;
	irq_level = level;
}

static const struct vmm_env env = {
	.mem_read = mem_read, .mem_write = mem_write, .irq = irq,
};

static void setup(struct vmci_model *m, uint32_t caps)
{
	if (vmm_init(m, &env, CID, caps)) {
		printf("Bail out! vmm_init\n");
		exit(1);
	}
	memset(guest, 0, sizeof(guest));
	irq_causes = 0;
	irq_count = 0;
	vmm_write(m, VMM_REG_CAPS, caps | VMM_CAPS_DATAGRAM, 4);
	vmm_write(m, VMM_REG_IMR, VMM_ICR_ALL, 4);
	vmm_write(m, VMM_REG_CONTROL, VMM_CONTROL_INT_ENABLE, 4);
}

/* Port-I/O send: the datagram as a byte string, then RESULT_LOW. */
static int32_t send_port(struct vmci_model *m, const uint8_t *dg, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		vmm_write(m, VMM_REG_DATA_OUT, dg[i], 1);
	return (int32_t)vmm_read(m, VMM_REG_RESULT_LOW, 4);
}

static size_t make_dg(uint8_t *buf, uint32_t dc, uint32_t dr, uint32_t sc,
		      uint32_t sr, size_t payload, uint8_t fill)
{
	vmm_put_header(buf, dc, dr, sc, sr, payload);
	memset(buf + VMM_DG_HEADER_SIZE, fill, payload);
	return VMM_DG_HEADER_SIZE + payload;
}

static int32_t hcall(struct vmci_model *m, uint32_t rid, const void *pl,
		     size_t plen)
{
	uint8_t dg[256];

	vmm_put_header(dg, 0, rid, VMM_INVALID_ID, VMM_INVALID_ID, plen);
	if (plen)
		memcpy(dg + VMM_DG_HEADER_SIZE, pl, plen);
	return send_port(m, dg, VMM_DG_HEADER_SIZE + plen);
}

static void test_registers(void)
{
	struct vmci_model m;

	setup(&m, VMM_CAPS_NOTIFICATIONS | VMM_CAPS_PPN64);
	CHECK_EQ("caps_offered", vmm_read(&m, VMM_REG_CAPS, 4),
		 VMM_CAPS_DATAGRAM | VMM_CAPS_NOTIFICATIONS | VMM_CAPS_PPN64);
	vmm_write(&m, VMM_REG_CAPS, 0xffffffff, 4);
	CHECK_EQ("caps_in_use_masked", m.caps_in_use,
		 VMM_CAPS_DATAGRAM | VMM_CAPS_NOTIFICATIONS | VMM_CAPS_PPN64);
	CHECK_EQ("status_int_on", vmm_read(&m, VMM_REG_STATUS, 4), VMM_STATUS_INT_ON);
	CHECK_EQ("unknown_offset_reads_zero", vmm_read(&m, 0x3c, 4), 0);
	CHECK_EQ("bad_size_reads_zero", vmm_read(&m, VMM_REG_CAPS, 3), 0);
	vmm_set_cid(&m, CID);
	CHECK_EQ("icr_datagram", vmm_read(&m, VMM_REG_ICR, 4), VMM_ICR_DATAGRAM);
	CHECK_EQ("icr_read_clears", vmm_read(&m, VMM_REG_ICR, 4), 0);
	tap_report(!irq_level, "intx_level_drops", "level still high");
	vmm_write(&m, VMM_REG_CONTROL, VMM_CONTROL_INT_DISABLE, 4);
	irq_count = 0;
	vmm_set_cid(&m, CID);
	CHECK_EQ("no_irq_when_disabled", irq_count, 0);
	vmm_write(&m, VMM_REG_CONTROL, VMM_CONTROL_INT_ENABLE, 4);
	CHECK_EQ("pending_irq_on_enable", irq_count, 1);
	vmm_write(&m, VMM_REG_CONTROL, VMM_CONTROL_RESET, 4);
	CHECK_EQ("reset_clears_status", vmm_read(&m, VMM_REG_STATUS, 4), 0);
	CHECK_EQ("reset_drops_rx", m.rx_head == NULL, 1);
	vmm_destroy(&m);
}

static void test_hypercalls(void)
{
	struct vmci_model m;
	uint8_t pl[200];

	setup(&m, VMM_CAPS_NOTIFICATIONS | VMM_CAPS_PPN64);
	CHECK_EQ("get_context_id", hcall(&m, VMM_RID_GET_CONTEXT_ID, NULL, 0), CID);

	memset(pl, 0, sizeof(pl));
	vmm_put32(pl, 1);
	vmm_put32(pl + 8, VMM_RID_GET_CONTEXT_ID);
	CHECK_EQ("resources_query_ctx_id", hcall(&m, VMM_RID_RESOURCES_QUERY, pl, 12), 1);
	vmm_put32(pl, 3);
	vmm_put32(pl + 12, 99);
	vmm_put32(pl + 16, VMM_RID_DOORBELL_LINK);
	CHECK_EQ("resources_query_mask", hcall(&m, VMM_RID_RESOURCES_QUERY, pl, 20), 5);
	vmm_put32(pl, 0);
	tap_check_int("resources_query_zero",
		      hcall(&m, VMM_RID_RESOURCES_QUERY, pl, 8), VMM_ERROR_INVALID_ARGS);
	vmm_put32(pl, 32);
	tap_check_int("resources_query_too_many",
		      hcall(&m, VMM_RID_RESOURCES_QUERY, pl, 8 + 4 * 32),
		      VMM_ERROR_INVALID_ARGS);
	vmm_put32(pl, 5);
	tap_check_int("resources_query_short",
		      hcall(&m, VMM_RID_RESOURCES_QUERY, pl, 12), VMM_ERROR_INVALID_ARGS);

	/* Bitmap at guest page 0x10, doorbell {CID, 2000} at index 7. */
	memset(pl, 0, sizeof(pl));
	vmm_put64(pl, 0x10);
	tap_check_int("set_bitmap", hcall(&m, VMM_RID_SET_NOTIFY_BITMAP, pl, 8), 0);
	vmm_put64(pl, 0x100000);
	tap_check_int("set_bitmap_outside_ram",
		      hcall(&m, VMM_RID_SET_NOTIFY_BITMAP, pl, 8), VMM_ERROR_INVALID_ARGS);
	vmm_put64(pl, UINT64_MAX);
	tap_check_int("set_bitmap_ppn_overflow",
		      hcall(&m, VMM_RID_SET_NOTIFY_BITMAP, pl, 8), VMM_ERROR_INVALID_ARGS);
	tap_check_int("set_bitmap_short",
		      hcall(&m, VMM_RID_SET_NOTIFY_BITMAP, pl, 4), VMM_ERROR_INVALID_ARGS);
	vmm_put32(pl, CID);
	vmm_put32(pl + 4, 2000);
	vmm_put64(pl + 8, 7);
	tap_check_int("link", hcall(&m, VMM_RID_DOORBELL_LINK, pl, 16), 0);
	tap_check_int("link_duplicate", hcall(&m, VMM_RID_DOORBELL_LINK, pl, 16),
		      VMM_ERROR_DUPLICATE_ENTRY);
	vmm_put32(pl + 4, 2001);
	vmm_put64(pl + 8, 4096);
	tap_check_int("link_index_too_big", hcall(&m, VMM_RID_DOORBELL_LINK, pl, 16),
		      VMM_ERROR_INVALID_ARGS);
	vmm_put32(pl, CID + 1);
	vmm_put64(pl + 8, 1);
	tap_check_int("link_foreign_context", hcall(&m, VMM_RID_DOORBELL_LINK, pl, 16),
		      VMM_ERROR_INVALID_ARGS);
	vmm_put32(pl, CID);
	vmm_put32(pl + 4, 2000);
	irq_causes = 0;
	tap_check_int("notify", hcall(&m, VMM_RID_DOORBELL_NOTIFY, pl, 8), 0);
	CHECK_EQ("notify_sets_byte", guest[0x10000 + 7], 1);
	CHECK_EQ("notify_raises", irq_causes, VMM_ICR_NOTIFICATION);
	tap_check_int("unlink", hcall(&m, VMM_RID_DOORBELL_UNLINK, pl, 8), 0);
	tap_check_int("unlink_again", hcall(&m, VMM_RID_DOORBELL_UNLINK, pl, 8),
		      VMM_ERROR_NOT_FOUND);
	tap_check_int("notify_unlinked", hcall(&m, VMM_RID_DOORBELL_NOTIFY, pl, 8),
		      VMM_ERROR_NOT_FOUND);

	vmm_put32(pl, 3);
	tap_check_int("event_subscribe", hcall(&m, VMM_RID_EVENT_SUBSCRIBE, pl, 8), 0);
	CHECK_EQ("event_subscribed", m.event_subscribed, 1u << 3);
	vmm_put32(pl, 5);
	tap_check_int("event_subscribe_vmx_only",
		      hcall(&m, VMM_RID_EVENT_SUBSCRIBE, pl, 8), VMM_ERROR_EVENT_UNKNOWN);
	vmm_put32(pl, 3);
	tap_check_int("event_unsubscribe", hcall(&m, VMM_RID_EVENT_UNSUBSCRIBE, pl, 8), 0);
	vmm_put32(pl, 1234);
	tap_check_int("request_map", hcall(&m, VMM_RID_DATAGRAM_REQUEST_MAP, pl, 8), 0);
	tap_check_int("remove_map", hcall(&m, VMM_RID_DATAGRAM_REMOVE_MAP, pl, 8), 0);
	tap_check_int("remove_map_again", hcall(&m, VMM_RID_DATAGRAM_REMOVE_MAP, pl, 8),
		      VMM_ERROR_NOT_FOUND);
	tap_check_int("unknown_resource", hcall(&m, 12, NULL, 0),
		      VMM_ERROR_INVALID_RESOURCE);

	vmm_write(&m, VMM_REG_CONTROL, VMM_CONTROL_RESET, 4);
	vmm_write(&m, VMM_REG_CAPS, VMM_CAPS_DATAGRAM, 4);
	vmm_put64(pl, 0x10);
	tap_check_int("bitmap_needs_caps", hcall(&m, VMM_RID_SET_NOTIFY_BITMAP, pl, 8),
		      VMM_ERROR_UNAVAILABLE);
	vmm_destroy(&m);
}

/*
 * The receive loop of facts sheet section 1.8 (port-I/O mode), written
 * independently: pages first, grow to the maximum for a datagram that
 * does not fit, skip to page boundaries after filler.
 */
struct rx_sink {
	size_t count;
	size_t lens[64];
	uint8_t fills[64];
};

static void read_data(struct vmci_model *m, uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = vmm_read(m, VMM_REG_DATA_IN, 1);
}

static void guest_receive(struct vmci_model *m, struct rx_sink *sink)
{
	static uint8_t buf[VMM_MAX_DG_SIZE];
	size_t size = VMM_PAGE_SIZE, off = 0, remaining, dg_len;
	int guard = 0;

	read_data(m, buf, size);
	remaining = size;
	while (guard++ < 10000 && off + VMM_DG_HEADER_SIZE <= size) {
		if (vmm_get32(buf + off + 4) == VMM_INVALID_ID) {
			if (remaining <= VMM_PAGE_SIZE)
				break;
			off = (off / VMM_PAGE_SIZE + 1) * VMM_PAGE_SIZE;
			remaining = size - off;
			continue;
		}
		dg_len = (VMM_DG_HEADER_SIZE + vmm_get64(buf + off + 16) + 7) & ~(size_t)7;
		if (dg_len > remaining) {
			memmove(buf, buf + off, remaining);
			off = 0;
			size = VMM_MAX_DG_SIZE;
			read_data(m, buf + remaining, size - remaining);
		}
		if (sink->count < 64) {
			sink->lens[sink->count] = VMM_DG_HEADER_SIZE + vmm_get64(buf + off + 16);
			sink->fills[sink->count] = buf[off + VMM_DG_HEADER_SIZE];
			sink->count++;
		}
		off += dg_len;
		remaining = size - off;
		if (remaining < VMM_DG_HEADER_SIZE) {
			read_data(m, buf, size);
			off = 0;
			remaining = size;
		}
	}
}

static void test_data_in_stream(void)
{
	static const size_t payloads[] = { 2, 100, 4000, 10000, 0, 69608, 3, 4072, 8, 500 };
	static uint8_t dg[VMM_MAX_DG_SIZE];
	struct rx_sink sink = { 0 };
	struct vmci_model m;
	size_t i, n = sizeof(payloads) / sizeof(payloads[0]), len;
	bool order = true;
	int passes = 0;

	setup(&m, 0);
	/* The queue holds two maximal datagrams; send in two rounds. */
	for (i = 0; i < n; i++) {
		len = make_dg(dg, CID, 3000 + i, VMM_INVALID_ID, 5, payloads[i], 0x40 + i);
		if (send_port(&m, dg, len) != (int32_t)len)
			order = false;
		/* Receive as a driver does: once per datagram interrupt. */
		if (i == 4 || i == n - 1) {
			while ((irq_causes & VMM_ICR_DATAGRAM) && passes++ < 50) {
				irq_causes = 0;
				guest_receive(&m, &sink);
			}
		}
	}
	tap_report(order, "loopback_results_are_sizes", "a send failed");
	CHECK_EQ("stream_all_received", sink.count, n);
	for (i = 0; i < n && i < sink.count; i++)
		if (sink.lens[i] != VMM_DG_HEADER_SIZE + payloads[i] ||
		    (payloads[i] && sink.fills[i] != 0x40 + i))
			order = false;
	tap_report(order, "stream_in_order_intact", "datagram mismatch");
	guest_receive(&m, &sink);
	CHECK_EQ("stream_empty_is_filler", sink.count, n);

	/* Page packing: 26 and 124 bytes share a page, 8-byte aligned. */
	len = make_dg(dg, CID, 1, CID, 5, 2, 1);
	send_port(&m, dg, len);
	len = make_dg(dg, CID, 2, CID, 5, 100, 2);
	send_port(&m, dg, len);
	read_data(&m, dg, VMM_PAGE_SIZE);
	CHECK_EQ("pack_second_at_32", vmm_get32(dg + 32 + 4), 2);
	CHECK_EQ("pack_filler_after", vmm_get32(dg + 32 + 128 + 4), VMM_INVALID_ID);
	CHECK_EQ("src_context_filled_in", vmm_get32(dg + 8), CID);

	/* 4024 bytes leave 72 in the page: an 80-byte datagram goes to the next. */
	len = make_dg(dg, CID, 3, CID, 5, 4000, 3);
	send_port(&m, dg, len);
	len = make_dg(dg, CID, 4, CID, 5, 56, 4);
	send_port(&m, dg, len);
	read_data(&m, dg, 2 * VMM_PAGE_SIZE);
	CHECK_EQ("no_datagram_past_page_end", vmm_get32(dg + 4024 + 4), VMM_INVALID_ID);
	CHECK_EQ("next_page_starts_with_it", vmm_get32(dg + VMM_PAGE_SIZE + 4), 4);
	vmm_destroy(&m);
}

/*
 * An injected datagram longer than VMCI_MAX_DG_SIZE occupies whole pages
 * of the DATA_IN stream (a guest reads and discards it), filler follows,
 * and the next datagram starts on the next page; DMA drops it.
 */
static void test_oversize_junk(void)
{
	static uint8_t buf[VMM_MAX_DG_SIZE + VMM_PAGE_SIZE];
	size_t span = VMM_MAX_DG_SIZE + VMM_PAGE_SIZE, len;
	struct vmci_model m;
	uint8_t dg[64];

	setup(&m, 0);
	tap_check_int("oversize_queued", vmm_inject_junk(&m, "oversize"), 0);
	len = make_dg(dg, CID, 4321, CID, 5, 8, 0x77);
	send_port(&m, dg, len);
	read_data(&m, buf, span);
	CHECK_EQ("oversize_size_announced", vmm_get64(buf + 16), VMM_MAX_DG_SIZE);
	CHECK_EQ("oversize_payload_streamed", buf[VMM_MAX_DG_SIZE + 23], 0xc3);
	CHECK_EQ("oversize_filler_after", vmm_get32(buf + VMM_MAX_DG_SIZE + 24 + 4),
		 VMM_INVALID_ID);
	read_data(&m, buf, VMM_PAGE_SIZE);
	CHECK_EQ("oversize_next_on_page", vmm_get32(buf + 4), 4321);
	vmm_destroy(&m);
}

static void test_dma(void)
{
	struct vmci_model m;
	uint8_t *send = guest + 0x20000, *recv = guest + 0x40000;
	size_t len;

	setup(&m, VMM_CAPS_DMA_DATAGRAM | VMM_CAPS_PPN64);
	vmm_write(&m, VMM_REG_DATA_OUT_HIGH, 0, 4);
	vmm_write(&m, VMM_REG_DATA_IN_HIGH, 0, 4);

	/* Send GET_CONTEXT_ID. */
	vmm_put32(send, 1);
	vmm_put32(send + 4, VMM_DMA_OP_SEND);
	vmm_put32(send + 8, VMM_DG_HEADER_SIZE);
	vmm_put_header(send + 24, 0, VMM_RID_GET_CONTEXT_ID, VMM_INVALID_ID,
		       VMM_INVALID_ID, 0);
	vmm_write(&m, VMM_REG_DATA_OUT_LOW, 0x20000, 4);
	CHECK_EQ("dma_send_busy_cleared", vmm_get32(send), 0);
	CHECK_EQ("dma_send_result", vmm_get64(send + 16), CID);
	CHECK_EQ("dma_send_result_low", vmm_read(&m, VMM_REG_RESULT_LOW, 4), CID);

	/* Two loopback datagrams, received by one DMA pass. */
	len = make_dg(send + 24, CID, 4000, CID, 4000, 10, 0x55);
	vmm_put32(send + 8, len);
	vmm_write(&m, VMM_REG_DATA_OUT_LOW, 0x20000, 4);
	CHECK_EQ("dma_loopback_result", vmm_get64(send + 16), len);
	vmm_write(&m, VMM_REG_DATA_OUT_LOW, 0x20000, 4);
	vmm_put32(recv, 0);
	vmm_put32(recv + 4, VMM_DMA_OP_RECEIVE);
	vmm_put32(recv + 8, 1);
	vmm_put64(recv + 24, 0x41000);
	vmm_put64(recv + 32, VMM_MAX_DG_SIZE);
	irq_causes = 0;
	vmm_write(&m, VMM_REG_DATA_IN_LOW, 0x40000, 4);
	CHECK_EQ("dma_recv_busy_set", vmm_get32(recv), 1);
	CHECK_EQ("dma_recv_irq", irq_causes, VMM_ICR_DMA_DATAGRAM);
	CHECK_EQ("dma_recv_first", vmm_get32(guest + 0x41000 + 4), 4000);
	CHECK_EQ("dma_recv_second_aligned", vmm_get32(guest + 0x41000 + 40 + 4), 4000);
	CHECK_EQ("dma_recv_terminator", vmm_get32(guest + 0x41000 + 80 + 4), VMM_INVALID_ID);

	/* Malformed DMA requests. */
	vmm_put32(send + 8, 10);
	vmm_write(&m, VMM_REG_DATA_OUT_LOW, 0x20000, 4);
	tap_check_int("dma_send_short", (int32_t)vmm_read(&m, VMM_REG_RESULT_LOW, 4),
		      VMM_ERROR_INVALID_ARGS);
	vmm_put32(send + 8, VMM_MAX_DG_SIZE + 1);
	vmm_write(&m, VMM_REG_DATA_OUT_LOW, 0x20000, 4);
	tap_check_int("dma_send_too_big", (int32_t)vmm_read(&m, VMM_REG_RESULT_LOW, 4),
		      VMM_ERROR_INVALID_ARGS);
	vmm_put32(send + 8, 40);
	vmm_write(&m, VMM_REG_DATA_OUT_LOW, 0x20000, 4);
	tap_check_int("dma_send_size_mismatch", (int32_t)vmm_read(&m, VMM_REG_RESULT_LOW, 4),
		      VMM_ERROR_INVALID_ARGS);
	vmm_write(&m, VMM_REG_DATA_OUT_HIGH, 0x7fffffff, 4);
	vmm_write(&m, VMM_REG_DATA_OUT_LOW, 0xfffff000, 4);
	tap_check_int("dma_send_bad_address", (int32_t)vmm_read(&m, VMM_REG_RESULT_LOW, 4),
		      VMM_ERROR_INVALID_ARGS);
	vmm_write(&m, VMM_REG_DATA_OUT_HIGH, 0, 4);
	vmm_put64(recv + 32, 4);
	vmm_put32(recv, 0);
	vmm_write(&m, VMM_REG_DATA_IN_LOW, 0x40000, 4);
	CHECK_EQ("dma_recv_tiny_sg_refused", vmm_get32(recv), 0);
	vmm_put64(recv + 32, VMM_MAX_DG_SIZE);
	vmm_put64(recv + 24, GUEST_MEM - 16);
	vmm_write(&m, VMM_REG_DATA_IN_LOW, 0x40000, 4);
	CHECK_EQ("dma_recv_sg_outside_ram", vmm_get32(recv), 0);
	vmm_destroy(&m);
}

static void test_malformed_stream(void)
{
	struct vmci_model m;
	uint8_t dg[64];
	size_t i;

	setup(&m, 0);
	/* A header claiming a 2^63-byte payload is swallowed up to RESULT. */
	vmm_put_header(dg, 0, VMM_RID_GET_CONTEXT_ID, VMM_INVALID_ID,
		       VMM_INVALID_ID, 1ull << 63);
	for (i = 0; i < 24; i++)
		vmm_write(&m, VMM_REG_DATA_OUT, dg[i], 1);
	for (i = 0; i < 1000; i++)
		vmm_write(&m, VMM_REG_DATA_OUT, 0xab, 1);
	tap_check_int("huge_payload_refused", (int32_t)vmm_read(&m, VMM_REG_RESULT_LOW, 4),
		      VMM_ERROR_INVALID_ARGS);
	/* Half a datagram, then RESULT: incomplete, and the stream resyncs. */
	vmm_put_header(dg, 0, VMM_RID_GET_CONTEXT_ID, VMM_INVALID_ID, VMM_INVALID_ID, 8);
	for (i = 0; i < 20; i++)
		vmm_write(&m, VMM_REG_DATA_OUT, dg[i], 1);
	tap_check_int("partial_is_incomplete", (int32_t)vmm_read(&m, VMM_REG_RESULT_LOW, 4),
		      VMM_ERROR_DATAGRAM_INCOMPLETE);
	CHECK_EQ("resync_after_garbage", hcall(&m, VMM_RID_GET_CONTEXT_ID, NULL, 0), CID);
	/* 32-bit writes to the byte port are a byte stream too. */
	vmm_put_header(dg, 0, VMM_RID_GET_CONTEXT_ID, VMM_INVALID_ID, VMM_INVALID_ID, 0);
	for (i = 0; i < 24; i += 4)
		vmm_write(&m, VMM_REG_DATA_OUT, vmm_get32(dg + i), 4);
	CHECK_EQ("dword_data_out", vmm_read(&m, VMM_REG_RESULT_LOW, 4), CID);

	make_dg(dg, CID + 1, 5, VMM_INVALID_ID, 5, 8, 0);
	tap_check_int("other_vm_unreachable", send_port(&m, dg, 32), VMM_ERROR_DST_UNREACHABLE);
	make_dg(dg, VMM_HOST_CID, 5, VMM_INVALID_ID, 5, 8, 0);
	tap_check_int("host_unreachable_without_bridge", send_port(&m, dg, 32),
		      VMM_ERROR_DST_UNREACHABLE);
	make_dg(dg, CID, 5, 42, 5, 8, 0);
	tap_check_int("spoofed_source_refused", send_port(&m, dg, 32), VMM_ERROR_NO_ACCESS);
	make_dg(dg, CID, VMM_INVALID_ID, CID, 5, 8, 0);
	tap_check_int("invalid_destination_refused", send_port(&m, dg, 32),
		      VMM_ERROR_INVALID_ARGS);

	/* The queue refuses rather than grows without bound. */
	for (i = 0; i < 10000; i++) {
		make_dg(dg, CID, 5, CID, 5, 40, 0);
		if (send_port(&m, dg, 64) < 0)
			break;
	}
	tap_report(i < 10000 && m.rx_bytes <= VMM_MAX_DG_QUEUE_SIZE, "rx_queue_bounded",
		   "queued %zu bytes", m.rx_bytes);
	vmm_destroy(&m);
}

/* QUEUEPAIR_ALLOC payload: one header + one data page per queue. */
static size_t qp_payload(uint8_t *pl, uint32_t rid, uint32_t peer, uint32_t flags,
			 uint64_t n, unsigned int ppn_size, uint64_t first_ppn)
{
	uint64_t i;

	vmm_put32(pl, CID);
	vmm_put32(pl + 4, rid);
	vmm_put32(pl + 8, peer);
	vmm_put32(pl + 12, flags);
	vmm_put64(pl + 16, 4096);
	vmm_put64(pl + 24, 100);
	vmm_put64(pl + 32, n);
	for (i = 0; i < n; i++) {
		if (ppn_size == 8)
			vmm_put64(pl + 40 + 8 * i, first_ppn + i);
		else
			vmm_put32(pl + 40 + 4 * i, first_ppn + i);
	}
	return 40 + n * ppn_size;
}

static void test_queue_pairs(void)
{
	struct vmci_model m;
	uint8_t pl[200];
	size_t len;

	setup(&m, VMM_CAPS_PPN64);
	memset(guest + 0x30000, 0xee, 4 * 4096);
	len = qp_payload(pl, 2000, VMM_HOST_CID, 0, 4, 8, 0x30);
	tap_check_int("qp_alloc_ppn64", hcall(&m, VMM_RID_QUEUEPAIR_ALLOC, pl, len), 0);
	CHECK_EQ("qp_produce_header_handle", vmm_get32(guest + 0x30000 + 4), 2000);
	CHECK_EQ("qp_produce_header_tail", vmm_get64(guest + 0x30000 + 8), 0);
	CHECK_EQ("qp_consume_header_handle", vmm_get32(guest + 0x32000 + 4), 2000);
	CHECK_EQ("qp_recorded_ppn", m.qp_count == 1 ? m.qps[0].ppns[3] : 0, 0x33);
	tap_check_int("qp_alloc_duplicate", hcall(&m, VMM_RID_QUEUEPAIR_ALLOC, pl, len),
		      VMM_ERROR_ALREADY_EXISTS);
	len = qp_payload(pl, 2001, VMM_HOST_CID, 0, 3, 8, 0x30);
	tap_check_int("qp_alloc_wrong_page_count",
		      hcall(&m, VMM_RID_QUEUEPAIR_ALLOC, pl, len), VMM_ERROR_INVALID_ARGS);
	len = qp_payload(pl, 2001, VMM_HOST_CID, 0, 4, 8, 0x30);
	tap_check_int("qp_alloc_short_list",
		      hcall(&m, VMM_RID_QUEUEPAIR_ALLOC, pl, len - 1), VMM_ERROR_INVALID_ARGS);
	len = qp_payload(pl, 2001, VMM_HOST_CID, 0, 4, 8, 0xfffff);
	tap_check_int("qp_alloc_page_outside_ram",
		      hcall(&m, VMM_RID_QUEUEPAIR_ALLOC, pl, len), VMM_ERROR_INVALID_ARGS);
	len = qp_payload(pl, 2001, VMM_HOST_CID, 0, 4, 8, 0x30);
	vmm_put64(pl + 40, UINT64_MAX);
	tap_check_int("qp_alloc_ppn_overflow",
		      hcall(&m, VMM_RID_QUEUEPAIR_ALLOC, pl, len), VMM_ERROR_INVALID_ARGS);
	len = qp_payload(pl, 2001, CID + 5, 0, 4, 8, 0x30);
	tap_check_int("qp_alloc_other_vm", hcall(&m, VMM_RID_QUEUEPAIR_ALLOC, pl, len),
		      VMM_ERROR_DST_UNREACHABLE);
	len = qp_payload(pl, 2001, VMM_HOST_CID, 0x2, 4, 8, 0x30);
	tap_check_int("qp_alloc_local_flag", hcall(&m, VMM_RID_QUEUEPAIR_ALLOC, pl, len),
		      VMM_ERROR_INVALID_ARGS);
	len = qp_payload(pl, 2001, VMM_HOST_CID, 0x10, 4, 8, 0x30);
	tap_check_int("qp_alloc_unknown_flag", hcall(&m, VMM_RID_QUEUEPAIR_ALLOC, pl, len),
		      VMM_ERROR_INVALID_ARGS);
	len = qp_payload(pl, 2001, VMM_HOST_CID, 0, 4, 8, 0x30);
	vmm_put64(pl + 16, 1ull << 40);
	tap_check_int("qp_alloc_huge", hcall(&m, VMM_RID_QUEUEPAIR_ALLOC, pl, len),
		      VMM_ERROR_NO_RESOURCES);
	len = qp_payload(pl, 2001, VMM_HOST_CID, 0x1, 4, 8, 0x30);
	tap_check_int("qp_attach_only_missing", hcall(&m, VMM_RID_QUEUEPAIR_ALLOC, pl, len),
		      VMM_ERROR_NOT_FOUND);
	vmm_put32(pl, CID);
	vmm_put32(pl + 4, 2000);
	tap_check_int("qp_detach", hcall(&m, VMM_RID_QUEUEPAIR_DETACH, pl, 8),
		      VMM_SUCCESS_LAST_DETACH);
	tap_check_int("qp_detach_again", hcall(&m, VMM_RID_QUEUEPAIR_DETACH, pl, 8),
		      VMM_ERROR_NOT_FOUND);

	/* Without PPN64 the list is 32-bit. */
	vmm_write(&m, VMM_REG_CAPS, VMM_CAPS_DATAGRAM, 4);
	len = qp_payload(pl, 2002, VMM_INVALID_ID, 0, 4, 4, 0x30);
	tap_check_int("qp_alloc_ppn32", hcall(&m, VMM_RID_QUEUEPAIR_ALLOC, pl, len), 0);
	tap_check_int("qp_alloc_ppn32_as_64",
		      hcall(&m, VMM_RID_QUEUEPAIR_ALLOC, pl, 40 + 4 * 8), VMM_ERROR_INVALID_ARGS);
	vmm_write(&m, VMM_REG_CONTROL, VMM_CONTROL_RESET, 4);
	CHECK_EQ("qp_reset_forgets", m.qp_count, 0);
	vmm_destroy(&m);
}

/* Host end of a pair: produce 1 page at 0x50-0x51, consume 2 at 0x52-0x54. */
static void test_queue_io(void)
{
	static uint8_t data[10000], got[10000];
	struct vmm_qpair *qp;
	struct vmci_model m;
	uint8_t pl[200];
	size_t len, i;

	setup(&m, VMM_CAPS_PPN64);
	len = qp_payload(pl, 3000, VMM_HOST_CID, 0, 5, 8, 0x50);
	vmm_put64(pl + 24, 8192);
	tap_check_int("qio_alloc", hcall(&m, VMM_RID_QUEUEPAIR_ALLOC, pl, len), 0);
	qp = vmm_qp_find(&m, CID, 3000);
	if (!qp) {
		tap_report(0, "qio_found", "no pair");
		vmm_destroy(&m);
		return;
	}
	for (i = 0; i < sizeof(data); i++)
		data[i] = i * 13 + (i >> 9);

	/* The guest wrote 100 bytes. */
	memcpy(guest + 0x51000, data, 100);
	vmm_put64(guest + 0x50000 + 8, 100);
	tap_check_int("qio_ready", vmm_qp_host_ready(&m, qp), 100);
	tap_check_int("qio_read_part", vmm_qp_host_read(&m, qp, got, 60), 60);
	CHECK_EQ("qio_head_written", vmm_get64(guest + 0x52000 + 16), 60);
	tap_check_int("qio_read_rest", vmm_qp_host_read(&m, qp, got + 60, 100), 40);
	tap_report(!memcmp(got, data, 100), "qio_read_bytes", "mismatch");
	tap_check_int("qio_read_empty", vmm_qp_host_read(&m, qp, got, 1),
		      VMM_ERROR_QUEUEPAIR_NODATA);
	/* Tail wrapped behind head: 4096 - 90 bytes, first chunk at 100. */
	memcpy(guest + 0x51000 + 100, data, 3996);
	memcpy(guest + 0x51000, data + 3996, 10);
	vmm_put64(guest + 0x50000 + 8, 10);
	tap_check_int("qio_ready_wrapped", vmm_qp_host_ready(&m, qp), 4006);
	tap_check_int("qio_read_wrapped", vmm_qp_host_read(&m, qp, got, 5000), 4006);
	tap_report(!memcmp(got, data, 4006), "qio_read_wrapped_bytes", "mismatch");

	/* Host to guest: one byte always stays free. */
	tap_check_int("qio_free", vmm_qp_host_free(&m, qp), 8191);
	tap_check_int("qio_write_fills", vmm_qp_host_write(&m, qp, data, 10000), 8191);
	tap_report(!memcmp(guest + 0x53000, data, 4096) &&
		   !memcmp(guest + 0x54000, data + 4096, 4095), "qio_write_bytes", "mismatch");
	CHECK_EQ("qio_tail_written", vmm_get64(guest + 0x52000 + 8), 8191);
	tap_check_int("qio_write_full", vmm_qp_host_write(&m, qp, data, 1),
		      VMM_ERROR_QUEUEPAIR_NOSPACE);
	vmm_put64(guest + 0x50000 + 16, 5000);
	tap_check_int("qio_write_wraps", vmm_qp_host_write(&m, qp, data, 6000), 5000);
	tap_report(guest[0x54000 + 4095] == data[0] && guest[0x53000] == data[1] &&
		   guest[0x53000 + 4998] == data[4999], "qio_write_wrapped_bytes", "mismatch");
	CHECK_EQ("qio_tail_wrapped", vmm_get64(guest + 0x52000 + 8), 4999);

	/* Garbage offsets from the guest are errors, not addresses. */
	vmm_put64(guest + 0x50000 + 8, 4096);
	tap_check_int("qio_bad_tail", vmm_qp_host_read(&m, qp, got, 10), VMM_ERROR_INVALID_SIZE);
	vmm_put64(guest + 0x50000 + 16, UINT64_MAX);
	tap_check_int("qio_bad_head", vmm_qp_host_write(&m, qp, data, 10),
		      VMM_ERROR_INVALID_SIZE);
	vmm_destroy(&m);
}

/* Random register traffic: the sanitizers are the judge. */
static void test_fuzz(void)
{
	struct vmci_model m;
	unsigned int seed = 12345, i, off;
	static const unsigned int sizes[] = { 1, 2, 4, 3 };

	setup(&m, VMM_CAPS_DMA_DATAGRAM | VMM_CAPS_NOTIFICATIONS | VMM_CAPS_PPN64);
	for (i = 0; i < GUEST_MEM; i++)
		guest[i] = rand_r(&seed);
	for (i = 0; i < 2000000; i++) {
		off = (rand_r(&seed) % 15) * 4;
		if (rand_r(&seed) % 3 == 0)
			vmm_read(&m, off, sizes[rand_r(&seed) % 4]);
		else if (off == VMM_REG_DATA_OUT_LOW || off == VMM_REG_DATA_IN_LOW)
			vmm_write(&m, off, rand_r(&seed) % GUEST_MEM, 4);
		else if (off != VMM_REG_CONTROL || rand_r(&seed) % 50 == 0)
			vmm_write(&m, off, rand_r(&seed) % 256, sizes[rand_r(&seed) % 4]);
	}
	tap_report(1, "fuzz_registers_survive", "");
	vmm_destroy(&m);
}

/*
 * junk dma-resize: a loopback datagram queued first goes in one DMA pass,
 * the injected one alone in the next, and right after that pass's
 * interrupt its payload_size in guest memory is far beyond any buffer.
 */
static void test_dma_resize_junk(void)
{
	uint8_t *send = guest + 0x20000, *recv = guest + 0x40000, *data = guest + 0x41000;
	struct vmci_model m;
	size_t len;

	setup(&m, VMM_CAPS_DMA_DATAGRAM | VMM_CAPS_PPN64);
	vmm_write(&m, VMM_REG_DATA_OUT_HIGH, 0, 4);
	vmm_write(&m, VMM_REG_DATA_IN_HIGH, 0, 4);
	vmm_put32(send, 1);
	vmm_put32(send + 4, VMM_DMA_OP_SEND);
	len = make_dg(send + 24, CID, 4000, CID, 4000, 10, 0x55);
	vmm_put32(send + 8, len);
	vmm_write(&m, VMM_REG_DATA_OUT_LOW, 0x20000, 4);
	tap_check_int("resize_queued", vmm_inject_junk(&m, "dma-resize"), 0);
	len = make_dg(send + 24, CID, 4001, CID, 4001, 10, 0x66);
	vmm_put32(send + 8, len);
	vmm_write(&m, VMM_REG_DATA_OUT_LOW, 0x20000, 4);

	vmm_put32(recv + 4, VMM_DMA_OP_RECEIVE);
	vmm_put32(recv + 8, 1);
	vmm_put64(recv + 24, 0x41000);
	vmm_put64(recv + 32, VMM_MAX_DG_SIZE);
	vmm_put32(recv, 0);
	vmm_write(&m, VMM_REG_DATA_IN_LOW, 0x40000, 4);
	CHECK_EQ("resize_not_with_others", vmm_get32(data + 40 + 4), VMM_INVALID_ID);
	CHECK_EQ("resize_others_untouched", vmm_get64(data + 16), 10);

	irq_causes = 0;
	vmm_put32(recv, 0);
	vmm_write(&m, VMM_REG_DATA_IN_LOW, 0x40000, 4);
	CHECK_EQ("resize_irq", irq_causes & VMM_ICR_DMA_DATAGRAM, VMM_ICR_DMA_DATAGRAM);
	CHECK_EQ("resize_target", vmm_get32(data + 4), 0x7fff1234);
	CHECK_EQ("resize_rewritten", vmm_get64(data + 16), (uint64_t)1 << 32);
	CHECK_EQ("resize_alone", vmm_get32(data + 40 + 4), VMM_INVALID_ID);
	CHECK_EQ("resize_disarmed", m.rx_resize == NULL, 1);

	vmm_put32(recv, 0);
	vmm_write(&m, VMM_REG_DATA_IN_LOW, 0x40000, 4);
	CHECK_EQ("resize_then_normal", vmm_get32(data + 4), 4001);
	CHECK_EQ("resize_then_normal_size", vmm_get64(data + 16), 10);
	vmm_destroy(&m);
}

int main(void)
{
	test_registers();
	test_hypercalls();
	test_data_in_stream();
	test_oversize_junk();
	test_dma();
	test_dma_resize_junk();
	test_malformed_stream();
	test_queue_pairs();
	test_queue_io();
	test_fuzz();
	return tap_exit_code();
}
