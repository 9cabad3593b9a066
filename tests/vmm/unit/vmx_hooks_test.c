// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the model's VMX-mode hooks (struct vmm_env doorbell,
 * qp_alloc, qp_detach), with fake hooks in place of /dev/vmci: what the
 * model hands the host, that a refusal by the host undoes the model's
 * record, and that a reset tells the host everything it must forget.
 * vmci_vmx.c itself needs a real /dev/vmci: tests/user/vmx_model.c.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdlib.h>

#include "../vmci_model.h"
#include "../../user/tap.h"
#include "guest_mem.h"

#define CID 77u
#define NPAGES 4u	/* one-page queues: 1 + 1 + 2 headers */

/* What the fake host saw, and what it answers next. */
static struct {
	int links, unlinks, notifies, allocs, detaches, gone;
	uint32_t last_ctx, last_rid;
	uint64_t alloc_ppns[NPAGES];
	uint8_t hdr_at_alloc[8];
	int64_t answer;
} host;

static void irq(void *opaque, uint32_t causes, bool level)
{
	(void)opaque;
	(void)causes;
	(void)level;
}

static int64_t doorbell(void *opaque, uint32_t rid, uint32_t ctx, uint32_t res)
{
	(void)opaque;
	host.last_ctx = ctx;
	host.last_rid = res;
	if (rid == VMM_RID_DOORBELL_LINK)
		host.links++;
	else if (rid == VMM_RID_DOORBELL_UNLINK)
		host.unlinks++;
	else if (rid == VMM_RID_DOORBELL_NOTIFY)
		host.notifies++;
	return host.answer;
}

static int64_t qp_alloc(void *opaque, const struct vmm_qpair *qp)
{
	(void)opaque;
	host.allocs++;
	host.last_ctx = qp->context;
	host.last_rid = qp->resource;
	if (qp->num_pages == NPAGES)
		memcpy(host.alloc_ppns, qp->ppns, sizeof(host.alloc_ppns));
	/* The produce header as the host would find it at SETVA. */
	memcpy(host.hdr_at_alloc, guest + qp->ppns[0] * VMM_PAGE_SIZE, 8);
	return host.answer;
}

static int64_t qp_detach(void *opaque, const struct vmm_qpair *qp)
{
	(void)opaque;
	host.detaches++;
	host.last_ctx = qp->context;
	host.last_rid = qp->resource;
	return host.answer;
}

static void qp_gone(void *opaque, uint32_t ctx, uint32_t rid)
{
	(void)opaque;
	(void)ctx;
	(void)rid;
	host.gone++;
}

static int32_t hcall(struct vmci_model *m, uint32_t rid, const void *pl, size_t plen)
{
	uint8_t dg[256];

	vmm_put_header(dg, 0, rid, VMM_INVALID_ID, VMM_INVALID_ID, plen);
	if (plen)
		memcpy(dg + VMM_DG_HEADER_SIZE, pl, plen);
	return (int32_t)vmm_handle_datagram(m, dg, VMM_DG_HEADER_SIZE + plen);
}

static void setup(struct vmci_model *m, bool vmx)
{
	struct vmm_env env = {
		.mem_read = mem_read, .mem_write = mem_write, .irq = irq,
		.qp_gone = qp_gone,
	};

	if (vmx) {
		env.doorbell = doorbell;
		env.qp_alloc = qp_alloc;
		env.qp_detach = qp_detach;
	}
	memset(&host, 0, sizeof(host));
	memset(guest, 0, sizeof(guest));
	if (vmm_init(m, &env, CID, VMM_CAPS_NOTIFICATIONS | VMM_CAPS_PPN64)) {
		printf("Bail out! vmm_init\n");
		exit(1);
	}
	vmm_write(m, VMM_REG_CAPS, VMM_CAPS_DATAGRAM | VMM_CAPS_NOTIFICATIONS |
		  VMM_CAPS_PPN64, 4);
}

static int32_t link(struct vmci_model *m, uint32_t rid, uint64_t index)
{
	uint8_t pl[16];

	vmm_put32(pl, CID);
	vmm_put32(pl + 4, rid);
	vmm_put64(pl + 8, index);
	return hcall(m, VMM_RID_DOORBELL_LINK, pl, 16);
}

static int32_t handle_call(struct vmci_model *m, uint32_t call, uint32_t ctx, uint32_t rid)
{
	uint8_t pl[8];

	vmm_put32(pl, ctx);
	vmm_put32(pl + 4, rid);
	return hcall(m, call, pl, 8);
}

/* QUEUEPAIR_ALLOC of one-page queues on pages 0x80, 0x90, 0x81, 0x91. */
static int32_t alloc(struct vmci_model *m, uint32_t ctx, uint32_t rid, uint32_t flags)
{
	static const uint64_t ppns[NPAGES] = { 0x80, 0x90, 0x81, 0x91 };
	uint8_t pl[40 + 8 * NPAGES];
	unsigned int i;

	vmm_put32(pl, ctx);
	vmm_put32(pl + 4, rid);
	vmm_put32(pl + 8, VMM_HOST_CID);
	vmm_put32(pl + 12, flags);
	vmm_put64(pl + 16, VMM_PAGE_SIZE);
	vmm_put64(pl + 24, VMM_PAGE_SIZE);
	vmm_put64(pl + 32, NPAGES);
	for (i = 0; i < NPAGES; i++)
		vmm_put64(pl + 40 + 8 * i, ppns[i]);
	return hcall(m, VMM_RID_QUEUEPAIR_ALLOC, pl, sizeof(pl));
}

static void test_doorbells(void)
{
	struct vmci_model m;

	setup(&m, true);
	host.answer = VMM_ERROR_NO_RESOURCES;
	CHECK_EQ("link_refused_by_host", (uint32_t)link(&m, 10, 3),
		 (uint32_t)VMM_ERROR_NO_RESOURCES);
	CHECK_EQ("link_refused_not_kept", (uint32_t)vmm_ring_doorbell(&m, CID, 10),
		 (uint32_t)VMM_ERROR_NOT_FOUND);
	host.answer = VMM_SUCCESS;
	CHECK_EQ("link_accepted", link(&m, 10, 3), VMM_SUCCESS);
	CHECK_EQ("link_told_host", host.links == 2 && host.last_ctx == CID &&
		 host.last_rid == 10, 1);
	CHECK_EQ("link_duplicate_not_told", (uint32_t)link(&m, 10, 4),
		 (uint32_t)VMM_ERROR_DUPLICATE_ENTRY);
	CHECK_EQ("link_duplicate_host_calls", host.links, 2);

	host.answer = VMM_ERROR_NO_ACCESS;
	CHECK_EQ("notify_host_doorbell_result", (uint32_t)handle_call(&m,
		 VMM_RID_DOORBELL_NOTIFY, VMM_HOST_CID, 1502),
		 (uint32_t)VMM_ERROR_NO_ACCESS);
	CHECK_EQ("notify_host_doorbell_told", host.notifies == 1 &&
		 host.last_ctx == VMM_HOST_CID && host.last_rid == 1502, 1);
	host.answer = VMM_SUCCESS;
	/* No bitmap set: the model's own answer, not the host's. */
	CHECK_EQ("notify_own_doorbell_local", (uint32_t)handle_call(&m,
		 VMM_RID_DOORBELL_NOTIFY, CID, 10), (uint32_t)VMM_ERROR_UNAVAILABLE);
	CHECK_EQ("notify_own_not_told", host.notifies, 1);

	CHECK_EQ("unlink", handle_call(&m, VMM_RID_DOORBELL_UNLINK, CID, 10), VMM_SUCCESS);
	CHECK_EQ("unlink_told_host", host.unlinks, 1);
	CHECK_EQ("unlink_unknown_not_told", (uint32_t)handle_call(&m,
		 VMM_RID_DOORBELL_UNLINK, CID, 10), (uint32_t)VMM_ERROR_NOT_FOUND);
	CHECK_EQ("unlink_unknown_host_calls", host.unlinks, 1);

	link(&m, 11, 0);
	link(&m, 12, 1);
	host.unlinks = 0;
	vmm_write(&m, VMM_REG_CONTROL, VMM_CONTROL_RESET, 4);
	CHECK_EQ("reset_unlinks_on_host", host.unlinks, 2);
	vmm_destroy(&m);

	setup(&m, false);
	CHECK_EQ("bridge_notify_other_not_found", (uint32_t)handle_call(&m,
		 VMM_RID_DOORBELL_NOTIFY, VMM_HOST_CID, 1502), (uint32_t)VMM_ERROR_NOT_FOUND);
	vmm_destroy(&m);
}

static void test_queue_pairs(void)
{
	struct vmci_model m;

	setup(&m, true);
	host.answer = VMM_ERROR_NO_MEM;
	CHECK_EQ("alloc_refused_by_host", (uint32_t)alloc(&m, CID, 5, 0),
		 (uint32_t)VMM_ERROR_NO_MEM);
	CHECK_EQ("alloc_refused_forgotten", m.qp_count == 0 && m.qp_pages == 0, 1);
	host.answer = VMM_SUCCESS;
	CHECK_EQ("alloc_accepted", alloc(&m, CID, 5, 0), VMM_SUCCESS);
	CHECK_EQ("alloc_told_host_page_list", host.allocs == 2 && host.alloc_ppns[0] == 0x80 &&
		 host.alloc_ppns[1] == 0x90 && host.alloc_ppns[2] == 0x81 &&
		 host.alloc_ppns[3] == 0x91, 1);
	CHECK_EQ("alloc_headers_before_host", vmm_get32(host.hdr_at_alloc) == CID &&
		 vmm_get32(host.hdr_at_alloc + 4) == 5, 1);
	CHECK_EQ("alloc_twice_not_told", (uint32_t)alloc(&m, CID, 5, 0),
		 (uint32_t)VMM_ERROR_ALREADY_EXISTS);
	CHECK_EQ("alloc_twice_host_calls", host.allocs, 2);

	/* The broker, not the model, knows the host's pairs. */
	CHECK_EQ("attach_host_pair_without_offer", alloc(&m, VMM_HOST_CID, 0x10001, 1),
		 VMM_SUCCESS);
	CHECK_EQ("create_in_host_context_refused", (uint32_t)alloc(&m, VMM_HOST_CID,
		 0x10002, 0), (uint32_t)VMM_ERROR_NO_ACCESS);

	host.answer = VMM_SUCCESS;
	CHECK_EQ("detach_host_result", handle_call(&m, VMM_RID_QUEUEPAIR_DETACH, CID, 5),
		 VMM_SUCCESS);
	CHECK_EQ("detach_told_host_not_gone", host.detaches == 1 && host.gone == 0 &&
		 host.last_rid == 5, 1);
	host.answer = VMM_ERROR_NOT_FOUND;
	CHECK_EQ("detach_host_error_passed", (uint32_t)handle_call(&m,
		 VMM_RID_QUEUEPAIR_DETACH, VMM_HOST_CID, 0x10001), (uint32_t)VMM_ERROR_NOT_FOUND);
	CHECK_EQ("detach_error_still_forgotten", m.qp_count, 0);

	host.answer = VMM_SUCCESS;
	alloc(&m, CID, 6, 0);
	alloc(&m, CID, 7, 0);
	host.detaches = 0;
	vmm_write(&m, VMM_REG_CONTROL, VMM_CONTROL_RESET, 4);
	CHECK_EQ("reset_detaches_on_host", host.detaches == 2 && m.qp_count == 0, 1);
	vmm_destroy(&m);

	setup(&m, false);
	CHECK_EQ("bridge_attach_needs_offer", (uint32_t)alloc(&m, VMM_HOST_CID, 0x10001, 1),
		 (uint32_t)VMM_ERROR_NOT_FOUND);
	CHECK_EQ("bridge_alloc", alloc(&m, CID, 5, 0), VMM_SUCCESS);
	CHECK_EQ("bridge_detach_last", handle_call(&m, VMM_RID_QUEUEPAIR_DETACH, CID, 5),
		 VMM_SUCCESS_LAST_DETACH);
	CHECK_EQ("bridge_detach_gone", host.gone, 1);
	vmm_destroy(&m);
}

int main(void)
{
	test_doorbells();
	test_queue_pairs();
	return tap_exit_code();
}
