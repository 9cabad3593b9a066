// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <kunit/test.h>
#include <vmci/version_info.h>

#include "version.h"

static void version_word_packs_fields(struct kunit *test)
{
	/* VMware's classic vsock 9.8.1 reported 0x09080001. */
	KUNIT_EXPECT_EQ(test, vmsock_version_word(9, 8, 1), 0x09080001U);
	KUNIT_EXPECT_EQ(test, vmsock_version_word(0, 0, 0), 0U);
}

static void version_word_truncates_oversized_fields(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, vmsock_version_word(0x1FF, 0, 0), 0xFF000000U);
	KUNIT_EXPECT_EQ(test, vmsock_version_word(0, 0x1FF, 0), 0x00FF0000U);
	KUNIT_EXPECT_EQ(test, vmsock_version_word(0, 0, 0x1FFFF), 0x0000FFFFU);
}

static void driver_version_is_never_invalid(struct kunit *test)
{
	/* 0xFFFFFFFF is VMCI_SOCKETS_INVALID_VERSION to every caller. */
	KUNIT_EXPECT_NE(test, vmsock_driver_version(), 0xFFFFFFFFU);
	KUNIT_EXPECT_EQ(test, vmsock_driver_version() >> 24,
			(u32)VMCI_VMSOCK_VERSION_MAJOR);
}

static struct kunit_case vmsock_version_cases[] = {
	KUNIT_CASE(version_word_packs_fields),
	KUNIT_CASE(version_word_truncates_oversized_fields),
	KUNIT_CASE(driver_version_is_never_invalid),
	{}
};

static struct kunit_suite vmsock_version_suite = {
	.name = "vmsock_version",
	.test_cases = vmsock_version_cases,
};

kunit_test_suite(vmsock_version_suite);
