// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <vmci/vmci_abi.h>

#include "context.h"
#include "doorbell.h"
#include "route.h"

/* Fixed IDs above the reserved range and away from other suites' and the endpoint's. */
#define FIXED_RID	0x7d0000U

struct ringer {
	atomic_t calls;
	atomic_t in_worker;	/* calls that ran in a workqueue worker */
	struct completion entered;
	struct completion release;	/* the callback blocks on it when @block */
	bool block;
	atomic_t finished;
};

static void ringer_cb(void *client_data)
{
	struct ringer *r = client_data;

	if (current->flags & PF_WQ_WORKER)
		atomic_inc(&r->in_worker);
	atomic_inc(&r->calls);
	complete(&r->entered);
	if (r->block)
		wait_for_completion(&r->release);
	atomic_inc(&r->finished);
}

static struct ringer *new_ringer(struct kunit *test)
{
	struct ringer *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, r);
	init_completion(&r->entered);
	init_completion(&r->release);
	return r;
}

static struct vmci_handle any_rid(void)
{
	return vmci_make_handle(VMCI_INVALID_ID, VMCI_INVALID_ID);
}

static void dynamic_and_fixed_ids(struct kunit *test)
{
	struct ringer *r = new_ringer(test);
	u32 before = vmci_doorbell_host_count();
	struct vmci_handle dyn = any_rid();
	struct vmci_handle fixed = vmci_make_handle(vmci_route_local_cid(), FIXED_RID);

	KUNIT_ASSERT_EQ(test, vmci_doorbell_create(&dyn, 0, 0, ringer_cb, r), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, dyn.context, vmci_route_local_cid());
	KUNIT_EXPECT_NE(test, dyn.resource, VMCI_INVALID_ID);
	KUNIT_ASSERT_EQ(test, vmci_doorbell_create(&fixed, 0, 0, ringer_cb, r), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, fixed.resource, FIXED_RID);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_host_count(), before + 2);

	KUNIT_EXPECT_EQ(test, vmci_doorbell_destroy(dyn), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_destroy(fixed), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_destroy(fixed), VMCI_ERROR_NOT_FOUND);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_host_count(), before);
}

static void duplicate_fixed_id_is_refused(struct kunit *test)
{
	struct ringer *r = new_ringer(test);
	struct vmci_handle a = vmci_make_handle(VMCI_INVALID_ID, FIXED_RID + 1);
	struct vmci_handle b = a;

	KUNIT_ASSERT_EQ(test, vmci_doorbell_create(&a, 0, 0, ringer_cb, r), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_create(&b, 0, 0, ringer_cb, r),
			VMCI_ERROR_ALREADY_EXISTS);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_destroy(a), VMCI_SUCCESS);
}

static void bad_create_arguments_are_refused(struct kunit *test)
{
	struct ringer *r = new_ringer(test);
	struct vmci_handle h = any_rid();
	u32 before = vmci_doorbell_host_count();

	KUNIT_EXPECT_EQ(test, vmci_doorbell_create(NULL, 0, 0, ringer_cb, r),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_create(&h, 0, 0, NULL, r), VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_create(&h, 0x2, 0, ringer_cb, r),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_create(&h, 0, 0x4, ringer_cb, r),
			VMCI_ERROR_INVALID_ARGS);
	h.context = VMCI_RESERVED_CID_LIMIT + 5;	/* not ours */
	KUNIT_EXPECT_EQ(test, vmci_doorbell_create(&h, 0, 0, ringer_cb, r),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_host_count(), before);
}

static void notify_fires_once_per_notify(struct kunit *test)
{
	struct ringer *r = new_ringer(test);
	struct vmci_handle h = any_rid();
	int i;

	KUNIT_ASSERT_EQ(test, vmci_doorbell_create(&h, 0, 0, ringer_cb, r), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->calls), 0);
	for (i = 1; i <= 3; i++) {
		KUNIT_EXPECT_EQ(test, vmci_doorbell_notify(h, 0), VMCI_SUCCESS);
		KUNIT_EXPECT_EQ(test, atomic_read(&r->calls), i);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&r->in_worker), 0);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_destroy(h), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_notify(h, 0), VMCI_ERROR_NOT_FOUND);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->calls), 3);
}

static void unknown_handle_is_not_found(struct kunit *test)
{
	struct vmci_handle h = vmci_make_handle(vmci_route_local_cid(), FIXED_RID + 2);

	KUNIT_EXPECT_EQ(test, vmci_doorbell_notify(h, 0), VMCI_ERROR_NOT_FOUND);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_notify(VMCI_INVALID_HANDLE, 0), VMCI_ERROR_NOT_FOUND);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_notify(h, 0x8), VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_destroy(h), VMCI_ERROR_NOT_FOUND);
}

static void privilege_rule_gates_notify(struct kunit *test)
{
	struct ringer *r = new_ringer(test);
	struct vmci_handle restricted = any_rid();
	struct vmci_handle plain = any_rid();

	KUNIT_ASSERT_EQ(test, vmci_doorbell_create(&restricted, 0, VMCI_PRIVILEGE_FLAG_RESTRICTED,
						   ringer_cb, r), VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, vmci_doorbell_create(&plain, 0, 0, ringer_cb, r), VMCI_SUCCESS);

	KUNIT_EXPECT_EQ(test, vmci_doorbell_notify(restricted, 0), VMCI_ERROR_NO_ACCESS);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_notify(plain, VMCI_PRIVILEGE_FLAG_RESTRICTED),
			VMCI_ERROR_NO_ACCESS);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->calls), 0);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_notify(restricted, VMCI_PRIVILEGE_FLAG_TRUSTED),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->calls), 1);

	KUNIT_EXPECT_EQ(test, vmci_doorbell_destroy(restricted), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_destroy(plain), VMCI_SUCCESS);
}

static void delayed_callback_runs_in_a_worker(struct kunit *test)
{
	struct ringer *r = new_ringer(test);
	struct vmci_handle h = any_rid();

	KUNIT_ASSERT_EQ(test, vmci_doorbell_create(&h, VMCI_FLAG_DELAYED_CB, 0, ringer_cb, r),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_notify(h, 0), VMCI_SUCCESS);
	KUNIT_EXPECT_TRUE(test, wait_for_completion_timeout(&r->entered, 5 * HZ));
	KUNIT_EXPECT_EQ(test, vmci_doorbell_destroy(h), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->calls), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->in_worker), 1);
}

struct destroyer {
	struct vmci_handle h;
	int result;
	struct completion done;
};

static int destroy_thread(void *arg)
{
	struct destroyer *d = arg;

	d->result = vmci_doorbell_destroy(d->h);
	complete(&d->done);
	return 0;
}

static void destroy_waits_for_a_running_callback(struct kunit *test)
{
	struct destroyer *d = kunit_kzalloc(test, sizeof(*d), GFP_KERNEL);
	struct ringer *r = new_ringer(test);
	struct task_struct *t;

	KUNIT_ASSERT_NOT_NULL(test, d);
	r->block = true;
	d->h = any_rid();
	init_completion(&d->done);
	KUNIT_ASSERT_EQ(test, vmci_doorbell_create(&d->h, VMCI_FLAG_DELAYED_CB, 0, ringer_cb, r),
			VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, vmci_doorbell_notify(d->h, 0), VMCI_SUCCESS);
	wait_for_completion(&r->entered);

	t = kthread_run(destroy_thread, d, "vmci_dbell_kunit_rm");
	if (IS_ERR(t))
		complete_all(&r->release);
	KUNIT_ASSERT_FALSE(test, IS_ERR(t));
	KUNIT_EXPECT_FALSE(test, wait_for_completion_timeout(&d->done, msecs_to_jiffies(200)));
	complete_all(&r->release);
	wait_for_completion(&d->done);
	/* By the time destroy returned, the callback had finished. */
	KUNIT_EXPECT_EQ(test, atomic_read(&r->finished), 1);
	KUNIT_EXPECT_EQ(test, d->result, VMCI_SUCCESS);
}

static void vmm_doorbells_pend_once_and_die_with_the_context(struct kunit *test)
{
	u32 vmm_before = vmci_doorbell_vmm_count();
	u32 pending_before = vmci_doorbell_pending_count();
	struct vmci_handle out[2];
	struct vmci_handle h, dup, other;
	struct vmci_ctx *ctx;

	KUNIT_ASSERT_EQ(test, vmci_ctx_create(VMCI_INVALID_ID, 0, &ctx), VMCI_SUCCESS);
	h = vmci_make_handle(ctx->cid, 77);
	dup = h;
	other = vmci_make_handle(ctx->cid + 1, 78);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_ctx_register(ctx, &h), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_ctx_register(ctx, &dup), VMCI_ERROR_ALREADY_EXISTS);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_ctx_register(ctx, &other), VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_vmm_count(), vmm_before + 1);
	KUNIT_EXPECT_FALSE(test, vmci_ctx_has_pending(ctx));

	/* Two rings before the VMX looks are one pending entry. */
	KUNIT_EXPECT_EQ(test, vmci_doorbell_notify(h, 0), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_notify(h, 0), VMCI_SUCCESS);
	KUNIT_EXPECT_TRUE(test, vmci_ctx_has_pending(ctx));
	KUNIT_EXPECT_EQ(test, vmci_doorbell_pending_count(), pending_before + 1);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_ctx_take_pending(ctx, out, 0), -EMSGSIZE);
	KUNIT_EXPECT_TRUE(test, vmci_ctx_has_pending(ctx));
	/* Exactly enough room is enough. */
	KUNIT_EXPECT_EQ(test, vmci_doorbell_ctx_take_pending(ctx, out, 1), 1);
	KUNIT_EXPECT_TRUE(test, vmci_handle_equal(out[0], h));
	KUNIT_EXPECT_FALSE(test, vmci_ctx_has_pending(ctx));
	KUNIT_EXPECT_EQ(test, vmci_doorbell_ctx_take_pending(ctx, out, 2), 0);

	/* Teardown takes registered and pending doorbells with it. */
	KUNIT_EXPECT_EQ(test, vmci_doorbell_notify(h, 0), VMCI_SUCCESS);
	vmci_ctx_destroy(ctx);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_vmm_count(), vmm_before);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_pending_count(), pending_before);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_notify(h, 0), VMCI_ERROR_NOT_FOUND);
}

static void vmm_may_ring_only_host_doorbells(struct kunit *test)
{
	struct ringer *r = new_ringer(test);
	struct vmci_handle host = any_rid();
	struct vmci_handle peer_db;
	struct vmci_ctx *a, *b;

	KUNIT_ASSERT_EQ(test, vmci_doorbell_create(&host, 0, 0, ringer_cb, r), VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, vmci_ctx_create(VMCI_INVALID_ID, 0, &a), VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, vmci_ctx_create(VMCI_INVALID_ID, 0, &b), VMCI_SUCCESS);
	peer_db = vmci_make_handle(b->cid, 5);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_ctx_register(b, &peer_db), VMCI_SUCCESS);

	KUNIT_EXPECT_EQ(test, vmci_doorbell_ctx_ring(a, host), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, atomic_read(&r->calls), 1);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_ctx_ring(a, peer_db), VMCI_ERROR_DST_UNREACHABLE);
	KUNIT_EXPECT_FALSE(test, vmci_ctx_has_pending(b));
	/* Another context's doorbell cannot be unregistered by a stranger. */
	KUNIT_EXPECT_EQ(test, vmci_doorbell_ctx_unregister(a, peer_db), VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_ctx_unregister(b, peer_db), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_ctx_unregister(b, peer_db), VMCI_ERROR_NOT_FOUND);

	vmci_ctx_destroy(b);
	vmci_ctx_destroy(a);
	KUNIT_EXPECT_EQ(test, vmci_doorbell_destroy(host), VMCI_SUCCESS);
}

static struct kunit_case vmci_doorbell_cases[] = {
	KUNIT_CASE(dynamic_and_fixed_ids),
	KUNIT_CASE(duplicate_fixed_id_is_refused),
	KUNIT_CASE(bad_create_arguments_are_refused),
	KUNIT_CASE(notify_fires_once_per_notify),
	KUNIT_CASE(unknown_handle_is_not_found),
	KUNIT_CASE(privilege_rule_gates_notify),
	KUNIT_CASE(delayed_callback_runs_in_a_worker),
	KUNIT_CASE(destroy_waits_for_a_running_callback),
	KUNIT_CASE(vmm_doorbells_pend_once_and_die_with_the_context),
	KUNIT_CASE(vmm_may_ring_only_host_doorbells),
	{}
};

static struct kunit_suite vmci_doorbell_suite = {
	.name = "vmci_doorbell",
	.test_cases = vmci_doorbell_cases,
};

kunit_test_suite(vmci_doorbell_suite);
