// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/highmem.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <vmci/vmci_abi.h>

#include "queue.h"

/*
 * Endpoints A and B wired as one pair: a_to_b is A's produce queue and B's
 * consume queue, b_to_a the other way round. A producer thread, when a
 * test starts one, is stopped by the exit hook before the queues go away.
 */
struct qp {
	struct vmci_queue *a_to_b;
	struct vmci_queue *b_to_a;
	struct completion producer_done;
	bool producer_running;
	bool stop;
	size_t stream_len;
	u8 *producer_buf;
	void *lazy_block;	/* the queues' block, when they are lazy */
};

#define QP_HANDLE	vmci_make_handle(7, 4242)

static int qp_test_init(struct kunit *test)
{
	struct qp *qp = kunit_kzalloc(test, sizeof(*qp), GFP_KERNEL);

	if (!qp)
		return -ENOMEM;
	init_completion(&qp->producer_done);
	test->priv = qp;
	return 0;
}

static void qp_test_exit(struct kunit *test)
{
	struct qp *qp = test->priv;

	if (!qp)
		return;
	if (qp->producer_running) {
		WRITE_ONCE(qp->stop, true);
		wait_for_completion(&qp->producer_done);
	}
	if (qp->lazy_block) {
		vmci_queue_pair_free_lazy(qp->lazy_block, qp->a_to_b, qp->b_to_a);
		return;
	}
	vmci_queue_free(qp->a_to_b);
	vmci_queue_free(qp->b_to_a);
}

/* The case's two queues, freed by qp_test_exit() even when one is missing. */
static struct qp *qp_install(struct kunit *test, struct vmci_queue *a_to_b,
			     struct vmci_queue *b_to_a)
{
	struct qp *qp = test->priv;

	qp->a_to_b = a_to_b;
	qp->b_to_a = b_to_a;
	KUNIT_ASSERT_NOT_NULL(test, qp->a_to_b);
	KUNIT_ASSERT_NOT_NULL(test, qp->b_to_a);
	vmci_queue_header_init(qp->a_to_b->q_header, QP_HANDLE);
	vmci_queue_header_init(qp->b_to_a->q_header, QP_HANDLE);
	return qp;
}

static struct qp *qp_setup(struct kunit *test, u64 a_to_b_size, u64 b_to_a_size)
{
	return qp_install(test, vmci_queue_alloc(a_to_b_size, true),
			  vmci_queue_alloc(b_to_a_size, true));
}

/* The a_to_b ring as A and B each see it. */
static s64 a_free(struct qp *qp)
{
	return vmci_queue_free_space(qp->a_to_b, qp->b_to_a);
}

static s64 b_ready(struct qp *qp)
{
	return vmci_queue_ready_bytes(qp->b_to_a, qp->a_to_b);
}

static ssize_t a_send(struct qp *qp, const void *buf, size_t len)
{
	return vmci_queue_enqueue_buf(qp->a_to_b, qp->b_to_a, buf, len);
}

static ssize_t b_recv(struct qp *qp, void *buf, size_t len, bool peek)
{
	return vmci_queue_dequeue_buf(qp->b_to_a, qp->a_to_b, buf, len, peek);
}

/* The b_to_a ring. */
static s64 b_free(struct qp *qp)
{
	return vmci_queue_free_space(qp->b_to_a, qp->a_to_b);
}

static s64 a_ready(struct qp *qp)
{
	return vmci_queue_ready_bytes(qp->a_to_b, qp->b_to_a);
}

/* Where the a_to_b ring's two offsets live. */
static u64 *a_to_b_tail(struct qp *qp)
{
	return &qp->a_to_b->q_header->producer_tail;
}

static u64 *a_to_b_head(struct qp *qp)
{
	return &qp->b_to_a->q_header->consumer_head;
}

/* Moves the a_to_b ring to @tail/@head as if traffic had brought it there. */
static void a_to_b_place(struct qp *qp, u64 tail, u64 head)
{
	WRITE_ONCE(*a_to_b_tail(qp), tail);
	WRITE_ONCE(*a_to_b_head(qp), head);
}

static u8 ring_byte(const struct vmci_queue *q, u64 offset)
{
	u8 *va = kmap_local_page(q->pages[offset >> PAGE_SHIFT]);
	u8 byte = va[offset_in_page(offset)];

	kunmap_local(va);
	return byte;
}

static u8 pattern(u64 i)
{
	return (u8)(i * 37 + (i >> 8) + 11);
}

static void fill_pattern(u8 *buf, size_t len, u64 first)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pattern(first + i);
}

static size_t first_difference(const u8 *a, const u8 *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (a[i] != b[i])
			return i;
	}
	return len;
}

static void size_desc(const u64 *size, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "size_%llu", *size);
}

static const u64 ring_sizes[] = {
	2, 3, PAGE_SIZE - 1, PAGE_SIZE, PAGE_SIZE + 1, 3 * PAGE_SIZE + 5,
};

KUNIT_ARRAY_PARAM(ring_size, ring_sizes, size_desc);

/* ---- vmci_queue_arith ---- */

static void alloc_rejects_empty_and_oversized(struct kunit *test)
{
	KUNIT_EXPECT_NULL(test, vmci_queue_alloc(0, true));
	KUNIT_EXPECT_NULL(test, vmci_queue_alloc(VMCI_QUEUE_MAX_SIZE + 1, true));
	KUNIT_EXPECT_NULL(test, vmci_queue_alloc(1ULL << 63, true));
	KUNIT_EXPECT_NULL(test, vmci_queue_alloc(U64_MAX, true));
}

static void alloc_rounds_up_to_whole_pages(struct kunit *test)
{
	static const struct {
		u64 size;
		unsigned int pages;
	} cases[] = {
		{ 1, 1 }, { PAGE_SIZE - 1, 1 }, { PAGE_SIZE, 1 },
		{ PAGE_SIZE + 1, 2 }, { 3 * PAGE_SIZE + 5, 4 },
	};
	unsigned int i, p;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vmci_queue *q = vmci_queue_alloc(cases[i].size, true);

		KUNIT_ASSERT_NOT_NULL(test, q);
		KUNIT_EXPECT_EQ(test, q->size, cases[i].size);
		KUNIT_EXPECT_EQ(test, q->num_pages, cases[i].pages);
		KUNIT_EXPECT_EQ(test, vmci_queue_header_producer_tail(q->q_header), 0);
		KUNIT_EXPECT_EQ(test, vmci_queue_header_consumer_head(q->q_header), 0);
		for (p = 0; p < q->num_pages; p++)
			KUNIT_EXPECT_NOT_NULL(test, q->pages[p]);
		vmci_queue_free(q);
	}
	vmci_queue_free(NULL);
}

static void init_checks_pages_against_size(struct kunit *test)
{
	struct vmci_queue_header hdr = {};
	struct page *pages[3] = {};
	struct vmci_queue q = {};

	KUNIT_EXPECT_EQ(test, vmci_queue_init(&q, &hdr, pages, 2, PAGE_SIZE + 1),
			VMCI_SUCCESS);
	KUNIT_EXPECT_PTR_EQ(test, q.q_header, &hdr);
	KUNIT_EXPECT_PTR_EQ(test, q.pages, &pages[0]);
	KUNIT_EXPECT_EQ(test, q.size, PAGE_SIZE + 1);
	KUNIT_EXPECT_EQ(test, q.num_pages, 2);

	KUNIT_EXPECT_EQ(test, vmci_queue_init(&q, &hdr, pages, 1, PAGE_SIZE + 1),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_queue_init(&q, &hdr, pages, 3, PAGE_SIZE + 1),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_queue_init(&q, &hdr, pages, 0, 0),
			VMCI_ERROR_INVALID_SIZE);
	KUNIT_EXPECT_EQ(test, vmci_queue_init(&q, &hdr, pages, 1, VMCI_QUEUE_MAX_SIZE + 1),
			VMCI_ERROR_INVALID_SIZE);
	KUNIT_EXPECT_EQ(test, vmci_queue_init(&q, NULL, pages, 1, 1),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_queue_init(&q, &hdr, NULL, 1, 1),
			VMCI_ERROR_INVALID_ARGS);
}

static void header_init_sets_handle_and_clears_offsets(struct kunit *test)
{
	struct vmci_queue_header hdr = {
		.handle = VMCI_INVALID_HANDLE,
		.producer_tail = 123,
		.consumer_head = U64_MAX,
	};

	vmci_queue_header_init(&hdr, QP_HANDLE);
	KUNIT_EXPECT_TRUE(test, vmci_handle_equal(hdr.handle, QP_HANDLE));
	KUNIT_EXPECT_EQ(test, vmci_queue_header_producer_tail(&hdr), 0);
	KUNIT_EXPECT_EQ(test, vmci_queue_header_consumer_head(&hdr), 0);
}

static void empty_pair_has_room_and_no_data(struct kunit *test)
{
	struct qp *qp = qp_setup(test, PAGE_SIZE + 1, 3 * PAGE_SIZE + 5);

	KUNIT_EXPECT_EQ(test, a_free(qp), PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, b_ready(qp), 0);
	KUNIT_EXPECT_EQ(test, b_free(qp), 3 * PAGE_SIZE + 4);
	KUNIT_EXPECT_EQ(test, a_ready(qp), 0);
}

/* Tail and head of one ring, and the free space they must give. */
struct ring_state {
	u64 size;
	u64 tail;
	u64 head;
	s64 free;
};

static const struct ring_state ring_states[] = {
	{ 1, 0, 0, 0 },
	{ 2, 0, 0, 1 }, { 2, 1, 0, 0 }, { 2, 0, 1, 0 }, { 2, 1, 1, 1 },
	{ PAGE_SIZE, 0, 0, PAGE_SIZE - 1 },
	{ PAGE_SIZE, PAGE_SIZE - 1, 0, 0 },			/* full, no wrap */
	{ PAGE_SIZE, 0, PAGE_SIZE - 1, PAGE_SIZE - 2 },		/* one byte, wrapped */
	{ PAGE_SIZE, PAGE_SIZE - 1, PAGE_SIZE - 1, PAGE_SIZE - 1 },
	{ PAGE_SIZE + 1, PAGE_SIZE, 0, 0 },
	{ PAGE_SIZE + 1, 0, 1, 0 },				/* full, wrapped */
	{ PAGE_SIZE + 1, 5, 10, 4 },				/* tail < head */
	{ PAGE_SIZE + 1, 10, 5, PAGE_SIZE - 5 },		/* tail > head */
	{ PAGE_SIZE + 1, PAGE_SIZE, 1, 1 },
	{ 3 * PAGE_SIZE + 5, 3 * PAGE_SIZE + 4, 3 * PAGE_SIZE + 4, 3 * PAGE_SIZE + 4 },
	{ 3 * PAGE_SIZE + 5, 2 * PAGE_SIZE, PAGE_SIZE, 2 * PAGE_SIZE + 4 },
};

static void ring_state_desc(const struct ring_state *s, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "size_%llu_tail_%llu_head_%llu",
		 s->size, s->tail, s->head);
}

KUNIT_ARRAY_PARAM(ring_state, ring_states, ring_state_desc);

static void space_follows_offsets(struct kunit *test)
{
	const struct ring_state *s = test->param_value;
	struct qp *qp = qp_setup(test, s->size, PAGE_SIZE);

	a_to_b_place(qp, s->tail, s->head);
	KUNIT_EXPECT_EQ(test, a_free(qp), s->free);
	KUNIT_EXPECT_EQ(test, b_ready(qp), s->size - 1 - s->free);
	/* The other direction keeps its own, untouched, state. */
	KUNIT_EXPECT_EQ(test, b_free(qp), PAGE_SIZE - 1);
	KUNIT_EXPECT_EQ(test, a_ready(qp), 0);
}

struct bad_offset {
	const char *name;
	u64 (*value)(u64 size);
};

static u64 bad_equal(u64 size)
{
	return size;
}

static u64 bad_just_above(u64 size)
{
	return size + 1;
}

/* Right only in its low 32 bits: must not be truncated into range. */
static u64 bad_high_bits(u64 size)
{
	return (1ULL << 32) | 5;
}

static u64 bad_sign_bit(u64 size)
{
	return 1ULL << 63;
}

static u64 bad_all_ones(u64 size)
{
	return U64_MAX;
}

static const struct bad_offset bad_offsets[] = {
	{ "size", bad_equal },
	{ "size_plus_1", bad_just_above },
	{ "2^32_plus_5", bad_high_bits },
	{ "2^63", bad_sign_bit },
	{ "U64_MAX", bad_all_ones },
};

static void bad_offset_desc(const struct bad_offset *bad, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", bad->name);
}

KUNIT_ARRAY_PARAM(bad_offset, bad_offsets, bad_offset_desc);

static bool ring_is_zero(const struct vmci_queue *q)
{
	u64 i;

	for (i = 0; i < q->size; i++) {
		if (ring_byte(q, i))
			return false;
	}
	return true;
}

/* Every operation on a_to_b refuses, writes no offset and touches no data. */
static void expect_a_to_b_refused(struct kunit *test, struct qp *qp)
{
	u64 tail = READ_ONCE(*a_to_b_tail(qp));
	u64 head = READ_ONCE(*a_to_b_head(qp));
	u8 buf[64];

	memset(buf, 0x5a, sizeof(buf));
	KUNIT_EXPECT_EQ(test, a_free(qp), VMCI_ERROR_INVALID_SIZE);
	KUNIT_EXPECT_EQ(test, b_ready(qp), VMCI_ERROR_INVALID_SIZE);
	KUNIT_EXPECT_EQ(test, a_send(qp, buf, sizeof(buf)), VMCI_ERROR_INVALID_SIZE);
	KUNIT_EXPECT_EQ(test, b_recv(qp, buf, sizeof(buf), true), VMCI_ERROR_INVALID_SIZE);
	KUNIT_EXPECT_EQ(test, b_recv(qp, buf, sizeof(buf), false), VMCI_ERROR_INVALID_SIZE);

	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_tail(qp)), tail);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_head(qp)), head);
	KUNIT_EXPECT_TRUE(test, ring_is_zero(qp->a_to_b));
	KUNIT_EXPECT_EQ(test, buf[0], 0x5a);
}

static void bad_offsets_are_refused(struct kunit *test)
{
	const struct bad_offset *bad = test->param_value;
	struct qp *qp = qp_setup(test, PAGE_SIZE + 1, 3 * PAGE_SIZE + 5);
	u64 a_to_b_bad = bad->value(qp->a_to_b->size);

	/* The peer lies about its tail... */
	a_to_b_place(qp, a_to_b_bad, 0);
	expect_a_to_b_refused(test, qp);
	KUNIT_EXPECT_EQ(test, b_free(qp), 3 * PAGE_SIZE + 4);

	/* ...or about its head... */
	a_to_b_place(qp, 0, a_to_b_bad);
	expect_a_to_b_refused(test, qp);
	KUNIT_EXPECT_EQ(test, a_ready(qp), 0);

	/* ...or about both. */
	a_to_b_place(qp, a_to_b_bad, a_to_b_bad);
	expect_a_to_b_refused(test, qp);

	/* A sane value again and the ring works again. */
	a_to_b_place(qp, 3, 3);
	KUNIT_EXPECT_EQ(test, a_free(qp), PAGE_SIZE);
}

static void one_byte_queue_never_holds_data(struct kunit *test)
{
	struct qp *qp = qp_setup(test, 1, 1);
	u8 byte = 0x11;

	KUNIT_EXPECT_EQ(test, a_free(qp), 0);
	KUNIT_EXPECT_EQ(test, b_ready(qp), 0);
	KUNIT_EXPECT_EQ(test, a_send(qp, &byte, 1), VMCI_ERROR_QUEUEPAIR_NOSPACE);
	KUNIT_EXPECT_EQ(test, b_recv(qp, &byte, 1, false), VMCI_ERROR_QUEUEPAIR_NODATA);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_tail(qp)), 0);
	KUNIT_EXPECT_EQ(test, byte, 0x11);
}

static struct kunit_case vmci_queue_arith_cases[] = {
	KUNIT_CASE(alloc_rejects_empty_and_oversized),
	KUNIT_CASE(alloc_rounds_up_to_whole_pages),
	KUNIT_CASE(init_checks_pages_against_size),
	KUNIT_CASE(header_init_sets_handle_and_clears_offsets),
	KUNIT_CASE(empty_pair_has_room_and_no_data),
	KUNIT_CASE_PARAM(space_follows_offsets, ring_state_gen_params),
	KUNIT_CASE_PARAM(bad_offsets_are_refused, bad_offset_gen_params),
	KUNIT_CASE(one_byte_queue_never_holds_data),
	{}
};

static struct kunit_suite vmci_queue_arith_suite = {
	.name = "vmci_queue_arith",
	.init = qp_test_init,
	.exit = qp_test_exit,
	.test_cases = vmci_queue_arith_cases,
};

/* ---- vmci_queue_copy ---- */

static void round_trip_moves_the_right_offsets(struct kunit *test)
{
	struct qp *qp = qp_setup(test, PAGE_SIZE + 1, PAGE_SIZE + 1);
	static const char msg[] = "queue pair";
	char got[sizeof(msg)] = {};

	KUNIT_EXPECT_EQ(test, a_send(qp, msg, sizeof(msg)), sizeof(msg));
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_tail(qp)), sizeof(msg));
	KUNIT_EXPECT_EQ(test, b_ready(qp), sizeof(msg));
	KUNIT_EXPECT_EQ(test, a_free(qp), PAGE_SIZE - sizeof(msg));

	KUNIT_EXPECT_EQ(test, b_recv(qp, got, sizeof(got), false), sizeof(msg));
	KUNIT_EXPECT_STREQ(test, got, msg);
	/* B records its progress in its own produce queue's header. */
	KUNIT_EXPECT_EQ(test, READ_ONCE(qp->b_to_a->q_header->consumer_head), sizeof(msg));
	KUNIT_EXPECT_EQ(test, READ_ONCE(qp->a_to_b->q_header->consumer_head), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(qp->b_to_a->q_header->producer_tail), 0);
	KUNIT_EXPECT_EQ(test, b_ready(qp), 0);
	KUNIT_EXPECT_EQ(test, a_free(qp), PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, b_free(qp), PAGE_SIZE);
}

static void full_queue_is_nospace(struct kunit *test)
{
	struct qp *qp = qp_setup(test, PAGE_SIZE + 1, PAGE_SIZE);
	u8 *buf = kunit_kmalloc(test, PAGE_SIZE + 1, GFP_KERNEL);
	u8 byte;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	fill_pattern(buf, PAGE_SIZE + 1, 0);

	KUNIT_EXPECT_EQ(test, a_send(qp, buf, PAGE_SIZE), PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, a_free(qp), 0);
	KUNIT_EXPECT_EQ(test, a_send(qp, buf, 1), VMCI_ERROR_QUEUEPAIR_NOSPACE);
	KUNIT_EXPECT_EQ(test, a_send(qp, buf, 0), VMCI_ERROR_QUEUEPAIR_NOSPACE);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_tail(qp)), PAGE_SIZE);
	/* The byte that must stay empty was never written. */
	KUNIT_EXPECT_EQ(test, ring_byte(qp->a_to_b, PAGE_SIZE), 0);

	KUNIT_EXPECT_EQ(test, b_recv(qp, &byte, 1, false), 1);
	KUNIT_EXPECT_EQ(test, byte, pattern(0));
	KUNIT_EXPECT_EQ(test, a_free(qp), 1);
	KUNIT_EXPECT_EQ(test, a_send(qp, buf + PAGE_SIZE, 1), 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_tail(qp)), 0);
	KUNIT_EXPECT_EQ(test, a_free(qp), 0);
}

static void empty_queue_is_nodata(struct kunit *test)
{
	struct qp *qp = qp_setup(test, PAGE_SIZE, PAGE_SIZE);
	u8 buf[8] = {};

	KUNIT_EXPECT_EQ(test, b_recv(qp, buf, sizeof(buf), false), VMCI_ERROR_QUEUEPAIR_NODATA);
	KUNIT_EXPECT_EQ(test, b_recv(qp, buf, sizeof(buf), true), VMCI_ERROR_QUEUEPAIR_NODATA);

	/* Also when the ring is empty at a wrapped position. */
	a_to_b_place(qp, PAGE_SIZE - 1, PAGE_SIZE - 1);
	KUNIT_EXPECT_EQ(test, b_recv(qp, buf, sizeof(buf), false), VMCI_ERROR_QUEUEPAIR_NODATA);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_head(qp)), PAGE_SIZE - 1);
}

static void zero_length_moves_nothing(struct kunit *test)
{
	struct qp *qp = qp_setup(test, PAGE_SIZE, PAGE_SIZE);
	u8 buf[4] = { 1, 2, 3, 4 };

	KUNIT_EXPECT_EQ(test, a_send(qp, buf, 0), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_tail(qp)), 0);
	KUNIT_EXPECT_EQ(test, a_send(qp, buf, sizeof(buf)), sizeof(buf));
	KUNIT_EXPECT_EQ(test, b_recv(qp, buf, 0, false), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_head(qp)), 0);
	KUNIT_EXPECT_EQ(test, b_ready(qp), sizeof(buf));
}

static void enqueue_longer_than_free_is_partial(struct kunit *test)
{
	const size_t size = PAGE_SIZE + 1;
	struct qp *qp = qp_setup(test, size, PAGE_SIZE);
	u8 *src = kunit_kmalloc(test, size + 200, GFP_KERNEL);
	u8 *dst = kunit_kzalloc(test, size + 200, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, src);
	KUNIT_ASSERT_NOT_NULL(test, dst);
	fill_pattern(src, size + 200, 0);

	KUNIT_EXPECT_EQ(test, a_send(qp, src, 4000), 4000);
	KUNIT_EXPECT_EQ(test, a_send(qp, src + 4000, 200), size - 1 - 4000);
	KUNIT_EXPECT_EQ(test, a_free(qp), 0);
	KUNIT_EXPECT_EQ(test, b_recv(qp, dst, size + 200, false), size - 1);
	KUNIT_EXPECT_EQ(test, first_difference(src, dst, size - 1), size - 1);
	KUNIT_EXPECT_EQ(test, dst[size - 1], 0);

	/* An empty ring takes at most size - 1 bytes from one long write. */
	KUNIT_EXPECT_EQ(test, a_send(qp, src, size + 200), size - 1);
}

static void peek_leaves_head_alone(struct kunit *test)
{
	struct qp *qp = qp_setup(test, PAGE_SIZE, PAGE_SIZE);
	u8 src[100], first[60], again[60], all[100];

	fill_pattern(src, sizeof(src), 0);
	KUNIT_EXPECT_EQ(test, a_send(qp, src, sizeof(src)), sizeof(src));

	KUNIT_EXPECT_EQ(test, b_recv(qp, first, sizeof(first), true), sizeof(first));
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_head(qp)), 0);
	KUNIT_EXPECT_EQ(test, b_ready(qp), sizeof(src));
	KUNIT_EXPECT_EQ(test, b_recv(qp, again, sizeof(again), true), sizeof(again));
	KUNIT_EXPECT_EQ(test, first_difference(first, src, sizeof(first)), sizeof(first));
	KUNIT_EXPECT_EQ(test, first_difference(again, src, sizeof(again)), sizeof(again));

	KUNIT_EXPECT_EQ(test, b_recv(qp, all, sizeof(all), false), sizeof(all));
	KUNIT_EXPECT_EQ(test, first_difference(all, src, sizeof(all)), sizeof(all));
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_head(qp)), sizeof(src));
}

/* Starts an empty ring just before its end, so a short message wraps. */
static void copy_wraps_at_ring_end(struct kunit *test)
{
	const u64 size = *(const u64 *)test->param_value;
	const u64 start = size - min_t(u64, 3, size - 1);
	const size_t len = min_t(u64, 10, size - 1);
	struct qp *qp = qp_setup(test, size, PAGE_SIZE);
	u8 src[10], dst[10] = {};
	size_t i;

	fill_pattern(src, sizeof(src), 0);
	a_to_b_place(qp, start, start);

	KUNIT_EXPECT_EQ(test, a_send(qp, src, len), len);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_tail(qp)), (start + len) % size);
	for (i = 0; i < len; i++)
		KUNIT_EXPECT_EQ_MSG(test, ring_byte(qp->a_to_b, (start + i) % size), src[i],
				    "byte %zu", i);
	KUNIT_EXPECT_EQ(test, b_ready(qp), len);

	KUNIT_EXPECT_EQ(test, b_recv(qp, dst, sizeof(dst), false), len);
	KUNIT_EXPECT_EQ(test, first_difference(src, dst, len), len);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_head(qp)), (start + len) % size);
	KUNIT_EXPECT_EQ(test, b_ready(qp), 0);
}

static void expect_ring_holds(struct kunit *test, const struct vmci_queue *q,
			      u64 start, const u8 *data, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		u64 at = (start + i) % q->size;

		if (ring_byte(q, at) != data[i]) {
			KUNIT_FAIL(test, "ring offset %llu holds %u, expected %u", at,
				   ring_byte(q, at), data[i]);
			return;
		}
	}
}

static void copy_crosses_page_boundaries(struct kunit *test)
{
	const u64 size = 3 * PAGE_SIZE + 5;
	struct qp *qp = qp_setup(test, size, PAGE_SIZE);
	const size_t len = 2 * PAGE_SIZE + 8;
	u8 *src = kunit_kmalloc(test, len, GFP_KERNEL);
	u8 *dst = kunit_kzalloc(test, len, GFP_KERNEL);
	u64 start;

	KUNIT_ASSERT_NOT_NULL(test, src);
	KUNIT_ASSERT_NOT_NULL(test, dst);
	fill_pattern(src, len, 0);

	/* Two page boundaries inside one copy. */
	start = PAGE_SIZE - 6;
	a_to_b_place(qp, start, start);
	KUNIT_EXPECT_EQ(test, a_send(qp, src, len), len);
	expect_ring_holds(test, qp->a_to_b, start, src, len);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_tail(qp)), start + len);
	KUNIT_EXPECT_EQ(test, b_recv(qp, dst, len, false), len);
	KUNIT_EXPECT_EQ(test, first_difference(src, dst, len), len);

	/* A page boundary, the short last page and the wrap in one copy. */
	start = 3 * PAGE_SIZE - 4;
	a_to_b_place(qp, start, start);
	memset(dst, 0, len);
	KUNIT_EXPECT_EQ(test, a_send(qp, src, 30), 30);
	expect_ring_holds(test, qp->a_to_b, start, src, 30);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_tail(qp)), start + 30 - size);
	KUNIT_EXPECT_EQ(test, b_recv(qp, dst, len, false), 30);
	KUNIT_EXPECT_EQ(test, first_difference(src, dst, 30), 30);
}

/*
 * Random bytes pushed through in chunk sizes that do not match on the two
 * sides, so every alignment of wrap and page boundary comes up, with the
 * accounting checked after every step.
 */
static void random_stream_survives_any_chunking(struct kunit *test)
{
	static const size_t send_chunks[] = { 1, 7, PAGE_SIZE, 3, PAGE_SIZE + 1, 512,
					      13, 2 * PAGE_SIZE - 1, 2, PAGE_SIZE - 1 };
	static const size_t recv_chunks[] = { 5, PAGE_SIZE, 1, 999, PAGE_SIZE + 1, 64,
					      3 * PAGE_SIZE + 1, 2 };
	const u64 size = *(const u64 *)test->param_value;
	const size_t total = 4 * size + 12345;
	struct qp *qp = qp_setup(test, size, PAGE_SIZE);
	u8 *src = kunit_kmalloc(test, total, GFP_KERNEL);
	u8 *dst = kunit_kzalloc(test, total, GFP_KERNEL);
	u8 *peeked = kunit_kzalloc(test, 3 * PAGE_SIZE + 1, GFP_KERNEL);
	size_t sent = 0, received = 0, steps = 0;

	KUNIT_ASSERT_NOT_NULL(test, src);
	KUNIT_ASSERT_NOT_NULL(test, dst);
	KUNIT_ASSERT_NOT_NULL(test, peeked);
	get_random_bytes(src, total);

	while (received < total) {
		size_t want = send_chunks[steps % ARRAY_SIZE(send_chunks)];
		size_t take = recv_chunks[steps % ARRAY_SIZE(recv_chunks)];
		ssize_t n;

		KUNIT_ASSERT_LT_MSG(test, steps, 4 * total, "no progress");
		steps++;

		if (sent < total) {
			want = min(want, total - sent);
			n = a_send(qp, src + sent, want);
			if (n != VMCI_ERROR_QUEUEPAIR_NOSPACE) {
				KUNIT_ASSERT_GT(test, n, 0);
				KUNIT_ASSERT_LE(test, n, want);
				sent += n;
			}
		}
		KUNIT_ASSERT_EQ(test, a_free(qp) + b_ready(qp), size - 1);
		KUNIT_ASSERT_EQ(test, b_ready(qp), sent - received);

		take = min(take, total - received);
		if (steps % 3 == 0) {
			n = b_recv(qp, peeked, take, true);
			if (n > 0)
				KUNIT_ASSERT_EQ(test, first_difference(peeked, src + received, n),
						n);
		}
		n = b_recv(qp, dst + received, take, false);
		if (n != VMCI_ERROR_QUEUEPAIR_NODATA) {
			KUNIT_ASSERT_GT(test, n, 0);
			KUNIT_ASSERT_LE(test, n, take);
			received += n;
		}
	}
	KUNIT_EXPECT_EQ(test, first_difference(src, dst, total), total);
	KUNIT_EXPECT_EQ(test, b_ready(qp), 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_tail(qp)), total % size);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_head(qp)), total % size);
}

/*
 * Two user pages with the second unmapped again: a copy that runs off the
 * end of the first one faults part way.
 */
static u8 __user *user_page_before_hole(struct kunit *test)
{
	unsigned long addr = kunit_vm_mmap(test, NULL, 0, 2 * PAGE_SIZE,
					   PROT_READ | PROT_WRITE,
					   MAP_ANONYMOUS | MAP_PRIVATE, 0);

	KUNIT_ASSERT_NE_MSG(test, addr, 0, "no user memory for the test");
	KUNIT_ASSERT_EQ(test, vm_munmap(addr + PAGE_SIZE, PAGE_SIZE), 0);
	return (u8 __user *)addr;
}

static void enqueue_from_unmapped_user_memory_moves_nothing(struct kunit *test)
{
	struct qp *qp = qp_setup(test, PAGE_SIZE + 1, PAGE_SIZE);
	u8 __user *hole = user_page_before_hole(test) + PAGE_SIZE;
	struct iov_iter from;

	iov_iter_ubuf(&from, ITER_SOURCE, hole, 64);
	KUNIT_EXPECT_EQ(test, vmci_queue_enqueue(qp->a_to_b, qp->b_to_a, &from, 64),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, iov_iter_count(&from), 64);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_tail(qp)), 0);
	KUNIT_EXPECT_EQ(test, b_ready(qp), 0);
}

static void enqueue_short_user_copy_moves_by_copied(struct kunit *test)
{
	const u64 size = PAGE_SIZE + 1;
	const u64 start = size - 40;
	struct qp *qp = qp_setup(test, size, PAGE_SIZE);
	u8 __user *ubuf = user_page_before_hole(test) + PAGE_SIZE - 100;
	u8 src[100], dst[300] = {};
	struct iov_iter from;
	ssize_t n;

	fill_pattern(src, sizeof(src), 0);
	KUNIT_ASSERT_EQ(test, copy_to_user(ubuf, src, sizeof(src)), 0);
	a_to_b_place(qp, start, start);

	iov_iter_ubuf(&from, ITER_SOURCE, ubuf, 300);
	n = vmci_queue_enqueue(qp->a_to_b, qp->b_to_a, &from, 300);
	KUNIT_ASSERT_GT(test, n, 0);
	KUNIT_ASSERT_LE(test, n, 100);
	KUNIT_EXPECT_EQ(test, iov_iter_count(&from), 300 - n);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_tail(qp)), (start + n) % size);
	KUNIT_EXPECT_EQ(test, b_ready(qp), n);
	KUNIT_EXPECT_EQ(test, b_recv(qp, dst, sizeof(dst), false), n);
	KUNIT_EXPECT_EQ(test, first_difference(src, dst, n), n);
}

/*
 * Local rings are not zeroed (qpair_local.c): whatever a page held before
 * must not come out. Stale bytes on every ring page, a short message that
 * crosses a page boundary, then a peek and a read for the whole ring
 * return that message and nothing else. (The other cases keep zeroed
 * rings: a zero ring is how they see that nothing was written.)
 */
static void stale_ring_bytes_never_come_out(struct kunit *test)
{
	const u64 size = 2 * PAGE_SIZE;
	const u64 start = PAGE_SIZE - 4;
	struct qp *qp = qp_setup(test, size, PAGE_SIZE);
	u8 src[10], *dst = kunit_kzalloc(test, size, GFP_KERNEL);
	unsigned int p;

	KUNIT_ASSERT_NOT_NULL(test, dst);
	for (p = 0; p < qp->a_to_b->num_pages; p++)
		memset_page(qp->a_to_b->pages[p], 0, 0xa5, PAGE_SIZE);
	fill_pattern(src, sizeof(src), 0);
	a_to_b_place(qp, start, start);

	KUNIT_EXPECT_EQ(test, a_send(qp, src, sizeof(src)), sizeof(src));
	KUNIT_EXPECT_EQ(test, b_recv(qp, dst, size, true), sizeof(src));
	KUNIT_EXPECT_NULL(test, memchr_inv(dst + sizeof(src), 0, size - sizeof(src)));
	KUNIT_EXPECT_EQ(test, b_recv(qp, dst, size, false), sizeof(src));
	KUNIT_EXPECT_EQ(test, first_difference(src, dst, sizeof(src)), sizeof(src));
	KUNIT_EXPECT_NULL(test, memchr_inv(dst + sizeof(src), 0, size - sizeof(src)));
	KUNIT_EXPECT_EQ(test, b_recv(qp, dst, size, false), VMCI_ERROR_QUEUEPAIR_NODATA);
}

static void dequeue_to_unmapped_user_memory_moves_nothing(struct kunit *test)
{
	struct qp *qp = qp_setup(test, PAGE_SIZE + 1, PAGE_SIZE);
	u8 __user *hole = user_page_before_hole(test) + PAGE_SIZE;
	u8 src[64];
	struct iov_iter to;

	fill_pattern(src, sizeof(src), 0);
	KUNIT_ASSERT_EQ(test, a_send(qp, src, sizeof(src)), sizeof(src));

	iov_iter_ubuf(&to, ITER_DEST, hole, sizeof(src));
	KUNIT_EXPECT_EQ(test, vmci_queue_dequeue(qp->b_to_a, qp->a_to_b, &to, sizeof(src),
						 false),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_head(qp)), 0);
	KUNIT_EXPECT_EQ(test, b_ready(qp), sizeof(src));
}

static void dequeue_short_user_copy_keeps_the_rest(struct kunit *test)
{
	struct qp *qp = qp_setup(test, PAGE_SIZE + 1, PAGE_SIZE);
	u8 __user *ubuf = user_page_before_hole(test) + PAGE_SIZE - 100;
	u8 src[300], dst[300] = {};
	struct iov_iter to;
	ssize_t n;

	fill_pattern(src, sizeof(src), 0);
	KUNIT_ASSERT_EQ(test, a_send(qp, src, sizeof(src)), sizeof(src));

	iov_iter_ubuf(&to, ITER_DEST, ubuf, sizeof(src));
	n = vmci_queue_dequeue(qp->b_to_a, qp->a_to_b, &to, sizeof(src), false);
	KUNIT_ASSERT_GT(test, n, 0);
	KUNIT_ASSERT_LE(test, n, 100);
	KUNIT_EXPECT_EQ(test, READ_ONCE(*a_to_b_head(qp)), n);
	KUNIT_EXPECT_EQ(test, b_ready(qp), sizeof(src) - n);

	KUNIT_ASSERT_EQ(test, copy_from_user(dst, ubuf, n), 0);
	KUNIT_ASSERT_EQ(test, b_recv(qp, dst + n, sizeof(dst) - n, false), sizeof(src) - n);
	KUNIT_EXPECT_EQ(test, first_difference(src, dst, sizeof(src)), sizeof(src));
}

#define STREAM_DEADLINE		(60 * HZ)
#define STREAM_CHUNK		(PAGE_SIZE + 7)

static int stream_producer(void *arg)
{
	struct qp *qp = arg;
	unsigned long deadline = jiffies + STREAM_DEADLINE;
	size_t sent = 0, step = 0;

	while (sent < qp->stream_len && !READ_ONCE(qp->stop) &&
	       time_before(jiffies, deadline)) {
		size_t len = min(1 + (step++ * 997) % STREAM_CHUNK, qp->stream_len - sent);
		ssize_t n;

		fill_pattern(qp->producer_buf, len, sent);
		n = a_send(qp, qp->producer_buf, len);
		if (n > 0)
			sent += n;
		else
			cond_resched();
	}
	kthread_complete_and_exit(&qp->producer_done, 0);
}

/*
 * A producer thread against this consumer: the stream must arrive whole
 * and in order while both sides move the offsets concurrently.
 */
static void concurrent_stream_is_intact(struct kunit *test)
{
	struct qp *qp = qp_setup(test, PAGE_SIZE + 1, PAGE_SIZE);
	unsigned long deadline = jiffies + STREAM_DEADLINE;
	struct task_struct *producer;
	u8 buf[333];
	size_t received = 0, bad = SIZE_MAX;

	qp->stream_len = 256 * 1024;
	qp->producer_buf = kunit_kmalloc(test, STREAM_CHUNK, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, qp->producer_buf);
	producer = kthread_run(stream_producer, qp, "vmci_qp_producer");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, producer);
	qp->producer_running = true;

	while (received < qp->stream_len && bad == SIZE_MAX &&
	       time_before(jiffies, deadline)) {
		ssize_t n = b_recv(qp, buf, sizeof(buf), false);
		size_t i;

		if (n <= 0) {
			if (n != VMCI_ERROR_QUEUEPAIR_NODATA)
				bad = received;
			cond_resched();
			continue;
		}
		for (i = 0; i < n && bad == SIZE_MAX; i++) {
			if (buf[i] != pattern(received + i))
				bad = received + i;
		}
		received += n;
	}

	WRITE_ONCE(qp->stop, true);
	wait_for_completion(&qp->producer_done);
	qp->producer_running = false;

	KUNIT_EXPECT_EQ_MSG(test, bad, SIZE_MAX, "stream corrupt at byte %zu", bad);
	KUNIT_EXPECT_EQ(test, received, qp->stream_len);
	KUNIT_EXPECT_EQ(test, b_ready(qp), 0);
}

static unsigned int pages_present(const struct vmci_queue *q)
{
	unsigned int i, n = 0;

	for (i = 0; i < q->num_pages; i++)
		n += !!q->pages[i];
	return n;
}

/*
 * A local pair's lazy queue: no ring page until a write reaches it, only
 * the pages the bytes touch, reads allocate nothing, and the data and the
 * wrap are as in an eager queue.
 */
static void lazy_queue_pages_appear_on_write(struct kunit *test)
{
	const u64 size = 4 * PAGE_SIZE;
	struct vmci_queue *a_to_b = NULL, *b_to_a = NULL;
	struct qp *qp = test->priv;
	u8 src[64], dst[64];
	u64 *head;
	u64 start;

	/* A caller's head in front of the queues, as a local pair's entry is. */
	head = vmci_queue_pair_alloc_lazy(3 * sizeof(*head), size, PAGE_SIZE, NULL, &a_to_b,
					  &b_to_a);
	qp->lazy_block = head;
	KUNIT_ASSERT_NOT_NULL(test, head);
	KUNIT_EXPECT_EQ(test, head[0] | head[1] | head[2], 0);
	KUNIT_EXPECT_TRUE(test, (void *)a_to_b >= (void *)(head + 3));
	KUNIT_EXPECT_TRUE(test, (void *)b_to_a >= (void *)(a_to_b->pages + a_to_b->num_pages));
	qp_install(test, a_to_b, b_to_a);

	KUNIT_EXPECT_EQ(test, pages_present(qp->a_to_b), 0);
	KUNIT_EXPECT_EQ(test, b_recv(qp, dst, sizeof(dst), false), VMCI_ERROR_QUEUEPAIR_NODATA);
	KUNIT_EXPECT_EQ(test, pages_present(qp->a_to_b), 0);

	fill_pattern(src, sizeof(src), 0);
	KUNIT_EXPECT_EQ(test, a_send(qp, src, 10), 10);
	KUNIT_EXPECT_EQ(test, pages_present(qp->a_to_b), 1);
	KUNIT_EXPECT_EQ(test, b_recv(qp, dst, sizeof(dst), false), 10);
	KUNIT_EXPECT_EQ(test, first_difference(src, dst, 10), 10);
	KUNIT_EXPECT_EQ(test, pages_present(qp->b_to_a), 0);

	/* Across the end of the ring: the last page and the first one. */
	start = size - 20;
	a_to_b_place(qp, start, start);
	KUNIT_EXPECT_EQ(test, a_send(qp, src, sizeof(src)), sizeof(src));
	KUNIT_EXPECT_EQ(test, pages_present(qp->a_to_b), 2);
	KUNIT_EXPECT_NOT_NULL(test, qp->a_to_b->pages[3]);
	KUNIT_EXPECT_EQ(test, b_recv(qp, dst, sizeof(dst), false), sizeof(dst));
	KUNIT_EXPECT_EQ(test, first_difference(src, dst, sizeof(src)), sizeof(src));
}

/* A lazy pair takes the sizes an eager queue takes, no others. */
static void lazy_pair_refuses_bad_sizes(struct kunit *test)
{
	struct vmci_queue *p = NULL, *c = NULL;
	void *block;

	KUNIT_EXPECT_NULL(test, vmci_queue_pair_alloc_lazy(8, 0, PAGE_SIZE, NULL, &p, &c));
	KUNIT_EXPECT_NULL(test, vmci_queue_pair_alloc_lazy(8, PAGE_SIZE, VMCI_QUEUE_MAX_SIZE + 1,
							   NULL, &p, &c));
	KUNIT_EXPECT_NULL(test, p);
	KUNIT_EXPECT_NULL(test, c);
	block = vmci_queue_pair_alloc_lazy(0, 1, VMCI_QUEUE_MAX_SIZE, NULL, &p, &c);
	KUNIT_ASSERT_NOT_NULL(test, block);
	KUNIT_EXPECT_EQ(test, p->num_pages, 1);
	KUNIT_EXPECT_EQ(test, c->num_pages, DIV_ROUND_UP(VMCI_QUEUE_MAX_SIZE, PAGE_SIZE));
	vmci_queue_pair_free_lazy(block, p, c);
}

static struct kunit_case vmci_queue_copy_cases[] = {
	KUNIT_CASE(lazy_queue_pages_appear_on_write),
	KUNIT_CASE(lazy_pair_refuses_bad_sizes),
	KUNIT_CASE(round_trip_moves_the_right_offsets),
	KUNIT_CASE(full_queue_is_nospace),
	KUNIT_CASE(empty_queue_is_nodata),
	KUNIT_CASE(zero_length_moves_nothing),
	KUNIT_CASE(enqueue_longer_than_free_is_partial),
	KUNIT_CASE(peek_leaves_head_alone),
	KUNIT_CASE_PARAM(copy_wraps_at_ring_end, ring_size_gen_params),
	KUNIT_CASE(copy_crosses_page_boundaries),
	KUNIT_CASE_PARAM(random_stream_survives_any_chunking, ring_size_gen_params),
	KUNIT_CASE(enqueue_from_unmapped_user_memory_moves_nothing),
	KUNIT_CASE(enqueue_short_user_copy_moves_by_copied),
	KUNIT_CASE(stale_ring_bytes_never_come_out),
	KUNIT_CASE(dequeue_to_unmapped_user_memory_moves_nothing),
	KUNIT_CASE(dequeue_short_user_copy_keeps_the_rest),
	KUNIT_CASE(concurrent_stream_is_intact),
	{}
};

static struct kunit_suite vmci_queue_copy_suite = {
	.name = "vmci_queue_copy",
	.init = qp_test_init,
	.exit = qp_test_exit,
	.test_cases = vmci_queue_copy_cases,
};

kunit_test_suites(&vmci_queue_arith_suite, &vmci_queue_copy_suite);
