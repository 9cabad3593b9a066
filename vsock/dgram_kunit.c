// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <kunit/test.h>
#include <linux/errno.h>
#include <linux/socket.h>
#include <linux/string.h>

#include <vmci/vmci_abi.h>

#include "addr.h"
#include "vmci_errno.h"

#define TEST_FAMILY	40

/* The sockaddr type the check takes became its own type in 7.x. */
static int addr_check_vm(const struct sockaddr_vm *svm, int len, int family)
{
	return vmsock_addr_check((const struct sockaddr_unsized *)svm, len, family);
}

static void addr_check_length(struct kunit *test)
{
	struct sockaddr_vm svm;

	vmsock_addr_init(&svm, TEST_FAMILY, VMADDR_CID_ANY, 1234);
	KUNIT_EXPECT_EQ(test, addr_check_vm(&svm, sizeof(svm), TEST_FAMILY), 0);
	/* Longer is fine (sockaddr_storage); one byte short is not. */
	KUNIT_EXPECT_EQ(test, addr_check_vm(&svm, sizeof(svm) + 8, TEST_FAMILY), 0);
	KUNIT_EXPECT_EQ(test, addr_check_vm(&svm, sizeof(svm) - 1, TEST_FAMILY), -EINVAL);
	KUNIT_EXPECT_EQ(test, addr_check_vm(&svm, 0, TEST_FAMILY), -EINVAL);
	KUNIT_EXPECT_EQ(test, addr_check_vm(&svm, -1, TEST_FAMILY), -EINVAL);
	KUNIT_EXPECT_EQ(test, vmsock_addr_check(NULL, sizeof(svm), TEST_FAMILY), -EINVAL);
}

static void addr_check_family(struct kunit *test)
{
	struct sockaddr_vm svm;

	vmsock_addr_init(&svm, AF_INET, 2, 1234);
	KUNIT_EXPECT_EQ(test, addr_check_vm(&svm, sizeof(svm), TEST_FAMILY), -EINVAL);
	vmsock_addr_init(&svm, AF_UNSPEC, 2, 1234);
	KUNIT_EXPECT_EQ(test, addr_check_vm(&svm, sizeof(svm), TEST_FAMILY), -EINVAL);
	/* The family is the socket's, whichever number it got. */
	vmsock_addr_init(&svm, 13, 2, 1234);
	KUNIT_EXPECT_EQ(test, addr_check_vm(&svm, sizeof(svm), 13), 0);
}

static void addr_init_zeroes(struct kunit *test)
{
	struct sockaddr_vm svm, want;

	memset(&svm, 0xa5, sizeof(svm));
	vmsock_addr_init(&svm, TEST_FAMILY, 7, 99);
	memset(&want, 0, sizeof(want));
	want.svm_family = TEST_FAMILY;
	want.svm_cid = 7;
	want.svm_port = 99;
	KUNIT_EXPECT_EQ(test, sizeof(svm), 16);
	KUNIT_EXPECT_EQ(test, memcmp(&svm, &want, sizeof(svm)), 0);
}

static void dgram_dst_allowed(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, vmsock_dgram_dst_allowed(VMADDR_CID_HYPERVISOR, 14));
	KUNIT_EXPECT_FALSE(test, vmsock_dgram_dst_allowed(VMADDR_CID_HYPERVISOR, 13));
	KUNIT_EXPECT_FALSE(test, vmsock_dgram_dst_allowed(VMADDR_CID_HYPERVISOR, 15));
	KUNIT_EXPECT_FALSE(test, vmsock_dgram_dst_allowed(VMADDR_CID_HYPERVISOR,
							  VMADDR_PORT_ANY));
	KUNIT_EXPECT_TRUE(test, vmsock_dgram_dst_allowed(VMADDR_CID_HOST, 1));
	KUNIT_EXPECT_TRUE(test, vmsock_dgram_dst_allowed(VMADDR_CID_LOCAL, 1024));
	KUNIT_EXPECT_TRUE(test, vmsock_dgram_dst_allowed(1000, 14));
}

static void vmci_errno_map(struct kunit *test)
{
	static const struct { int vmci, err; } cases[] = {
		{ VMCI_ERROR_NO_MEM, -ENOMEM },
		{ VMCI_ERROR_DUPLICATE_ENTRY, -EADDRINUSE },
		{ VMCI_ERROR_ALREADY_EXISTS, -EADDRINUSE },
		{ VMCI_ERROR_NO_ACCESS, -EPERM },
		{ VMCI_ERROR_NO_RESOURCES, -ENOBUFS },
		{ VMCI_ERROR_INVALID_RESOURCE, -EHOSTUNREACH },
		{ VMCI_ERROR_DST_UNREACHABLE, -EHOSTUNREACH },
		{ VMCI_ERROR_INVALID_ARGS, -EINVAL },
		{ VMCI_ERROR_GENERIC, -EINVAL },
		{ VMCI_ERROR_PAYLOAD_TOO_LARGE, -EINVAL },
		{ VMCI_ERROR_WOULD_BLOCK, -EINVAL },
		{ -1000, -EINVAL },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++)
		KUNIT_EXPECT_EQ_MSG(test, vmsock_vmci_errno(cases[i].vmci), cases[i].err,
				    "VMCI error %d", cases[i].vmci);
}

static struct kunit_case vmsock_dgram_cases[] = {
	KUNIT_CASE(addr_check_length),
	KUNIT_CASE(addr_check_family),
	KUNIT_CASE(addr_init_zeroes),
	KUNIT_CASE(dgram_dst_allowed),
	KUNIT_CASE(vmci_errno_map),
	{}
};

static struct kunit_suite vmsock_dgram_suite = {
	.name = "vmsock_dgram",
	.test_cases = vmsock_dgram_cases,
};

kunit_test_suite(vmsock_dgram_suite);
