// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/slab.h>
#include <vmci/vmci_abi.h>

#include "context.h"

/* High CIDs keep clear of anything a VMM might hold while the suite runs. */
#define BASE_CID	0x7e000000U

static void destroy_action(void *data)
{
	vmci_ctx_destroy(data);
}

/* A context that is destroyed when the test ends, unless the test did it. */
static struct vmci_ctx *new_ctx(struct kunit *test, u32 wanted, u32 flags)
{
	struct vmci_ctx *ctx = NULL;

	KUNIT_ASSERT_EQ(test, vmci_ctx_create(wanted, flags, &ctx), VMCI_SUCCESS);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, destroy_action, ctx), 0);
	return ctx;
}

static void end_ctx(struct kunit *test, struct vmci_ctx *ctx)
{
	kunit_release_action(test, destroy_action, ctx);
}

/* A datagram of @payload bytes, allocated for the test's lifetime. */
static struct vmci_datagram *new_dg(struct kunit *test, u32 dst_cid, u32 src_cid, size_t payload)
{
	struct vmci_datagram *dg = kunit_kzalloc(test, VMCI_DG_HEADERSIZE + payload, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, dg);
	dg->dst = vmci_make_handle(dst_cid, 1);
	dg->src = vmci_make_handle(src_cid, 2);
	dg->payload_size = payload;
	memset(VMCI_DG_PAYLOAD(dg), 0xa5, payload);
	return dg;
}

static void reserved_and_invalid_cids_are_bumped(struct kunit *test)
{
	u32 wanted[] = { 0, 1, VMCI_HOST_CONTEXT_ID, VMCI_RESERVED_CID_LIMIT - 1, VMCI_INVALID_ID };
	struct vmci_ctx *ctx;
	int i;

	for (i = 0; i < ARRAY_SIZE(wanted); i++) {
		ctx = new_ctx(test, wanted[i], 0);
		KUNIT_EXPECT_GE(test, ctx->cid, VMCI_RESERVED_CID_LIMIT);
		KUNIT_EXPECT_NE(test, ctx->cid, VMCI_INVALID_ID);
	}
}

static void free_cid_is_kept_and_taken_cid_bumped(struct kunit *test)
{
	struct vmci_ctx *a, *b, *c;

	a = new_ctx(test, BASE_CID, 0);
	KUNIT_EXPECT_EQ(test, a->cid, BASE_CID);
	b = new_ctx(test, BASE_CID, 0);
	KUNIT_EXPECT_EQ(test, b->cid, BASE_CID + 1);
	c = new_ctx(test, BASE_CID, VMCI_PRIVILEGE_FLAG_RESTRICTED);
	KUNIT_EXPECT_EQ(test, c->cid, BASE_CID + 2);
	KUNIT_EXPECT_EQ(test, c->priv_flags, VMCI_PRIVILEGE_FLAG_RESTRICTED);

	/* A destroyed context's CID is free again. */
	end_ctx(test, b);
	b = new_ctx(test, BASE_CID, 0);
	KUNIT_EXPECT_EQ(test, b->cid, BASE_CID + 1);
}

static void bump_wraps_past_the_top(struct kunit *test)
{
	struct vmci_ctx *top, *next;

	top = new_ctx(test, VMCI_INVALID_ID - 1, 0);
	KUNIT_EXPECT_EQ(test, top->cid, VMCI_INVALID_ID - 1);
	next = new_ctx(test, VMCI_INVALID_ID - 1, 0);
	KUNIT_EXPECT_GE(test, next->cid, VMCI_RESERVED_CID_LIMIT);
	KUNIT_EXPECT_LT(test, next->cid, VMCI_INVALID_ID - 1);
}

static void bad_privilege_flags_are_refused(struct kunit *test)
{
	struct vmci_ctx *ctx = NULL;

	KUNIT_EXPECT_EQ(test, vmci_ctx_create(BASE_CID, 0x4, &ctx), VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_NULL(test, ctx);
	KUNIT_EXPECT_EQ(test, vmci_ctx_create(BASE_CID, 0, NULL), VMCI_ERROR_INVALID_ARGS);
}

static void host_context_is_always_there(struct kunit *test)
{
	struct vmci_ctx *host = vmci_ctx_get(VMCI_HOST_CONTEXT_ID);

	KUNIT_ASSERT_NOT_NULL(test, host);
	KUNIT_EXPECT_EQ(test, host->cid, VMCI_HOST_CONTEXT_ID);
	vmci_ctx_put(host);
	KUNIT_EXPECT_NULL(test, vmci_ctx_get(VMCI_HYPERVISOR_CONTEXT_ID));
}

static void lookup_finds_live_contexts_only(struct kunit *test)
{
	u32 vmms = vmci_ctx_vmm_count();
	struct vmci_ctx *ctx, *found, *held;
	u32 cid;

	ctx = new_ctx(test, BASE_CID + 10, 0);
	cid = ctx->cid;
	KUNIT_EXPECT_EQ(test, vmci_ctx_vmm_count(), vmms + 1);
	found = vmci_ctx_get(cid);
	KUNIT_EXPECT_PTR_EQ(test, found, ctx);
	held = found;

	/* A reference outlives destruction; the context just stops taking datagrams. */
	end_ctx(test, ctx);
	KUNIT_EXPECT_NULL(test, vmci_ctx_get(cid));
	KUNIT_EXPECT_EQ(test, vmci_ctx_vmm_count(), vmms);
	KUNIT_ASSERT_NOT_NULL(test, held);
	KUNIT_EXPECT_EQ(test, held->cid, cid);
	KUNIT_EXPECT_EQ(test, vmci_ctx_enqueue_datagram(held, new_dg(test, cid, 2, 8), GFP_KERNEL),
			VMCI_ERROR_DST_UNREACHABLE);
	vmci_ctx_put(held);
}

static void queue_is_fifo_and_receive_needs_room(struct kunit *test)
{
	struct vmci_ctx *ctx = new_ctx(test, BASE_CID + 20, 0);
	struct vmci_ctx_dg *e = NULL;
	struct vmci_datagram *small = new_dg(test, ctx->cid, 2, 8);
	struct vmci_datagram *big = new_dg(test, ctx->cid, 2, 100);

	KUNIT_EXPECT_FALSE(test, vmci_ctx_has_pending(ctx));
	KUNIT_EXPECT_EQ(test, vmci_ctx_dequeue_datagram(ctx, 4096, &e),
			VMCI_ERROR_NO_MORE_DATAGRAMS);

	KUNIT_ASSERT_EQ(test, vmci_ctx_enqueue_datagram(ctx, big, GFP_KERNEL), VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, vmci_ctx_enqueue_datagram(ctx, small, GFP_KERNEL), VMCI_SUCCESS);
	KUNIT_EXPECT_TRUE(test, vmci_ctx_has_pending(ctx));

	/* Too small a buffer: refused, and the datagram keeps its place. */
	KUNIT_EXPECT_EQ(test, vmci_ctx_dequeue_datagram(ctx, VMCI_DG_SIZE(big) - 1, &e),
			VMCI_ERROR_NO_MEM);
	KUNIT_ASSERT_EQ(test, vmci_ctx_dequeue_datagram(ctx, VMCI_DG_SIZE(big), &e), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, e->size, VMCI_DG_SIZE(big));
	KUNIT_EXPECT_EQ(test, memcmp(e->data, big, VMCI_DG_SIZE(big)), 0);

	/* A requeued datagram is first in line again. */
	vmci_ctx_requeue_datagram(ctx, e);
	KUNIT_ASSERT_EQ(test, vmci_ctx_dequeue_datagram(ctx, 4096, &e), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, e->size, VMCI_DG_SIZE(big));
	vmci_ctx_free_datagram(e);

	KUNIT_ASSERT_EQ(test, vmci_ctx_dequeue_datagram(ctx, 4096, &e), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, e->size, VMCI_DG_SIZE(small));
	vmci_ctx_free_datagram(e);
	KUNIT_EXPECT_FALSE(test, vmci_ctx_has_pending(ctx));
}

static void queue_is_bounded_in_bytes(struct kunit *test)
{
	struct vmci_ctx *ctx = new_ctx(test, BASE_CID + 30, 0);
	struct vmci_datagram *max = new_dg(test, ctx->cid, 2, VMCI_MAX_DG_PAYLOAD_SIZE);
	struct vmci_datagram *tiny = new_dg(test, ctx->cid, 2, 0);
	struct vmci_datagram *event = new_dg(test, ctx->cid, VMCI_HYPERVISOR_CONTEXT_ID, 16);
	u32 n = VMCI_MAX_DATAGRAM_QUEUE_SIZE / VMCI_MAX_DG_SIZE;
	u32 i;

	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, vmci_ctx_enqueue_datagram(ctx, max, GFP_KERNEL),
				VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, ctx->pending_bytes, (size_t)VMCI_MAX_DATAGRAM_QUEUE_SIZE);
	KUNIT_EXPECT_EQ(test, vmci_ctx_enqueue_datagram(ctx, tiny, GFP_KERNEL),
			VMCI_ERROR_NO_RESOURCES);
	/* Events from the hypervisor context still get through, up to their own bound. */
	for (i = 0; ; i++) {
		if (vmci_ctx_enqueue_datagram(ctx, event, GFP_KERNEL) != VMCI_SUCCESS)
			break;
	}
	KUNIT_EXPECT_EQ(test, i, (VMCI_MAX_DATAGRAM_AND_EVENT_QUEUE_SIZE -
				  VMCI_MAX_DATAGRAM_QUEUE_SIZE) / (u32)VMCI_DG_SIZE(event));
	KUNIT_EXPECT_LE(test, ctx->pending_bytes, (size_t)VMCI_MAX_DATAGRAM_AND_EVENT_QUEUE_SIZE);
}

static void queue_is_bounded_in_count(struct kunit *test)
{
	struct vmci_ctx *ctx = new_ctx(test, BASE_CID + 40, 0);
	struct vmci_datagram *tiny = new_dg(test, ctx->cid, 2, 0);
	struct vmci_datagram *event = new_dg(test, ctx->cid, VMCI_HYPERVISOR_CONTEXT_ID, 0);
	u64 before_dgs, before_bytes, dgs, bytes;
	u32 i;

	vmci_ctx_pending_totals(&before_dgs, &before_bytes);
	for (i = 0; i < VMCI_CTX_MAX_PENDING_DGS; i++)
		KUNIT_ASSERT_EQ(test, vmci_ctx_enqueue_datagram(ctx, tiny, GFP_KERNEL),
				VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_ctx_enqueue_datagram(ctx, tiny, GFP_KERNEL),
			VMCI_ERROR_NO_RESOURCES);
	for (i = 0; i < VMCI_CTX_EVENT_EXTRA; i++)
		KUNIT_ASSERT_EQ(test, vmci_ctx_enqueue_datagram(ctx, event, GFP_KERNEL),
				VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_ctx_enqueue_datagram(ctx, event, GFP_KERNEL),
			VMCI_ERROR_NO_RESOURCES);

	vmci_ctx_pending_totals(&dgs, &bytes);
	KUNIT_EXPECT_EQ(test, dgs - before_dgs,
			(u64)VMCI_CTX_MAX_PENDING_DGS + VMCI_CTX_EVENT_EXTRA);
	KUNIT_EXPECT_EQ(test, bytes - before_bytes,
			(u64)(VMCI_CTX_MAX_PENDING_DGS + VMCI_CTX_EVENT_EXTRA) *
			VMCI_DG_HEADERSIZE);

	/* Destruction frees the queue at once. */
	end_ctx(test, ctx);
	vmci_ctx_pending_totals(&dgs, &bytes);
	KUNIT_EXPECT_EQ(test, dgs, before_dgs);
	KUNIT_EXPECT_EQ(test, bytes, before_bytes);
}

static void removal_is_reported_to_subscribers(struct kunit *test)
{
	struct vmci_ctx *watcher = new_ctx(test, BASE_CID + 50, 0);
	struct vmci_ctx *other = new_ctx(test, BASE_CID + 51, 0);
	struct vmci_ctx *gone = new_ctx(test, BASE_CID + 52, 0);
	u32 gone_cid = gone->cid;
	struct vmci_event_msg *msg;
	struct vmci_event_payld_ctx *payload;
	struct vmci_ctx_dg *e = NULL;

	KUNIT_EXPECT_EQ(test, vmci_ctx_add_notification(watcher, gone_cid), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_ctx_add_notification(watcher, gone_cid),
			VMCI_ERROR_ALREADY_EXISTS);
	KUNIT_EXPECT_EQ(test, vmci_ctx_add_notification(watcher, watcher->cid),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_ctx_add_notification(watcher, BASE_CID + 0x1000),
			VMCI_ERROR_NOT_FOUND);
	KUNIT_EXPECT_EQ(test, vmci_ctx_add_notification(other, gone_cid), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_ctx_remove_notification(other, gone_cid), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_ctx_remove_notification(other, gone_cid),
			VMCI_ERROR_NOT_FOUND);

	end_ctx(test, gone);

	KUNIT_EXPECT_FALSE(test, vmci_ctx_has_pending(other));
	KUNIT_ASSERT_EQ(test, vmci_ctx_dequeue_datagram(watcher, 4096, &e), VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, e->size, sizeof(*msg) + sizeof(*payload));
	msg = (struct vmci_event_msg *)e->data;
	payload = (struct vmci_event_payld_ctx *)(msg + 1);
	KUNIT_EXPECT_EQ(test, msg->hdr.dst.context, watcher->cid);
	KUNIT_EXPECT_EQ(test, msg->hdr.dst.resource, VMCI_EVENT_HANDLER);
	KUNIT_EXPECT_EQ(test, msg->hdr.src.context, VMCI_HYPERVISOR_CONTEXT_ID);
	KUNIT_EXPECT_EQ(test, msg->hdr.src.resource, VMCI_CONTEXT_RESOURCE_ID);
	KUNIT_EXPECT_EQ(test, msg->hdr.payload_size, e->size - VMCI_DG_HEADERSIZE);
	KUNIT_EXPECT_EQ(test, msg->event_data.event, VMCI_EVENT_CTX_REMOVED);
	KUNIT_EXPECT_EQ(test, msg->event_data._pad, 0U);
	KUNIT_EXPECT_EQ(test, payload->context_id, gone_cid);
	KUNIT_EXPECT_EQ(test, payload->_pad, 0U);
	vmci_ctx_free_datagram(e);

	/* The subscription was spent: a new context with the same CID is not reported. */
	KUNIT_EXPECT_EQ(test, vmci_ctx_remove_notification(watcher, gone_cid),
			VMCI_ERROR_NOT_FOUND);
	gone = new_ctx(test, gone_cid, 0);
	KUNIT_EXPECT_EQ(test, gone->cid, gone_cid);
	end_ctx(test, gone);
	KUNIT_EXPECT_FALSE(test, vmci_ctx_has_pending(watcher));
}

static void restricted_context_watches_only_trusted(struct kunit *test)
{
	struct vmci_ctx *restricted = new_ctx(test, BASE_CID + 60, VMCI_PRIVILEGE_FLAG_RESTRICTED);
	struct vmci_ctx *plain = new_ctx(test, BASE_CID + 61, 0);
	struct vmci_ctx *trusted = new_ctx(test, BASE_CID + 62, VMCI_PRIVILEGE_FLAG_TRUSTED);

	KUNIT_EXPECT_EQ(test, vmci_ctx_add_notification(restricted, plain->cid),
			VMCI_ERROR_NO_ACCESS);
	KUNIT_EXPECT_EQ(test, vmci_ctx_add_notification(plain, restricted->cid),
			VMCI_ERROR_NO_ACCESS);
	KUNIT_EXPECT_EQ(test, vmci_ctx_add_notification(restricted, trusted->cid),
			VMCI_SUCCESS);
}

static void subscriptions_are_bounded(struct kunit *test)
{
	struct vmci_ctx *watcher = new_ctx(test, BASE_CID + 0x100, 0);
	struct vmci_ctx *target;
	u32 i;

	for (i = 0; i < VMCI_CTX_MAX_SUBSCRIPTIONS; i++) {
		target = new_ctx(test, BASE_CID + 0x200 + i, 0);
		KUNIT_ASSERT_EQ(test, vmci_ctx_add_notification(watcher, target->cid),
				VMCI_SUCCESS);
	}
	target = new_ctx(test, BASE_CID + 0x200 + i, 0);
	KUNIT_EXPECT_EQ(test, vmci_ctx_add_notification(watcher, target->cid),
			VMCI_ERROR_NO_RESOURCES);
}

/*
 * Events may take the queue past the bound of ordinary datagrams; from
 * then on every ordinary datagram must be refused, not let in because
 * the room left was computed below zero.
 */
static void events_past_the_bound_still_refuse_datagrams(struct kunit *test)
{
	struct vmci_ctx *ctx = new_ctx(test, BASE_CID + 50, 0);
	struct vmci_datagram *max = new_dg(test, ctx->cid, 2, VMCI_MAX_DG_PAYLOAD_SIZE);
	struct vmci_datagram *tiny = new_dg(test, ctx->cid, 2, 0);
	struct vmci_datagram *event = new_dg(test, ctx->cid, VMCI_HYPERVISOR_CONTEXT_ID, 16);
	u32 n = VMCI_MAX_DATAGRAM_QUEUE_SIZE / VMCI_MAX_DG_SIZE;
	u32 i;

	for (i = 0; i < n; i++)
		KUNIT_ASSERT_EQ(test, vmci_ctx_enqueue_datagram(ctx, max, GFP_KERNEL),
				VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, vmci_ctx_enqueue_datagram(ctx, event, GFP_KERNEL), VMCI_SUCCESS);
	KUNIT_ASSERT_GT(test, ctx->pending_bytes, (size_t)VMCI_MAX_DATAGRAM_QUEUE_SIZE);

	KUNIT_EXPECT_EQ(test, vmci_ctx_enqueue_datagram(ctx, tiny, GFP_KERNEL),
			VMCI_ERROR_NO_RESOURCES);
	KUNIT_EXPECT_EQ(test, vmci_ctx_enqueue_datagram(ctx, max, GFP_KERNEL),
			VMCI_ERROR_NO_RESOURCES);
	KUNIT_EXPECT_EQ(test, ctx->pending_count, n + 1);
	KUNIT_EXPECT_EQ(test, ctx->pending_bytes,
			(size_t)VMCI_MAX_DATAGRAM_QUEUE_SIZE + VMCI_DG_SIZE(event));
}

/*
 * A datagram a receiver took but could not deliver still counts until it
 * is freed or put back: the queue cannot refill behind it, and putting it
 * back never leaves more than the bound queued.
 */
static void taken_datagram_keeps_its_room(struct kunit *test)
{
	struct vmci_ctx *ctx = new_ctx(test, BASE_CID + 51, 0);
	struct vmci_datagram *max = new_dg(test, ctx->cid, 2, VMCI_MAX_DG_PAYLOAD_SIZE);
	u32 n = VMCI_MAX_DATAGRAM_QUEUE_SIZE / VMCI_MAX_DG_SIZE;
	struct vmci_ctx_dg *e = NULL;
	u64 dgs, bytes, base_dgs, base_bytes;
	u32 i;

	vmci_ctx_pending_totals(&base_dgs, &base_bytes);
	for (i = 0; i < n; i++)
		KUNIT_ASSERT_EQ(test, vmci_ctx_enqueue_datagram(ctx, max, GFP_KERNEL),
				VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, vmci_ctx_dequeue_datagram(ctx, SIZE_MAX, &e), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_ctx_enqueue_datagram(ctx, max, GFP_KERNEL),
			VMCI_ERROR_NO_RESOURCES);
	vmci_ctx_requeue_datagram(ctx, e);
	KUNIT_EXPECT_EQ(test, ctx->pending_bytes, (size_t)VMCI_MAX_DATAGRAM_QUEUE_SIZE);
	KUNIT_EXPECT_EQ(test, ctx->pending_count, n);

	/* Freeing is what gives the room back, in the global totals too. */
	KUNIT_ASSERT_EQ(test, vmci_ctx_dequeue_datagram(ctx, SIZE_MAX, &e), VMCI_SUCCESS);
	vmci_ctx_free_datagram(e);
	KUNIT_EXPECT_EQ(test, ctx->pending_bytes, (size_t)(n - 1) * VMCI_MAX_DG_SIZE);
	KUNIT_EXPECT_EQ(test, vmci_ctx_enqueue_datagram(ctx, max, GFP_KERNEL), VMCI_SUCCESS);
	vmci_ctx_pending_totals(&dgs, &bytes);
	KUNIT_EXPECT_EQ(test, dgs - base_dgs, (u64)n);
	KUNIT_EXPECT_EQ(test, bytes - base_bytes, (u64)VMCI_MAX_DATAGRAM_QUEUE_SIZE);

	/* A datagram taken while its context dies is still freed and uncounted. */
	KUNIT_ASSERT_EQ(test, vmci_ctx_dequeue_datagram(ctx, SIZE_MAX, &e), VMCI_SUCCESS);
	KUNIT_ASSERT_PTR_EQ(test, vmci_ctx_get(ctx->cid), ctx);
	end_ctx(test, ctx);
	vmci_ctx_requeue_datagram(ctx, e);
	vmci_ctx_pending_totals(&dgs, &bytes);
	KUNIT_EXPECT_EQ(test, dgs, base_dgs);
	KUNIT_EXPECT_EQ(test, bytes, base_bytes);
	vmci_ctx_put(ctx);
}

/* The calling process may hold @max contexts; in-kernel creation is unbounded. */
static void contexts_per_process_are_bounded(struct kunit *test)
{
	struct vmci_ctx *ctx[3] = { };
	struct vmci_ctx *extra = NULL;
	int i;

	for (i = 0; i < 2; i++) {
		KUNIT_ASSERT_EQ(test, vmci_ctx_create_for_process(BASE_CID + 70, 0, 2, &ctx[i]),
				VMCI_SUCCESS);
		KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, destroy_action, ctx[i]),
				0);
	}
	KUNIT_EXPECT_EQ(test, vmci_ctx_create_for_process(BASE_CID + 70, 0, 2, &extra),
			VMCI_ERROR_NO_RESOURCES);
	KUNIT_EXPECT_NULL(test, extra);
	/* Contexts made for in-kernel users are not the process's. */
	new_ctx(test, BASE_CID + 70, 0);
	KUNIT_EXPECT_EQ(test, vmci_ctx_create_for_process(BASE_CID + 70, 0, 2, &extra),
			VMCI_ERROR_NO_RESOURCES);

	kunit_release_action(test, destroy_action, ctx[0]);
	KUNIT_ASSERT_EQ(test, vmci_ctx_create_for_process(BASE_CID + 70, 0, 2, &ctx[2]),
			VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, destroy_action, ctx[2]), 0);
}

static struct kunit_case vmci_context_cases[] = {
	KUNIT_CASE(reserved_and_invalid_cids_are_bumped),
	KUNIT_CASE(free_cid_is_kept_and_taken_cid_bumped),
	KUNIT_CASE(bump_wraps_past_the_top),
	KUNIT_CASE(bad_privilege_flags_are_refused),
	KUNIT_CASE(host_context_is_always_there),
	KUNIT_CASE(lookup_finds_live_contexts_only),
	KUNIT_CASE(queue_is_fifo_and_receive_needs_room),
	KUNIT_CASE(queue_is_bounded_in_bytes),
	KUNIT_CASE(queue_is_bounded_in_count),
	KUNIT_CASE(events_past_the_bound_still_refuse_datagrams),
	KUNIT_CASE(taken_datagram_keeps_its_room),
	KUNIT_CASE(contexts_per_process_are_bounded),
	KUNIT_CASE(removal_is_reported_to_subscribers),
	KUNIT_CASE(restricted_context_watches_only_trusted),
	KUNIT_CASE(subscriptions_are_bounded),
	{}
};

static struct kunit_suite vmci_context_suite = {
	.name = "vmci_context",
	.test_cases = vmci_context_cases,
};

kunit_test_suite(vmci_context_suite);
