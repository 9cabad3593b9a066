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
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <vmci/vmci_abi.h>

#include "resource.h"

#define FIRST_DYNAMIC	(VMCI_RESERVED_RESOURCE_ID_MAX + 1)

static struct vmci_resource_table *new_table(struct kunit *test, u32 first, u32 last)
{
	struct vmci_resource_table *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_ASSERT_EQ(test, vmci_resource_table_init(t, first, last), 0);
	return t;
}

static struct vmci_resource *new_res(struct kunit *test)
{
	struct vmci_resource *res = kunit_kzalloc(test, sizeof(*res), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, res);
	return res;
}

/* Looks @h up and drops the reference at once; only the identity matters. */
static struct vmci_resource *peek(struct vmci_resource_table *t, u32 context, u32 rid,
				  enum vmci_resource_type type)
{
	struct vmci_resource *r;

	r = vmci_resource_table_lookup(t, vmci_make_handle(context, rid), type);
	if (r)
		vmci_resource_put(r);
	return r;
}

/* Adds with a dynamic ID and returns the ID, VMCI_INVALID_ID on failure. */
static u32 add_dynamic(struct vmci_resource_table *t, struct vmci_resource *res, u32 context)
{
	if (vmci_resource_table_add(t, res, VMCI_RESOURCE_TYPE_DATAGRAM,
				    vmci_make_handle(context, VMCI_INVALID_ID)) != VMCI_SUCCESS)
		return VMCI_INVALID_ID;
	return vmci_resource_handle(res).resource;
}

static void add_lookup_remove_round_trip(struct kunit *test)
{
	struct vmci_resource_table *t = new_table(test, FIRST_DYNAMIC, 2047);
	struct vmci_resource *res = new_res(test);
	struct vmci_handle h = vmci_make_handle(5, 2000);
	struct vmci_resource *found;

	KUNIT_ASSERT_EQ(test, vmci_resource_table_add(t, res, VMCI_RESOURCE_TYPE_DATAGRAM, h),
			VMCI_SUCCESS);
	KUNIT_EXPECT_TRUE(test, vmci_handle_equal(vmci_resource_handle(res), h));

	found = vmci_resource_table_lookup(t, h, VMCI_RESOURCE_TYPE_DATAGRAM);
	KUNIT_EXPECT_PTR_EQ(test, found, res);
	/* The table's reference plus the lookup's. */
	KUNIT_EXPECT_EQ(test, refcount_read(&res->refs), 2U);
	if (found)
		vmci_resource_put(found);
	KUNIT_EXPECT_EQ(test, refcount_read(&res->refs), 1U);

	KUNIT_EXPECT_PTR_EQ(test, peek(t, 5, 2000, VMCI_RESOURCE_TYPE_ANY), res);

	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, res));
	KUNIT_EXPECT_NULL(test, peek(t, 5, 2000, VMCI_RESOURCE_TYPE_DATAGRAM));
	KUNIT_EXPECT_NULL(test, peek(t, 5, 2000, VMCI_RESOURCE_TYPE_ANY));
	vmci_resource_table_destroy(t);
}

static void lookup_needs_matching_type_and_context(struct kunit *test)
{
	struct vmci_resource_table *t = new_table(test, FIRST_DYNAMIC, 2047);
	struct vmci_resource *res = new_res(test);

	KUNIT_ASSERT_EQ(test, vmci_resource_table_add(t, res, VMCI_RESOURCE_TYPE_DOORBELL,
						      vmci_make_handle(5, 2000)),
			VMCI_SUCCESS);

	KUNIT_EXPECT_PTR_EQ(test, peek(t, 5, 2000, VMCI_RESOURCE_TYPE_DOORBELL), res);
	KUNIT_EXPECT_NULL(test, peek(t, 5, 2000, VMCI_RESOURCE_TYPE_DATAGRAM));
	KUNIT_EXPECT_NULL(test, peek(t, 5, 2000, VMCI_RESOURCE_TYPE_QPAIR_GUEST));
	KUNIT_EXPECT_NULL(test, peek(t, 6, 2000, VMCI_RESOURCE_TYPE_DOORBELL));
	KUNIT_EXPECT_NULL(test, peek(t, 5, 2001, VMCI_RESOURCE_TYPE_DOORBELL));
	/* An exact registration is not a wildcard in the other direction. */
	KUNIT_EXPECT_NULL(test, peek(t, VMCI_INVALID_ID, 2000, VMCI_RESOURCE_TYPE_DOORBELL));
	KUNIT_EXPECT_NULL(test, peek(t, 5, VMCI_INVALID_ID, VMCI_RESOURCE_TYPE_ANY));
	KUNIT_EXPECT_NULL(test, peek(t, 5, 2000, (enum vmci_resource_type)99));

	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, res));
	vmci_resource_table_destroy(t);
}

static void wildcard_matches_any_context_and_claims_its_id(struct kunit *test)
{
	struct vmci_resource_table *t = new_table(test, FIRST_DYNAMIC, 2047);
	struct vmci_resource *exact = new_res(test);
	struct vmci_resource *wild = new_res(test);
	struct vmci_resource *late = new_res(test);
	const enum vmci_resource_type dg = VMCI_RESOURCE_TYPE_DATAGRAM;
	const struct vmci_handle any_3000 = vmci_make_handle(VMCI_INVALID_ID, 3000);
	const struct vmci_handle any_3001 = vmci_make_handle(VMCI_INVALID_ID, 3001);

	KUNIT_ASSERT_EQ(test, vmci_resource_table_add(t, exact, dg, vmci_make_handle(7, 3000)),
			VMCI_SUCCESS);
	/*
	 * Either order of wildcard and exact handle with one ID clashes. These
	 * assert: re-adding a resource that went in by mistake would corrupt
	 * the table instead of failing the test.
	 */
	KUNIT_ASSERT_EQ(test, vmci_resource_table_add(t, late, dg, any_3000),
			VMCI_ERROR_ALREADY_EXISTS);
	KUNIT_ASSERT_EQ(test, vmci_resource_table_add(t, wild, dg, any_3001), VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, vmci_resource_table_add(t, late, dg, vmci_make_handle(7, 3001)),
			VMCI_ERROR_ALREADY_EXISTS);
	KUNIT_ASSERT_EQ(test, vmci_resource_table_add(t, late, dg, any_3001),
			VMCI_ERROR_ALREADY_EXISTS);
	/* Another type is another namespace. */
	KUNIT_ASSERT_EQ(test, vmci_resource_table_add(t, late, VMCI_RESOURCE_TYPE_DOORBELL,
						      any_3000), VMCI_SUCCESS);
	KUNIT_ASSERT_TRUE(test, vmci_resource_table_remove(t, late));

	KUNIT_EXPECT_PTR_EQ(test, peek(t, 7, 3000, dg), exact);
	KUNIT_EXPECT_NULL(test, peek(t, 8, 3000, dg));
	KUNIT_EXPECT_PTR_EQ(test, peek(t, 7, 3001, dg), wild);
	KUNIT_EXPECT_PTR_EQ(test, peek(t, 8, 3001, dg), wild);
	KUNIT_EXPECT_PTR_EQ(test, peek(t, VMCI_HOST_CONTEXT_ID, 3001, dg), wild);
	KUNIT_EXPECT_PTR_EQ(test, peek(t, VMCI_HYPERVISOR_CONTEXT_ID, 3001, dg), wild);
	KUNIT_EXPECT_PTR_EQ(test, peek(t, VMCI_INVALID_ID, 3001, dg), wild);
	KUNIT_EXPECT_NULL(test, peek(t, 8, 3001, VMCI_RESOURCE_TYPE_DOORBELL));
	KUNIT_EXPECT_NULL(test, peek(t, 8, 3002, dg));

	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, exact));
	KUNIT_EXPECT_NULL(test, peek(t, 7, 3000, dg));
	/* The ID is free again once its holder is gone. */
	KUNIT_ASSERT_EQ(test, vmci_resource_table_add(t, late, dg, any_3000), VMCI_SUCCESS);
	KUNIT_EXPECT_PTR_EQ(test, peek(t, 7, 3000, dg), late);
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, late));
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, wild));
	KUNIT_EXPECT_NULL(test, peek(t, 7, 3001, dg));
	vmci_resource_table_destroy(t);
}

static void explicit_duplicate_already_exists(struct kunit *test)
{
	struct vmci_resource_table *t = new_table(test, FIRST_DYNAMIC, 2047);
	struct vmci_resource *first = new_res(test);
	struct vmci_resource *dup = new_res(test);
	struct vmci_resource *other_type = new_res(test);
	struct vmci_resource *other_ctx = new_res(test);
	struct vmci_handle h = vmci_make_handle(5, 2000);

	KUNIT_ASSERT_EQ(test, vmci_resource_table_add(t, first, VMCI_RESOURCE_TYPE_DATAGRAM, h),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_resource_table_add(t, dup, VMCI_RESOURCE_TYPE_DATAGRAM, h),
			VMCI_ERROR_ALREADY_EXISTS);
	KUNIT_EXPECT_PTR_EQ(test, peek(t, 5, 2000, VMCI_RESOURCE_TYPE_DATAGRAM), first);

	KUNIT_EXPECT_EQ(test, vmci_resource_table_add(t, other_type,
						      VMCI_RESOURCE_TYPE_DOORBELL, h),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_resource_table_add(t, other_ctx, VMCI_RESOURCE_TYPE_DATAGRAM,
						      vmci_make_handle(6, 2000)),
			VMCI_SUCCESS);

	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, first));
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, other_type));
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, other_ctx));
	vmci_resource_table_destroy(t);
}

static void invalid_arguments_are_refused(struct kunit *test)
{
	struct vmci_resource_table *t = new_table(test, FIRST_DYNAMIC, 2047);
	struct vmci_resource *res = new_res(test);
	struct vmci_resource_table *bad = kunit_kzalloc(test, sizeof(*bad), GFP_KERNEL);
	struct vmci_handle h = vmci_make_handle(5, 2000);

	KUNIT_EXPECT_EQ(test, vmci_resource_table_add(t, NULL, VMCI_RESOURCE_TYPE_DATAGRAM, h),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_resource_table_add(NULL, res, VMCI_RESOURCE_TYPE_DATAGRAM, h),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_resource_table_add(t, res, VMCI_RESOURCE_TYPE_ANY, h),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_resource_table_add(t, res, (enum vmci_resource_type)99, h),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_NULL(test, vmci_resource_table_lookup(NULL, h, VMCI_RESOURCE_TYPE_ANY));
	KUNIT_EXPECT_NULL(test, peek(t, 5, 2000, VMCI_RESOURCE_TYPE_ANY));

	KUNIT_ASSERT_NOT_NULL(test, bad);
	KUNIT_EXPECT_EQ(test, vmci_resource_table_init(bad, 2000, 1999), -EINVAL);
	KUNIT_EXPECT_EQ(test, vmci_resource_table_init(bad, VMCI_INVALID_ID, VMCI_INVALID_ID),
			-EINVAL);
	vmci_resource_table_destroy(t);
}

/*
 * The removal bug class of CVE-2024-46738: unlinking whatever matches the
 * handle instead of the caller's own entry.
 */
static void remove_touches_only_its_own_entry(struct kunit *test)
{
	struct vmci_resource_table *t = new_table(test, FIRST_DYNAMIC, 2047);
	struct vmci_resource *dg = new_res(test);
	struct vmci_resource *bell = new_res(test);
	struct vmci_resource *stranger = new_res(test);
	struct vmci_handle h = vmci_make_handle(5, 2000);

	KUNIT_ASSERT_EQ(test, vmci_resource_table_add(t, dg, VMCI_RESOURCE_TYPE_DATAGRAM, h),
			VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, vmci_resource_table_add(t, bell, VMCI_RESOURCE_TYPE_DOORBELL, h),
			VMCI_SUCCESS);

	/* Never added, but carrying the same handle and type. */
	stranger->handle = h;
	stranger->type = VMCI_RESOURCE_TYPE_DATAGRAM;
	KUNIT_EXPECT_FALSE(test, vmci_resource_table_remove(t, stranger));
	KUNIT_EXPECT_PTR_EQ(test, peek(t, 5, 2000, VMCI_RESOURCE_TYPE_DATAGRAM), dg);

	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, bell));
	KUNIT_EXPECT_PTR_EQ(test, peek(t, 5, 2000, VMCI_RESOURCE_TYPE_DATAGRAM), dg);
	KUNIT_EXPECT_NULL(test, peek(t, 5, 2000, VMCI_RESOURCE_TYPE_DOORBELL));

	/* A second removal is refused and leaves the others alone. */
	KUNIT_EXPECT_FALSE(test, vmci_resource_table_remove(t, bell));
	KUNIT_EXPECT_PTR_EQ(test, peek(t, 5, 2000, VMCI_RESOURCE_TYPE_DATAGRAM), dg);

	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, dg));
	KUNIT_EXPECT_FALSE(test, vmci_resource_table_remove(t, dg));
	KUNIT_EXPECT_FALSE(test, vmci_resource_table_remove(t, NULL));
	vmci_resource_table_destroy(t);
}

static void dynamic_ids_start_at_first_and_skip_used(struct kunit *test)
{
	struct vmci_resource_table *t = new_table(test, FIRST_DYNAMIC, 2047);
	struct vmci_resource *bell = new_res(test);
	struct vmci_resource *wild = new_res(test);
	struct vmci_resource *qp = new_res(test);
	struct vmci_resource *dyn[4];
	int i;

	for (i = 0; i < ARRAY_SIZE(dyn); i++)
		dyn[i] = new_res(test);

	KUNIT_EXPECT_EQ(test, add_dynamic(t, dyn[0], 3), FIRST_DYNAMIC);
	KUNIT_EXPECT_EQ(test, vmci_resource_handle(dyn[0]).context, 3U);

	/* IDs taken by any context or type are not handed out again. */
	KUNIT_ASSERT_EQ(test, vmci_resource_table_add(t, bell, VMCI_RESOURCE_TYPE_DOORBELL,
						      vmci_make_handle(7, 1025)),
			VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, vmci_resource_table_add(t, wild, VMCI_RESOURCE_TYPE_DATAGRAM,
						      vmci_make_handle(VMCI_INVALID_ID, 1027)),
			VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, vmci_resource_table_add(t, qp, VMCI_RESOURCE_TYPE_QPAIR_HOST,
						      vmci_make_handle(9, 1028)),
			VMCI_SUCCESS);

	KUNIT_EXPECT_EQ(test, add_dynamic(t, dyn[1], 3), 1026);
	KUNIT_EXPECT_EQ(test, add_dynamic(t, dyn[2], 3), 1029);
	/* A dynamic wildcard is allowed too. */
	KUNIT_EXPECT_EQ(test, add_dynamic(t, dyn[3], VMCI_INVALID_ID), 1030);
	KUNIT_EXPECT_PTR_EQ(test, peek(t, 42, 1030, VMCI_RESOURCE_TYPE_DATAGRAM), dyn[3]);
	KUNIT_EXPECT_PTR_EQ(test, peek(t, 3, 1029, VMCI_RESOURCE_TYPE_DATAGRAM), dyn[2]);

	for (i = 0; i < ARRAY_SIZE(dyn); i++)
		KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, dyn[i]));
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, bell));
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, wild));
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, qp));
	vmci_resource_table_destroy(t);
}

static void dynamic_ids_wrap_and_skip_invalid_id(struct kunit *test)
{
	struct vmci_resource_table *top = new_table(test, 0xFFFFFFFCU, VMCI_INVALID_ID);
	struct vmci_resource_table *t = new_table(test, 0xFFFFFFFDU, 0xFFFFFFFEU);
	struct vmci_resource *res[4];
	int i;

	for (i = 0; i < ARRAY_SIZE(res); i++)
		res[i] = new_res(test);

	/* A range ending at VMCI_INVALID_ID never hands it out. */
	KUNIT_EXPECT_EQ(test, add_dynamic(top, res[0], 3), 0xFFFFFFFCU);
	KUNIT_EXPECT_EQ(test, add_dynamic(top, res[1], 3), 0xFFFFFFFDU);
	KUNIT_EXPECT_EQ(test, add_dynamic(top, res[2], 3), 0xFFFFFFFEU);
	KUNIT_EXPECT_EQ(test, vmci_resource_table_add(top, res[3], VMCI_RESOURCE_TYPE_DATAGRAM,
						      vmci_make_handle(3, VMCI_INVALID_ID)),
			VMCI_ERROR_NO_HANDLE);
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(top, res[1]));
	KUNIT_EXPECT_EQ(test, add_dynamic(top, res[3], 3), 0xFFFFFFFDU);
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(top, res[0]));
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(top, res[2]));
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(top, res[3]));
	vmci_resource_table_destroy(top);

	/* IDs keep increasing rather than reusing the last freed one... */
	KUNIT_EXPECT_EQ(test, add_dynamic(t, res[0], 3), 0xFFFFFFFDU);
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, res[0]));
	KUNIT_EXPECT_EQ(test, add_dynamic(t, res[0], 3), 0xFFFFFFFEU);
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, res[0]));
	/* ...and wrap to the first ID after the last one. */
	KUNIT_EXPECT_EQ(test, add_dynamic(t, res[0], 3), 0xFFFFFFFDU);
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, res[0]));
	vmci_resource_table_destroy(t);
}

static void tiny_range_runs_out_and_recovers(struct kunit *test)
{
	struct vmci_resource_table *t = new_table(test, FIRST_DYNAMIC, FIRST_DYNAMIC + 7);
	struct vmci_resource *res[8];
	struct vmci_resource *extra = new_res(test);
	struct vmci_resource *fixed = new_res(test);
	int i;

	for (i = 0; i < ARRAY_SIZE(res); i++) {
		res[i] = new_res(test);
		KUNIT_EXPECT_EQ(test, add_dynamic(t, res[i], 3), FIRST_DYNAMIC + i);
	}
	KUNIT_EXPECT_EQ(test, vmci_resource_table_add(t, extra, VMCI_RESOURCE_TYPE_DATAGRAM,
						      vmci_make_handle(4, VMCI_INVALID_ID)),
			VMCI_ERROR_NO_HANDLE);
	/* Explicit IDs do not come from the dynamic range. */
	KUNIT_EXPECT_EQ(test, vmci_resource_table_add(t, fixed, VMCI_RESOURCE_TYPE_DATAGRAM,
						      vmci_make_handle(4, 5)),
			VMCI_SUCCESS);

	/*
	 * The search restarts at the first ID, so the last one is the final
	 * candidate: finding it proves every ID of the range is tried.
	 */
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, res[7]));
	KUNIT_EXPECT_EQ(test, add_dynamic(t, res[7], 4), FIRST_DYNAMIC + 7);
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, res[3]));
	KUNIT_EXPECT_EQ(test, add_dynamic(t, extra, 4), FIRST_DYNAMIC + 3);
	KUNIT_EXPECT_EQ(test, vmci_resource_table_add(t, res[3], VMCI_RESOURCE_TYPE_DATAGRAM,
						      vmci_make_handle(4, VMCI_INVALID_ID)),
			VMCI_ERROR_NO_HANDLE);

	for (i = 0; i < ARRAY_SIZE(res); i++)
		if (i != 3)
			KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, res[i]));
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, extra));
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, fixed));
	vmci_resource_table_destroy(t);
}

static void global_table_hands_out_unreserved_ids(struct kunit *test)
{
	struct vmci_resource *res = new_res(test);
	struct vmci_handle h;
	struct vmci_resource *found;

	KUNIT_ASSERT_EQ(test, vmci_resource_add(res, VMCI_RESOURCE_TYPE_DOORBELL,
						vmci_make_handle(VMCI_HOST_CONTEXT_ID,
								 VMCI_INVALID_ID)),
			VMCI_SUCCESS);
	h = vmci_resource_handle(res);
	KUNIT_EXPECT_GT(test, h.resource, VMCI_RESERVED_RESOURCE_ID_MAX);
	KUNIT_EXPECT_NE(test, h.resource, VMCI_INVALID_ID);
	KUNIT_EXPECT_EQ(test, h.context, VMCI_HOST_CONTEXT_ID);

	found = vmci_resource_by_handle(h, VMCI_RESOURCE_TYPE_DOORBELL);
	KUNIT_EXPECT_PTR_EQ(test, found, res);
	if (found)
		KUNIT_EXPECT_PTR_EQ(test, vmci_resource_get(found), res);
	if (found) {
		vmci_resource_put(found);
		vmci_resource_put(found);
	}
	vmci_resource_remove(res);
	KUNIT_EXPECT_NULL(test, vmci_resource_by_handle(h, VMCI_RESOURCE_TYPE_ANY));
}

#define MANY		10000U
#define MANY_RID_BASE	100000U
#define SQUATTED	5000U

static void kvfree_action(void *p)
{
	kvfree(p);
}

/* Too big for one kmalloc on a fragmented machine: vmalloc may serve it. */
static void *big_array(struct kunit *test, unsigned int n, size_t size)
{
	void *p = kvcalloc(n, size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, kvfree_action, p), 0);
	return p;
}

/* An array of @n zeroed entries and one of pointers to them, freed with the test. */
static struct vmci_resource **new_res_array(struct kunit *test, unsigned int n)
{
	struct vmci_resource **res = big_array(test, n, sizeof(*res));
	struct vmci_resource *pool = big_array(test, n, sizeof(*pool));
	unsigned int i;

	for (i = 0; i < n; i++)
		res[i] = &pool[i];
	return res;
}

/* Half explicit handles, half dynamic; each found by its own handle. */
static void ten_thousand_entries(struct kunit *test)
{
	struct vmci_resource_table *t = new_table(test, FIRST_DYNAMIC, VMCI_INVALID_ID - 1);
	struct vmci_resource **res = new_res_array(test, MANY);
	unsigned int i, added = 0, found = 0, strays = 0;
	struct vmci_handle h;
	u64 start, add_ns, lookup_ns;

	start = ktime_get_ns();
	for (i = 0; i < MANY; i++) {
		h = vmci_make_handle(i % 7, i & 1 ? MANY_RID_BASE + i : VMCI_INVALID_ID);
		if (vmci_resource_table_add(t, res[i], VMCI_RESOURCE_TYPE_DATAGRAM, h) !=
		    VMCI_SUCCESS)
			break;
		added++;
	}
	add_ns = ktime_get_ns() - start;
	KUNIT_ASSERT_EQ(test, added, MANY);

	start = ktime_get_ns();
	for (i = 0; i < MANY; i++) {
		h = vmci_resource_handle(res[i]);
		if (peek(t, h.context, h.resource, VMCI_RESOURCE_TYPE_DATAGRAM) == res[i])
			found++;
		/* The same ID in another context is nobody's. */
		if (peek(t, h.context + 7, h.resource, VMCI_RESOURCE_TYPE_ANY))
			strays++;
	}
	lookup_ns = ktime_get_ns() - start;
	KUNIT_EXPECT_EQ(test, found, MANY);
	KUNIT_EXPECT_EQ(test, strays, 0U);
	/* Dynamic IDs went up from the first one, never onto an explicit one. */
	KUNIT_EXPECT_EQ(test, vmci_resource_handle(res[0]).resource, FIRST_DYNAMIC);
	KUNIT_EXPECT_EQ(test, vmci_resource_handle(res[MANY - 2]).resource,
			FIRST_DYNAMIC + MANY / 2 - 1);

	KUNIT_EXPECT_EQ(test, vmci_resource_table_remove_many(t, res, MANY), MANY);
	h = vmci_make_handle(1, MANY_RID_BASE + 1);
	KUNIT_EXPECT_NULL(test, peek(t, h.context, h.resource, VMCI_RESOURCE_TYPE_ANY));
	KUNIT_EXPECT_NULL(test, peek(t, 0, FIRST_DYNAMIC, VMCI_RESOURCE_TYPE_ANY));
	kunit_info(test, "%u entries: %llu ns per add, %llu ns per pair of lookups\n", MANY,
		   add_ns / MANY, lookup_ns / MANY);
	vmci_resource_table_destroy(t);
}

/*
 * Someone binds the IDs the allocator would hand out next, as any user can
 * with datagram sockets: the next dynamic ID is the first one after them,
 * and a range with one free ID left still finds it.
 */
static void dynamic_ids_skip_ids_bound_ahead(struct kunit *test)
{
	struct vmci_resource_table *t = new_table(test, FIRST_DYNAMIC, VMCI_INVALID_ID - 1);
	struct vmci_resource_table *small = new_table(test, FIRST_DYNAMIC, FIRST_DYNAMIC + 63);
	struct vmci_resource **squat = new_res_array(test, SQUATTED);
	struct vmci_resource **fill = new_res_array(test, 64);
	struct vmci_resource *dyn[4];
	unsigned int i, bound = 0;
	u32 context, rid;
	u64 start, took;

	for (i = 0; i < ARRAY_SIZE(dyn); i++)
		dyn[i] = new_res(test);
	KUNIT_ASSERT_EQ(test, add_dynamic(t, dyn[0], 3), FIRST_DYNAMIC);
	for (i = 0; i < SQUATTED; i++) {
		/* Wildcards, other contexts and other types all take the ID. */
		context = i % 3 == 0 ? VMCI_INVALID_ID : 20 + i % 5;
		if (vmci_resource_table_add(t, squat[i], i % 4 ? VMCI_RESOURCE_TYPE_DATAGRAM :
								 VMCI_RESOURCE_TYPE_DOORBELL,
					    vmci_make_handle(context, FIRST_DYNAMIC + 1 + i)) ==
		    VMCI_SUCCESS)
			bound++;
	}
	KUNIT_ASSERT_EQ(test, bound, SQUATTED);
	start = ktime_get_ns();
	rid = add_dynamic(t, dyn[1], 3);
	took = ktime_get_ns() - start;
	KUNIT_EXPECT_EQ(test, rid, FIRST_DYNAMIC + 1 + SQUATTED);
	KUNIT_EXPECT_EQ(test, add_dynamic(t, dyn[2], 3), FIRST_DYNAMIC + 2 + SQUATTED);
	kunit_info(test, "dynamic ID after %u bound ahead: %llu ns\n", SQUATTED, took);

	/* A small range, all bound but one ID: the search finds it. */
	KUNIT_ASSERT_EQ(test, add_dynamic(small, fill[0], 3), FIRST_DYNAMIC);
	for (i = 1; i < 64; i++) {
		struct vmci_handle h = vmci_make_handle(9, FIRST_DYNAMIC + i);

		if (i == 40)
			continue;
		KUNIT_ASSERT_EQ(test, vmci_resource_table_add(small, fill[i],
							      VMCI_RESOURCE_TYPE_DATAGRAM, h),
				VMCI_SUCCESS);
	}
	KUNIT_EXPECT_EQ(test, add_dynamic(small, dyn[3], 3), FIRST_DYNAMIC + 40);
	KUNIT_EXPECT_EQ(test, vmci_resource_table_add(small, fill[40], VMCI_RESOURCE_TYPE_DATAGRAM,
						      vmci_make_handle(3, VMCI_INVALID_ID)),
			VMCI_ERROR_NO_HANDLE);
	/* One freed behind the search: found after wrapping. */
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(small, fill[7]));
	KUNIT_EXPECT_EQ(test, add_dynamic(small, fill[40], 3), FIRST_DYNAMIC + 7);

	KUNIT_EXPECT_EQ(test, vmci_resource_table_remove_many(t, squat, SQUATTED), SQUATTED);
	KUNIT_EXPECT_EQ(test, vmci_resource_table_remove_many(t, dyn, 3), 3U);
	KUNIT_EXPECT_EQ(test, vmci_resource_table_remove_many(small, fill, 64), 63U);
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(small, dyn[3]));
	vmci_resource_table_destroy(t);
	vmci_resource_table_destroy(small);
}

#define LEAF_IDS	((u32)XA_CHUNK_SIZE)

/*
 * The leaf of the newest dynamic ID outlives the last entry in it: the
 * next dynamic add would otherwise allocate it again. The placeholder
 * that keeps it is invisible to lookups and takes no dynamic ID out of
 * sequence.
 */
static void newest_leaf_outlives_its_last_entry(struct kunit *test)
{
	/* Four IDs across a leaf boundary: two in one leaf, two in the next. */
	struct vmci_resource_table *t = new_table(test, LEAF_IDS - 2, VMCI_INVALID_ID - 1);
	struct vmci_resource *res = new_res(test);
	u32 i;

	/* As connections come and go: each entry alone in the table. */
	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_EQ(test, add_dynamic(t, res, 3), LEAF_IDS - 2 + i);
		KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, res));
	}

	/* No entry is left, yet the last ID's leaf is still there. */
	KUNIT_EXPECT_FALSE(test, xa_empty(&t->ids));
	KUNIT_EXPECT_TRUE(test, xa_is_value(xa_load(&t->ids, LEAF_IDS)));
	KUNIT_EXPECT_NULL(test, xa_load(&t->ids, 0));
	KUNIT_EXPECT_NULL(test, peek(t, 3, LEAF_IDS, VMCI_RESOURCE_TYPE_ANY));
	KUNIT_EXPECT_NULL(test, peek(t, VMCI_INVALID_ID, LEAF_IDS, VMCI_RESOURCE_TYPE_ANY));
	KUNIT_EXPECT_EQ(test, add_dynamic(t, res, 3), LEAF_IDS + 2);
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, res));
	vmci_resource_table_destroy(t);
}

/*
 * The placeholder's ID stays usable: a handle registered there explicitly
 * replaces it, and a full dynamic range hands it out as its last free ID.
 */
static void placeholder_gives_way(struct kunit *test)
{
	struct vmci_resource_table *t = new_table(test, 2 * LEAF_IDS, 2 * LEAF_IDS + 3);
	struct vmci_resource *res[5], *fixed = new_res(test);
	u32 leaf = 2 * LEAF_IDS;
	int i;

	for (i = 0; i < ARRAY_SIZE(res); i++)
		res[i] = new_res(test);
	KUNIT_ASSERT_EQ(test, add_dynamic(t, res[0], 3), leaf);
	KUNIT_ASSERT_EQ(test, add_dynamic(t, res[1], 3), leaf + 1);
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, res[0]));
	/* The next dynamic add leaves the placeholder at the freed first ID. */
	KUNIT_ASSERT_EQ(test, add_dynamic(t, res[2], 3), leaf + 2);
	KUNIT_ASSERT_TRUE(test, xa_is_value(xa_load(&t->ids, leaf)));

	KUNIT_EXPECT_EQ(test, vmci_resource_table_add(t, fixed, VMCI_RESOURCE_TYPE_DOORBELL,
						      vmci_make_handle(5, leaf)),
			VMCI_SUCCESS);
	KUNIT_EXPECT_PTR_EQ(test, peek(t, 5, leaf, VMCI_RESOURCE_TYPE_DOORBELL), fixed);
	KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, fixed));

	/* Placed again, then the only free ID of a full range. */
	KUNIT_ASSERT_EQ(test, add_dynamic(t, res[3], 3), leaf + 3);
	KUNIT_ASSERT_TRUE(test, xa_is_value(xa_load(&t->ids, leaf)));
	KUNIT_EXPECT_EQ(test, add_dynamic(t, res[4], 3), leaf);
	KUNIT_EXPECT_PTR_EQ(test, peek(t, 3, leaf, VMCI_RESOURCE_TYPE_DATAGRAM), res[4]);
	KUNIT_EXPECT_EQ(test, add_dynamic(t, res[0], 3), VMCI_INVALID_ID);

	for (i = 1; i < ARRAY_SIZE(res); i++)
		KUNIT_EXPECT_TRUE(test, vmci_resource_table_remove(t, res[i]));
	vmci_resource_table_destroy(t);
}

struct deferred_owner {
	struct vmci_resource res;
	struct completion released;
};

static void deferred_release(struct vmci_resource *res)
{
	complete(&container_of(res, struct deferred_owner, res)->released);
}

/*
 * A deferred remove frees the handle at once but calls the owner back
 * only after every reference is gone. The owner is freed by KUnit, after
 * its release was seen.
 */
static void deferred_remove_unlinks_now_releases_later(struct kunit *test)
{
	struct deferred_owner *own = kunit_kzalloc(test, sizeof(*own), GFP_KERNEL);
	struct vmci_resource *other = new_res(test);
	struct vmci_resource *ref;
	struct vmci_handle h;

	KUNIT_ASSERT_NOT_NULL(test, own);
	init_completion(&own->released);
	KUNIT_ASSERT_EQ(test, vmci_resource_add(&own->res, VMCI_RESOURCE_TYPE_DOORBELL,
						vmci_make_handle(VMCI_HOST_CONTEXT_ID,
								 VMCI_INVALID_ID)),
			VMCI_SUCCESS);
	h = vmci_resource_handle(&own->res);
	ref = vmci_resource_by_handle(h, VMCI_RESOURCE_TYPE_DOORBELL);
	KUNIT_ASSERT_PTR_EQ(test, ref, &own->res);

	vmci_resource_remove_deferred(&own->res, deferred_release);
	KUNIT_EXPECT_NULL(test, vmci_resource_by_handle(h, VMCI_RESOURCE_TYPE_ANY));
	/* The handle is free for a new owner before the old one is released. */
	KUNIT_EXPECT_EQ(test, vmci_resource_add(other, VMCI_RESOURCE_TYPE_DOORBELL, h),
			VMCI_SUCCESS);

	KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(&own->released,
							  msecs_to_jiffies(300)), 0UL);
	vmci_resource_put(ref);
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&own->released, 10 * HZ), 0UL);
	vmci_resource_remove(other);
}

/* @n owners, each a doorbell with a dynamic handle in the driver's table. */
static void add_deferred_owners(struct kunit *test, struct deferred_owner **own,
				unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		own[i] = kunit_kzalloc(test, sizeof(*own[i]), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, own[i]);
		init_completion(&own[i]->released);
		KUNIT_ASSERT_EQ(test, vmci_resource_add(&own[i]->res, VMCI_RESOURCE_TYPE_DOORBELL,
							vmci_make_handle(VMCI_HOST_CONTEXT_ID,
									 VMCI_INVALID_ID)),
				VMCI_SUCCESS);
	}
}

typedef void (*deferred_remove_fn)(struct vmci_resource *res,
				   void (*release)(struct vmci_resource *res));

/* @n owners added, the first held by a lookup, all removed by @remove. */
static struct vmci_resource *hold_first_remove_all(struct kunit *test,
						   struct deferred_owner **own, unsigned int n,
						   deferred_remove_fn remove)
{
	struct vmci_resource *ref;
	unsigned int i;

	add_deferred_owners(test, own, n);
	ref = vmci_resource_by_handle(vmci_resource_handle(&own[0]->res),
				      VMCI_RESOURCE_TYPE_DOORBELL);
	KUNIT_ASSERT_PTR_EQ(test, ref, &own[0]->res);
	for (i = 0; i < n; i++)
		remove(&own[i]->res, deferred_release);
	return ref;
}

/*
 * Deferred removes whose grace periods end together are released by one
 * worker run. An entry a lookup still holds must not hold up the others:
 * they are released while it is held, and it is released after the put.
 */
static void deferred_held_entry_delays_only_itself(struct kunit *test)
{
	struct deferred_owner *own[8];
	struct vmci_resource *ref;
	unsigned int i;

	/* The first one is held, and removed first: at the head of its batch. */
	ref = hold_first_remove_all(test, own, ARRAY_SIZE(own), vmci_resource_remove_deferred);

	for (i = 1; i < ARRAY_SIZE(own); i++)
		KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&own[i]->released, 10 * HZ),
				0UL);
	KUNIT_EXPECT_FALSE(test, completion_done(&own[0]->released));
	vmci_resource_put(ref);
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&own[0]->released, 10 * HZ), 0UL);
	/* Nothing of this test is left for the barrier to wait for. */
	vmci_resource_barrier();
}

/*
 * The atomic variant releases an entry nobody holds in the grace period's
 * callback, and must still leave one a lookup holds alone until the put:
 * the callback may drop the table's reference only if it is the last.
 */
static void deferred_atomic_waits_for_holder(struct kunit *test)
{
	struct deferred_owner *own[2];
	struct vmci_resource *ref;

	ref = hold_first_remove_all(test, own, ARRAY_SIZE(own),
				    vmci_resource_remove_deferred_atomic);
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&own[1]->released, 10 * HZ), 0UL);
	/* Its grace period is over and the worker had time: still waiting. */
	rcu_barrier();
	msleep(100);
	KUNIT_EXPECT_FALSE(test, completion_done(&own[0]->released));
	vmci_resource_put(ref);
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&own[0]->released, 10 * HZ), 0UL);
	vmci_resource_barrier();
}

/* One-shot test threads park here so kthread_stop() can reap them. */
static void idle_until_stopped(void)
{
	set_current_state(TASK_INTERRUPTIBLE);
	while (!kthread_should_stop()) {
		schedule();
		set_current_state(TASK_INTERRUPTIBLE);
	}
	__set_current_state(TASK_RUNNING);
}

struct remover {
	struct vmci_resource_table *t;
	struct vmci_resource *res;
	struct completion returned;
	bool removed;
};

static int remover_thread(void *arg)
{
	struct remover *rm = arg;

	rm->removed = vmci_resource_table_remove(rm->t, rm->res);
	complete(&rm->returned);
	idle_until_stopped();
	return 0;
}

static void remove_waits_for_outstanding_reference(struct kunit *test)
{
	struct vmci_resource_table *t = new_table(test, FIRST_DYNAMIC, 2047);
	struct vmci_resource *res = new_res(test);
	struct remover *rm = kunit_kzalloc(test, sizeof(*rm), GFP_KERNEL);
	struct vmci_resource *ref;
	struct task_struct *task;
	unsigned long deadline;

	KUNIT_ASSERT_NOT_NULL(test, rm);
	KUNIT_ASSERT_EQ(test, vmci_resource_table_add(t, res, VMCI_RESOURCE_TYPE_DATAGRAM,
						      vmci_make_handle(5, 2000)),
			VMCI_SUCCESS);
	ref = vmci_resource_table_lookup(t, vmci_make_handle(5, 2000),
					 VMCI_RESOURCE_TYPE_DATAGRAM);
	KUNIT_ASSERT_PTR_EQ(test, ref, res);

	rm->t = t;
	rm->res = res;
	init_completion(&rm->returned);
	task = kthread_run(remover_thread, rm, "vmci-kunit-rm");
	if (IS_ERR(task)) {
		vmci_resource_put(ref);
		vmci_resource_table_remove(t, res);
		KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(task));
		return;
	}
	get_task_struct(task);

	/* Unpublished promptly even though we still hold a reference... */
	deadline = jiffies + 10 * HZ;
	while (peek(t, 5, 2000, VMCI_RESOURCE_TYPE_DATAGRAM) && time_before(jiffies, deadline))
		usleep_range(5000, 10000);
	KUNIT_EXPECT_NULL(test, peek(t, 5, 2000, VMCI_RESOURCE_TYPE_DATAGRAM));

	/* ...but remove must not return until that reference is put. */
	KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(&rm->returned,
							  msecs_to_jiffies(300)), 0UL);
	vmci_resource_put(ref);
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&rm->returned, 10 * HZ), 0UL);
	KUNIT_EXPECT_TRUE(test, rm->removed);

	kthread_stop(task);
	put_task_struct(task);
	vmci_resource_table_destroy(t);
}

#define STRESS_RIDS	4
#define STRESS_RID_BASE	5000U
#define STRESS_CONTEXT	10U
#define STRESS_MAGIC	0x5eed1e55U
#define STRESS_TIME_MS	1000

/* Writers free these right after remove; KASAN sees any late reader. */
struct stress_obj {
	struct vmci_resource res;
	u32 magic;
};

struct stress {
	struct vmci_resource_table *t;
	atomic_t errors;
	atomic_long_t hits;
	atomic_long_t rounds;
};

struct stress_writer {
	struct stress *s;
	u32 context;
	u32 rid_base;	/* a wildcard claims its IDs in every context: own range */
};

static struct stress_obj *stress_add(struct stress_writer *w, u32 rid)
{
	struct stress_obj *obj = kzalloc(sizeof(*obj), GFP_KERNEL);
	int result;

	if (!obj)
		return NULL;
	obj->magic = STRESS_MAGIC;
	result = vmci_resource_table_add(w->s->t, &obj->res, VMCI_RESOURCE_TYPE_DATAGRAM,
					 vmci_make_handle(w->context, rid));
	if (result != VMCI_SUCCESS) {
		atomic_inc(&w->s->errors);
		kfree(obj);
		return NULL;
	}
	return obj;
}

static int stress_writer_thread(void *arg)
{
	struct stress_writer *w = arg;
	struct stress *s = w->s;
	struct stress_obj *objs[STRESS_RIDS + 1];
	int i, n;

	while (!kthread_should_stop()) {
		for (n = 0; n <= STRESS_RIDS; n++) {
			/* The last one takes a dynamic ID. */
			objs[n] = stress_add(w, n < STRESS_RIDS ? w->rid_base + n :
								  VMCI_INVALID_ID);
			if (!objs[n])
				break;
		}
		cond_resched();
		for (i = 0; i < n; i++) {
			if (!vmci_resource_table_remove(s->t, &objs[i]->res))
				atomic_inc(&s->errors);
			objs[i]->magic = 0;
			kfree(objs[i]);
		}
		atomic_long_inc(&s->rounds);
	}
	return 0;
}

struct stress_reader {
	struct stress *s;
	bool slow;	/* keeps each reference for longer than a grace period */
};

/*
 * Holds a reference across a reschedule or a sleep: the window in which a
 * remove that did not wait for it would let the writer free the object.
 */
static void stress_hold(const struct stress_reader *rd)
{
	if (rd->slow)
		usleep_range(20000, 30000);
	else
		cond_resched();
}

static int stress_reader_thread(void *arg)
{
	struct stress_reader *rd = arg;
	struct stress *s = rd->s;
	u32 contexts[] = { STRESS_CONTEXT, STRESS_CONTEXT + 1 };
	unsigned int i = 0;

	while (!kthread_should_stop()) {
		u32 context = contexts[i % ARRAY_SIZE(contexts)];
		u32 rid = STRESS_RID_BASE + (i / ARRAY_SIZE(contexts)) % (2 * STRESS_RIDS);
		struct vmci_resource *r;
		struct stress_obj *obj;

		r = vmci_resource_table_lookup(s->t, vmci_make_handle(context, rid),
					       i & 4 ? VMCI_RESOURCE_TYPE_ANY :
						       VMCI_RESOURCE_TYPE_DATAGRAM);
		if (r) {
			obj = container_of(r, struct stress_obj, res);
			if (r->handle.resource != rid ||
			    (r->handle.context != context && r->handle.context != VMCI_INVALID_ID))
				atomic_inc(&s->errors);
			stress_hold(rd);
			if (READ_ONCE(obj->magic) != STRESS_MAGIC)
				atomic_inc(&s->errors);
			atomic_long_inc(&s->hits);
			vmci_resource_put(r);
		}
		i++;
		cond_resched();
	}
	return 0;
}

static void lookup_races_remove_and_readd(struct kunit *test)
{
	struct vmci_resource_table *t = new_table(test, FIRST_DYNAMIC, 2047);
	struct stress *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	struct stress_writer writers[2];
	struct stress_reader readers[2];
	struct task_struct *tasks[ARRAY_SIZE(writers) + ARRAY_SIZE(readers)];
	int started = 0, i;

	KUNIT_ASSERT_NOT_NULL(test, s);
	s->t = t;
	/* One writer registers exact handles, the other wildcards; readers ask for both. */
	writers[0] = (struct stress_writer){ .s = s, .context = STRESS_CONTEXT,
					     .rid_base = STRESS_RID_BASE };
	writers[1] = (struct stress_writer){ .s = s, .context = VMCI_INVALID_ID,
					     .rid_base = STRESS_RID_BASE + STRESS_RIDS };
	readers[0] = (struct stress_reader){ .s = s, .slow = false };
	readers[1] = (struct stress_reader){ .s = s, .slow = true };

	for (i = 0; i < ARRAY_SIZE(tasks); i++) {
		struct task_struct *task;

		if (i < ARRAY_SIZE(writers))
			task = kthread_run(stress_writer_thread, &writers[i], "vmci-kunit-w%d", i);
		else
			task = kthread_run(stress_reader_thread, &readers[i - ARRAY_SIZE(writers)],
					   "vmci-kunit-r%d", i);
		if (IS_ERR(task)) {
			KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(task));
			break;
		}
		get_task_struct(task);
		tasks[started++] = task;
	}

	msleep(STRESS_TIME_MS);
	for (i = 0; i < started; i++) {
		kthread_stop(tasks[i]);
		put_task_struct(tasks[i]);
	}

	KUNIT_EXPECT_EQ(test, atomic_read(&s->errors), 0);
	KUNIT_EXPECT_GT(test, atomic_long_read(&s->rounds), 0L);
	KUNIT_EXPECT_GT(test, atomic_long_read(&s->hits), 0L);
	kunit_info(test, "%ld writer rounds, %ld lookups hit\n",
		   atomic_long_read(&s->rounds), atomic_long_read(&s->hits));
	vmci_resource_table_destroy(t);
}

static struct kunit_case vmci_resource_cases[] = {
	KUNIT_CASE(add_lookup_remove_round_trip),
	KUNIT_CASE(lookup_needs_matching_type_and_context),
	KUNIT_CASE(wildcard_matches_any_context_and_claims_its_id),
	KUNIT_CASE(explicit_duplicate_already_exists),
	KUNIT_CASE(invalid_arguments_are_refused),
	KUNIT_CASE(remove_touches_only_its_own_entry),
	KUNIT_CASE(dynamic_ids_start_at_first_and_skip_used),
	KUNIT_CASE(dynamic_ids_wrap_and_skip_invalid_id),
	KUNIT_CASE(tiny_range_runs_out_and_recovers),
	KUNIT_CASE(global_table_hands_out_unreserved_ids),
	KUNIT_CASE(ten_thousand_entries),
	KUNIT_CASE(dynamic_ids_skip_ids_bound_ahead),
	KUNIT_CASE(newest_leaf_outlives_its_last_entry),
	KUNIT_CASE(placeholder_gives_way),
	KUNIT_CASE(remove_waits_for_outstanding_reference),
	KUNIT_CASE(deferred_remove_unlinks_now_releases_later),
	KUNIT_CASE(deferred_held_entry_delays_only_itself),
	KUNIT_CASE(deferred_atomic_waits_for_holder),
	KUNIT_CASE(lookup_races_remove_and_readd),
	{}
};

static struct kunit_suite vmci_resource_suite = {
	.name = "vmci_resource",
	.test_cases = vmci_resource_cases,
};

kunit_test_suite(vmci_resource_suite);
