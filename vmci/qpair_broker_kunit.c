// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <kunit/test.h>
#include <linux/slab.h>
#include <vmci/vmci_abi.h>
#include <vmci/vmcix.h>

#include "context.h"
#include "event.h"
#include "qpair.h"
#include "qpair_broker.h"

/* VMM-chosen resource IDs, away from other suites' and the endpoint's. */
#define RID	0x5b000

/* What host subscribers saw for one handle. */
struct host_events {
	struct vmci_handle handle;
	unsigned int calls;
	u32 peer_id;
};

static void host_event_cb(u32 sub_id, const struct vmci_event_data *ed, void *client_data)
{
	const struct vmci_event_data_max *max = (const void *)ed;
	struct host_events *rec = client_data;

	if (!vmci_handle_equal(max->payload.qp_payload.handle, rec->handle))
		return;
	rec->calls++;
	rec->peer_id = max->payload.qp_payload.peer_id;
}

static void unsubscribe_action(void *id)
{
	vmci_event_unsubscribe((u32)(uintptr_t)id);
}

static struct host_events *watch(struct kunit *test, u32 event, struct vmci_handle handle)
{
	struct host_events *rec = kunit_kzalloc(test, sizeof(*rec), GFP_KERNEL);
	u32 id = VMCI_INVALID_ID;

	KUNIT_ASSERT_NOT_NULL(test, rec);
	rec->handle = handle;
	KUNIT_ASSERT_EQ(test, vmci_event_subscribe(event, host_event_cb, rec, &id), VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, unsubscribe_action,
							(void *)(uintptr_t)id), 0);
	return rec;
}

/* Contexts end like a closed /dev/vmci file: broker first, then the context. */
static void ctx_action(void *data)
{
	struct vmci_ctx *ctx = data;

	vmci_qp_broker_ctx_shutdown(ctx);
	vmci_ctx_destroy(ctx);
}

static struct vmci_ctx *new_vmm(struct kunit *test, u32 priv_flags)
{
	struct vmci_ctx *ctx = NULL;

	KUNIT_ASSERT_EQ(test, vmci_ctx_create(0, priv_flags, &ctx), VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, ctx_action, ctx), 0);
	return ctx;
}

static void detach_action(void *slot)
{
	struct vmcix_qpair **qp = slot;

	if (*qp)
		vmcix_qpair_detach(qp);
}

static struct vmcix_qpair **new_slot(struct kunit *test)
{
	struct vmcix_qpair **slot = kunit_kzalloc(test, sizeof(*slot), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, slot);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, detach_action, slot), 0);
	return slot;
}

/*
 * Takes the QP events queued for @ctx: how many, and the last one's
 * type and peer. Anything else queued is a failure.
 */
static unsigned int vmm_events(struct kunit *test, struct vmci_ctx *ctx, u32 *event, u32 *peer)
{
	struct vmci_ctx_dg *e;
	unsigned int n = 0;

	while (vmci_ctx_dequeue_datagram(ctx, SIZE_MAX, &e) == VMCI_SUCCESS) {
		struct vmci_event_msg *msg = (void *)vmci_ctx_dg_datagram(e);
		struct vmci_event_payld_qp *qp = (void *)(msg + 1);

		KUNIT_EXPECT_EQ(test, e->size, sizeof(*msg) + sizeof(*qp));
		KUNIT_EXPECT_EQ(test, msg->hdr.src.context, VMCI_HYPERVISOR_CONTEXT_ID);
		KUNIT_EXPECT_EQ(test, msg->hdr.dst.context, ctx->cid);
		KUNIT_EXPECT_EQ(test, msg->hdr.dst.resource, VMCI_EVENT_HANDLER);
		*event = msg->event_data.event;
		*peer = qp->peer_id;
		n++;
		vmci_ctx_free_datagram(e);
	}
	return n;
}

static u32 start_pairs;

static int broker_test_init(struct kunit *test)
{
	start_pairs = vmci_qp_broker_count();
	return 0;
}

static void vmm_creates_host_attaches(struct kunit *test)
{
	struct vmci_ctx *vmm = new_vmm(test, 0);
	struct vmci_handle h = vmci_make_handle(vmm->cid, RID);
	struct host_events *att = watch(test, VMCI_EVENT_QP_PEER_ATTACH, h);
	struct host_events *det = watch(test, VMCI_EVENT_QP_PEER_DETACH, h);
	struct vmcix_qpair **qp = new_slot(test);
	struct vmci_handle got = h;
	u32 event = 0, peer = 0;
	char byte = 1;

	KUNIT_ASSERT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, h, VMCI_HOST_CONTEXT_ID, 0, 4096, 8192),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_count(), start_pairs + 1);
	/* The host mirrors the VMM: its produce is the VMM's consume. */
	KUNIT_ASSERT_EQ(test, vmcix_qpair_alloc(qp, &got, 8192, 4096, vmm->cid, 0, 0),
			VMCI_SUCCESS);
	KUNIT_EXPECT_TRUE(test, vmci_handle_equal(got, h));
	KUNIT_EXPECT_EQ(test, vmm_events(test, vmm, &event, &peer), 1U);
	KUNIT_EXPECT_EQ(test, event, VMCI_EVENT_QP_PEER_ATTACH);
	KUNIT_EXPECT_EQ(test, peer, VMCI_HOST_CONTEXT_ID);
	/* The host only hears about the other side acting. */
	KUNIT_EXPECT_EQ(test, att->calls, 0U);

	/* No SETVA yet: the queues are not there, and nothing is touched. */
	KUNIT_EXPECT_EQ(test, vmcix_qpair_enqueue(*qp, &byte, 1, 0),
			(ssize_t)VMCI_ERROR_QUEUEPAIR_NOTATTACHED);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_dequeue(*qp, &byte, 1, 0),
			(ssize_t)VMCI_ERROR_QUEUEPAIR_NOTATTACHED);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_produce_free_space(*qp),
			(s64)VMCI_ERROR_QUEUEPAIR_NOTATTACHED);

	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_detach(vmm, h), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, det->calls, 1U);
	KUNIT_EXPECT_EQ(test, det->peer_id, vmm->cid);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_detach(vmm, h), VMCI_ERROR_QUEUEPAIR_NOTATTACHED);
	/* The host alone still holds the entry until its own detach. */
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_count(), start_pairs + 1);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_detach(qp), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_count(), start_pairs);
	KUNIT_EXPECT_EQ(test, vmm_events(test, vmm, &event, &peer), 0U);
	KUNIT_EXPECT_EQ(test, det->calls, 1U);
}

static void host_creates_vmm_attaches(struct kunit *test)
{
	struct vmci_ctx *vmm = new_vmm(test, 0);
	struct vmcix_qpair **qp = new_slot(test);
	struct vmci_handle h = VMCI_INVALID_HANDLE;
	struct host_events *att, *det;
	u32 event = 0, peer = 0;

	KUNIT_ASSERT_EQ(test, vmcix_qpair_alloc(qp, &h, 4096, 2 * 4096, vmm->cid, 0, 0),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, h.context, VMCI_HOST_CONTEXT_ID);
	KUNIT_EXPECT_GT(test, h.resource, VMCI_RESERVED_RESOURCE_ID_MAX);
	att = watch(test, VMCI_EVENT_QP_PEER_ATTACH, h);
	det = watch(test, VMCI_EVENT_QP_PEER_DETACH, h);

	/* The VMM's view is the host's swapped. */
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, h, VMCI_HOST_CONTEXT_ID, 0,
						       4096, 2 * 4096),
			VMCI_ERROR_QUEUEPAIR_MISMATCH);
	KUNIT_ASSERT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, h, VMCI_INVALID_ID,
						       VMCI_QPFLAG_ATTACH_ONLY, 2 * 4096, 4096),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, att->calls, 1U);
	KUNIT_EXPECT_EQ(test, att->peer_id, vmm->cid);
	KUNIT_EXPECT_EQ(test, vmm_events(test, vmm, &event, &peer), 0U);

	KUNIT_EXPECT_EQ(test, vmcix_qpair_detach(qp), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmm_events(test, vmm, &event, &peer), 1U);
	KUNIT_EXPECT_EQ(test, event, VMCI_EVENT_QP_PEER_DETACH);
	KUNIT_EXPECT_EQ(test, peer, VMCI_HOST_CONTEXT_ID);
	KUNIT_EXPECT_EQ(test, det->calls, 0U);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_detach(vmm, h), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_count(), start_pairs);
	KUNIT_EXPECT_EQ(test, att->calls, 1U);
	KUNIT_EXPECT_EQ(test, det->calls, 0U);
}

static void creator_alone_then_gone(struct kunit *test)
{
	struct vmci_ctx *vmm = new_vmm(test, 0);
	struct vmci_handle h = vmci_make_handle(vmm->cid, RID + 1);
	struct host_events *det = watch(test, VMCI_EVENT_QP_PEER_DETACH, h);
	struct vmcix_qpair **qp = new_slot(test);
	struct vmci_handle got = h;

	KUNIT_ASSERT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, h, VMCI_INVALID_ID, 0, 64, 64),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, h, VMCI_INVALID_ID, 0, 64, 64),
			VMCI_ERROR_ALREADY_EXISTS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_detach(vmm, h), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, det->calls, 0U);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_count(), start_pairs);
	/* Gone for good: nothing left to attach to. */
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(qp, &got, 64, 64, vmm->cid,
						VMCI_QPFLAG_ATTACH_ONLY, 0),
			VMCI_ERROR_NOT_FOUND);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_detach(vmm, h), VMCI_ERROR_NOT_FOUND);
}

static void mismatches_refused(struct kunit *test)
{
	struct vmci_ctx *vmm = new_vmm(test, 0);
	struct vmci_handle h = vmci_make_handle(vmm->cid, RID + 2);
	struct vmcix_qpair **qp = new_slot(test);
	struct vmcix_qpair **qp2 = new_slot(test);
	struct vmci_handle got;

	KUNIT_ASSERT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, h, VMCI_INVALID_ID, 0, 4096, 100),
			VMCI_SUCCESS);
	got = h;
	/* Same sizes instead of mirrored ones. */
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(qp, &got, 4096, 100, vmm->cid, 0, 0),
			VMCI_ERROR_QUEUEPAIR_MISMATCH);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(qp, &got, 100, 4097, vmm->cid, 0, 0),
			VMCI_ERROR_QUEUEPAIR_MISMATCH);
	/* A peer other than the creator. */
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(qp, &got, 100, 4096, vmm->cid + 1, 0, 0),
			VMCI_ERROR_NO_ACCESS);
	KUNIT_EXPECT_NULL(test, *qp);
	KUNIT_ASSERT_EQ(test, vmcix_qpair_alloc(qp, &got, 100, 4096, vmm->cid,
						VMCI_QPFLAG_ATTACH_ONLY, 0),
			VMCI_SUCCESS);
	/* One attach in a pair's life. */
	got = h;
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(qp2, &got, 100, 4096, vmm->cid, 0, 0),
			VMCI_ERROR_ALREADY_EXISTS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, h, VMCI_INVALID_ID, 0, 4096, 100),
			VMCI_ERROR_ALREADY_EXISTS);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_detach(qp), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_detach(vmm, h), VMCI_SUCCESS);
}

static void bad_requests_refused(struct kunit *test)
{
	struct vmci_ctx *vmm = new_vmm(test, 0);
	struct vmci_ctx *other = new_vmm(test, 0);
	struct vmci_handle h = vmci_make_handle(vmm->cid, RID + 3);
	struct vmcix_qpair **qp = new_slot(test);
	struct vmci_handle got = VMCI_INVALID_HANDLE;

	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, h, VMCI_INVALID_ID,
						       VMCI_QPFLAG_NONBLOCK, 64, 64),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, h, VMCI_INVALID_ID,
						       VMCI_QPFLAG_LOCAL, 64, 64),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, h, VMCI_INVALID_ID, 0x100, 64, 64),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, h, VMCI_INVALID_ID, 0, 0, 64),
			VMCI_ERROR_INVALID_ARGS);
	/* Refused before any memory is considered, however absurd. */
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, h, VMCI_INVALID_ID, 0, U64_MAX, 64),
			VMCI_ERROR_NO_RESOURCES);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, h, VMCI_INVALID_ID, 0,
						       VMCI_MAX_GUEST_QP_MEMORY, 1),
			VMCI_ERROR_NO_RESOURCES);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, VMCI_INVALID_HANDLE,
						       VMCI_INVALID_ID, 0, 64, 64),
			VMCI_ERROR_INVALID_ARGS);
	/* No VM-to-VM pairs, and no handles in another context's name. */
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, h, other->cid, 0, 64, 64),
			VMCI_ERROR_DST_UNREACHABLE);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(other, h, VMCI_INVALID_ID, 0, 64, 64),
			VMCI_ERROR_NO_ACCESS);
	/* Host to host goes through local pairs, never the broker. */
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(qp, &got, 64, 64, VMCI_HOST_CONTEXT_ID, 0, 0),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_count(), start_pairs);
}

static void wrong_context_refused(struct kunit *test)
{
	struct vmci_ctx *vmm = new_vmm(test, 0);
	struct vmci_ctx *other = new_vmm(test, 0);
	struct vmci_handle h = vmci_make_handle(vmm->cid, RID + 4);
	struct vmcix_qpair **qp = new_slot(test);
	struct vmci_handle hh = VMCI_INVALID_HANDLE;

	KUNIT_ASSERT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, h, VMCI_INVALID_ID, 0, 64, 64),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(other, h, VMCI_INVALID_ID, 0, 64, 64),
			VMCI_ERROR_DST_UNREACHABLE);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_detach(other, h),
			VMCI_ERROR_QUEUEPAIR_NOTATTACHED);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_set_va(other, h, 0x10000, 0),
			VMCI_ERROR_QUEUEPAIR_NOTOWNER);

	/* A host pair meant for @vmm is not @other's to take. */
	KUNIT_ASSERT_EQ(test, vmcix_qpair_alloc(qp, &hh, 64, 64, vmm->cid, 0, 0), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(other, hh, VMCI_INVALID_ID, 0, 64, 64),
			VMCI_ERROR_NO_ACCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, hh, VMCI_INVALID_ID, 0, 64, 64),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_detach(vmm, h), VMCI_SUCCESS);
}

static void privileges_enforced(struct kunit *test)
{
	struct vmci_ctx *restricted = new_vmm(test, VMCI_PRIVILEGE_FLAG_RESTRICTED);
	struct vmcix_qpair **plain = new_slot(test);
	struct vmcix_qpair **trusted = new_slot(test);
	struct vmci_handle h1 = VMCI_INVALID_HANDLE, h2 = VMCI_INVALID_HANDLE;

	KUNIT_ASSERT_EQ(test, vmcix_qpair_alloc(plain, &h1, 64, 64, restricted->cid, 0, 0),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(restricted, h1, VMCI_INVALID_ID, 0, 64, 64),
			VMCI_ERROR_NO_ACCESS);
	KUNIT_ASSERT_EQ(test, vmcix_qpair_alloc(trusted, &h2, 64, 64, restricted->cid, 0,
						VMCI_PRIVILEGE_FLAG_TRUSTED),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(restricted, h2, VMCI_INVALID_ID, 0, 64, 64),
			VMCI_SUCCESS);
}

static void set_va_checked(struct kunit *test)
{
	struct vmci_ctx *vmm = new_vmm(test, 0);
	struct vmci_handle h = vmci_make_handle(vmm->cid, RID + 5);

	KUNIT_ASSERT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, h, VMCI_INVALID_ID, 0, 4096, 4096),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_set_va(vmm, h, 0x10001, 0),
			VMCI_ERROR_NOT_PAGE_ALIGNED);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_set_va(vmm, h, 0x10000, 3),
			VMCI_ERROR_INVALID_SIZE);
	/* Kernel addresses and ranges that wrap are never user memory. */
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_set_va(vmm, h, (u64)PAGE_OFFSET, 4),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_set_va(vmm, h, U64_MAX & PAGE_MASK, 0),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_set_va(vmm, h, 0, 0),
			VMCI_ERROR_QUEUEPAIR_NOTSET);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_set_va(vmm, vmci_make_handle(vmm->cid, RID + 6),
							0x10000, 0),
			VMCI_ERROR_NOT_FOUND);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_pinned_pages(), 0ULL);
}

static void ctx_budget_enforced(struct kunit *test)
{
	struct vmci_ctx *vmm = new_vmm(test, 0);
	struct vmci_handle a = vmci_make_handle(vmm->cid, RID + 7);
	struct vmci_handle b = vmci_make_handle(vmm->cid, RID + 8);
	struct vmcix_qpair **qp = new_slot(test);
	struct vmci_handle hh = VMCI_INVALID_HANDLE;
	u64 old = vmci_qp_broker_set_ctx_budget(3 * 4096);

	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, a, VMCI_INVALID_ID, 0, 4096, 4096),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmm->qp_pair_count, 1U);
	KUNIT_EXPECT_EQ(test, vmm->qp_bytes, 2 * 4096ULL);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, b, VMCI_INVALID_ID, 0, 4096, 4096),
			VMCI_ERROR_NO_RESOURCES);
	KUNIT_EXPECT_EQ(test, vmm->qp_pair_count, 1U);
	/* Attaching to the host's pair is charged too. */
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(qp, &hh, 4096, 4096, vmm->cid, 0, 0),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, hh, VMCI_INVALID_ID, 0, 4096, 4096),
			VMCI_ERROR_NO_RESOURCES);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_detach(vmm, a), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, hh, VMCI_INVALID_ID, 0, 4096, 4096),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmm->qp_pair_count, 1U);
	KUNIT_EXPECT_EQ(test, vmm->qp_bytes, 2 * 4096ULL);
	vmci_qp_broker_set_ctx_budget(old);
}

/*
 * Pairs are found by their whole handle: two VMMs may use the same
 * resource ID, and neither reaches the other's pair. Each context's
 * count and bytes follow its own pairs only.
 */
static void same_id_other_context(struct kunit *test)
{
	struct vmci_ctx *one = new_vmm(test, 0);
	struct vmci_ctx *two = new_vmm(test, 0);
	struct vmci_handle h1 = vmci_make_handle(one->cid, RID + 11);
	struct vmci_handle h2 = vmci_make_handle(two->cid, RID + 11);

	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(one, h1, VMCI_INVALID_ID, 0, 64, 128),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(two, h2, VMCI_INVALID_ID, 0, 256, 64),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_count(), start_pairs + 2);
	/* Found, and refused as another VMM's: no VM-to-VM pairs. */
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(one, h2, VMCI_INVALID_ID,
						       VMCI_QPFLAG_ATTACH_ONLY, 64, 256),
			VMCI_ERROR_DST_UNREACHABLE);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_detach(one, h2),
			VMCI_ERROR_QUEUEPAIR_NOTATTACHED);
	KUNIT_EXPECT_EQ(test, one->qp_pair_count, 1U);
	KUNIT_EXPECT_EQ(test, one->qp_bytes, 192ULL);
	KUNIT_EXPECT_EQ(test, two->qp_pair_count, 1U);
	KUNIT_EXPECT_EQ(test, two->qp_bytes, 320ULL);

	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_detach(one, h1), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, one->qp_pair_count, 0U);
	KUNIT_EXPECT_EQ(test, one->qp_bytes, 0ULL);
	KUNIT_EXPECT_EQ(test, two->qp_pair_count, 1U);
	/* Gone for good: a second detach finds nothing. */
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_detach(one, h1), VMCI_ERROR_NOT_FOUND);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_detach(two, h2), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_count(), start_pairs);
}

static void teardown_with_live_pairs(struct kunit *test)
{
	struct vmci_ctx *vmm = NULL;
	struct vmcix_qpair **qp = new_slot(test);
	struct vmci_handle a, b, got;
	struct host_events *det_a, *det_b;
	char byte = 0;

	KUNIT_ASSERT_EQ(test, vmci_ctx_create(0, 0, &vmm), VMCI_SUCCESS);
	a = vmci_make_handle(vmm->cid, RID + 9);
	b = vmci_make_handle(vmm->cid, RID + 10);
	det_a = watch(test, VMCI_EVENT_QP_PEER_DETACH, a);
	det_b = watch(test, VMCI_EVENT_QP_PEER_DETACH, b);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, a, VMCI_INVALID_ID, 0, 64, 64),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_vmm_alloc(vmm, b, VMCI_INVALID_ID, 0, 64, 64),
			VMCI_SUCCESS);
	got = a;
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(qp, &got, 64, 64, vmm->cid, 0, 0), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_count(), start_pairs + 2);
	KUNIT_EXPECT_EQ(test, vmm->qp_pair_count, 2U);

	vmci_qp_broker_ctx_shutdown(vmm);
	KUNIT_EXPECT_EQ(test, vmm->qp_pair_count, 0U);
	KUNIT_EXPECT_EQ(test, vmm->qp_bytes, 0ULL);
	KUNIT_EXPECT_TRUE(test, list_empty(&vmm->qp_pairs));
	vmci_ctx_destroy(vmm);
	KUNIT_EXPECT_EQ(test, det_a->calls, 1U);
	KUNIT_EXPECT_EQ(test, det_b->calls, 0U);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_count(), start_pairs + 1);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_enqueue(*qp, &byte, 1, 0),
			(ssize_t)VMCI_ERROR_QUEUEPAIR_NOTATTACHED);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_detach(qp), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_broker_count(), start_pairs);
	KUNIT_EXPECT_EQ(test, det_a->calls, 1U);
}

static struct kunit_case vmci_qp_broker_cases[] = {
	KUNIT_CASE(vmm_creates_host_attaches),
	KUNIT_CASE(host_creates_vmm_attaches),
	KUNIT_CASE(creator_alone_then_gone),
	KUNIT_CASE(mismatches_refused),
	KUNIT_CASE(bad_requests_refused),
	KUNIT_CASE(wrong_context_refused),
	KUNIT_CASE(privileges_enforced),
	KUNIT_CASE(set_va_checked),
	KUNIT_CASE(ctx_budget_enforced),
	KUNIT_CASE(same_id_other_context),
	KUNIT_CASE(teardown_with_live_pairs),
	{}
};

static struct kunit_suite vmci_qp_broker_suite = {
	.name = "vmci_qp_broker",
	.init = broker_test_init,
	.test_cases = vmci_qp_broker_cases,
};

kunit_test_suite(vmci_qp_broker_suite);
