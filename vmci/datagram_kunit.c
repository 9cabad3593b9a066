// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <vmci/vmci_abi.h>

#include "datagram.h"
#include "resource.h"
#include "route.h"

/* Fixed IDs above the reserved range and away from the test endpoint's. */
#define FIXED_RID	0x7e0000U

struct sink {
	atomic_t calls;
	atomic_t in_worker;	/* calls that ran in a workqueue worker */
	int result;		/* what the callback returns */
	struct vmci_handle last_dst;
	u8 last_payload[16];
	struct completion entered;
	struct completion release;	/* the callback blocks on it when @block */
	bool block;
	atomic_t finished;
	atomic_t gone;		/* calls of sink_gone() */
	int finished_at_gone;	/* callbacks finished when it was called */
};

static int sink_cb(void *client_data, struct vmci_datagram *dg)
{
	struct sink *s = client_data;

	s->last_dst = dg->dst;
	memcpy(s->last_payload, VMCI_DG_PAYLOAD(dg),
	       min_t(size_t, dg->payload_size, sizeof(s->last_payload)));
	if (current->flags & PF_WQ_WORKER)
		atomic_inc(&s->in_worker);
	atomic_inc(&s->calls);
	if (s->block) {
		complete(&s->entered);
		wait_for_completion(&s->release);
	}
	atomic_inc(&s->finished);
	return s->result;
}

static void sink_gone(void *client_data)
{
	struct sink *s = client_data;

	s->finished_at_gone = atomic_read(&s->finished);
	atomic_inc(&s->gone);
}

static struct sink *new_sink(struct kunit *test)
{
	struct sink *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, s);
	init_completion(&s->entered);
	init_completion(&s->release);
	return s;
}

static struct vmci_datagram *new_dg(struct kunit *test, struct vmci_handle dst, size_t payload)
{
	struct vmci_datagram *dg = kunit_kzalloc(test, VMCI_DG_HEADERSIZE + payload, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, dg);
	dg->dst = dst;
	dg->src = vmci_make_handle(VMCI_HOST_CONTEXT_ID, FIXED_RID + 99);
	dg->payload_size = payload;
	memset(VMCI_DG_PAYLOAD(dg), 0x5a, payload);
	return dg;
}

static void dynamic_handle_round_trip(struct kunit *test)
{
	struct sink *s = new_sink(test);
	u32 count = vmci_datagram_handle_count();
	struct vmci_handle h;

	KUNIT_ASSERT_EQ(test, vmci_datagram_create_handle(VMCI_INVALID_ID, 0, 0, sink_cb, s, &h),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, h.context, vmci_route_local_cid());
	KUNIT_EXPECT_GT(test, h.resource, VMCI_RESERVED_RESOURCE_ID_MAX);
	KUNIT_EXPECT_NE(test, h.resource, VMCI_INVALID_ID);
	KUNIT_EXPECT_EQ(test, vmci_datagram_handle_count(), count + 1);

	KUNIT_EXPECT_EQ(test, vmci_datagram_deliver(new_dg(test, h, 4), 0, GFP_KERNEL),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->calls), 1);
	KUNIT_EXPECT_TRUE(test, vmci_handle_equal(s->last_dst, h));

	KUNIT_EXPECT_EQ(test, vmci_datagram_destroy_handle(h), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_handle_count(), count);
	KUNIT_EXPECT_EQ(test, vmci_datagram_destroy_handle(h), VMCI_ERROR_NOT_FOUND);
	KUNIT_EXPECT_EQ(test, vmci_datagram_deliver(new_dg(test, h, 4), 0, GFP_KERNEL),
			VMCI_ERROR_INVALID_RESOURCE);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->calls), 1);
}

static void fixed_handle_is_unique(struct kunit *test)
{
	struct vmci_handle want = vmci_make_handle(vmci_route_local_cid(), FIXED_RID);
	struct sink *s = new_sink(test);
	struct vmci_handle h, dup;

	KUNIT_ASSERT_EQ(test, vmci_datagram_create_handle(FIXED_RID, 0, 0, sink_cb, s, &h),
			VMCI_SUCCESS);
	KUNIT_EXPECT_TRUE(test, vmci_handle_equal(h, want));
	KUNIT_EXPECT_EQ(test, vmci_datagram_create_handle(FIXED_RID, 0, 0, sink_cb, s, &dup),
			VMCI_ERROR_ALREADY_EXISTS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_destroy_handle(h), VMCI_SUCCESS);
	/* Free again once destroyed. */
	KUNIT_ASSERT_EQ(test, vmci_datagram_create_handle(FIXED_RID, 0, 0, sink_cb, s, &h),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_destroy_handle(h), VMCI_SUCCESS);
}

static void wildcard_handle_takes_any_context(struct kunit *test)
{
	struct vmci_handle h, exact, other;
	struct sink *s = new_sink(test);

	KUNIT_ASSERT_EQ(test, vmci_datagram_create_handle(FIXED_RID + 1, VMCI_FLAG_ANYCID_DG_HND,
							  0, sink_cb, s, &h), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, h.context, VMCI_INVALID_ID);
	KUNIT_EXPECT_EQ(test, h.resource, FIXED_RID + 1);

	exact = vmci_make_handle(VMCI_HOST_CONTEXT_ID, FIXED_RID + 1);
	other = vmci_make_handle(0x12345, FIXED_RID + 1);
	KUNIT_EXPECT_EQ(test, vmci_datagram_deliver(new_dg(test, exact, 0), 0, GFP_KERNEL),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_deliver(new_dg(test, other, 0), 0, GFP_KERNEL),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->calls), 2);

	/* Destroying by an exact handle must not take somebody's wildcard with it. */
	KUNIT_EXPECT_EQ(test, vmci_datagram_destroy_handle(exact), VMCI_ERROR_NOT_FOUND);
	KUNIT_EXPECT_EQ(test, vmci_datagram_destroy_handle(h), VMCI_SUCCESS);
}

static void bad_create_arguments_are_refused(struct kunit *test)
{
	struct sink *s = new_sink(test);
	u32 count = vmci_datagram_handle_count();
	struct vmci_handle h;

	KUNIT_EXPECT_EQ(test, vmci_datagram_create_handle(VMCI_INVALID_ID, 0, 0, NULL, s, &h),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_create_handle(VMCI_INVALID_ID, 0, 0, sink_cb, s, NULL),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_create_handle(VMCI_INVALID_ID,
							  VMCI_FLAG_WELLKNOWN_DG_HND, 0,
							  sink_cb, s, &h),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_create_handle(VMCI_INVALID_ID, 0x8, 0, sink_cb, s, &h),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_create_handle(VMCI_INVALID_ID, 0, 0x4, sink_cb, s, &h),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_handle_count(), count);
}

static void callback_errors_reach_the_sender(struct kunit *test)
{
	struct sink *s = new_sink(test);
	struct vmci_handle h;

	KUNIT_ASSERT_EQ(test, vmci_datagram_create_handle(VMCI_INVALID_ID, 0, 0, sink_cb, s, &h),
			VMCI_SUCCESS);
	s->result = VMCI_ERROR_NO_MEM;
	KUNIT_EXPECT_EQ(test, vmci_datagram_deliver(new_dg(test, h, 0), 0, GFP_KERNEL),
			VMCI_ERROR_NO_MEM);
	s->result = 5;
	KUNIT_EXPECT_EQ(test, vmci_datagram_deliver(new_dg(test, h, 0), 0, GFP_KERNEL),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_destroy_handle(h), VMCI_SUCCESS);
}

static void privileges_gate_delivery(struct kunit *test)
{
	struct sink *s = new_sink(test);
	struct vmci_handle plain, trusted;

	KUNIT_ASSERT_EQ(test, vmci_datagram_create_handle(VMCI_INVALID_ID, 0, 0, sink_cb, s,
							  &plain), VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, vmci_datagram_create_handle(VMCI_INVALID_ID, 0,
							  VMCI_PRIVILEGE_FLAG_TRUSTED,
							  sink_cb, s, &trusted), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_priv_flags(plain), VMCI_NO_PRIVILEGE_FLAGS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_priv_flags(trusted), VMCI_PRIVILEGE_FLAG_TRUSTED);
	KUNIT_EXPECT_EQ(test, vmci_datagram_priv_flags(vmci_make_handle(7, 7)),
			VMCI_NO_PRIVILEGE_FLAGS);

	KUNIT_EXPECT_EQ(test, vmci_datagram_deliver(new_dg(test, plain, 0),
						    VMCI_PRIVILEGE_FLAG_RESTRICTED, GFP_KERNEL),
			VMCI_ERROR_NO_ACCESS);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->calls), 0);
	KUNIT_EXPECT_EQ(test, vmci_datagram_deliver(new_dg(test, trusted, 0),
						    VMCI_PRIVILEGE_FLAG_RESTRICTED, GFP_KERNEL),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_deliver(new_dg(test, plain, 0), 0, GFP_KERNEL),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->calls), 2);
	KUNIT_EXPECT_EQ(test, vmci_datagram_destroy_handle(plain), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_destroy_handle(trusted), VMCI_SUCCESS);
}

static void delayed_callback_runs_in_a_worker_on_a_copy(struct kunit *test)
{
	struct sink *s = new_sink(test);
	struct vmci_datagram *dg;
	struct vmci_handle h;
	int i;

	KUNIT_ASSERT_EQ(test, vmci_datagram_create_handle(VMCI_INVALID_ID, VMCI_FLAG_DG_DELAYED_CB,
							  0, sink_cb, s, &h), VMCI_SUCCESS);
	dg = new_dg(test, h, 16);
	KUNIT_EXPECT_EQ(test, vmci_datagram_deliver(dg, 0, GFP_KERNEL), VMCI_SUCCESS);
	/* The sender's buffer is its own again as soon as delivery returns. */
	memset(VMCI_DG_PAYLOAD(dg), 0, 16);
	for (i = 0; i < 250 && atomic_read(&s->calls) == 0; i++)
		msleep(20);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->calls), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->in_worker), 1);
	KUNIT_EXPECT_EQ(test, s->last_payload[15], 0x5a);
	KUNIT_EXPECT_EQ(test, vmci_datagram_destroy_handle(h), VMCI_SUCCESS);
}

/*
 * Delivery reads the size once and refuses one no datagram can have, so a
 * caller's buffer rewritten after its validation cannot make a handle (or
 * the delayed copy) read past it.
 */
static void oversized_payload_is_refused_at_delivery(struct kunit *test)
{
	struct sink *s = new_sink(test);
	struct vmci_datagram *dg;
	struct vmci_handle h;
	int flags;

	for (flags = 0; flags <= VMCI_FLAG_DG_DELAYED_CB; flags += VMCI_FLAG_DG_DELAYED_CB) {
		KUNIT_ASSERT_EQ(test, vmci_datagram_create_handle(VMCI_INVALID_ID, flags, 0,
								  sink_cb, s, &h),
				VMCI_SUCCESS);
		/* Readable as far as it claims, so the old code reads no further. */
		dg = new_dg(test, h, VMCI_MAX_DG_PAYLOAD_SIZE + 8);
		KUNIT_EXPECT_EQ(test, vmci_datagram_deliver(dg, 0, GFP_KERNEL),
				VMCI_ERROR_INVALID_ARGS);
		dg->payload_size = VMCI_MAX_DG_PAYLOAD_SIZE;
		KUNIT_EXPECT_EQ(test, vmci_datagram_deliver(dg, 0, GFP_KERNEL), VMCI_SUCCESS);
		/* Destroy waits for a queued delayed callback. */
		KUNIT_EXPECT_EQ(test, vmci_datagram_destroy_handle(h), VMCI_SUCCESS);
		KUNIT_EXPECT_EQ(test, atomic_read(&s->calls), flags ? 2 : 1);
	}
}

static void delayed_backlog_is_bounded_and_drained_by_destroy(struct kunit *test)
{
	struct sink *s = new_sink(test);
	u32 i, accepted = 0, delayed = vmci_datagram_delayed_count();
	struct vmci_handle h;
	int result;

	s->block = true;
	KUNIT_ASSERT_EQ(test, vmci_datagram_create_handle(VMCI_INVALID_ID, VMCI_FLAG_DG_DELAYED_CB,
							  0, sink_cb, s, &h), VMCI_SUCCESS);
	for (i = 0; i < VMCI_MAX_DELAYED_DGS + 10; i++) {
		result = vmci_datagram_deliver(new_dg(test, h, 0), 0, GFP_KERNEL);
		if (result == VMCI_SUCCESS)
			accepted++;
		else
			KUNIT_EXPECT_EQ(test, result, VMCI_ERROR_NO_RESOURCES);
	}
	KUNIT_EXPECT_EQ(test, accepted, VMCI_MAX_DELAYED_DGS - delayed);

	/* Let every queued callback run; destroy must wait for all of them. */
	wait_for_completion(&s->entered);
	complete_all(&s->release);
	KUNIT_EXPECT_EQ(test, vmci_datagram_destroy_handle(h), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->finished), (int)accepted);
	KUNIT_EXPECT_EQ(test, vmci_datagram_delayed_count(), delayed);
}

struct deliverer {
	struct vmci_datagram *dg;
	struct vmci_handle h;
	struct completion done;
	int result;
};

static int deliver_thread(void *data)
{
	struct deliverer *d = data;

	d->result = vmci_datagram_deliver(d->dg, 0, GFP_KERNEL);
	complete(&d->done);
	return 0;
}

static int destroy_thread(void *data)
{
	struct deliverer *d = data;

	d->result = vmci_datagram_destroy_handle(d->h);
	complete(&d->done);
	return 0;
}

static void destroy_waits_for_a_running_callback(struct kunit *test)
{
	struct deliverer *sender = kunit_kzalloc(test, sizeof(*sender), GFP_KERNEL);
	struct deliverer *killer = kunit_kzalloc(test, sizeof(*killer), GFP_KERNEL);
	struct sink *s = new_sink(test);
	struct task_struct *t;
	struct vmci_handle h;

	KUNIT_ASSERT_NOT_NULL(test, sender);
	KUNIT_ASSERT_NOT_NULL(test, killer);
	s->block = true;
	KUNIT_ASSERT_EQ(test, vmci_datagram_create_handle(VMCI_INVALID_ID, 0, 0, sink_cb, s, &h),
			VMCI_SUCCESS);
	sender->dg = new_dg(test, h, 0);
	init_completion(&sender->done);
	killer->h = h;
	init_completion(&killer->done);

	t = kthread_run(deliver_thread, sender, "vmci_dg_kunit_tx");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	wait_for_completion(&s->entered);
	t = kthread_run(destroy_thread, killer, "vmci_dg_kunit_rm");
	if (IS_ERR(t))
		complete_all(&s->release);
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));

	KUNIT_EXPECT_FALSE(test, wait_for_completion_timeout(&killer->done,
							     msecs_to_jiffies(200)));
	complete_all(&s->release);
	wait_for_completion(&killer->done);
	/* By the time destroy returned, the callback had finished. */
	KUNIT_EXPECT_EQ(test, atomic_read(&s->finished), 1);
	KUNIT_EXPECT_EQ(test, killer->result, VMCI_SUCCESS);
	wait_for_completion(&sender->done);
	KUNIT_EXPECT_EQ(test, sender->result, VMCI_SUCCESS);
}

/*
 * A socket closing thousands of handles must not wait a grace period for
 * each: the asynchronous destroy returns while a callback still runs, the
 * ID is free for a new handle at once, and gone() comes after the last
 * callback, exactly once.
 */
static void async_destroy_frees_the_id_and_calls_gone_last(struct kunit *test)
{
	struct deliverer *sender = kunit_kzalloc(test, sizeof(*sender), GFP_KERNEL);
	struct sink *s = new_sink(test);
	u32 count = vmci_datagram_handle_count();
	struct task_struct *t;
	struct vmci_handle h, again;

	KUNIT_ASSERT_NOT_NULL(test, sender);
	s->block = true;
	KUNIT_ASSERT_EQ(test, vmci_datagram_create_handle(FIXED_RID + 2, 0, 0, sink_cb, s, &h),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_destroy_handle_async(h, NULL),
			VMCI_ERROR_INVALID_ARGS);
	sender->dg = new_dg(test, h, 0);
	init_completion(&sender->done);
	t = kthread_run(deliver_thread, sender, "vmci_dg_kunit_tx");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	wait_for_completion(&s->entered);

	/* Returns although the callback is blocked: it never waits. */
	KUNIT_EXPECT_EQ(test, vmci_datagram_destroy_handle_async(h, sink_gone), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_destroy_handle_async(h, sink_gone),
			VMCI_ERROR_NOT_FOUND);
	KUNIT_EXPECT_EQ(test, vmci_datagram_handle_count(), count);
	KUNIT_EXPECT_EQ(test, vmci_datagram_create_handle(FIXED_RID + 2, 0, 0, sink_cb, s,
							  &again), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_destroy_handle(again), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->gone), 0);

	complete_all(&s->release);
	wait_for_completion(&sender->done);
	vmci_resource_barrier();
	KUNIT_EXPECT_EQ(test, atomic_read(&s->gone), 1);
	KUNIT_EXPECT_EQ(test, s->finished_at_gone, 1);
	KUNIT_EXPECT_EQ(test, sender->result, VMCI_SUCCESS);
}

static struct kunit_case vmci_datagram_cases[] = {
	KUNIT_CASE(dynamic_handle_round_trip),
	KUNIT_CASE(fixed_handle_is_unique),
	KUNIT_CASE(wildcard_handle_takes_any_context),
	KUNIT_CASE(bad_create_arguments_are_refused),
	KUNIT_CASE(callback_errors_reach_the_sender),
	KUNIT_CASE(privileges_gate_delivery),
	KUNIT_CASE(delayed_callback_runs_in_a_worker_on_a_copy),
	KUNIT_CASE(oversized_payload_is_refused_at_delivery),
	KUNIT_CASE(delayed_backlog_is_bounded_and_drained_by_destroy),
	KUNIT_CASE(destroy_waits_for_a_running_callback),
	KUNIT_CASE(async_destroy_frees_the_id_and_calls_gone_last),
	{}
};

static struct kunit_suite vmci_datagram_suite = {
	.name = "vmci_datagram",
	.test_cases = vmci_datagram_cases,
};

kunit_test_suite(vmci_datagram_suite);
