// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <vmci/vmci_abi.h>
#include <vmci/vmcix.h>

#include "event.h"

#define WAIT_LONG	(10 * HZ)

/* What a recording subscriber saw, last call only. */
struct rec {
	unsigned int calls;
	u32 sub_id;
	struct vmci_event_data_max seen;
};

static void record_cb(u32 sub_id, const struct vmci_event_data *ed, void *client_data)
{
	struct rec *r = client_data;

	r->calls++;
	r->sub_id = sub_id;
	/* The whole max-sized buffer is promised readable: KASAN checks that. */
	memcpy(&r->seen, ed, sizeof(r->seen));
}

static struct rec *new_rec(struct kunit *test)
{
	struct rec *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, r);
	return r;
}

/* A test that stops early must not leave a callback into its freed data. */
static void unsubscribe_action(void *id)
{
	vmci_event_unsubscribe((u32)(uintptr_t)id);
}

static u32 subscribe(struct kunit *test, u32 event, vmci_event_cb cb, void *data)
{
	u32 id = VMCI_INVALID_ID;

	KUNIT_ASSERT_EQ(test, vmci_event_subscribe(event, cb, data, &id), VMCI_SUCCESS);
	KUNIT_ASSERT_NE(test, id, VMCI_INVALID_ID);
	KUNIT_ASSERT_NE(test, id, 0U);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, unsubscribe_action,
							(void *)(uintptr_t)id), 0);
	return id;
}

/*
 * A datagram as the hypervisor would send it, in a buffer of exactly
 * header + @alloc bytes so that KASAN catches any read past it.
 */
static struct vmci_datagram *new_dg(struct kunit *test, u64 payload_size, size_t alloc)
{
	struct vmci_datagram *dg = kunit_kzalloc(test, VMCI_DG_HEADERSIZE + alloc, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, dg);
	dg->src = vmci_make_handle(VMCI_HYPERVISOR_CONTEXT_ID, VMCI_CONTEXT_RESOURCE_ID);
	dg->dst = vmci_make_handle(42, VMCI_EVENT_HANDLER);
	dg->payload_size = payload_size;
	return dg;
}

static void *dg_payload(struct vmci_datagram *dg)
{
	return (u8 *)dg + VMCI_DG_HEADERSIZE;
}

/* A well-formed event datagram carrying @len bytes of @payload. */
static struct vmci_datagram *event_dg(struct kunit *test, u32 event, const void *payload,
				      size_t len)
{
	size_t size = sizeof(struct vmci_event_data) + len;
	struct vmci_datagram *dg = new_dg(test, size, size);
	struct vmci_event_data *ed = dg_payload(dg);

	ed->event = event;
	if (len)
		memcpy(ed + 1, payload, len);
	return dg;
}

static struct vmci_datagram *ctx_dg(struct kunit *test, u32 event, u32 cid)
{
	struct vmci_event_payld_ctx p = { .context_id = cid };

	return event_dg(test, event, &p, sizeof(p));
}

/*
 * The raiser's hint follows subscriptions; invalid events never want.
 * Nothing in vmci or vmsock subscribes to QP_PEER_ATTACH, so it starts
 * unwanted.
 */
static void wanted_follows_subscriptions(struct kunit *test)
{
	struct rec *r = new_rec(test);
	u32 id;

	KUNIT_ASSERT_FALSE(test, vmci_event_wanted(VMCI_EVENT_QP_PEER_ATTACH));
	id = subscribe(test, VMCI_EVENT_QP_PEER_ATTACH, record_cb, r);
	KUNIT_EXPECT_TRUE(test, vmci_event_wanted(VMCI_EVENT_QP_PEER_ATTACH));
	KUNIT_EXPECT_EQ(test, vmci_event_unsubscribe(id), VMCI_SUCCESS);
	KUNIT_EXPECT_FALSE(test, vmci_event_wanted(VMCI_EVENT_QP_PEER_ATTACH));
	KUNIT_EXPECT_FALSE(test, vmci_event_wanted(VMCI_EVENT_MAX));
	KUNIT_EXPECT_FALSE(test, vmci_event_wanted(VMCI_EVENT_MEM_ACCESS_ON));
}

static void subscribe_deliver_unsubscribe(struct kunit *test)
{
	struct rec *r = new_rec(test);
	u32 id = subscribe(test, VMCI_EVENT_CTX_ID_UPDATE, record_cb, r);

	KUNIT_EXPECT_EQ(test, vmci_event_dispatch(ctx_dg(test, VMCI_EVENT_CTX_ID_UPDATE, 77)),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, r->calls, 1U);
	KUNIT_EXPECT_EQ(test, r->sub_id, id);
	KUNIT_EXPECT_EQ(test, r->seen.event_data.event, VMCI_EVENT_CTX_ID_UPDATE);
	KUNIT_EXPECT_EQ(test, r->seen.payload.context_payload.context_id, 77U);

	KUNIT_EXPECT_EQ(test, vmci_event_unsubscribe(id), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_event_dispatch(ctx_dg(test, VMCI_EVENT_CTX_ID_UPDATE, 78)),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, r->calls, 1U);
}

/* The exported wrappers are what vmsock uses; they must behave the same. */
static void exported_api_round_trip(struct kunit *test)
{
	struct rec *r = new_rec(test);
	u32 id = VMCI_INVALID_ID;

	KUNIT_ASSERT_EQ(test, vmcix_event_subscribe(VMCI_EVENT_QP_RESUMED, record_cb, r, &id),
			VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, unsubscribe_action,
							(void *)(uintptr_t)id), 0);
	KUNIT_EXPECT_EQ(test, vmci_event_raise(VMCI_EVENT_QP_RESUMED, NULL, 0), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, r->calls, 1U);
	KUNIT_EXPECT_EQ(test, vmcix_event_unsubscribe(id), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmcix_event_unsubscribe(id), VMCI_ERROR_NOT_FOUND);
	KUNIT_EXPECT_EQ(test, vmcix_event_subscribe(VMCI_EVENT_MAX, record_cb, r, &id),
			VMCI_ERROR_EVENT_UNKNOWN);
}

static void two_subscribers_both_called(struct kunit *test)
{
	struct rec *a = new_rec(test), *b = new_rec(test);
	u32 ida = subscribe(test, VMCI_EVENT_CTX_REMOVED, record_cb, a);
	u32 idb = subscribe(test, VMCI_EVENT_CTX_REMOVED, record_cb, b);

	KUNIT_EXPECT_NE(test, ida, idb);
	KUNIT_EXPECT_EQ(test, vmci_event_dispatch(ctx_dg(test, VMCI_EVENT_CTX_REMOVED, 9)),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, a->calls, 1U);
	KUNIT_EXPECT_EQ(test, b->calls, 1U);
	KUNIT_EXPECT_EQ(test, a->sub_id, ida);
	KUNIT_EXPECT_EQ(test, b->sub_id, idb);
	KUNIT_EXPECT_EQ(test, b->seen.payload.context_payload.context_id, 9U);
}

static void other_event_not_called(struct kunit *test)
{
	struct rec *removed = new_rec(test), *update = new_rec(test);

	subscribe(test, VMCI_EVENT_CTX_REMOVED, record_cb, removed);
	subscribe(test, VMCI_EVENT_CTX_ID_UPDATE, record_cb, update);
	KUNIT_EXPECT_EQ(test, vmci_event_dispatch(ctx_dg(test, VMCI_EVENT_CTX_ID_UPDATE, 5)),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, removed->calls, 0U);
	KUNIT_EXPECT_EQ(test, update->calls, 1U);
}

static void invalid_events_refused(struct kunit *test)
{
	static const u32 bad[] = {
		VMCI_EVENT_MEM_ACCESS_ON, VMCI_EVENT_MEM_ACCESS_OFF, VMCI_EVENT_MAX,
		VMCI_EVENT_MAX + 1, VMCI_INVALID_ID,
	};
	struct rec *r = new_rec(test);
	unsigned int i;
	u32 id;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		id = 1234;
		KUNIT_EXPECT_EQ_MSG(test, vmci_event_subscribe(bad[i], record_cb, r, &id),
				    VMCI_ERROR_EVENT_UNKNOWN, "event %u", bad[i]);
		KUNIT_EXPECT_EQ(test, id, 1234U);
		KUNIT_EXPECT_EQ_MSG(test, vmci_event_raise(bad[i], NULL, 0),
				    VMCI_ERROR_EVENT_UNKNOWN, "event %u", bad[i]);
	}
	KUNIT_EXPECT_EQ(test, vmci_event_subscribe(VMCI_EVENT_CTX_REMOVED, NULL, r, &id),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_event_subscribe(VMCI_EVENT_CTX_REMOVED, record_cb, r, NULL),
			VMCI_ERROR_INVALID_ARGS);
}

struct bad_dg {
	const char *what;
	u64 payload_size;	/* as the header claims */
	size_t alloc;		/* bytes really there after the header */
	u32 event;		/* written when alloc leaves room for it */
	int result;
};

/* Every valid event has a subscriber; none may be called. */
static void malformed_datagrams_refused(struct kunit *test)
{
	static const struct bad_dg cases[] = {
		{ "no payload", 0, 0, 0, VMCI_ERROR_INVALID_ARGS },
		{ "half the event word", 2, 2, 0, VMCI_ERROR_INVALID_ARGS },
		{ "event word without pad", 4, 4, VMCI_EVENT_QP_RESUMED, VMCI_ERROR_INVALID_ARGS },
		{ "one byte short of event data", 7, 7, VMCI_EVENT_QP_RESUMED,
		  VMCI_ERROR_INVALID_ARGS },
		{ "one byte over the maximum", 25, 25, VMCI_EVENT_QP_PEER_ATTACH,
		  VMCI_ERROR_INVALID_ARGS },
		{ "claims a page", 4096, 24, VMCI_EVENT_QP_PEER_ATTACH, VMCI_ERROR_INVALID_ARGS },
		{ "size wraps the total", U64_MAX, 24, VMCI_EVENT_QP_PEER_ATTACH,
		  VMCI_ERROR_INVALID_ARGS },
		{ "size wraps to small", U64_MAX - VMCI_DG_HEADERSIZE + 9, 8,
		  VMCI_EVENT_QP_RESUMED, VMCI_ERROR_INVALID_ARGS },
		{ "event past the max", 24, 24, VMCI_EVENT_MAX, VMCI_ERROR_EVENT_UNKNOWN },
		{ "event all ones", 8, 8, VMCI_INVALID_ID, VMCI_ERROR_EVENT_UNKNOWN },
		{ "mem access on", 16, 16, VMCI_EVENT_MEM_ACCESS_ON, VMCI_ERROR_EVENT_UNKNOWN },
		{ "mem access off", 16, 16, VMCI_EVENT_MEM_ACCESS_OFF, VMCI_ERROR_EVENT_UNKNOWN },
		{ "ctx event without payload", 8, 8, VMCI_EVENT_CTX_ID_UPDATE,
		  VMCI_ERROR_INVALID_ARGS },
		{ "ctx event, partial payload", 12, 12, VMCI_EVENT_CTX_REMOVED,
		  VMCI_ERROR_INVALID_ARGS },
		{ "qp attach, ctx-sized payload", 16, 16, VMCI_EVENT_QP_PEER_ATTACH,
		  VMCI_ERROR_INVALID_ARGS },
		{ "qp detach, one byte short", 23, 23, VMCI_EVENT_QP_PEER_DETACH,
		  VMCI_ERROR_INVALID_ARGS },
	};
	static const u32 events[] = {
		VMCI_EVENT_CTX_ID_UPDATE, VMCI_EVENT_CTX_REMOVED, VMCI_EVENT_QP_RESUMED,
		VMCI_EVENT_QP_PEER_ATTACH, VMCI_EVENT_QP_PEER_DETACH,
	};
	struct rec *r = new_rec(test);
	struct vmci_datagram *dg;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(events); i++)
		subscribe(test, events[i], record_cb, r);

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		dg = new_dg(test, cases[i].payload_size, cases[i].alloc);
		if (cases[i].alloc >= sizeof(u32))
			((struct vmci_event_data *)dg_payload(dg))->event = cases[i].event;
		KUNIT_EXPECT_EQ_MSG(test, vmci_event_dispatch(dg), cases[i].result,
				    "%s", cases[i].what);
	}

	/* Well-formed events from the wrong place are not events. */
	dg = ctx_dg(test, VMCI_EVENT_CTX_ID_UPDATE, 3);
	dg->src.context = VMCI_HOST_CONTEXT_ID;
	KUNIT_EXPECT_EQ(test, vmci_event_dispatch(dg), VMCI_ERROR_INVALID_ARGS);
	dg = ctx_dg(test, VMCI_EVENT_CTX_ID_UPDATE, 3);
	dg->dst.resource = VMCI_EVENT_HANDLER + 1;
	KUNIT_EXPECT_EQ(test, vmci_event_dispatch(dg), VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_event_dispatch(NULL), VMCI_ERROR_INVALID_ARGS);

	KUNIT_EXPECT_EQ(test, r->calls, 0U);
}

static void ctx_payload_delivered(struct kunit *test)
{
	struct rec *r = new_rec(test);
	struct vmci_event_data_max want = {};

	subscribe(test, VMCI_EVENT_CTX_REMOVED, record_cb, r);
	KUNIT_EXPECT_EQ(test, vmci_event_dispatch(ctx_dg(test, VMCI_EVENT_CTX_REMOVED,
							 0xdeadbeef)), VMCI_SUCCESS);
	/* Past the ctx payload the subscriber sees zeroes, not stale stack. */
	want.event_data.event = VMCI_EVENT_CTX_REMOVED;
	want.payload.context_payload.context_id = 0xdeadbeef;
	KUNIT_EXPECT_EQ(test, r->calls, 1U);
	KUNIT_EXPECT_MEMEQ(test, &r->seen, &want, sizeof(want));
}

static void qp_payload_delivered(struct kunit *test)
{
	struct vmci_event_payld_qp qp = {
		.handle = vmci_make_handle(0x11223344, 0x55667788),
		.peer_id = 0x99aabbcc,
	};
	struct rec *attach = new_rec(test), *detach = new_rec(test);

	subscribe(test, VMCI_EVENT_QP_PEER_ATTACH, record_cb, attach);
	subscribe(test, VMCI_EVENT_QP_PEER_DETACH, record_cb, detach);
	KUNIT_EXPECT_EQ(test, vmci_event_dispatch(event_dg(test, VMCI_EVENT_QP_PEER_DETACH,
							   &qp, sizeof(qp))), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, attach->calls, 0U);
	KUNIT_EXPECT_EQ(test, detach->calls, 1U);
	KUNIT_EXPECT_EQ(test, detach->seen.event_data.event, VMCI_EVENT_QP_PEER_DETACH);
	KUNIT_EXPECT_TRUE(test, vmci_handle_equal(detach->seen.payload.qp_payload.handle,
						  qp.handle));
	KUNIT_EXPECT_EQ(test, detach->seen.payload.qp_payload.peer_id, 0x99aabbccU);
}

/* Resume carries no payload; the buffer the subscriber gets is all zero. */
static void payloadless_event_zero_filled(struct kunit *test)
{
	struct vmci_event_data_max want = { .event_data.event = VMCI_EVENT_QP_RESUMED };
	struct rec *r = new_rec(test);

	subscribe(test, VMCI_EVENT_QP_RESUMED, record_cb, r);
	KUNIT_EXPECT_EQ(test, vmci_event_dispatch(event_dg(test, VMCI_EVENT_QP_RESUMED, NULL, 0)),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, r->calls, 1U);
	KUNIT_EXPECT_MEMEQ(test, &r->seen, &want, sizeof(want));
}

/*
 * The datagram is followed by bytes that are not its own. This kernel's
 * KASAN does not check memcpy() on x86 with GCC 12, so these filler bytes
 * are what catches a copy running past payload_size.
 */
#define FILLER		0xa5
#define PAYLOAD_BYTE	0x11

static void copy_stops_at_payload_size(struct kunit *test)
{
	static const u32 events[] = { VMCI_EVENT_QP_RESUMED, VMCI_EVENT_CTX_REMOVED };
	const size_t max = sizeof(struct vmci_event_data_max);
	const size_t head = sizeof(struct vmci_event_data);
	struct rec *r = new_rec(test);
	struct vmci_datagram *dg;
	const u8 *seen = (const u8 *)&r->seen;
	unsigned int e, calls = 0;
	size_t size, i;

	for (e = 0; e < ARRAY_SIZE(events); e++)
		subscribe(test, events[e], record_cb, r);

	for (e = 0; e < ARRAY_SIZE(events); e++) {
		size = events[e] == VMCI_EVENT_QP_RESUMED ? head : head + 8;
		for (; size <= max; size++) {
			dg = new_dg(test, size, 2 * max);
			memset(dg_payload(dg), PAYLOAD_BYTE, size);
			memset((u8 *)dg_payload(dg) + size, FILLER, 2 * max - size);
			((struct vmci_event_data *)dg_payload(dg))->event = events[e];

			KUNIT_ASSERT_EQ(test, vmci_event_dispatch(dg), VMCI_SUCCESS);
			KUNIT_ASSERT_EQ(test, r->calls, ++calls);
			for (i = head; i < max; i++)
				KUNIT_ASSERT_EQ_MSG(test, seen[i], i < size ? PAYLOAD_BYTE : 0,
						    "event %u size %zu byte %zu", events[e],
						    size, i);
		}
	}
}

static void raise_delivers(struct kunit *test)
{
	struct vmci_event_payld_qp qp = {
		.handle = vmci_make_handle(7, 4000),
		.peer_id = 7,
	};
	struct vmci_event_payld_ctx ctx = { .context_id = 12 };
	struct rec *r = new_rec(test), *c = new_rec(test);
	u8 too_big[sizeof(struct vmci_event_payld_qp) + 1] = {};

	subscribe(test, VMCI_EVENT_QP_PEER_ATTACH, record_cb, r);
	subscribe(test, VMCI_EVENT_CTX_ID_UPDATE, record_cb, c);
	KUNIT_EXPECT_EQ(test, vmci_event_raise(VMCI_EVENT_QP_PEER_ATTACH, &qp, sizeof(qp)),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, r->calls, 1U);
	KUNIT_EXPECT_EQ(test, r->seen.event_data.event, VMCI_EVENT_QP_PEER_ATTACH);
	KUNIT_EXPECT_TRUE(test, vmci_handle_equal(r->seen.payload.qp_payload.handle, qp.handle));
	KUNIT_EXPECT_EQ(test, r->seen.payload.qp_payload.peer_id, 7U);

	KUNIT_EXPECT_EQ(test, vmci_event_raise(VMCI_EVENT_CTX_ID_UPDATE, &ctx, sizeof(ctx)),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, c->calls, 1U);
	KUNIT_EXPECT_EQ(test, c->seen.payload.context_payload.context_id, 12U);

	/* The same checks as for the hypervisor's events. */
	KUNIT_EXPECT_EQ(test, vmci_event_raise(VMCI_EVENT_QP_PEER_ATTACH, &ctx, sizeof(ctx)),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_event_raise(VMCI_EVENT_QP_PEER_ATTACH, too_big,
					       sizeof(too_big)), VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_event_raise(VMCI_EVENT_CTX_ID_UPDATE, NULL, sizeof(ctx)),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, r->calls, 1U);
	KUNIT_EXPECT_EQ(test, c->calls, 1U);
}

static void unsubscribe_unknown_id(struct kunit *test)
{
	struct rec *r = new_rec(test);
	u32 id = subscribe(test, VMCI_EVENT_CTX_REMOVED, record_cb, r);

	KUNIT_EXPECT_EQ(test, vmci_event_unsubscribe(0), VMCI_ERROR_NOT_FOUND);
	KUNIT_EXPECT_EQ(test, vmci_event_unsubscribe(VMCI_INVALID_ID), VMCI_ERROR_NOT_FOUND);
	KUNIT_EXPECT_EQ(test, vmci_event_unsubscribe(id + 1000000), VMCI_ERROR_NOT_FOUND);
	KUNIT_EXPECT_EQ(test, vmci_event_unsubscribe(id), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_event_unsubscribe(id), VMCI_ERROR_NOT_FOUND);
}

/* A subscriber that unsubscribes @victim when called, and records it. */
struct unsubscriber {
	struct rec rec;
	u32 victim;
	int result;
};

static void unsubscribe_cb(u32 sub_id, const struct vmci_event_data *ed, void *client_data)
{
	struct unsubscriber *u = client_data;

	record_cb(sub_id, ed, &u->rec);
	u->result = vmci_event_unsubscribe(u->victim);
}

static void callback_unsubscribes_other(struct kunit *test)
{
	struct unsubscriber *u = kunit_kzalloc(test, sizeof(*u), GFP_KERNEL);
	struct rec *victim = new_rec(test);
	u32 uid, vid;

	KUNIT_ASSERT_NOT_NULL(test, u);
	uid = subscribe(test, VMCI_EVENT_QP_RESUMED, unsubscribe_cb, u);
	vid = subscribe(test, VMCI_EVENT_QP_RESUMED, record_cb, victim);
	u->victim = vid;

	KUNIT_EXPECT_EQ(test, vmci_event_raise(VMCI_EVENT_QP_RESUMED, NULL, 0), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, u->rec.calls, 1U);
	KUNIT_EXPECT_EQ(test, u->result, VMCI_SUCCESS);
	/* Called before it went if it sorts first, never after. */
	if (vid > uid)
		KUNIT_EXPECT_EQ(test, victim->calls, 0U);

	victim->calls = 0;
	KUNIT_EXPECT_EQ(test, vmci_event_raise(VMCI_EVENT_QP_RESUMED, NULL, 0), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, u->rec.calls, 2U);
	KUNIT_EXPECT_EQ(test, u->result, VMCI_ERROR_NOT_FOUND);
	KUNIT_EXPECT_EQ(test, victim->calls, 0U);
	KUNIT_EXPECT_EQ(test, vmci_event_unsubscribe(vid), VMCI_ERROR_NOT_FOUND);
	KUNIT_EXPECT_EQ(test, vmci_event_unsubscribe(uid), VMCI_SUCCESS);
}

/* Must return, not wait for itself, and never be called again. */
static void callback_unsubscribes_itself(struct kunit *test)
{
	struct unsubscriber *u = kunit_kzalloc(test, sizeof(*u), GFP_KERNEL);
	struct rec *other = new_rec(test);

	KUNIT_ASSERT_NOT_NULL(test, u);
	u->victim = subscribe(test, VMCI_EVENT_CTX_ID_UPDATE, unsubscribe_cb, u);
	subscribe(test, VMCI_EVENT_CTX_ID_UPDATE, record_cb, other);

	KUNIT_EXPECT_EQ(test, vmci_event_dispatch(ctx_dg(test, VMCI_EVENT_CTX_ID_UPDATE, 1)),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, u->rec.calls, 1U);
	KUNIT_EXPECT_EQ(test, u->result, VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, other->calls, 1U);

	KUNIT_EXPECT_EQ(test, vmci_event_dispatch(ctx_dg(test, VMCI_EVENT_CTX_ID_UPDATE, 2)),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, u->rec.calls, 1U);
	KUNIT_EXPECT_EQ(test, other->calls, 2U);
	KUNIT_EXPECT_EQ(test, vmci_event_unsubscribe(u->victim), VMCI_ERROR_NOT_FOUND);
}

/* A callback raising another event gets it delivered inline, not deadlocked. */
struct raiser {
	unsigned int calls;
	int result;
};

static void raise_cb(u32 sub_id, const struct vmci_event_data *ed, void *client_data)
{
	struct raiser *ra = client_data;

	ra->calls++;
	ra->result = vmci_event_raise(VMCI_EVENT_QP_RESUMED, NULL, 0);
}

static void callback_raises_event(struct kunit *test)
{
	struct raiser *ra = kunit_kzalloc(test, sizeof(*ra), GFP_KERNEL);
	struct rec *r = new_rec(test);

	KUNIT_ASSERT_NOT_NULL(test, ra);
	subscribe(test, VMCI_EVENT_CTX_REMOVED, raise_cb, ra);
	subscribe(test, VMCI_EVENT_QP_RESUMED, record_cb, r);
	KUNIT_EXPECT_EQ(test, vmci_event_dispatch(ctx_dg(test, VMCI_EVENT_CTX_REMOVED, 4)),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, ra->calls, 1U);
	KUNIT_EXPECT_EQ(test, ra->result, VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, r->calls, 1U);
}

/*
 * Unsubscribe against a callback that is running on another task. The
 * callback blocks until released; the unsubscriber must still be waiting
 * then, and must see the callback finished when it returns.
 */
struct blocker {
	u32 id;
	struct completion entered;
	struct completion release;
	bool finished;

	struct completion raised;
	int raise_result;

	struct completion unsubscribed;
	int unsub_result;
	bool finished_at_return;
};

static void blocking_cb(u32 sub_id, const struct vmci_event_data *ed, void *client_data)
{
	struct blocker *b = client_data;

	complete(&b->entered);
	wait_for_completion(&b->release);
	WRITE_ONCE(b->finished, true);
}

/* One-shot threads wait here until kthread_stop() reaps them. */
static void park_until_stopped(void)
{
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE);
		if (kthread_should_stop())
			break;
		schedule();
	}
	__set_current_state(TASK_RUNNING);
}

static int raiser_thread(void *data)
{
	struct blocker *b = data;

	b->raise_result = vmci_event_raise(VMCI_EVENT_QP_RESUMED, NULL, 0);
	complete(&b->raised);
	park_until_stopped();
	return 0;
}

static int unsubscriber_thread(void *data)
{
	struct blocker *b = data;

	b->unsub_result = vmci_event_unsubscribe(b->id);
	b->finished_at_return = READ_ONCE(b->finished);
	complete(&b->unsubscribed);
	park_until_stopped();
	return 0;
}

static void unsubscribe_waits_for_running_callback(struct kunit *test)
{
	struct blocker *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	struct task_struct *raiser, *unsubscriber;

	KUNIT_ASSERT_NOT_NULL(test, b);
	init_completion(&b->entered);
	init_completion(&b->release);
	init_completion(&b->raised);
	init_completion(&b->unsubscribed);
	b->id = subscribe(test, VMCI_EVENT_QP_RESUMED, blocking_cb, b);

	raiser = kthread_run(raiser_thread, b, "vmci-kunit-raise");
	KUNIT_ASSERT_FALSE(test, IS_ERR(raiser));
	if (!wait_for_completion_timeout(&b->entered, WAIT_LONG)) {
		/* The callback never ran; let the raiser finish before failing. */
		complete(&b->release);
		wait_for_completion(&b->raised);
		kthread_stop(raiser);
		KUNIT_FAIL(test, "callback was not called");
		return;
	}

	unsubscriber = kthread_run(unsubscriber_thread, b, "vmci-kunit-unsub");
	if (IS_ERR(unsubscriber)) {
		complete(&b->release);
		wait_for_completion(&b->raised);
		kthread_stop(raiser);
		KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(unsubscriber));
		return;
	}

	/* Ample time for a wrong unsubscribe to return early. */
	msleep(300);
	KUNIT_EXPECT_FALSE_MSG(test, completion_done(&b->unsubscribed),
			       "unsubscribe returned while the callback was running");
	complete(&b->release);
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&b->unsubscribed, WAIT_LONG), 0UL);
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&b->raised, WAIT_LONG), 0UL);
	KUNIT_EXPECT_EQ(test, b->unsub_result, VMCI_SUCCESS);
	KUNIT_EXPECT_TRUE(test, b->finished_at_return);
	KUNIT_EXPECT_EQ(test, b->raise_result, VMCI_SUCCESS);

	kthread_stop(unsubscriber);
	kthread_stop(raiser);
}

#define LIVE_SUBS	16
#define CYCLES		500

/* After a failed assertion, nothing may be left calling into freed data. */
static void unsubscribe_all_action(void *data)
{
	u32 *live = data;
	unsigned int i;

	for (i = 0; i < LIVE_SUBS; i++)
		if (live[i] != VMCI_INVALID_ID)
			vmci_event_unsubscribe(live[i]);
}

static bool id_is_live(const u32 *live, unsigned int n, u32 id)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (live[i] == id)
			return true;
	return false;
}

/* Subscribes without a cleanup action; the caller unsubscribes. */
static u32 subscribe_bare(struct kunit *test, struct rec *r)
{
	u32 id = VMCI_INVALID_ID;

	KUNIT_EXPECT_EQ(test, vmci_event_subscribe(VMCI_EVENT_CTX_REMOVED, record_cb, r, &id),
			VMCI_SUCCESS);
	KUNIT_EXPECT_NE(test, id, 0U);
	KUNIT_EXPECT_NE(test, id, VMCI_INVALID_ID);
	return id;
}

static void ids_unique_across_cycles_and_wrap(struct kunit *test)
{
	u32 *live = kunit_kcalloc(test, LIVE_SUBS, sizeof(*live), GFP_KERNEL);
	struct rec *r = new_rec(test);
	unsigned int i, slot;
	u32 id;

	KUNIT_ASSERT_NOT_NULL(test, live);
	for (i = 0; i < LIVE_SUBS; i++)
		live[i] = VMCI_INVALID_ID;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, unsubscribe_all_action, live), 0);
	for (i = 0; i < LIVE_SUBS; i++) {
		id = subscribe_bare(test, r);
		KUNIT_EXPECT_FALSE(test, id_is_live(live, i, id));
		live[i] = id;
	}

	/* Replace one live subscription at a time; the rest stay taken. */
	for (i = 0; i < CYCLES; i++) {
		slot = i % LIVE_SUBS;
		KUNIT_ASSERT_EQ(test, vmci_event_unsubscribe(live[slot]), VMCI_SUCCESS);
		live[slot] = VMCI_INVALID_ID;
		id = subscribe_bare(test, r);
		KUNIT_ASSERT_FALSE_MSG(test, id_is_live(live, LIVE_SUBS, id), "id %u reused", id);
		live[slot] = id;
		/* Debug kernels under emulation are slow; let others run. */
		cond_resched();
	}

	/* Across the top of the range: no invalid ID, and live ones skipped. */
	vmci_event_set_next_id(VMCI_INVALID_ID - 3);
	for (i = 0; i < LIVE_SUBS; i++) {
		KUNIT_ASSERT_EQ(test, vmci_event_unsubscribe(live[i]), VMCI_SUCCESS);
		live[i] = VMCI_INVALID_ID;
		id = subscribe_bare(test, r);
		KUNIT_ASSERT_FALSE_MSG(test, id_is_live(live, LIVE_SUBS, id), "id %u reused", id);
		live[i] = id;
		if (i == 2)
			KUNIT_EXPECT_EQ(test, id, VMCI_INVALID_ID - 1);
		if (i == 3)
			KUNIT_EXPECT_LT(test, id, VMCI_INVALID_ID - 3);
	}

	/* Pointed straight at a live ID, the search moves past it. */
	vmci_event_set_next_id(live[0]);
	id = subscribe_bare(test, r);
	KUNIT_EXPECT_FALSE(test, id_is_live(live, LIVE_SUBS, id));
	KUNIT_EXPECT_EQ(test, vmci_event_unsubscribe(id), VMCI_SUCCESS);

	for (i = 0; i < LIVE_SUBS; i++) {
		KUNIT_EXPECT_EQ(test, vmci_event_unsubscribe(live[i]), VMCI_SUCCESS);
		live[i] = VMCI_INVALID_ID;
	}
	KUNIT_EXPECT_EQ(test, r->calls, 0U);
}

static struct kunit_case vmci_event_cases[] = {
	KUNIT_CASE(subscribe_deliver_unsubscribe),
	KUNIT_CASE(wanted_follows_subscriptions),
	KUNIT_CASE(exported_api_round_trip),
	KUNIT_CASE(two_subscribers_both_called),
	KUNIT_CASE(other_event_not_called),
	KUNIT_CASE(invalid_events_refused),
	KUNIT_CASE(malformed_datagrams_refused),
	KUNIT_CASE(ctx_payload_delivered),
	KUNIT_CASE(qp_payload_delivered),
	KUNIT_CASE(payloadless_event_zero_filled),
	KUNIT_CASE(copy_stops_at_payload_size),
	KUNIT_CASE(raise_delivers),
	KUNIT_CASE(unsubscribe_unknown_id),
	KUNIT_CASE(callback_unsubscribes_other),
	KUNIT_CASE(callback_unsubscribes_itself),
	KUNIT_CASE(callback_raises_event),
	KUNIT_CASE(unsubscribe_waits_for_running_callback),
	KUNIT_CASE(ids_unique_across_cycles_and_wrap),
	{}
};

static struct kunit_suite vmci_event_suite = {
	.name = "vmci_event",
	.test_cases = vmci_event_cases,
};

kunit_test_suite(vmci_event_suite);
