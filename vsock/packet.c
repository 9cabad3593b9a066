// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/errno.h>
#include <linux/string.h>

#include "packet.h"

void vmsock_packet_init(struct vmsock_packet *pkt, u8 type, u32 src_port,
			u32 dst_cid, u32 dst_port)
{
	memset(pkt, 0, sizeof(*pkt));
	pkt->dg.dst = vmci_make_handle(dst_cid, dst_cid == VMCI_HYPERVISOR_CONTEXT_ID ?
				       VMSOCK_PACKET_HYPERVISOR_RID : VMSOCK_PACKET_RID);
	/* The core fills in our CID, whichever the peer knows us by. */
	pkt->dg.src = vmci_make_handle(VMCI_INVALID_ID, VMSOCK_PACKET_RID);
	pkt->dg.payload_size = VMSOCK_PACKET_PAYLOAD_SIZE;
	pkt->version = VMSOCK_PACKET_VERSION;
	pkt->type = type;
	pkt->src_port = src_port;
	pkt->dst_port = dst_port;
}

static bool vmsock_packet_src_ok(struct vmci_handle src)
{
	/* Nothing lives at the obsolete well-known context; never trust it. */
	if (src.context == VMCI_WELL_KNOWN_CONTEXT_ID || src.context == VMCI_INVALID_ID)
		return false;
	if (src.context == VMCI_HYPERVISOR_CONTEXT_ID)
		return src.resource == VMSOCK_PACKET_HYPERVISOR_RID;
	return src.resource == VMSOCK_PACKET_RID;
}

static bool vmsock_packet_union_ok(const struct vmsock_packet *pkt)
{
	switch (pkt->type) {
	case VMSOCK_PKT_REQUEST:
	case VMSOCK_PKT_NEGOTIATE:
	case VMSOCK_PKT_REQUEST2:
	case VMSOCK_PKT_NEGOTIATE2:
		return pkt->u.size != 0;
	case VMSOCK_PKT_OFFER:
	case VMSOCK_PKT_ATTACH:
		return pkt->u.handle.context != VMCI_INVALID_ID &&
		       pkt->u.handle.resource != VMCI_INVALID_ID;
	case VMSOCK_PKT_SHUTDOWN:
		return pkt->u.mode && !(pkt->u.mode & ~(u64)VMSOCK_SHUTDOWN_ALL);
	default:
		/* The rest carry no union, or hints nobody acts on. */
		return true;
	}
}

int vmsock_packet_check(const struct vmci_datagram *dg, size_t len)
{
	const struct vmsock_packet *pkt = (const struct vmsock_packet *)dg;

	if (!dg || len < sizeof(*pkt) ||
	    dg->payload_size < VMSOCK_PACKET_PAYLOAD_SIZE ||
	    dg->payload_size > len - VMCI_DG_HEADERSIZE)
		return -EBADMSG;
	if (!vmsock_packet_src_ok(dg->src) || pkt->version != VMSOCK_PACKET_VERSION)
		return -EBADMSG;
	if (pkt->type >= VMSOCK_PKT_MAX)
		return -EPROTONOSUPPORT;
	/* Only the newer handshake may name protocols or use the spare word. */
	if (pkt->type < VMSOCK_PKT_REQUEST2 && (pkt->proto || pkt->reserved2))
		return -EBADMSG;
	if (!vmsock_packet_union_ok(pkt))
		return -EBADMSG;
	return 0;
}
