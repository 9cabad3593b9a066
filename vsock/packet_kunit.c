// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <kunit/test.h>
#include <linux/errno.h>
#include <linux/string.h>

#include "packet.h"

static void good_packet(struct vmsock_packet *pkt, u8 type)
{
	vmsock_packet_init(pkt, type, 1025, 2, 1026);
	/* As it arrives: the core filled in the sender's CID. */
	pkt->dg.src.context = 2;
	switch (type) {
	case VMSOCK_PKT_REQUEST:
	case VMSOCK_PKT_NEGOTIATE:
	case VMSOCK_PKT_REQUEST2:
	case VMSOCK_PKT_NEGOTIATE2:
		pkt->u.size = 65536;
		break;
	case VMSOCK_PKT_OFFER:
	case VMSOCK_PKT_ATTACH:
		pkt->u.handle = vmci_make_handle(2, 2048);
		break;
	case VMSOCK_PKT_SHUTDOWN:
		pkt->u.mode = VMSOCK_SHUTDOWN_SEND;
		break;
	}
}

static int check(const struct vmsock_packet *pkt)
{
	return vmsock_packet_check(&pkt->dg, sizeof(*pkt));
}

static void packet_layout(struct kunit *test)
{
	struct vmsock_packet pkt;
	const u8 *b = (const u8 *)&pkt;
	unsigned int i;

	memset(&pkt, 0xa5, sizeof(pkt));
	vmsock_packet_init(&pkt, VMSOCK_PKT_REQUEST2, 0x01020304, 7, 0x0a0b0c0d);
	KUNIT_EXPECT_EQ(test, pkt.dg.dst.context, 7);
	KUNIT_EXPECT_EQ(test, pkt.dg.dst.resource, VMSOCK_PACKET_RID);
	KUNIT_EXPECT_EQ(test, pkt.dg.src.context, VMCI_INVALID_ID);
	KUNIT_EXPECT_EQ(test, pkt.dg.src.resource, VMSOCK_PACKET_RID);
	KUNIT_EXPECT_EQ(test, pkt.dg.payload_size, 32);
	KUNIT_EXPECT_EQ(test, b[24], VMSOCK_PACKET_VERSION);
	KUNIT_EXPECT_EQ(test, b[25], VMSOCK_PKT_REQUEST2);
	KUNIT_EXPECT_EQ(test, pkt.src_port, 0x01020304);
	KUNIT_EXPECT_EQ(test, pkt.dst_port, 0x0a0b0c0d);
	/* proto, reserved2 and the whole union: no stale byte may leak. */
	for (i = 26; i < 28; i++)
		KUNIT_EXPECT_EQ_MSG(test, b[i], 0, "byte %u", i);
	for (i = 36; i < sizeof(pkt); i++)
		KUNIT_EXPECT_EQ_MSG(test, b[i], 0, "byte %u", i);
	KUNIT_EXPECT_EQ(test, VMCI_DG_SIZE(&pkt.dg), sizeof(pkt));
}

static void packet_to_hypervisor(struct kunit *test)
{
	struct vmsock_packet pkt;

	vmsock_packet_init(&pkt, VMSOCK_PKT_REQUEST, 1024, VMCI_HYPERVISOR_CONTEXT_ID, 1);
	KUNIT_EXPECT_EQ(test, pkt.dg.dst.resource, VMSOCK_PACKET_HYPERVISOR_RID);
}

static void packet_every_type_valid(struct kunit *test)
{
	struct vmsock_packet pkt;
	u8 type;

	for (type = VMSOCK_PKT_INVALID; type < VMSOCK_PKT_MAX; type++) {
		good_packet(&pkt, type);
		KUNIT_EXPECT_EQ_MSG(test, check(&pkt), 0, "type %u", type);
	}
}

static void packet_unknown_type(struct kunit *test)
{
	struct vmsock_packet pkt;

	good_packet(&pkt, VMSOCK_PKT_RST);
	pkt.type = VMSOCK_PKT_MAX;
	KUNIT_EXPECT_EQ(test, check(&pkt), -EPROTONOSUPPORT);
	pkt.type = 0xff;
	KUNIT_EXPECT_EQ(test, check(&pkt), -EPROTONOSUPPORT);
}

static void packet_short_or_lying(struct kunit *test)
{
	struct vmsock_packet pkt;

	good_packet(&pkt, VMSOCK_PKT_WROTE);
	KUNIT_EXPECT_EQ(test, vmsock_packet_check(&pkt.dg, sizeof(pkt) - 1), -EBADMSG);
	KUNIT_EXPECT_EQ(test, vmsock_packet_check(&pkt.dg, VMCI_DG_HEADERSIZE), -EBADMSG);
	KUNIT_EXPECT_EQ(test, vmsock_packet_check(&pkt.dg, 0), -EBADMSG);
	KUNIT_EXPECT_EQ(test, vmsock_packet_check(NULL, sizeof(pkt)), -EBADMSG);
	pkt.dg.payload_size = 31;
	KUNIT_EXPECT_EQ(test, check(&pkt), -EBADMSG);
	/* A header claiming more than arrived must not be believed. */
	pkt.dg.payload_size = 33;
	KUNIT_EXPECT_EQ(test, check(&pkt), -EBADMSG);
	pkt.dg.payload_size = U64_MAX;
	KUNIT_EXPECT_EQ(test, check(&pkt), -EBADMSG);
}

static void packet_bad_source(struct kunit *test)
{
	struct vmsock_packet pkt;

	good_packet(&pkt, VMSOCK_PKT_WROTE);
	pkt.dg.src.context = VMCI_WELL_KNOWN_CONTEXT_ID;
	KUNIT_EXPECT_EQ(test, check(&pkt), -EBADMSG);
	good_packet(&pkt, VMSOCK_PKT_WROTE);
	pkt.dg.src.resource = 1024;
	KUNIT_EXPECT_EQ(test, check(&pkt), -EBADMSG);
	/* The hypervisor speaks from 15, and only from 15. */
	pkt.dg.src = vmci_make_handle(VMCI_HYPERVISOR_CONTEXT_ID, VMSOCK_PACKET_RID);
	KUNIT_EXPECT_EQ(test, check(&pkt), -EBADMSG);
	pkt.dg.src = vmci_make_handle(VMCI_HYPERVISOR_CONTEXT_ID, VMSOCK_PACKET_HYPERVISOR_RID);
	KUNIT_EXPECT_EQ(test, check(&pkt), 0);
}

static void packet_bad_version(struct kunit *test)
{
	struct vmsock_packet pkt;

	good_packet(&pkt, VMSOCK_PKT_REQUEST2);
	pkt.version = 0;
	KUNIT_EXPECT_EQ(test, check(&pkt), -EBADMSG);
	pkt.version = 2;
	KUNIT_EXPECT_EQ(test, check(&pkt), -EBADMSG);
}

static void packet_proto_only_new_handshake(struct kunit *test)
{
	struct vmsock_packet pkt;

	good_packet(&pkt, VMSOCK_PKT_REQUEST2);
	pkt.proto = VMSOCK_PROTO_QUEUE_STATE;
	KUNIT_EXPECT_EQ(test, check(&pkt), 0);
	good_packet(&pkt, VMSOCK_PKT_REQUEST);
	pkt.proto = VMSOCK_PROTO_QUEUE_STATE;
	KUNIT_EXPECT_EQ(test, check(&pkt), -EBADMSG);
	good_packet(&pkt, VMSOCK_PKT_WROTE);
	pkt.reserved2 = 1;
	KUNIT_EXPECT_EQ(test, check(&pkt), -EBADMSG);
}

static void packet_union_rules(struct kunit *test)
{
	static const u8 sized[] = {
		VMSOCK_PKT_REQUEST, VMSOCK_PKT_NEGOTIATE,
		VMSOCK_PKT_REQUEST2, VMSOCK_PKT_NEGOTIATE2,
	};
	struct vmsock_packet pkt;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(sized); i++) {
		good_packet(&pkt, sized[i]);
		pkt.u.size = 0;
		KUNIT_EXPECT_EQ_MSG(test, check(&pkt), -EBADMSG, "type %u", sized[i]);
	}
	good_packet(&pkt, VMSOCK_PKT_OFFER);
	pkt.u.handle = VMCI_INVALID_HANDLE;
	KUNIT_EXPECT_EQ(test, check(&pkt), -EBADMSG);
	good_packet(&pkt, VMSOCK_PKT_ATTACH);
	pkt.u.handle.resource = VMCI_INVALID_ID;
	KUNIT_EXPECT_EQ(test, check(&pkt), -EBADMSG);
	good_packet(&pkt, VMSOCK_PKT_SHUTDOWN);
	pkt.u.mode = 0;
	KUNIT_EXPECT_EQ(test, check(&pkt), -EBADMSG);
	pkt.u.mode = 4;
	KUNIT_EXPECT_EQ(test, check(&pkt), -EBADMSG);
	pkt.u.mode = VMSOCK_SHUTDOWN_ALL;
	KUNIT_EXPECT_EQ(test, check(&pkt), 0);
}

static struct kunit_case vmsock_packet_cases[] = {
	KUNIT_CASE(packet_layout),
	KUNIT_CASE(packet_to_hypervisor),
	KUNIT_CASE(packet_every_type_valid),
	KUNIT_CASE(packet_unknown_type),
	KUNIT_CASE(packet_short_or_lying),
	KUNIT_CASE(packet_bad_source),
	KUNIT_CASE(packet_bad_version),
	KUNIT_CASE(packet_proto_only_new_handshake),
	KUNIT_CASE(packet_union_rules),
	{}
};

static struct kunit_suite vmsock_packet_suite = {
	.name = "vmsock_packet",
	.test_cases = vmsock_packet_cases,
};

kunit_test_suite(vmsock_packet_suite);
