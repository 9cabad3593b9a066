/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMCI device ABI as the device model sees it. The driver's copy
 * (include/vmci/vmci_abi.h) needs kernel headers, which neither QEMU nor
 * the host unit tests have, so the few values the device needs are here.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_MODEL_ABI_H
#define VMCI_MODEL_ABI_H

#include <stdint.h>

/* Register offsets, the same in BAR0 and in the MMIO window. */
#define VMM_REG_STATUS		0x00
#define VMM_REG_CONTROL		0x04
#define VMM_REG_ICR		0x08
#define VMM_REG_IMR		0x0c
#define VMM_REG_DATA_OUT	0x10
#define VMM_REG_DATA_IN		0x14
#define VMM_REG_CAPS		0x18
#define VMM_REG_RESULT_LOW	0x1c
#define VMM_REG_RESULT_HIGH	0x20
#define VMM_REG_DATA_OUT_LOW	0x24
#define VMM_REG_DATA_OUT_HIGH	0x28
#define VMM_REG_DATA_IN_LOW	0x2c
#define VMM_REG_DATA_IN_HIGH	0x30
#define VMM_REG_PAGE_SHIFT	0x34
#define VMM_REG_FILE_SIZE	0x40

#define VMM_STATUS_INT_ON	0x1
#define VMM_CONTROL_RESET	0x1
#define VMM_CONTROL_INT_ENABLE	0x2
#define VMM_CONTROL_INT_DISABLE	0x4

#define VMM_CAPS_HYPERCALL	0x01
#define VMM_CAPS_GUESTCALL	0x02
#define VMM_CAPS_DATAGRAM	0x04
#define VMM_CAPS_NOTIFICATIONS	0x08
#define VMM_CAPS_PPN64		0x10
#define VMM_CAPS_DMA_DATAGRAM	0x20

/* ICR and IMR bits; bit i is also MSI-X vector i when vectors are exclusive. */
#define VMM_ICR_DATAGRAM	0x1
#define VMM_ICR_NOTIFICATION	0x2
#define VMM_ICR_DMA_DATAGRAM	0x4
#define VMM_ICR_ALL		0x7

/* BAR1 layouts. */
#define VMM_BAR1_SMALL_SIZE	0x2000
#define VMM_BAR1_MMIO_SIZE	0x40000
#define VMM_MSIX_PBA_SMALL	0x1000
#define VMM_MSIX_PBA_MMIO	0x10000
#define VMM_MMIO_WINDOW		0x20000
#define VMM_MMIO_WINDOW_SIZE	0x10000

#define VMM_PAGE_SIZE		4096u
#define VMM_PAGE_SHIFT		12

/* Contexts and resources. */
#define VMM_HYPERVISOR_CID	0u
#define VMM_WELL_KNOWN_CID	1u
#define VMM_HOST_CID		2u
#define VMM_INVALID_ID		0xFFFFFFFFu
#define VMM_EVENT_HANDLER	0u
#define VMM_RESERVED_CID_LIMIT	16u

/* Hypervisor resource IDs (destination context 0). */
#define VMM_RID_RESOURCES_QUERY		0
#define VMM_RID_GET_CONTEXT_ID		1
#define VMM_RID_SET_NOTIFY_BITMAP	2
#define VMM_RID_DOORBELL_LINK		3
#define VMM_RID_DOORBELL_UNLINK		4
#define VMM_RID_DOORBELL_NOTIFY		5
#define VMM_RID_DATAGRAM_REQUEST_MAP	6
#define VMM_RID_DATAGRAM_REMOVE_MAP	7
#define VMM_RID_EVENT_SUBSCRIBE		8
#define VMM_RID_EVENT_UNSUBSCRIBE	9
#define VMM_RID_QUEUEPAIR_ALLOC		10
#define VMM_RID_QUEUEPAIR_DETACH	11
#define VMM_RID_RESOURCE_MAX		17
/*
 * Not a hypervisor call: the hypervisor's own vSockets control channel,
 * where a guest's control packets to CID 0 go (VMware Tools' streams).
 */
#define VMM_RID_HV_VSOCK_PACKET		15
#define VMM_RESOURCE_QUERY_MAX		31

/* Datagrams. */
#define VMM_DG_HEADER_SIZE	24u
#define VMM_MAX_DG_SIZE		(17u * 4096u)
#define VMM_MAX_DG_QUEUE_SIZE	(2u * VMM_MAX_DG_SIZE + 1024u * 48u)
/* Hypercalls in port-I/O mode may exceed VMM_MAX_DG_SIZE (long PPN lists). */
#define VMM_MAX_HYPERCALL_SIZE	(256u * 1024u)

/* Events. */
#define VMM_EVENT_CTX_ID_UPDATE		0
#define VMM_EVENT_CTX_REMOVED		1
#define VMM_EVENT_QP_RESUMED		2
#define VMM_EVENT_QP_PEER_ATTACH	3
#define VMM_EVENT_QP_PEER_DETACH	4
#define VMM_EVENT_MAX			9

/* Result codes. */
#define VMM_SUCCESS_LAST_DETACH		3
#define VMM_SUCCESS			0
#define VMM_ERROR_INVALID_RESOURCE	(-1)
#define VMM_ERROR_INVALID_ARGS		(-2)
#define VMM_ERROR_NO_MEM		(-3)
#define VMM_ERROR_NO_ACCESS		(-7)
#define VMM_ERROR_DUPLICATE_ENTRY	(-9)
#define VMM_ERROR_DST_UNREACHABLE	(-10)
#define VMM_ERROR_PAYLOAD_TOO_LARGE	(-11)
#define VMM_ERROR_GENERIC		(-13)
#define VMM_ERROR_NO_RESOURCES		(-19)
#define VMM_ERROR_UNAVAILABLE		(-20)
#define VMM_ERROR_NOT_FOUND		(-21)
#define VMM_ERROR_ALREADY_EXISTS	(-22)
#define VMM_ERROR_INVALID_SIZE		(-24)
#define VMM_ERROR_DATAGRAM_INCOMPLETE	(-27)
#define VMM_ERROR_EVENT_UNKNOWN		(-29)
#define VMM_ERROR_QUEUEPAIR_NOSPACE	(-35)
#define VMM_ERROR_QUEUEPAIR_NODATA	(-36)
#define VMM_ERROR_QUEUEPAIR_NOTATTACHED	(-34)

/* DMA datagram in/out header, at the start of the send or receive buffer. */
#define VMM_DMA_HDR_SIZE	24u
#define VMM_DMA_OFF_BUSY	0
#define VMM_DMA_OFF_OPCODE	4
#define VMM_DMA_OFF_SIZE	8
#define VMM_DMA_OFF_RESULT	16
#define VMM_DMA_OP_SEND		0
#define VMM_DMA_OP_RECEIVE	1
#define VMM_DMA_SG_SIZE		16u
/* More S/G elements than this is a malformed receive request. */
#define VMM_DMA_MAX_SG		16u

#define VMM_MAX_DOORBELLS	4096u

#endif
