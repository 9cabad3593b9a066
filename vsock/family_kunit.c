// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/delay.h>
#include <linux/socket.h>
#include <linux/workqueue.h>

#include "family.h"

/*
 * A stand-in for the kernel's family table: @taken are numbers other
 * protocols hold, @mine the one the code under test registered.
 */
struct fake_table {
	struct kunit *test;
	DECLARE_BITMAP(taken, AF_MAX);
	int mine;
	int fail_with;		/* non-zero: every claim fails with it */
	int tried[2 * AF_MAX];
	unsigned int ntried;
	unsigned int releases;
};

static int fake_claim(void *ctx, int af)
{
	struct fake_table *t = ctx;

	/* Called under the family lock: record failures, never abort here. */
	KUNIT_EXPECT_LT(t->test, t->ntried, ARRAY_SIZE(t->tried));
	if (t->ntried >= ARRAY_SIZE(t->tried))
		return -EEXIST;
	t->tried[t->ntried++] = af;
	KUNIT_EXPECT_GT(t->test, af, AF_UNSPEC);
	KUNIT_EXPECT_LT(t->test, af, AF_MAX);
	KUNIT_EXPECT_EQ(t->test, t->mine, VMSOCK_AF_NONE);
	if (t->fail_with)
		return t->fail_with;
	if (test_bit(af, t->taken))
		return -EEXIST;
	t->mine = af;
	return 0;
}

static void fake_release(void *ctx, int af)
{
	struct fake_table *t = ctx;

	KUNIT_EXPECT_EQ(t->test, af, t->mine);
	t->mine = VMSOCK_AF_NONE;
	t->releases++;
}

static const struct vmsock_family_ops fake_ops = {
	.claim = fake_claim,
	.release = fake_release,
};

static struct fake_table *fake_table_new(struct kunit *test)
{
	struct fake_table *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, t);
	t->test = test;
	t->mine = VMSOCK_AF_NONE;
	return t;
}

static void fake_take_all(struct fake_table *t)
{
	bitmap_fill(t->taken, AF_MAX);
}

static const struct vmsock_af_policy auto_policy = {
	.pinned = VMSOCK_AF_AUTO,
	.prefer_vsock = true,
};

static const struct vmsock_af_policy no_vsock_policy = {
	.pinned = VMSOCK_AF_AUTO,
	.prefer_vsock = false,
};

/* The documented order; restated so a reordering is a conscious change. */
static const int unused_order[] = {
	13, 18, 22, 14, 19, 4, 23, 12, 25, 32,
};

static void choose_prefers_af_vsock(struct kunit *test)
{
	struct fake_table *t = fake_table_new(test);

	KUNIT_EXPECT_EQ(test, vmsock_af_choose(&auto_policy, fake_claim, t), AF_VSOCK);
	KUNIT_EXPECT_EQ(test, t->ntried, 1U);
}

static void choose_tries_unused_families_in_order(struct kunit *test)
{
	struct fake_table *t = fake_table_new(test);
	unsigned int i;

	__set_bit(AF_VSOCK, t->taken);
	for (i = 0; i < ARRAY_SIZE(unused_order) - 1; i++)
		__set_bit(unused_order[i], t->taken);

	KUNIT_EXPECT_EQ(test, vmsock_af_choose(&auto_policy, fake_claim, t),
			unused_order[ARRAY_SIZE(unused_order) - 1]);
	KUNIT_ASSERT_EQ(test, t->ntried, 1 + ARRAY_SIZE(unused_order));
	KUNIT_EXPECT_EQ(test, t->tried[0], AF_VSOCK);
	for (i = 0; i < ARRAY_SIZE(unused_order); i++)
		KUNIT_EXPECT_EQ(test, t->tried[1 + i], unused_order[i]);
}

static void choose_first_unused_when_af_vsock_taken(struct kunit *test)
{
	struct fake_table *t = fake_table_new(test);

	__set_bit(AF_VSOCK, t->taken);
	KUNIT_EXPECT_EQ(test, vmsock_af_choose(&auto_policy, fake_claim, t), AF_NETBEUI);
	KUNIT_EXPECT_EQ(test, t->ntried, 2U);
}

static void choose_scans_down_last(struct kunit *test)
{
	struct fake_table *t = fake_table_new(test);
	unsigned int i;

	__set_bit(AF_VSOCK, t->taken);
	for (i = 0; i < ARRAY_SIZE(unused_order); i++)
		__set_bit(unused_order[i], t->taken);
	for (i = AF_MAX - 1; i > AF_VSOCK; i--)
		__set_bit(i, t->taken);
	__set_bit(AF_NFC, t->taken);

	/* 45..41 taken, 40 already tried, 39 taken: the scan lands on 38. */
	KUNIT_EXPECT_EQ(test, vmsock_af_choose(&auto_policy, fake_claim, t), AF_ALG);
	KUNIT_ASSERT_EQ(test, t->ntried, 1 + ARRAY_SIZE(unused_order) + 7);
	KUNIT_EXPECT_EQ(test, t->tried[1 + ARRAY_SIZE(unused_order)], AF_MAX - 1);
	KUNIT_EXPECT_EQ(test, t->tried[t->ntried - 2], AF_NFC);
}

static void choose_tries_each_number_once_then_gives_up(struct kunit *test)
{
	struct fake_table *t = fake_table_new(test);
	DECLARE_BITMAP(seen, AF_MAX);
	unsigned int i;

	bitmap_zero(seen, AF_MAX);
	fake_take_all(t);
	KUNIT_EXPECT_EQ(test, vmsock_af_choose(&auto_policy, fake_claim, t), -EAFNOSUPPORT);
	/* Every number but AF_UNSPEC, each once. */
	KUNIT_ASSERT_EQ(test, t->ntried, (unsigned int)AF_MAX - 1);
	for (i = 0; i < t->ntried; i++) {
		KUNIT_EXPECT_FALSE(test, test_bit(t->tried[i], seen));
		__set_bit(t->tried[i], seen);
	}
	KUNIT_EXPECT_FALSE(test, test_bit(AF_UNSPEC, seen));
}

static void choose_without_preference_leaves_af_vsock(struct kunit *test)
{
	struct fake_table *t = fake_table_new(test);
	unsigned int i;

	KUNIT_EXPECT_EQ(test, vmsock_af_choose(&no_vsock_policy, fake_claim, t), AF_NETBEUI);

	t = fake_table_new(test);
	fake_take_all(t);
	__clear_bit(AF_VSOCK, t->taken);
	KUNIT_EXPECT_EQ(test, vmsock_af_choose(&no_vsock_policy, fake_claim, t), -EAFNOSUPPORT);
	for (i = 0; i < t->ntried; i++)
		KUNIT_EXPECT_NE(test, t->tried[i], AF_VSOCK);
}

static void choose_pinned_number_only(struct kunit *test)
{
	struct vmsock_af_policy pinned = { .pinned = AF_SECURITY, .prefer_vsock = true };
	struct fake_table *t = fake_table_new(test);

	KUNIT_EXPECT_EQ(test, vmsock_af_choose(&pinned, fake_claim, t), AF_SECURITY);
	KUNIT_EXPECT_EQ(test, t->ntried, 1U);

	t = fake_table_new(test);
	pinned.pinned = AF_NETLINK;
	__set_bit(AF_NETLINK, t->taken);
	KUNIT_EXPECT_EQ(test, vmsock_af_choose(&pinned, fake_claim, t), -EAFNOSUPPORT);
	KUNIT_EXPECT_EQ(test, t->ntried, 1U);

	t = fake_table_new(test);
	pinned.pinned = AF_VSOCK;
	pinned.prefer_vsock = false;
	KUNIT_EXPECT_EQ(test, vmsock_af_choose(&pinned, fake_claim, t), AF_VSOCK);
}

static void choose_stops_on_other_errors(struct kunit *test)
{
	struct fake_table *t = fake_table_new(test);

	t->fail_with = -ENOMEM;
	KUNIT_EXPECT_EQ(test, vmsock_af_choose(&auto_policy, fake_claim, t), -ENOMEM);
	KUNIT_EXPECT_EQ(test, t->ntried, 1U);
}

static void registers_at_load_only_for_af_vsock(struct kunit *test)
{
	struct vmsock_af_policy p = auto_policy;

	KUNIT_EXPECT_TRUE(test, vmsock_af_registers_at_load(&p));
	p.pinned = AF_VSOCK;
	KUNIT_EXPECT_TRUE(test, vmsock_af_registers_at_load(&p));
	p.pinned = AF_SECURITY;
	KUNIT_EXPECT_FALSE(test, vmsock_af_registers_at_load(&p));
	p.pinned = AF_VSOCK;
	p.prefer_vsock = false;
	KUNIT_EXPECT_FALSE(test, vmsock_af_registers_at_load(&p));
}

static struct vmsock_family *family_new(struct kunit *test, struct fake_table *t,
					const struct vmsock_af_policy *policy)
{
	struct vmsock_family *fam = kunit_kzalloc(test, sizeof(*fam), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, fam);
	vmsock_family_init(fam, &fake_ops, t, policy);
	return fam;
}

/* The family and the fake table must always tell the same story. */
static void expect_registered(struct kunit *test, struct vmsock_family *fam,
			      struct fake_table *t, int af)
{
	KUNIT_EXPECT_EQ(test, vmsock_family_current(fam), af);
	KUNIT_EXPECT_EQ(test, t->mine, af);
}

static void family_fds_share_one_number(struct kunit *test)
{
	struct fake_table *t = fake_table_new(test);
	struct vmsock_family *fam = family_new(test, t, &no_vsock_policy);
	void *fd1 = NULL, *fd2 = NULL;

	expect_registered(test, fam, t, VMSOCK_AF_NONE);
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_fd(fam, &fd1), AF_NETBEUI);
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_fd(fam, &fd2), AF_NETBEUI);
	/* Asking twice on one fd is still one hold. */
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_fd(fam, &fd1), AF_NETBEUI);
	KUNIT_EXPECT_EQ(test, t->ntried, 1U);
	KUNIT_EXPECT_EQ(test, fam->fd_holds, 2U);

	vmsock_family_put_fd(fam, &fd1);
	expect_registered(test, fam, t, AF_NETBEUI);
	vmsock_family_put_fd(fam, &fd1);	/* no hold left: nothing happens */
	expect_registered(test, fam, t, AF_NETBEUI);
	vmsock_family_put_fd(fam, &fd2);
	expect_registered(test, fam, t, VMSOCK_AF_NONE);
	KUNIT_EXPECT_EQ(test, t->releases, 1U);

	/* A second reservation after the release works again. */
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_fd(fam, &fd2), AF_NETBEUI);
	vmsock_family_put_fd(fam, &fd2);
	KUNIT_EXPECT_EQ(test, t->releases, 2U);
	vmsock_family_shutdown(fam);
}

static void family_socket_outlives_fd(struct kunit *test)
{
	struct fake_table *t = fake_table_new(test);
	struct vmsock_family *fam = family_new(test, t, &auto_policy);
	void *fd = NULL;

	KUNIT_EXPECT_EQ(test, vmsock_family_hold_fd(fam, &fd), AF_VSOCK);
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_socket(fam), AF_VSOCK);
	vmsock_family_put_fd(fam, &fd);
	expect_registered(test, fam, t, AF_VSOCK);

	vmsock_family_put_socket(fam);
	flush_delayed_work(&fam->release_work);
	expect_registered(test, fam, t, VMSOCK_AF_NONE);
	KUNIT_EXPECT_EQ(test, t->releases, 1U);
	vmsock_family_shutdown(fam);
}

static void family_fd_outlives_socket(struct kunit *test)
{
	struct fake_table *t = fake_table_new(test);
	struct vmsock_family *fam = family_new(test, t, &auto_policy);
	void *fd = NULL;

	KUNIT_EXPECT_EQ(test, vmsock_family_hold_fd(fam, &fd), AF_VSOCK);
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_socket(fam), AF_VSOCK);
	vmsock_family_put_socket(fam);
	flush_delayed_work(&fam->release_work);
	expect_registered(test, fam, t, AF_VSOCK);
	vmsock_family_put_fd(fam, &fd);
	expect_registered(test, fam, t, VMSOCK_AF_NONE);
	vmsock_family_shutdown(fam);
}

/* Open, ask, close in a loop: one registration, kept until the linger ends. */
static void family_lingers_after_last_hold(struct kunit *test)
{
	struct fake_table *t = fake_table_new(test);
	struct vmsock_family *fam = family_new(test, t, &auto_policy);
	unsigned int i;
	void *fd;

	fam->linger = 3600 * HZ;
	for (i = 0; i < 100; i++) {
		fd = NULL;
		KUNIT_EXPECT_EQ(test, vmsock_family_hold_fd(fam, &fd), AF_VSOCK);
		vmsock_family_put_fd(fam, &fd);
	}
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_socket(fam), AF_VSOCK);
	vmsock_family_put_socket(fam);
	expect_registered(test, fam, t, AF_VSOCK);
	KUNIT_EXPECT_EQ(test, t->releases, 0U);

	/* Once the linger has passed the number goes. */
	fam->linger = 1;
	fd = NULL;
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_fd(fam, &fd), AF_VSOCK);
	vmsock_family_put_fd(fam, &fd);
	for (i = 0; i < 100 && vmsock_family_current(fam) != VMSOCK_AF_NONE; i++) {
		msleep(20);
		flush_delayed_work(&fam->release_work);
	}
	expect_registered(test, fam, t, VMSOCK_AF_NONE);
	KUNIT_EXPECT_EQ(test, t->releases, 1U);
	vmsock_family_shutdown(fam);
}

static void family_socket_needs_a_reservation(struct kunit *test)
{
	struct fake_table *t = fake_table_new(test);
	struct vmsock_family *fam = family_new(test, t, &auto_policy);

	KUNIT_EXPECT_EQ(test, vmsock_family_hold_socket(fam), -EAFNOSUPPORT);
	KUNIT_EXPECT_EQ(test, t->ntried, 0U);
	KUNIT_EXPECT_EQ(test, atomic_read(&fam->socket_holds), 0);
	vmsock_family_shutdown(fam);
}

static void family_module_hold_lasts_until_shutdown(struct kunit *test)
{
	struct fake_table *t = fake_table_new(test);
	struct vmsock_family *fam = family_new(test, t, &auto_policy);
	void *fd = NULL;

	KUNIT_EXPECT_EQ(test, vmsock_family_hold_for_module(fam, AF_VSOCK), 0);
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_fd(fam, &fd), AF_VSOCK);
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_socket(fam), AF_VSOCK);
	vmsock_family_put_fd(fam, &fd);
	vmsock_family_put_socket(fam);
	flush_delayed_work(&fam->release_work);
	expect_registered(test, fam, t, AF_VSOCK);

	vmsock_family_shutdown(fam);
	expect_registered(test, fam, t, VMSOCK_AF_NONE);
	KUNIT_EXPECT_EQ(test, t->releases, 1U);
}

static void family_module_hold_when_af_vsock_taken(struct kunit *test)
{
	struct fake_table *t = fake_table_new(test);
	struct vmsock_family *fam = family_new(test, t, &auto_policy);
	void *fd = NULL;

	__set_bit(AF_VSOCK, t->taken);
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_for_module(fam, AF_VSOCK), -EAFNOSUPPORT);
	expect_registered(test, fam, t, VMSOCK_AF_NONE);
	KUNIT_EXPECT_FALSE(test, fam->held_by_module);

	/* On demand it is then an ordinary, refcounted number. */
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_fd(fam, &fd), AF_NETBEUI);
	vmsock_family_put_fd(fam, &fd);
	expect_registered(test, fam, t, VMSOCK_AF_NONE);
	vmsock_family_shutdown(fam);
}

static void family_failed_reservation_leaves_nothing(struct kunit *test)
{
	struct fake_table *t = fake_table_new(test);
	struct vmsock_family *fam = family_new(test, t, &auto_policy);
	void *fd = NULL;

	/* Probe every time; family_remembers_numbers_in_use covers the rest. */
	fam->recheck_interval = 0;
	fake_take_all(t);
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_fd(fam, &fd), -EAFNOSUPPORT);
	KUNIT_EXPECT_PTR_EQ(test, fd, NULL);
	KUNIT_EXPECT_EQ(test, fam->fd_holds, 0U);
	expect_registered(test, fam, t, VMSOCK_AF_NONE);
	vmsock_family_put_fd(fam, &fd);
	KUNIT_EXPECT_EQ(test, t->releases, 0U);

	t->fail_with = -ENOMEM;
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_fd(fam, &fd), -ENOMEM);
	KUNIT_EXPECT_EQ(test, fam->fd_holds, 0U);

	/* Once a number frees up, the next request gets it. */
	t->fail_with = 0;
	__clear_bit(AF_ASH, t->taken);
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_fd(fam, &fd), AF_ASH);
	vmsock_family_put_fd(fam, &fd);
	expect_registered(test, fam, t, VMSOCK_AF_NONE);
	vmsock_family_shutdown(fam);
}

static void family_remembers_numbers_in_use(struct kunit *test)
{
	struct fake_table *t = fake_table_new(test);
	struct vmsock_family *fam = family_new(test, t, &auto_policy);
	void *fd = NULL;

	__set_bit(AF_VSOCK, t->taken);
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_fd(fam, &fd), AF_NETBEUI);
	vmsock_family_put_fd(fam, &fd);
	KUNIT_EXPECT_EQ(test, t->ntried, 2U);

	/* Found in use a moment ago: not probed, so not logged, again. */
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_fd(fam, &fd), AF_NETBEUI);
	vmsock_family_put_fd(fam, &fd);
	KUNIT_ASSERT_EQ(test, t->ntried, 3U);
	KUNIT_EXPECT_EQ(test, t->tried[2], AF_NETBEUI);

	/* Nothing free: the first request probes everything, the next nothing. */
	fake_take_all(t);
	t->ntried = 0;
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_fd(fam, &fd), -EAFNOSUPPORT);
	KUNIT_EXPECT_EQ(test, t->ntried, (unsigned int)AF_MAX - 2);
	t->ntried = 0;
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_fd(fam, &fd), -EAFNOSUPPORT);
	KUNIT_EXPECT_EQ(test, t->ntried, 0U);

	/* After the interval, AF_VSOCK comes first again. */
	fam->recheck_interval = 0;
	__clear_bit(AF_VSOCK, t->taken);
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_fd(fam, &fd), AF_VSOCK);
	KUNIT_EXPECT_EQ(test, t->tried[0], AF_VSOCK);
	vmsock_family_put_fd(fam, &fd);
	vmsock_family_shutdown(fam);
}

/*
 * The last socket's deferred release racing a new holder: whichever runs
 * first, the number ends up registered exactly when someone holds it.
 */
static void family_deferred_release_races_new_holder(struct kunit *test)
{
	struct fake_table *t = fake_table_new(test);
	struct vmsock_family *fam = family_new(test, t, &no_vsock_policy);
	void *fd = NULL;
	int i;

	for (i = 0; i < 50; i++) {
		KUNIT_ASSERT_EQ(test, vmsock_family_hold_fd(fam, &fd), AF_NETBEUI);
		KUNIT_ASSERT_EQ(test, vmsock_family_hold_socket(fam), AF_NETBEUI);
		vmsock_family_put_fd(fam, &fd);
		vmsock_family_put_socket(fam);	/* queues the release */
		KUNIT_ASSERT_EQ(test, vmsock_family_hold_fd(fam, &fd), AF_NETBEUI);
		flush_delayed_work(&fam->release_work);
		expect_registered(test, fam, t, AF_NETBEUI);
		vmsock_family_put_fd(fam, &fd);
		expect_registered(test, fam, t, VMSOCK_AF_NONE);
	}
	vmsock_family_shutdown(fam);
}

static void family_shutdown_releases_unconditionally(struct kunit *test)
{
	struct fake_table *t = fake_table_new(test);
	struct vmsock_family *fam = family_new(test, t, &auto_policy);

	vmsock_family_shutdown(fam);
	KUNIT_EXPECT_EQ(test, t->releases, 0U);

	fam = family_new(test, t, &auto_policy);
	KUNIT_EXPECT_EQ(test, vmsock_family_hold_for_module(fam, AF_VSOCK), 0);
	vmsock_family_shutdown(fam);
	expect_registered(test, fam, t, VMSOCK_AF_NONE);
	KUNIT_EXPECT_EQ(test, t->releases, 1U);
}

static struct kunit_case vmsock_family_cases[] = {
	KUNIT_CASE(choose_prefers_af_vsock),
	KUNIT_CASE(choose_tries_unused_families_in_order),
	KUNIT_CASE(choose_first_unused_when_af_vsock_taken),
	KUNIT_CASE(choose_scans_down_last),
	KUNIT_CASE(choose_tries_each_number_once_then_gives_up),
	KUNIT_CASE(choose_without_preference_leaves_af_vsock),
	KUNIT_CASE(choose_pinned_number_only),
	KUNIT_CASE(choose_stops_on_other_errors),
	KUNIT_CASE(registers_at_load_only_for_af_vsock),
	KUNIT_CASE(family_fds_share_one_number),
	KUNIT_CASE(family_socket_outlives_fd),
	KUNIT_CASE(family_fd_outlives_socket),
	KUNIT_CASE(family_lingers_after_last_hold),
	KUNIT_CASE(family_socket_needs_a_reservation),
	KUNIT_CASE(family_module_hold_lasts_until_shutdown),
	KUNIT_CASE(family_module_hold_when_af_vsock_taken),
	KUNIT_CASE(family_failed_reservation_leaves_nothing),
	KUNIT_CASE(family_remembers_numbers_in_use),
	KUNIT_CASE(family_deferred_release_races_new_holder),
	KUNIT_CASE(family_shutdown_releases_unconditionally),
	{}
};

static struct kunit_suite vmsock_family_suite = {
	.name = "vmsock_family",
	.test_cases = vmsock_family_cases,
};

kunit_test_suite(vmsock_family_suite);
