// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <kunit/test.h>
#include <vmci/vmci_abi.h>

#include "version.h"

static void negotiate_current_vmx_gets_ours(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, vmci_negotiate_version(VMCI_VERSION), VMCI_VERSION);
	KUNIT_EXPECT_EQ(test, vmci_negotiate_version(VMCI_VERSION_NOTIFY), VMCI_VERSION);
	KUNIT_EXPECT_EQ(test, vmci_negotiate_version(VMCI_VERSION_HOSTQP), VMCI_VERSION);
}

static void negotiate_old_vmx_keeps_its_dialect(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, vmci_negotiate_version(VMCI_VERSION_PREVERS2),
			VMCI_VERSION_PREVERS2);
	KUNIT_EXPECT_EQ(test, vmci_negotiate_version(VMCI_VERSION_HOSTQP - 1),
			VMCI_VERSION_HOSTQP - 1);
}

static void negotiate_nonsense_gets_ours(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, vmci_negotiate_version(0), VMCI_VERSION);
	KUNIT_EXPECT_EQ(test, vmci_negotiate_version(U32_MAX), VMCI_VERSION);
}

static void reported_version_follows_negotiation(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, vmci_reported_version(0), VMCI_VERSION);
	KUNIT_EXPECT_EQ(test, vmci_reported_version(VMCI_VERSION_PREVERS2),
			VMCI_VERSION_PREVERS2);
}

static struct kunit_case vmci_version_cases[] = {
	KUNIT_CASE(negotiate_current_vmx_gets_ours),
	KUNIT_CASE(negotiate_old_vmx_keeps_its_dialect),
	KUNIT_CASE(negotiate_nonsense_gets_ours),
	KUNIT_CASE(reported_version_follows_negotiation),
	{}
};

static struct kunit_suite vmci_version_suite = {
	.name = "vmci_version",
	.test_cases = vmci_version_cases,
};

kunit_test_suite(vmci_version_suite);
