// SPDX-License-Identifier: GPL-2.0
/*
 * Malformed datagrams for the guest, on command from the host side: a
 * guest driver must drop each without harm and keep working. The byte
 * stream stays well framed (every header's payload_size matches what
 * follows); what is wrong is the content a receiver must validate.
 *
 *   event-short      event with a 2-byte payload (below the event number)
 *   event-long       event with a 32-byte payload (above the largest event)
 *   event-unknown    event number 200
 *   event-bare       QP_PEER_DETACH with no queue-pair payload
 *   detach-unknown   QP_PEER_DETACH for a pair that does not exist
 *   detach-invalid   QP_PEER_DETACH for the invalid handle
 *   dgram-unknown    host datagram to a resource nobody registered
 *   vsock-short      vSockets control packet of 8 bytes (56 expected)
 *   vsock-garbage    56-byte control packet: bad version, type, ports
 *   oversize         datagram of VMCI_MAX_DG_SIZE + 24 bytes
 *   dma-resize       16-byte host datagram to nobody; a DMA receive hands
 *                    it over alone and then rewrites its payload_size in
 *                    the guest's buffer (vmci_model_regs.c)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdlib.h>
#include <string.h>

#include "vmci_model_internal.h"

#define HDR		VMM_DG_HEADER_SIZE
#define NOBODY_RID	0x7fff1234u
#define NO_PAIR_RID	0x7ffffff0u
#define VSOCK_RID	1u

/* An event datagram with exactly PLEN payload bytes from PL. */
static int event_dg(struct vmci_model *m, const uint8_t *pl, size_t plen)
{
	uint8_t dg[HDR + 64];

	vmm_put_header(dg, m->cid, VMM_EVENT_HANDLER, VMM_HYPERVISOR_CID,
		       VMM_EVENT_HANDLER, plen);
	memcpy(dg + HDR, pl, plen);
	return vmm_rx_push(m, dg, HDR + plen);
}

static int detach_event(struct vmci_model *m, uint32_t ctx, uint32_t rid)
{
	uint8_t pl[24] = { 0 };

	vmm_put32(pl, VMM_EVENT_QP_PEER_DETACH);
	vmm_put32(pl + 8, ctx);
	vmm_put32(pl + 12, rid);
	vmm_put32(pl + 16, VMM_HOST_CID);
	return event_dg(m, pl, sizeof(pl));
}

static int host_dg(struct vmci_model *m, uint32_t rid, size_t plen, uint8_t fill)
{
	size_t len = HDR + plen;
	uint8_t *dg = malloc(len);
	int ret;

	if (!dg)
		return VMM_ERROR_NO_MEM;
	vmm_put_header(dg, m->cid, rid, VMM_HOST_CID, rid == VSOCK_RID ? VSOCK_RID : 6000,
		       plen);
	memset(dg + HDR, fill, plen);
	ret = vmm_rx_push(m, dg, len);
	free(dg);
	return ret;
}

static int vsock_garbage(struct vmci_model *m)
{
	uint8_t dg[56];

	vmm_put_header(dg, m->cid, VSOCK_RID, VMM_HOST_CID, VSOCK_RID, 32);
	memset(dg + HDR, 0xa5, 32);
	dg[24] = 0xee;		/* version */
	dg[25] = 0xfe;		/* type */
	return vmm_rx_push(m, dg, sizeof(dg));
}

int vmm_inject_junk(struct vmci_model *m, const char *kind)
{
	uint8_t pl[32] = { 0 };

	if (!strcmp(kind, "event-short")) {
		pl[0] = VMM_EVENT_QP_PEER_DETACH;
		return event_dg(m, pl, 2);
	}
	if (!strcmp(kind, "event-long")) {
		vmm_put32(pl, VMM_EVENT_QP_PEER_DETACH);
		memset(pl + 8, 0x5a, 24);
		return event_dg(m, pl, 32);
	}
	if (!strcmp(kind, "event-unknown")) {
		vmm_put32(pl, 200);
		return event_dg(m, pl, 8);
	}
	if (!strcmp(kind, "event-bare")) {
		vmm_put32(pl, VMM_EVENT_QP_PEER_DETACH);
		return event_dg(m, pl, 8);
	}
	if (!strcmp(kind, "detach-unknown"))
		return detach_event(m, m->cid, NO_PAIR_RID);
	if (!strcmp(kind, "detach-invalid"))
		return detach_event(m, VMM_INVALID_ID, VMM_INVALID_ID);
	if (!strcmp(kind, "dgram-unknown"))
		return host_dg(m, NOBODY_RID, 16, 0x3c);
	if (!strcmp(kind, "vsock-short"))
		return host_dg(m, VSOCK_RID, 8, 0x01);
	if (!strcmp(kind, "vsock-garbage"))
		return vsock_garbage(m);
	if (!strcmp(kind, "oversize"))
		return host_dg(m, NOBODY_RID, VMM_MAX_DG_SIZE, 0xc3);
	if (!strcmp(kind, "dma-resize")) {
		int ret = host_dg(m, NOBODY_RID, 16, 0x3c);

		if (ret == VMM_SUCCESS)
			m->rx_resize = m->rx_tail;
		return ret;
	}
	return VMM_ERROR_INVALID_ARGS;
}
