// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit deferred actions for kernels before 6.5 (declared in compat.h):
 * a KUnit resource whose free callback runs the action. It runs at the
 * test's end, or at once on release; when it cannot be registered it runs
 * at once and the call fails, as kunit_add_action_or_reset() does.
 * Linked into vmci.ko for VMCI_KUNIT=y builds only.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <kunit/test.h>
#include <linux/slab.h>

#ifndef COMPAT_HAVE_KUNIT_ACTIONS
struct compat_kunit_action {
	kunit_action_t *fn;
	void *data;
};

static int compat_kunit_action_init(struct kunit_resource *res, void *context)
{
	res->data = context;
	return 0;
}

static void compat_kunit_action_free(struct kunit_resource *res)
{
	struct compat_kunit_action *a = res->data;

	a->fn(a->data);
	kfree(a);
}

int compat_kunit_add_action_or_reset(struct kunit *test, kunit_action_t *fn, void *data)
{
	struct compat_kunit_action *a = kmalloc(sizeof(*a), GFP_KERNEL);

	if (a) {
		a->fn = fn;
		a->data = data;
		if (kunit_alloc_resource(test, compat_kunit_action_init,
					 compat_kunit_action_free, GFP_KERNEL, a))
			return 0;
		kfree(a);
	}
	fn(data);
	return -ENOMEM;
}

static bool compat_kunit_action_match(struct kunit *test, struct kunit_resource *res,
				      void *match_data)
{
	const struct compat_kunit_action *want = match_data, *a = res->data;

	return res->free == compat_kunit_action_free && a->fn == want->fn &&
	       a->data == want->data;
}

void compat_kunit_release_action(struct kunit *test, kunit_action_t *fn, void *data)
{
	struct compat_kunit_action want = { fn, data };

	kunit_destroy_resource(test, compat_kunit_action_match, &want);
}
#endif
