/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMCI wire and ioctl constants fixed by VMware's ABI (hypervisors and
 * existing VMX/user binaries depend on these exact values).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_ABI_H
#define VMCI_ABI_H

#include <linux/align.h>
#include <linux/types.h>

/* Context IDs. */
#define VMCI_HYPERVISOR_CONTEXT_ID	0U
#define VMCI_WELL_KNOWN_CONTEXT_ID	1U
#define VMCI_HOST_CONTEXT_ID		2U
#define VMCI_INVALID_ID			0xFFFFFFFFU

#define VMCI_RESERVED_CID_LIMIT		16U
#define VMCI_CONTEXT_RESOURCE_ID	0U

/* Resource IDs 0..1023 are reserved; dynamic ones start above. */
#define VMCI_RESERVED_RESOURCE_ID_MAX	1023U

/* Well-known resources of a context. */
#define VMCI_EVENT_HANDLER		0U

/* A (context ID, resource ID) pair names every VMCI object. */
struct vmci_handle {
	u32 context;
	u32 resource;
};

#define VMCI_INVALID_HANDLE \
	((struct vmci_handle){ .context = VMCI_INVALID_ID, .resource = VMCI_INVALID_ID })
#define VMCI_ANON_SRC_HANDLE		VMCI_INVALID_HANDLE

static inline struct vmci_handle vmci_make_handle(u32 context, u32 resource)
{
	return (struct vmci_handle){ .context = context, .resource = resource };
}

static inline bool vmci_handle_equal(struct vmci_handle a, struct vmci_handle b)
{
	return a.context == b.context && a.resource == b.resource;
}

static inline bool vmci_handle_is_invalid(struct vmci_handle h)
{
	return h.context == VMCI_INVALID_ID && h.resource == VMCI_INVALID_ID;
}

/* Datagram header; the payload follows immediately. */
struct vmci_datagram {
	struct vmci_handle dst;
	struct vmci_handle src;
	u64 payload_size;
};

#define VMCI_DG_HEADERSIZE		sizeof(struct vmci_datagram)
#define VMCI_MAX_DG_SIZE		(17U * 4096U)
#define VMCI_MAX_DG_PAYLOAD_SIZE	(VMCI_MAX_DG_SIZE - VMCI_DG_HEADERSIZE)
#define VMCI_DG_PAYLOAD(dg)		((void *)((char *)(dg) + VMCI_DG_HEADERSIZE))
#define VMCI_DG_SIZE(dg)		(VMCI_DG_HEADERSIZE + (size_t)(dg)->payload_size)
#define VMCI_DG_SIZE_ALIGNED(dg)	ALIGN(VMCI_DG_SIZE(dg), 8)
#define VMCI_MAX_DATAGRAM_QUEUE_SIZE	(2U * VMCI_MAX_DG_SIZE)

/* Status codes carried in results (s32). */
#define VMCI_SUCCESS_QUEUEPAIR_ATTACH	5
#define VMCI_SUCCESS_QUEUEPAIR_CREATE	4
#define VMCI_SUCCESS_LAST_DETACH	3
#define VMCI_SUCCESS_ACCESS_GRANTED	2
#define VMCI_SUCCESS_ENTRY_DEAD		1
#define VMCI_SUCCESS			0
#define VMCI_ERROR_INVALID_RESOURCE	(-1)
#define VMCI_ERROR_INVALID_ARGS		(-2)
#define VMCI_ERROR_NO_MEM		(-3)
#define VMCI_ERROR_DATAGRAM_FAILED	(-4)
#define VMCI_ERROR_MORE_DATA		(-5)
#define VMCI_ERROR_NO_MORE_DATAGRAMS	(-6)
#define VMCI_ERROR_NO_ACCESS		(-7)
#define VMCI_ERROR_NO_HANDLE		(-8)
#define VMCI_ERROR_DUPLICATE_ENTRY	(-9)
#define VMCI_ERROR_DST_UNREACHABLE	(-10)
#define VMCI_ERROR_PAYLOAD_TOO_LARGE	(-11)
#define VMCI_ERROR_INVALID_PRIV		(-12)
#define VMCI_ERROR_GENERIC		(-13)
#define VMCI_ERROR_PAGE_ALREADY_SHARED	(-14)
#define VMCI_ERROR_CANNOT_SHARE_PAGE	(-15)
#define VMCI_ERROR_CANNOT_UNSHARE_PAGE	(-16)
#define VMCI_ERROR_NO_PROCESS		(-17)
#define VMCI_ERROR_NO_DATAGRAM		(-18)
#define VMCI_ERROR_NO_RESOURCES		(-19)
#define VMCI_ERROR_UNAVAILABLE		(-20)
#define VMCI_ERROR_NOT_FOUND		(-21)
#define VMCI_ERROR_ALREADY_EXISTS	(-22)
#define VMCI_ERROR_NOT_PAGE_ALIGNED	(-23)
#define VMCI_ERROR_INVALID_SIZE		(-24)
#define VMCI_ERROR_REGION_ALREADY_SHARED (-25)
#define VMCI_ERROR_TIMEOUT		(-26)
#define VMCI_ERROR_DATAGRAM_INCOMPLETE	(-27)
#define VMCI_ERROR_INCORRECT_IRQL	(-28)
#define VMCI_ERROR_EVENT_UNKNOWN	(-29)
#define VMCI_ERROR_OBSOLETE		(-30)
#define VMCI_ERROR_QUEUEPAIR_MISMATCH	(-31)
#define VMCI_ERROR_QUEUEPAIR_NOTSET	(-32)
#define VMCI_ERROR_QUEUEPAIR_NOTOWNER	(-33)
#define VMCI_ERROR_QUEUEPAIR_NOTATTACHED (-34)
#define VMCI_ERROR_QUEUEPAIR_NOSPACE	(-35)
#define VMCI_ERROR_QUEUEPAIR_NODATA	(-36)
#define VMCI_ERROR_BUSMEM_INVALIDATION	(-37)
#define VMCI_ERROR_MODULE_NOT_LOADED	(-38)
#define VMCI_ERROR_DEVICE_NOT_FOUND	(-39)
#define VMCI_ERROR_QUEUEPAIR_NOT_READY	(-40)
#define VMCI_ERROR_WOULD_BLOCK		(-41)

/* Queue pairs. */
#define VMCI_QPFLAG_ATTACH_ONLY		0x1U
#define VMCI_QPFLAG_LOCAL		0x2U
#define VMCI_QPFLAG_NONBLOCK		0x4U
#define VMCI_QPFLAG_PINNED		0x8U
#define VMCI_QP_ALL_FLAGS		0xFU
#define VMCI_MAX_GUEST_QP_MEMORY	(128U * 1024U * 1024U)

/*
 * Header at the start of each queue's first page. producer_tail is written
 * by this queue's producer; consumer_head by the same endpoint for the
 * peer's queue. The peer may be another VM: access the offsets only with
 * single 64-bit loads and stores.
 */
struct vmci_queue_header {
	struct vmci_handle handle;
	u64 producer_tail;
	u64 consumer_head;
};

/* Version words are (major << 16) | minor. */
#define VMCI_MAKE_VERSION(major, minor)	(((major) << 16) | (minor))
#define VMCI_VERSION_PREVERS2		VMCI_MAKE_VERSION(1, 0)
#define VMCI_VERSION_HOSTQP		VMCI_MAKE_VERSION(9, 0)
#define VMCI_VERSION_NOTIFY		VMCI_MAKE_VERSION(10, 0)
#define VMCI_VERSION_NOVMVM		VMCI_MAKE_VERSION(11, 0)
#define VMCI_VERSION			VMCI_VERSION_NOVMVM

/*
 * /dev/vmci ioctls are _IO(7, nr) with no size or direction bits; VMware
 * numbers them in decimal from 1951.
 */
#define IOCTL_VMCI_VERSION		1951
#define IOCTL_VMCI_INIT_CONTEXT		1952
#define IOCTL_VMCI_VERSION2		1959
#define IOCTL_VMCI_GET_CONTEXT_ID	1971

/* /dev/vsock ioctls (the vSockets block of the same numbering). */
#define IOCTL_VMCI_SOCKETS_VERSION		1972
#define IOCTL_VMCI_SOCKETS_GET_AF_VALUE		1976
#define IOCTL_VMCI_SOCKETS_GET_LOCAL_CID	1977

#endif /* VMCI_ABI_H */
