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
#include <linux/limits.h>
#include <linux/sched.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <linux/uio.h>
#include <vmci/vmci_abi.h>
#include <vmci/vmcix.h>

#include "event.h"
#include "qpair.h"
#include "qpair_budget.h"

#define WAIT_LONG	(10 * HZ)
#define LOCAL		VMCI_QPFLAG_LOCAL
#define ATTACH		(VMCI_QPFLAG_ATTACH_ONLY | VMCI_QPFLAG_LOCAL)

/* What a QP event subscriber saw for one handle. */
struct qp_events {
	struct vmci_handle handle;	/* the pair counted, set by the case */
	bool any;			/* or: count every pair, keep the first */
	unsigned int calls;
	u32 event;
	u32 peer_id;
};

static void qp_event_cb(u32 sub_id, const struct vmci_event_data *ed, void *client_data)
{
	const struct vmci_event_data_max *max = (const void *)ed;
	struct qp_events *rec = client_data;

	/* Other pairs may come and go meanwhile; count only ours. */
	if (rec->any && !rec->calls)
		rec->handle = max->payload.qp_payload.handle;
	if (!vmci_handle_equal(max->payload.qp_payload.handle, rec->handle))
		return;
	rec->calls++;
	rec->event = ed->event;
	rec->peer_id = max->payload.qp_payload.peer_id;
}

static void unsubscribe_action(void *id)
{
	vmci_event_unsubscribe((u32)(uintptr_t)id);
}

static struct qp_events *watch(struct kunit *test, u32 event)
{
	struct qp_events *rec = kunit_kzalloc(test, sizeof(*rec), GFP_KERNEL);
	u32 id = VMCI_INVALID_ID;

	KUNIT_ASSERT_NOT_NULL(test, rec);
	rec->handle = VMCI_INVALID_HANDLE;
	KUNIT_ASSERT_EQ(test, vmci_event_subscribe(event, qp_event_cb, rec, &id), VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, unsubscribe_action,
							(void *)(uintptr_t)id), 0);
	return rec;
}

static void detach_action(void *slot)
{
	struct vmcix_qpair **qp = slot;

	if (*qp)
		vmcix_qpair_detach(qp);
}

/* A place for an endpoint that the test detaches even if it stops early. */
static struct vmcix_qpair **new_slot(struct kunit *test)
{
	struct vmcix_qpair **slot = kunit_kzalloc(test, sizeof(*slot), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, slot);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, detach_action, slot), 0);
	return slot;
}

static struct vmcix_qpair **create(struct kunit *test, struct vmci_handle *handle,
				   u64 produce, u64 consume)
{
	struct vmcix_qpair **slot = new_slot(test);
	u32 cid = vmcix_get_context_id();

	*handle = VMCI_INVALID_HANDLE;
	KUNIT_ASSERT_EQ(test, vmcix_qpair_alloc(slot, handle, produce, consume, cid, LOCAL, 0),
			VMCI_SUCCESS);
	KUNIT_ASSERT_NOT_NULL(test, *slot);
	return slot;
}

static struct vmcix_qpair **attach(struct kunit *test, struct vmci_handle handle,
				   u64 produce, u64 consume)
{
	struct vmcix_qpair **slot = new_slot(test);
	struct vmci_handle h = handle;

	KUNIT_ASSERT_EQ(test, vmcix_qpair_alloc(slot, &h, produce, consume,
						vmcix_get_context_id(), ATTACH, 0),
			VMCI_SUCCESS);
	KUNIT_ASSERT_TRUE(test, vmci_handle_equal(h, handle));
	return slot;
}

/* Every case must leave the pair totals as it found them. */
struct totals {
	u32 pairs;
	u64 bytes;
	u64 charged;		/* suite_start only */
};

static int qpair_test_init(struct kunit *test)
{
	struct totals *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	if (!t)
		return -ENOMEM;
	t->pairs = vmci_qpair_local_count();
	t->bytes = vmci_qpair_local_memory();
	test->priv = t;
	return 0;
}

static struct totals suite_start;

static int qpair_suite_init(struct kunit_suite *suite)
{
	suite_start.pairs = vmci_qpair_local_count();
	suite_start.bytes = vmci_qpair_local_memory();
	suite_start.charged = vmci_qpair_local_charged();
	return 0;
}

static void expect_totals(struct kunit *test, u32 extra_pairs, u64 extra_bytes)
{
	struct totals *t = test->priv;

	KUNIT_EXPECT_EQ(test, vmci_qpair_local_count(), t->pairs + extra_pairs);
	KUNIT_EXPECT_EQ(test, vmci_qpair_local_memory(), t->bytes + extra_bytes);
}

static void lifecycle_with_events(struct kunit *test)
{
	struct qp_events *att = watch(test, VMCI_EVENT_QP_PEER_ATTACH);
	struct qp_events *det = watch(test, VMCI_EVENT_QP_PEER_DETACH);
	u32 cid = vmcix_get_context_id();
	struct vmcix_qpair **a, **b;
	struct vmci_handle h;

	a = create(test, &h, 4096, 4096);
	KUNIT_EXPECT_EQ(test, h.context, cid);
	KUNIT_EXPECT_GT(test, h.resource, VMCI_RESERVED_RESOURCE_ID_MAX);
	KUNIT_EXPECT_NE(test, h.resource, VMCI_INVALID_ID);
	expect_totals(test, 1, 8192);
	att->handle = h;
	det->handle = h;
	KUNIT_EXPECT_EQ(test, att->calls, 0U);

	b = attach(test, h, 4096, 4096);
	/* Raised on the attaching task, so it has been delivered already. */
	KUNIT_EXPECT_EQ(test, att->calls, 1U);
	KUNIT_EXPECT_EQ(test, att->event, VMCI_EVENT_QP_PEER_ATTACH);
	KUNIT_EXPECT_EQ(test, att->peer_id, cid);
	expect_totals(test, 1, 8192);

	KUNIT_EXPECT_EQ(test, vmcix_qpair_detach(a), VMCI_SUCCESS);
	KUNIT_EXPECT_NULL(test, *a);
	KUNIT_EXPECT_EQ(test, det->calls, 1U);
	KUNIT_EXPECT_EQ(test, det->event, VMCI_EVENT_QP_PEER_DETACH);
	KUNIT_EXPECT_EQ(test, det->peer_id, cid);
	expect_totals(test, 1, 8192);

	/* Nobody is left to tell when the last side goes. */
	KUNIT_EXPECT_EQ(test, vmcix_qpair_detach(b), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, det->calls, 1U);
	KUNIT_EXPECT_EQ(test, att->calls, 1U);
	expect_totals(test, 0, 0);

	/* The handle is gone with the last user. */
	b = new_slot(test);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(b, &h, 4096, 4096, cid, ATTACH, 0),
			VMCI_ERROR_NOT_FOUND);
	KUNIT_EXPECT_NULL(test, *b);
}

static void creator_alone_no_detach_event(struct kunit *test)
{
	struct qp_events *det = watch(test, VMCI_EVENT_QP_PEER_DETACH);
	struct vmcix_qpair **a;
	struct vmci_handle h;

	a = create(test, &h, 100, 200);
	det->handle = h;
	KUNIT_EXPECT_EQ(test, vmcix_qpair_detach(a), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, det->calls, 0U);
	expect_totals(test, 0, 0);
}

/* An end whose owner told its peer already raises no detach event. */
static void peer_told_no_detach_event(struct kunit *test)
{
	struct qp_events *det = watch(test, VMCI_EVENT_QP_PEER_DETACH);
	struct vmcix_qpair **a, **b;
	struct vmci_handle h;

	a = create(test, &h, 4096, 4096);
	det->handle = h;
	b = attach(test, h, 4096, 4096);
	vmcix_qpair_peer_told(*a);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_detach(a), VMCI_SUCCESS);
	KUNIT_EXPECT_NULL(test, *a);
	KUNIT_EXPECT_EQ(test, det->calls, 0U);
	/* The pair lives on for the other end until it leaves too. */
	expect_totals(test, 1, 8192);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_detach(b), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, det->calls, 0U);
	expect_totals(test, 0, 0);
	/* No endpoint, nothing to mark. */
	vmcix_qpair_peer_told(NULL);
}

static void explicit_handle(struct kunit *test)
{
	u32 cid = vmcix_get_context_id();
	struct vmci_handle h = vmci_make_handle(cid, 0x7fff1234);
	struct vmcix_qpair **a = new_slot(test), **c = new_slot(test);

	KUNIT_ASSERT_EQ(test, vmcix_qpair_alloc(a, &h, 512, 512, VMCI_INVALID_ID, LOCAL, 0),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, h.context, cid);
	KUNIT_EXPECT_EQ(test, h.resource, 0x7fff1234U);
	/* Without ATTACH_ONLY an existing handle means attach, too. */
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(c, &h, 512, 512, cid, LOCAL, 0), VMCI_SUCCESS);
	expect_totals(test, 1, 1024);
}

static void data_both_ways_buffers(struct kunit *test)
{
	char *big = kunit_kzalloc(test, 1200, GFP_KERNEL);
	char *out = kunit_kzalloc(test, 1200, GFP_KERNEL);
	struct vmcix_qpair **a, **b;
	struct vmci_handle h;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, big);
	KUNIT_ASSERT_NOT_NULL(test, out);
	a = create(test, &h, 1000, 3000);
	b = attach(test, h, 3000, 1000);

	/* One byte of each ring always stays empty. */
	KUNIT_EXPECT_EQ(test, vmcix_qpair_produce_free_space(*a), 999);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_consume_free_space(*a), 2999);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_produce_free_space(*b), 2999);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_consume_free_space(*b), 999);

	KUNIT_EXPECT_EQ(test, vmcix_qpair_enqueue(*a, "hello", 5, 0), 5);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_produce_buf_ready(*a), 5);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_consume_buf_ready(*b), 5);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_consume_buf_ready(*a), 0);

	memset(out, 0, 1200);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_peek(*b, out, 1200, 0), 5);
	KUNIT_EXPECT_MEMEQ(test, out, "hello", 5);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_consume_buf_ready(*b), 5);
	memset(out, 0, 1200);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_dequeue(*b, out, 3, 0), 3);
	KUNIT_EXPECT_MEMEQ(test, out, "hel", 3);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_dequeue(*b, out, 1200, 0), 2);
	KUNIT_EXPECT_MEMEQ(test, out, "lo", 2);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_dequeue(*b, out, 1200, 0),
			(ssize_t)VMCI_ERROR_QUEUEPAIR_NODATA);

	/* The other direction, past the smaller ring's size. */
	for (i = 0; i < 1200; i++)
		big[i] = (char)(i * 7 + 1);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_enqueue(*b, big, 1200, 0), 1200);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_consume_buf_ready(*a), 1200);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_dequeue(*a, out, 1200, 0), 1200);
	KUNIT_EXPECT_MEMEQ(test, out, big, 1200);

	/* a's produce ring holds 999 bytes: a short write, then no space. */
	KUNIT_EXPECT_EQ(test, vmcix_qpair_enqueue(*a, big, 1200, 0), 999);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_enqueue(*a, big, 1, 0),
			(ssize_t)VMCI_ERROR_QUEUEPAIR_NOSPACE);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_produce_free_space(*a), 0);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_dequeue(*b, out, 1200, 0), 999);
	KUNIT_EXPECT_MEMEQ(test, out, big, 999);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_produce_free_space(*a), 999);

	KUNIT_EXPECT_EQ(test, vmcix_qpair_enqueue(NULL, big, 1, 0),
			(ssize_t)VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_dequeue(*b, NULL, 1, 0),
			(ssize_t)VMCI_ERROR_INVALID_ARGS);
}

static void init_msg(struct msghdr *msg, struct kvec *kv, unsigned int dir, size_t len)
{
	memset(msg, 0, sizeof(*msg));
	iov_iter_kvec(&msg->msg_iter, dir, kv, 2, len);
}

static void data_through_iov_iter(struct kunit *test)
{
	char first[] = "vector ", second[] = "pieces", in1[8], in2[32];
	struct kvec kv[2];
	struct vmcix_qpair **a, **b;
	struct vmci_handle h;
	struct msghdr msg;
	size_t total = 7 + 6;

	a = create(test, &h, 64, 64);
	b = attach(test, h, 64, 64);

	kv[0] = (struct kvec){ .iov_base = first, .iov_len = 7 };
	kv[1] = (struct kvec){ .iov_base = second, .iov_len = 6 };
	init_msg(&msg, kv, ITER_SOURCE, total);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_enquev(*a, &msg, total, 0), (ssize_t)total);
	KUNIT_EXPECT_EQ(test, iov_iter_count(&msg.msg_iter), 0UL);

	memset(in1, 0, sizeof(in1));
	memset(in2, 0, sizeof(in2));
	kv[0] = (struct kvec){ .iov_base = in1, .iov_len = 4 };
	kv[1] = (struct kvec){ .iov_base = in2, .iov_len = sizeof(in2) };
	init_msg(&msg, kv, ITER_DEST, 4 + sizeof(in2));
	KUNIT_EXPECT_EQ(test, vmcix_qpair_peekv(*b, &msg, 4 + sizeof(in2), 0), (ssize_t)total);
	KUNIT_EXPECT_MEMEQ(test, in1, "vect", 4);
	KUNIT_EXPECT_MEMEQ(test, in2, "or pieces", 9);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_consume_buf_ready(*b), (s64)total);

	memset(in1, 0, sizeof(in1));
	memset(in2, 0, sizeof(in2));
	init_msg(&msg, kv, ITER_DEST, 4 + sizeof(in2));
	KUNIT_EXPECT_EQ(test, vmcix_qpair_dequev(*b, &msg, 4 + sizeof(in2), 0), (ssize_t)total);
	KUNIT_EXPECT_MEMEQ(test, in1, "vect", 4);
	KUNIT_EXPECT_MEMEQ(test, in2, "or pieces", 9);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_consume_buf_ready(*b), 0);

	/* And back, through the attacher's produce queue. */
	kv[0] = (struct kvec){ .iov_base = second, .iov_len = 6 };
	kv[1] = (struct kvec){ .iov_base = first, .iov_len = 7 };
	init_msg(&msg, kv, ITER_SOURCE, total);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_enquev(*b, &msg, total, 0), (ssize_t)total);
	memset(in2, 0, sizeof(in2));
	KUNIT_EXPECT_EQ(test, vmcix_qpair_dequeue(*a, in2, sizeof(in2), 0), (ssize_t)total);
	KUNIT_EXPECT_MEMEQ(test, in2, "piecesvector ", total);

	KUNIT_EXPECT_EQ(test, vmcix_qpair_enquev(*a, NULL, 1, 0), (ssize_t)VMCI_ERROR_INVALID_ARGS);
}

static void mismatch_refused(struct kunit *test)
{
	u32 cid = vmcix_get_context_id();
	struct vmcix_qpair **b;
	struct vmci_handle h, h2;

	create(test, &h, 4096, 8192);
	b = new_slot(test);
	h2 = h;
	/* The creator's sizes as they are, not swapped. */
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(b, &h2, 4096, 8192, cid, ATTACH, 0),
			VMCI_ERROR_QUEUEPAIR_MISMATCH);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(b, &h2, 8192, 8192, cid, ATTACH, 0),
			VMCI_ERROR_QUEUEPAIR_MISMATCH);
	KUNIT_EXPECT_NULL(test, *b);
	/* A failed attach used up nothing: the right one still works. */
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(b, &h2, 8192, 4096, cid, ATTACH, 0),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_produce_free_space(*b), 8191);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_consume_free_space(*b), 4095);
}

static void bad_addresses_refused(struct kunit *test)
{
	u32 cid = vmcix_get_context_id();
	struct vmcix_qpair **a = new_slot(test);
	struct vmci_handle h;

	h = vmci_make_handle(cid + 1, VMCI_INVALID_ID);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(a, &h, 64, 64, cid, LOCAL, 0),
			VMCI_ERROR_INVALID_ARGS);
	h = VMCI_INVALID_HANDLE;
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(a, &h, 64, 64, cid + 1, LOCAL, 0),
			VMCI_ERROR_INVALID_ARGS);
	/* A non-local pair goes to the broker, which needs a VMM as the peer. */
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(a, &h, 64, 64, cid, 0, 0),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(a, &h, 64, 64, cid, LOCAL, 0x80),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(NULL, &h, 64, 64, cid, LOCAL, 0),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(a, NULL, 64, 64, cid, LOCAL, 0),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_detach(NULL), VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_detach(a), VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_NULL(test, *a);
	expect_totals(test, 0, 0);
}

static void attach_only_needs_creator(struct kunit *test)
{
	u32 cid = vmcix_get_context_id();
	struct vmcix_qpair **b = new_slot(test);
	struct vmci_handle h = vmci_make_handle(cid, 0x7fff4321);

	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(b, &h, 64, 64, cid, ATTACH, 0),
			VMCI_ERROR_NOT_FOUND);
	h = VMCI_INVALID_HANDLE;
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(b, &h, 64, 64, cid, ATTACH, 0),
			VMCI_ERROR_NOT_FOUND);
	KUNIT_EXPECT_NULL(test, *b);
	expect_totals(test, 0, 0);
}

static void third_user_refused(struct kunit *test)
{
	u32 cid = vmcix_get_context_id();
	struct vmcix_qpair **a, **b, **c = NULL;
	struct vmci_handle h, h2;

	a = create(test, &h, 256, 256);
	b = attach(test, h, 256, 256);
	c = new_slot(test);
	h2 = h;
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(c, &h2, 256, 256, cid, ATTACH, 0),
			VMCI_ERROR_ALREADY_EXISTS);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(c, &h2, 256, 256, cid, LOCAL, 0),
			VMCI_ERROR_ALREADY_EXISTS);
	/* A departed attacher's seat is not handed to someone else. */
	KUNIT_EXPECT_EQ(test, vmcix_qpair_detach(b), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(c, &h2, 256, 256, cid, ATTACH, 0),
			VMCI_ERROR_ALREADY_EXISTS);
	KUNIT_EXPECT_NULL(test, *c);
	KUNIT_EXPECT_NOT_NULL(test, *a);
}

static void sizes_refused_up_front(struct kunit *test)
{
	u32 cid = vmcix_get_context_id();
	struct vmcix_qpair **a = new_slot(test);
	struct vmci_handle h = VMCI_INVALID_HANDLE;
	u64 max = VMCI_MAX_GUEST_QP_MEMORY;

	/* Any attempt to allocate these would take ages or fail noisily. */
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(a, &h, U64_MAX, U64_MAX, cid, LOCAL, 0),
			VMCI_ERROR_NO_RESOURCES);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(a, &h, U64_MAX, 2, cid, LOCAL, 0),
			VMCI_ERROR_NO_RESOURCES);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(a, &h, 2, U64_MAX - 1, cid, LOCAL, 0),
			VMCI_ERROR_NO_RESOURCES);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(a, &h, max, 1, cid, LOCAL, 0),
			VMCI_ERROR_NO_RESOURCES);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(a, &h, max / 2 + 1, max / 2, cid, LOCAL, 0),
			VMCI_ERROR_NO_RESOURCES);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(a, &h, 0, 4096, cid, LOCAL, 0),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(a, &h, 4096, 0, cid, LOCAL, 0),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_TRUE(test, vmci_handle_is_invalid(h));
	KUNIT_EXPECT_NULL(test, *a);
	expect_totals(test, 0, 0);
}

static void restore_budget(void *old)
{
	vmci_qpair_local_set_budget(*(u64 *)old);
}

/* Waits up to WAIT_LONG for the local budget to hold @want; returns what it holds. */
static u64 settle_charged(u64 want)
{
	unsigned long deadline = jiffies + WAIT_LONG;

	while (vmci_qpair_local_charged() != want && time_before(jiffies, deadline))
		msleep(20);
	return vmci_qpair_local_charged();
}

/* Every earlier case's pairs are gone; what is left belongs to others. */
static u64 settled_base(struct kunit *test)
{
	struct totals *t = test->priv;

	return settle_charged(t->bytes);
}

static void budget_exhausted_and_recovered(struct kunit *test)
{
	u64 *old = kunit_kzalloc(test, sizeof(*old), GFP_KERNEL);
	u32 cid = vmcix_get_context_id();
	struct vmcix_qpair **a, **b, **c, **d;
	struct vmci_handle ha, hb, h;
	struct totals *t = test->priv;

	KUNIT_ASSERT_NOT_NULL(test, old);
	/* Room for exactly two 32 KiB pairs beyond what exists already. */
	*old = vmci_qpair_local_set_budget(settled_base(test) + 2 * 32768);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, restore_budget, old), 0);

	a = create(test, &ha, 16384, 16384);
	b = create(test, &hb, 8192, 24576);
	c = new_slot(test);
	h = VMCI_INVALID_HANDLE;
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(c, &h, 1, 1, cid, LOCAL, 0),
			VMCI_ERROR_NO_RESOURCES);
	KUNIT_EXPECT_NULL(test, *c);
	expect_totals(test, 2, 65536);

	/* Attaching shares the creator's memory and costs nothing. */
	d = attach(test, ha, 16384, 16384);
	KUNIT_EXPECT_NOT_NULL(test, *d);

	KUNIT_EXPECT_EQ(test, vmcix_qpair_detach(b), VMCI_SUCCESS);
	settle_charged(t->bytes + 32768);
	h = VMCI_INVALID_HANDLE;
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(c, &h, 16384, 16384, cid, LOCAL, 0),
			VMCI_SUCCESS);
	h = VMCI_INVALID_HANDLE;
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(b, &h, 1, 1, cid, LOCAL, 0),
			VMCI_ERROR_NO_RESOURCES);
	expect_totals(test, 2, 65536);
	KUNIT_EXPECT_NOT_NULL(test, *a);
}

static struct vmcix_qpair **create_for(struct kunit *test, const struct vmcix_qp_owner *owner,
				       struct vmci_handle *h, u64 size, int want)
{
	struct vmcix_qpair **slot = new_slot(test);

	*h = VMCI_INVALID_HANDLE;
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc_for(owner, slot, h, size, size,
						    vmcix_get_context_id(), LOCAL, 0), want);
	return slot;
}

static void restore_percent(void *old)
{
	vmci_qp_set_user_percent((uintptr_t)old);
}

/*
 * An unprivileged uid gets its share (a quarter) of the local budget and
 * no more; another uid still gets its own, and a privileged owner the
 * rest of the whole budget.
 */
static void user_share_enforced(struct kunit *test)
{
	const struct vmcix_qp_owner user_a = { .uid = KUIDT_INIT(60001) };
	const struct vmcix_qp_owner user_b = { .uid = KUIDT_INIT(60002) };
	const struct vmcix_qp_owner admin = { .uid = KUIDT_INIT(60003), .privileged = true };
	u64 *old = kunit_kzalloc(test, sizeof(*old), GFP_KERNEL);
	u64 pair = 2 * PAGE_SIZE;
	u64 base, limit, share, i;
	struct vmci_handle h;
	void *old_pct;

	KUNIT_ASSERT_NOT_NULL(test, old);
	/* Sixteen one-page pairs of room (others' pairs may hold some more). */
	base = settled_base(test);
	limit = base + 16 * pair;
	*old = vmci_qpair_local_set_budget(limit);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, restore_budget, old), 0);
	old_pct = (void *)(uintptr_t)vmci_qp_set_user_percent(25);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, restore_percent, old_pct), 0);
	share = rounddown(vmci_qp_user_share(limit), pair);
	KUNIT_ASSERT_GE(test, share, 4 * pair);
	KUNIT_ASSERT_LT(test, share, 15 * pair);

	for (i = 0; i < share; i += pair)
		create_for(test, &user_a, &h, PAGE_SIZE, VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qpair_local_user_memory(user_a.uid), share);
	create_for(test, &user_a, &h, PAGE_SIZE, VMCI_ERROR_NO_RESOURCES);
	KUNIT_EXPECT_EQ(test, vmci_qpair_local_user_memory(user_a.uid), share);

	/* The other uid is not affected by the first one's use. */
	create_for(test, &user_b, &h, PAGE_SIZE, VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qpair_local_user_memory(user_b.uid), pair);

	/* The privileged owner may take everything that is left, no more. */
	for (i = base + share + pair; i < limit; i += pair)
		create_for(test, &admin, &h, PAGE_SIZE, VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qpair_local_user_memory(admin.uid), 0ULL);
	create_for(test, &admin, &h, PAGE_SIZE, VMCI_ERROR_NO_RESOURCES);
	create_for(test, &user_b, &h, PAGE_SIZE, VMCI_ERROR_NO_RESOURCES);
}

/* A queue smaller than a page costs the page it takes. */
static void tiny_pairs_charged_by_page(struct kunit *test)
{
	const struct vmcix_qp_owner user = { .uid = KUIDT_INIT(60004) };
	struct vmci_handle h;
	u64 base = settled_base(test);

	create_for(test, &user, &h, 1, VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qpair_local_user_memory(user.uid), 2 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, vmci_qpair_local_charged(), base + 2 * PAGE_SIZE);
	expect_totals(test, 1, 2);
}

/*
 * The creator pays, whoever detaches last: the attacher's detach, after
 * the creator left, gives the creator's share back, at once, not when
 * the queues are freed a grace period later.
 */
static void charge_follows_the_pair(struct kunit *test)
{
	const struct vmcix_qp_owner creator = { .uid = KUIDT_INIT(60005) };
	const struct vmcix_qp_owner other = { .uid = KUIDT_INIT(60006) };
	struct vmcix_qpair **a, **b = new_slot(test);
	u64 base = settled_base(test);
	struct vmci_handle h;

	a = create_for(test, &creator, &h, 8192, VMCI_SUCCESS);
	KUNIT_ASSERT_NOT_NULL(test, *a);
	KUNIT_ASSERT_EQ(test, vmcix_qpair_alloc_for(&other, b, &h, 8192, 8192,
						    vmcix_get_context_id(), ATTACH, 0),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qpair_local_user_memory(creator.uid), 16384ULL);
	KUNIT_EXPECT_EQ(test, vmci_qpair_local_user_memory(other.uid), 0ULL);

	KUNIT_EXPECT_EQ(test, vmcix_qpair_detach(a), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qpair_local_user_memory(creator.uid), 16384ULL);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_detach(b), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qpair_local_charged(), base);
	KUNIT_EXPECT_EQ(test, vmci_qpair_local_user_memory(creator.uid), 0ULL);
}

/*
 * vmcix_qpair_alloc_local_pair(): both ends joined, the owner charged for
 * both queues, the attach event raised and the attach used up, each end
 * detached on its own; refused whole, leaving nothing, over the budget.
 */
static void local_pair_both_ends(struct kunit *test)
{
	const struct vmcix_qp_owner owner = { .uid = KUIDT_INIT(60008) };
	struct qp_events *att = watch(test, VMCI_EVENT_QP_PEER_ATTACH);
	struct qp_events *det = watch(test, VMCI_EVENT_QP_PEER_DETACH);
	struct vmcix_qpair **a = new_slot(test), **b = new_slot(test), **c = new_slot(test);
	u64 *old = kunit_kzalloc(test, sizeof(*old), GFP_KERNEL);
	u32 cid = vmcix_get_context_id();
	u64 base = settled_base(test);
	struct vmci_handle h;
	char out[8];

	KUNIT_ASSERT_NOT_NULL(test, old);
	att->any = true;
	h = VMCI_INVALID_HANDLE;
	KUNIT_ASSERT_EQ(test, vmcix_qpair_alloc_local_pair(&owner, a, b, &h, 1000, 3000),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, h.context, cid);
	KUNIT_EXPECT_GT(test, h.resource, VMCI_RESERVED_RESOURCE_ID_MAX);
	KUNIT_EXPECT_EQ(test, att->calls, 1U);
	KUNIT_EXPECT_TRUE(test, vmci_handle_equal(att->handle, h));
	expect_totals(test, 1, 4000);
	KUNIT_EXPECT_EQ(test, vmci_qpair_local_user_memory(owner.uid), 2 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, vmci_qpair_local_charged(), base + 2 * PAGE_SIZE);

	/* The creator's produce queue is the attacher's consume queue. */
	KUNIT_EXPECT_EQ(test, vmcix_qpair_produce_free_space(*a), 999);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_produce_free_space(*b), 2999);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_enqueue(*a, "ab", 2, 0), 2);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_enqueue(*b, "xyz", 3, 0), 3);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_dequeue(*b, out, sizeof(out), 0), 2);
	KUNIT_EXPECT_MEMEQ(test, out, "ab", 2);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_dequeue(*a, out, sizeof(out), 0), 3);
	KUNIT_EXPECT_MEMEQ(test, out, "xyz", 3);

	/* Its one attach is taken: nobody else can join it. */
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(c, &h, 3000, 1000, cid, ATTACH, 0),
			VMCI_ERROR_ALREADY_EXISTS);
	KUNIT_EXPECT_NULL(test, *c);

	det->handle = h;
	KUNIT_EXPECT_EQ(test, vmcix_qpair_detach(a), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, det->calls, 1U);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_detach(b), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, det->calls, 1U);
	expect_totals(test, 0, 0);
	KUNIT_EXPECT_EQ(test, vmci_qpair_local_user_memory(owner.uid), 0ULL);

	/* One page short of the pair: refused, both ends untouched. */
	*old = vmci_qpair_local_set_budget(settled_base(test) + PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, restore_budget, old), 0);
	h = VMCI_INVALID_HANDLE;
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc_local_pair(&owner, a, b, &h, 1000, 3000),
			VMCI_ERROR_NO_RESOURCES);
	KUNIT_EXPECT_NULL(test, *a);
	KUNIT_EXPECT_NULL(test, *b);
	KUNIT_EXPECT_TRUE(test, vmci_handle_is_invalid(h));
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc_local_pair(NULL, a, b, &h, 1000, 3000),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc_local_pair(&owner, a, b, &h, 0, 3000),
			VMCI_ERROR_INVALID_ARGS);
	expect_totals(test, 0, 0);
}

static unsigned int count_entries(struct vmci_qp_budget *b)
{
	unsigned int n = 0;
	unsigned long i;
	void *entry;

	xa_for_each(&b->users, i, entry)
		n++;
	return n;
}

/* The budget object alone: limits, shares, and nothing left per uid. */
static void budget_arithmetic(struct kunit *test)
{
	struct vmci_qp_budget *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	const struct vmcix_qp_owner user = { .uid = KUIDT_INIT(60007) };
	const struct vmcix_qp_owner root = { .uid = GLOBAL_ROOT_UID, .privileged = true };
	struct vmci_qp_charge c1, c2, c3;
	void *old_pct;

	KUNIT_ASSERT_NOT_NULL(test, b);
	old_pct = (void *)(uintptr_t)vmci_qp_set_user_percent(50);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, restore_percent, old_pct), 0);
	xa_init(&b->users);
	b->limit = 1000;

	KUNIT_EXPECT_EQ(test, vmci_qp_user_share(1000), 500ULL);
	KUNIT_EXPECT_EQ(test, vmci_qp_budget_charge(b, &user, 400, &c1), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_budget_charge(b, &user, 101, &c2),
			VMCI_ERROR_NO_RESOURCES);
	KUNIT_EXPECT_EQ(test, c2.bytes, 0ULL);
	KUNIT_EXPECT_EQ(test, vmci_qp_budget_charge(b, &user, 100, &c2), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_budget_charge(b, &root, 501, &c3),
			VMCI_ERROR_NO_RESOURCES);
	KUNIT_EXPECT_EQ(test, vmci_qp_budget_charge(b, &root, U64_MAX, &c3),
			VMCI_ERROR_NO_RESOURCES);
	KUNIT_EXPECT_EQ(test, vmci_qp_budget_charge(b, &root, 500, &c3), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_budget_used(b), 1000ULL);
	KUNIT_EXPECT_EQ(test, vmci_qp_budget_user_used(b, user.uid), 500ULL);
	KUNIT_EXPECT_EQ(test, vmci_qp_budget_user_used(b, root.uid), 0ULL);

	vmci_qp_budget_uncharge(b, &c1);
	KUNIT_EXPECT_EQ(test, vmci_qp_budget_user_used(b, user.uid), 100ULL);
	vmci_qp_budget_uncharge(b, &c2);
	vmci_qp_budget_uncharge(b, &c3);
	/* Uncharging an empty record (a failed charge) changes nothing. */
	vmci_qp_budget_uncharge(b, &c3);
	KUNIT_EXPECT_EQ(test, vmci_qp_budget_used(b), 0ULL);
	/* The user's entry stays, at 0, as the idle one; the exit drops it. */
	KUNIT_EXPECT_EQ(test, count_entries(b), 1U);
	vmci_qp_budget_drop_idle(b);
	KUNIT_EXPECT_TRUE(test, xa_empty(&b->users));
	xa_destroy(&b->users);
}

/*
 * The last uid to drop to 0 keeps its entry, at 0, and only that one: a
 * second uid at 0 takes its place, and a uid with pairs again is not
 * erased for being the idle one.
 */
static void budget_keeps_one_idle_entry(struct kunit *test)
{
	struct vmci_qp_budget *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	const struct vmcix_qp_owner a = { .uid = KUIDT_INIT(60009) };
	const struct vmcix_qp_owner c = { .uid = KUIDT_INIT(60010) };
	struct vmci_qp_charge ca, cc;

	KUNIT_ASSERT_NOT_NULL(test, b);
	xa_init(&b->users);
	b->limit = 1 << 20;

	KUNIT_ASSERT_EQ(test, vmci_qp_budget_charge(b, &a, 8192, &ca), VMCI_SUCCESS);
	vmci_qp_budget_uncharge(b, &ca);
	KUNIT_EXPECT_TRUE(test, xa_load(&b->users, 60009) == xa_mk_value(0));
	KUNIT_EXPECT_EQ(test, vmci_qp_budget_user_used(b, a.uid), 0ULL);

	/* The idle uid charges again; another uid comes and goes meanwhile. */
	KUNIT_ASSERT_EQ(test, vmci_qp_budget_charge(b, &a, 4096, &ca), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_qp_budget_user_used(b, a.uid), 4096ULL);
	KUNIT_ASSERT_EQ(test, vmci_qp_budget_charge(b, &c, 8192, &cc), VMCI_SUCCESS);
	vmci_qp_budget_uncharge(b, &cc);
	KUNIT_EXPECT_EQ(test, vmci_qp_budget_user_used(b, a.uid), 4096ULL);
	KUNIT_EXPECT_EQ(test, count_entries(b), 2U);

	/* a drops to 0 too: it is the idle one now, and c's entry goes. */
	vmci_qp_budget_uncharge(b, &ca);
	KUNIT_EXPECT_NULL(test, xa_load(&b->users, 60010));
	KUNIT_EXPECT_EQ(test, count_entries(b), 1U);
	KUNIT_EXPECT_EQ(test, vmci_qp_budget_used(b), 0ULL);

	vmci_qp_budget_drop_idle(b);
	KUNIT_EXPECT_TRUE(test, xa_empty(&b->users));
	xa_destroy(&b->users);
}

static void esx_flags_refused(struct kunit *test)
{
	u32 cid = vmcix_get_context_id();
	struct vmcix_qpair **a = new_slot(test);
	struct vmci_handle h = VMCI_INVALID_HANDLE;

	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(a, &h, 64, 64, cid,
						LOCAL | VMCI_QPFLAG_NONBLOCK, 0),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(a, &h, 64, 64, cid,
						LOCAL | VMCI_QPFLAG_PINNED, 0),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(a, &h, 64, 64, cid, LOCAL | VMCI_QP_ALL_FLAGS, 0),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_alloc(a, &h, 64, 64, cid, LOCAL | 0x10, 0),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_NULL(test, *a);
	expect_totals(test, 0, 0);
}

#define STREAM_BYTES	(256 * 1024)

static u8 stream_byte(u64 pos)
{
	return (u8)(pos * 31 + (pos >> 8));
}

/* Reads the peer's stream on its own endpoint and checks every byte. */
struct reader {
	struct vmcix_qpair *qp;
	struct completion started;
	u64 got;
	u64 bad_bytes;
	ssize_t bad_result;
};

static int reader_fn(void *data)
{
	struct reader *r = data;
	u8 buf[300];
	ssize_t n, i;

	complete(&r->started);
	while (!kthread_should_stop()) {
		n = vmcix_qpair_dequeue(r->qp, buf, sizeof(buf), 0);
		if (n == VMCI_ERROR_QUEUEPAIR_NODATA) {
			cond_resched();
			continue;
		}
		if (n <= 0) {
			WRITE_ONCE(r->bad_result, n);
			continue;
		}
		for (i = 0; i < n; i++)
			if (buf[i] != stream_byte(r->got + i))
				r->bad_bytes++;
		WRITE_ONCE(r->got, r->got + n);
	}
	return 0;
}

static void detach_while_peer_dequeues(struct kunit *test)
{
	struct reader *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct qp_events *det = watch(test, VMCI_EVENT_QP_PEER_DETACH);
	unsigned long deadline;
	struct vmcix_qpair **a, **b;
	struct task_struct *task;
	struct vmci_handle h;
	u8 chunk[700];
	u64 sent = 0;
	ssize_t n;
	size_t i;

	KUNIT_ASSERT_NOT_NULL(test, r);
	/* Small rings, so the writer laps them many times. */
	a = create(test, &h, 4096, 4096);
	b = attach(test, h, 4096, 4096);
	det->handle = h;
	r->qp = *b;
	init_completion(&r->started);
	task = kthread_run(reader_fn, r, "vmci_qp_reader");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	wait_for_completion(&r->started);

	deadline = jiffies + WAIT_LONG;
	while (sent < STREAM_BYTES && time_before(jiffies, deadline)) {
		for (i = 0; i < sizeof(chunk); i++)
			chunk[i] = stream_byte(sent + i);
		n = vmcix_qpair_enqueue(*a, chunk, sizeof(chunk), 0);
		if (n > 0)
			sent += n;
		else
			cond_resched();
	}
	/* The reader is still dequeuing while this side goes away. */
	KUNIT_EXPECT_EQ(test, vmcix_qpair_detach(a), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, det->calls, 1U);

	/* Whatever was in flight is still readable from the surviving side. */
	deadline = jiffies + WAIT_LONG;
	while (READ_ONCE(r->got) < sent && time_before(jiffies, deadline))
		usleep_range(500, 1000);
	kthread_stop(task);

	KUNIT_EXPECT_GE(test, sent, (u64)STREAM_BYTES);
	KUNIT_EXPECT_EQ(test, r->got, sent);
	KUNIT_EXPECT_EQ(test, r->bad_bytes, 0ULL);
	KUNIT_EXPECT_EQ(test, r->bad_result, 0L);
	/* The survivor can still use its produce queue; nobody reads it. */
	KUNIT_EXPECT_EQ(test, vmcix_qpair_enqueue(*b, chunk, 10, 0), 10);
	KUNIT_EXPECT_EQ(test, vmcix_qpair_detach(b), VMCI_SUCCESS);
	expect_totals(test, 0, 0);
}

/* Last: every earlier case's endpoints were detached by its cleanup. */
static void nothing_left_behind(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, vmci_qpair_local_count(), suite_start.pairs);
	KUNIT_EXPECT_EQ(test, vmci_qpair_local_memory(), suite_start.bytes);
	KUNIT_EXPECT_EQ(test, settle_charged(suite_start.charged), suite_start.charged);
}

static struct kunit_case vmci_qpair_cases[] = {
	KUNIT_CASE(lifecycle_with_events),
	KUNIT_CASE(creator_alone_no_detach_event),
	KUNIT_CASE(peer_told_no_detach_event),
	KUNIT_CASE(explicit_handle),
	KUNIT_CASE(data_both_ways_buffers),
	KUNIT_CASE(data_through_iov_iter),
	KUNIT_CASE(mismatch_refused),
	KUNIT_CASE(bad_addresses_refused),
	KUNIT_CASE(attach_only_needs_creator),
	KUNIT_CASE(third_user_refused),
	KUNIT_CASE(sizes_refused_up_front),
	KUNIT_CASE(budget_exhausted_and_recovered),
	KUNIT_CASE(user_share_enforced),
	KUNIT_CASE(tiny_pairs_charged_by_page),
	KUNIT_CASE(charge_follows_the_pair),
	KUNIT_CASE(local_pair_both_ends),
	KUNIT_CASE(budget_arithmetic),
	KUNIT_CASE(budget_keeps_one_idle_entry),
	KUNIT_CASE(esx_flags_refused),
	KUNIT_CASE(detach_while_peer_dequeues),
	KUNIT_CASE(nothing_left_behind),
	{}
};

static struct kunit_suite vmci_qpair_suite = {
	.name = "vmci_qpair",
	.suite_init = qpair_suite_init,
	.init = qpair_test_init,
	.test_cases = vmci_qpair_cases,
};

kunit_test_suite(vmci_qpair_suite);
