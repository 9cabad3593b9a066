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

/* Datagram handle creation flags. */
#define VMCI_FLAG_DG_NONE		0x0U
#define VMCI_FLAG_WELLKNOWN_DG_HND	0x1U
#define VMCI_FLAG_ANYCID_DG_HND		0x2U
#define VMCI_FLAG_DG_DELAYED_CB		0x4U
/* Doorbell and event creation flags. */
#define VMCI_FLAG_DELAYED_CB		0x1U
#define VMCI_FLAG_EVENT_NONE		0x0U
#define VMCI_FLAG_EVENT_DELAYED_CB	0x1U

/* Per-context pending datagram budget (host side), and its event extra. */
#define VMCI_MAX_DATAGRAM_AND_EVENT_QUEUE_SIZE \
	(VMCI_MAX_DATAGRAM_QUEUE_SIZE + 1024U * (24U + 24U))

/* Privilege flags: RESTRICTED may only talk to TRUSTED. */
#define VMCI_NO_PRIVILEGE_FLAGS		0x0U
#define VMCI_PRIVILEGE_FLAG_RESTRICTED	0x1U
#define VMCI_PRIVILEGE_FLAG_TRUSTED	0x2U
#define VMCI_PRIVILEGE_ALL_FLAGS	0x3U
#define VMCI_DEFAULT_PROC_PRIVILEGE_FLAGS VMCI_NO_PRIVILEGE_FLAGS

/* Events, delivered to resource VMCI_EVENT_HANDLER from context 0. */
#define VMCI_EVENT_CTX_ID_UPDATE	0U
#define VMCI_EVENT_CTX_REMOVED		1U
#define VMCI_EVENT_QP_RESUMED		2U
#define VMCI_EVENT_QP_PEER_ATTACH	3U
#define VMCI_EVENT_QP_PEER_DETACH	4U
#define VMCI_EVENT_MEM_ACCESS_ON	5U
#define VMCI_EVENT_MEM_ACCESS_OFF	6U
#define VMCI_EVENT_MAX			7U

struct vmci_event_data {
	u32 event;
	u32 _pad;
};

struct vmci_event_payld_ctx {
	u32 context_id;
	u32 _pad;
};

struct vmci_event_payld_qp {
	struct vmci_handle handle;
	u32 peer_id;	/* context of the side that attached or detached */
	u32 _pad;
};

/* Event data as subscribers see it: the event word and the largest payload. */
struct vmci_event_data_max {
	struct vmci_event_data event_data;
	union {
		struct vmci_event_payld_ctx context_payload;
		struct vmci_event_payld_qp qp_payload;
	} payload;
};

struct vmci_event_msg {
	struct vmci_datagram hdr;
	struct vmci_event_data event_data;
	/* payload follows */
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
#define IOCTL_VMCI_RESERVED1		1953
#define IOCTL_VMCI_RESERVED2		1954
#define IOCTL_VMCI_RESERVED3		1955
#define IOCTL_VMCI_QUEUEPAIR_SETVA	1956
#define IOCTL_VMCI_NOTIFY_RESOURCE	1957
#define IOCTL_VMCI_NOTIFICATIONS_RECEIVE 1958
#define IOCTL_VMCI_QUEUEPAIR_ALLOC	1960
#define IOCTL_VMCI_QUEUEPAIR_SETPAGEFILE 1961
#define IOCTL_VMCI_QUEUEPAIR_DETACH	1962
#define IOCTL_VMCI_DATAGRAM_SEND	1963
#define IOCTL_VMCI_DATAGRAM_RECEIVE	1964
#define IOCTL_VMCI_CTX_ADD_NOTIFICATION	1967
#define IOCTL_VMCI_CTX_REMOVE_NOTIFICATION 1968
#define IOCTL_VMCI_CTX_GET_CPT_STATE	1969
#define IOCTL_VMCI_CTX_SET_CPT_STATE	1970
#define IOCTL_VMCI_GET_CONTEXT_ID	1971
#define IOCTL_VMCI_SET_NOTIFY		1995

/* /dev/vsock ioctls (the vSockets block of the same numbering). */
#define IOCTL_VMCI_SOCKETS_VERSION		1972
#define IOCTL_VMCI_SOCKETS_GET_AF_VALUE		1976
#define IOCTL_VMCI_SOCKETS_GET_LOCAL_CID	1977

/*
 * /dev/vmci ioctl arguments. All are 64-bit clean, so 32-bit callers need
 * only pointer conversion; explicit padding keeps copies to user space
 * free of stale kernel bytes.
 */
struct vmci_init_blk {
	u32 cid;
	u32 flags;
};

struct vmci_datagram_snd_rcv_info {
	u64 addr;
	u32 len;
	s32 result;
};

struct vmci_qp_alloc_info {
	struct vmci_handle handle;
	u32 peer;
	u32 flags;
	u64 produce_size;
	u64 consume_size;
	u64 ppn_va;
	u64 num_ppns;
	s32 result;
	u32 version;
};

struct vmci_qp_set_va_info {
	struct vmci_handle handle;
	u64 va;
	u64 num_ppns;
	u32 version;
	s32 result;
};

struct vmci_qp_dtch_info {
	struct vmci_handle handle;
	s32 result;
	u32 _pad;
};

struct vmci_ctx_info {
	u32 remote_cid;
	s32 result;
};

struct vmci_ctx_chkpt_buf_info {
	u64 cpt_buf;
	u32 cpt_type;
	u32 buf_size;
	s32 result;
	u32 _pad;
};

/* cpt_type of CTX_GET_CPT_STATE / CTX_SET_CPT_STATE. */
#define VMCI_NOTIFICATION_CPT_STATE	1
#define VMCI_WELLKNOWN_CPT_STATE	2
#define VMCI_DG_OUT_STATE		3
#define VMCI_DG_IN_STATE		4
#define VMCI_DG_IN_SIZE_STATE		5
#define VMCI_DOORBELL_CPT_STATE		6

/* One record of VMCI_DOORBELL_CPT_STATE. */
struct vmci_dbell_cpt_state {
	struct vmci_handle handle;
	u64 bitmap_idx;
};

struct vmci_set_notify_info {
	u64 notify_uva;
	s32 result;
	u32 _pad;
};

#define VMCI_NOTIFY_RESOURCE_QUEUE_PAIR	0
#define VMCI_NOTIFY_RESOURCE_DOOR_BELL	1
#define VMCI_NOTIFY_RESOURCE_ACTION_NOTIFY	0
#define VMCI_NOTIFY_RESOURCE_ACTION_CREATE	1
#define VMCI_NOTIFY_RESOURCE_ACTION_DESTROY	2

struct vmci_dbell_notify_resource_info {
	struct vmci_handle handle;
	u16 resource;
	u16 action;
	s32 result;
};

struct vmci_ctx_notify_recv_info {
	u64 db_handle_buf_uva;
	u64 db_handle_buf_size;
	u64 qp_handle_buf_uva;
	u64 qp_handle_buf_size;
	s32 result;
	u32 _pad;
};

/*
 * The guest device (PCI 15ad:0740). Register offsets are the same in BAR0
 * I/O space and in the MMIO window of a 256 KiB BAR1.
 */
#define VMCI_PCI_VENDOR_ID		0x15ADU
#define VMCI_PCI_DEVICE_ID		0x0740U
#define VMCI_MMIO_BAR_SIZE		(256U * 1024U)
#define VMCI_MMIO_ACCESS_OFFSET		0x20000U
#define VMCI_MMIO_ACCESS_SIZE		0x10000U

#define VMCI_STATUS_ADDR		0x00
#define VMCI_CONTROL_ADDR		0x04
#define VMCI_ICR_ADDR			0x08
#define VMCI_IMR_ADDR			0x0c
#define VMCI_DATA_OUT_ADDR		0x10
#define VMCI_DATA_IN_ADDR		0x14
#define VMCI_CAPS_ADDR			0x18
#define VMCI_RESULT_LOW_ADDR		0x1c
#define VMCI_RESULT_HIGH_ADDR		0x20
#define VMCI_DATA_OUT_LOW_ADDR		0x24
#define VMCI_DATA_OUT_HIGH_ADDR		0x28
#define VMCI_DATA_IN_LOW_ADDR		0x2c
#define VMCI_DATA_IN_HIGH_ADDR		0x30
#define VMCI_GUEST_PAGE_SHIFT		0x34

#define VMCI_STATUS_INT_ON		0x1U

#define VMCI_CONTROL_RESET		0x1U
#define VMCI_CONTROL_INT_ENABLE		0x2U
#define VMCI_CONTROL_INT_DISABLE	0x4U

#define VMCI_CAPS_HYPERCALL		0x01U
#define VMCI_CAPS_GUESTCALL		0x02U
#define VMCI_CAPS_DATAGRAM		0x04U
#define VMCI_CAPS_NOTIFICATIONS		0x08U
#define VMCI_CAPS_PPN64			0x10U
#define VMCI_CAPS_DMA_DATAGRAM		0x20U

/* ICR and IMR share the bit layout. */
#define VMCI_ICR_DATAGRAM		0x1U
#define VMCI_ICR_NOTIFICATION		0x2U
#define VMCI_ICR_DMA_DATAGRAM		0x4U

/* MSI-X vector index of each cause when every cause has its own vector. */
#define VMCI_INTR_DATAGRAM		0
#define VMCI_INTR_NOTIFICATION		1
#define VMCI_INTR_DMA_DATAGRAM		2
#define VMCI_MAX_INTRS_NOTIFICATION	2
#define VMCI_MAX_INTRS_DMA_DATAGRAM	3

/* DMA datagrams: header at the start of the send and receive buffers. */
#define VMCI_DATA_IN_OUT_OP_SEND	0U
#define VMCI_DATA_IN_OUT_OP_RECV	1U

struct vmci_data_in_out_header {
	u32 busy;
	u32 opcode;
	u32 size;
	u32 rsvd;
	u64 result;
};

struct vmci_sg_elem {
	u64 addr;
	u64 size;
};

/* Hypervisor resource IDs: datagrams to {VMCI_HYPERVISOR_CONTEXT_ID, RID}. */
#define VMCI_RESOURCES_QUERY		0U
#define VMCI_GET_CONTEXT_ID		1U
#define VMCI_SET_NOTIFY_BITMAP		2U
#define VMCI_DOORBELL_LINK		3U
#define VMCI_DOORBELL_UNLINK		4U
#define VMCI_DOORBELL_NOTIFY		5U
#define VMCI_QUEUEPAIR_ALLOC		10U
#define VMCI_QUEUEPAIR_DETACH		11U

#define VMCI_RESOURCE_QUERY_MAX_NUM	31U

struct vmci_resource_query_hdr {
	struct vmci_datagram hdr;
	u32 num_resources;
	u32 _padding;
};

struct vmci_notify_bm_set_msg {
	struct vmci_datagram hdr;
	union {
		u32 bitmap_ppn32;
		u64 bitmap_ppn64;
	};
};

struct vmci_doorbell_link_msg {
	struct vmci_datagram hdr;
	struct vmci_handle handle;
	u64 notify_idx;
};

struct vmci_doorbell_unlink_msg {
	struct vmci_datagram hdr;
	struct vmci_handle handle;
};

struct vmci_doorbell_notify_msg {
	struct vmci_datagram hdr;
	struct vmci_handle handle;
};

/* Followed by num_ppns page numbers, u32 each, or u64 with VMCI_CAPS_PPN64. */
struct vmci_qp_alloc_msg {
	struct vmci_datagram hdr;
	struct vmci_handle handle;
	u32 peer;
	u32 flags;
	u64 produce_size;
	u64 consume_size;
	u64 num_ppns;
};

struct vmci_qp_detach_msg {
	struct vmci_datagram hdr;
	struct vmci_handle handle;
};

#endif /* VMCI_ABI_H */
