/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The vSockets control packet: a 56-byte VMCI datagram that stream
 * sockets exchange to connect, to signal queue-pair activity and to shut
 * down. Same layout as VMware's, so a real host can be the peer later.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMSOCK_PACKET_H
#define VMSOCK_PACKET_H

#include <linux/build_bug.h>
#include <linux/types.h>

#include <vmci/vmci_abi.h>

#define VMSOCK_PACKET_VERSION		1
/* Resource ID of the control handle on guests and hosts... */
#define VMSOCK_PACKET_RID		1U
/* ...and on the hypervisor (CID 0). */
#define VMSOCK_PACKET_HYPERVISOR_RID	15U

enum vmsock_packet_type {
	VMSOCK_PKT_INVALID = 0,
	VMSOCK_PKT_REQUEST,
	VMSOCK_PKT_NEGOTIATE,
	VMSOCK_PKT_OFFER,
	VMSOCK_PKT_ATTACH,
	VMSOCK_PKT_WROTE,
	VMSOCK_PKT_READ,
	VMSOCK_PKT_RST,
	VMSOCK_PKT_SHUTDOWN,
	VMSOCK_PKT_WAITING_WRITE,
	VMSOCK_PKT_WAITING_READ,
	VMSOCK_PKT_REQUEST2,
	VMSOCK_PKT_NEGOTIATE2,
	VMSOCK_PKT_MAX,
};

/* Notification protocols offered in REQUEST2 and chosen in NEGOTIATE2. */
#define VMSOCK_PROTO_INVALID		0x0
#define VMSOCK_PROTO_QUEUE_STATE	0x1
#define VMSOCK_PROTO_ALL_SUPPORTED	VMSOCK_PROTO_QUEUE_STATE

/* SHUTDOWN modes: what the sender will no longer do. */
#define VMSOCK_SHUTDOWN_RCV		0x1
#define VMSOCK_SHUTDOWN_SEND		0x2
#define VMSOCK_SHUTDOWN_ALL		(VMSOCK_SHUTDOWN_RCV | VMSOCK_SHUTDOWN_SEND)

struct vmsock_packet {
	struct vmci_datagram dg;
	u8 version;
	u8 type;
	u16 proto;
	u32 src_port;
	u32 dst_port;
	u32 reserved2;
	union {
		u64 size;	/* REQUEST(2), NEGOTIATE(2): queue size */
		u64 mode;	/* SHUTDOWN */
		struct vmci_handle handle;	/* OFFER, ATTACH: the queue pair */
		struct {
			u64 generation;
			u64 offset;
		} wait;		/* WAITING_READ, WAITING_WRITE */
	} u;
};

static_assert(sizeof(struct vmsock_packet) == 56);
static_assert(offsetof(struct vmsock_packet, version) == VMCI_DG_HEADERSIZE);
static_assert(offsetof(struct vmsock_packet, u) == 40);

#define VMSOCK_PACKET_PAYLOAD_SIZE \
	(sizeof(struct vmsock_packet) - VMCI_DG_HEADERSIZE)

/*
 * A packet of @type from our port @src_port to {@dst_cid, @dst_port},
 * every other byte zero (no kernel memory reaches the peer). The caller
 * fills the union for the types that use it.
 */
void vmsock_packet_init(struct vmsock_packet *pkt, u8 type, u32 src_port,
			u32 dst_cid, u32 dst_port);

/*
 * Checks a datagram that arrived on the control handle before anything
 * reads it as a packet: 0 when @dg is a well-formed packet (and @len, the
 * bytes at @dg, cover it), -EPROTONOSUPPORT when only the type is unknown
 * (the peer gets INVALID back), -EBADMSG for anything else (dropped).
 */
int vmsock_packet_check(const struct vmci_datagram *dg, size_t len);

#endif /* VMSOCK_PACKET_H */
