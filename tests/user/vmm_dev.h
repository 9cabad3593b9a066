/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the VMM tests share about /dev/vmci: the ioctl numbers, VMCI result
 * codes and argument structs, restated from the facts file rather than
 * taken from the driver's headers, so that a wrong number or layout in
 * the driver is caught; and opening a context.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_TESTS_VMM_DEV_H
#define VMCI_TESTS_VMM_DEV_H

#include <fcntl.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define IOC_INIT_CONTEXT	1952
#define IOC_QP_SETVA		1956
#define IOC_NOTIFY_RESOURCE	1957
#define IOC_NOTIFICATIONS_RECV	1958
#define IOC_VERSION2		1959
#define IOC_QP_ALLOC		1960
#define IOC_QP_SETPAGEFILE	1961
#define IOC_QP_DETACH		1962
#define IOC_DG_SEND		1963
#define IOC_DG_RECEIVE		1964
#define IOC_CTX_ADD_NOTIFY	1967
#define IOC_CTX_REMOVE_NOTIFY	1968
#define IOC_GET_CPT		1969
#define IOC_SET_CPT		1970
#define IOC_GET_CONTEXT_ID	1971
#define IOC_SET_NOTIFY		1995

#define HYPERVISOR_CID		0u
#define HOST_CID		2u
#define INVALID_ID		0xffffffffu
#define FLAG_RESTRICTED		1u
#define FLAG_TRUSTED		2u
#define DG_HEADER		24u

#define VMCI_SUCCESS			0
#define VMCI_ERROR_INVALID_RESOURCE	(-1)
#define VMCI_ERROR_INVALID_ARGS		(-2)
#define VMCI_ERROR_NO_MEM		(-3)
#define VMCI_ERROR_MORE_DATA		(-5)
#define VMCI_ERROR_NO_MORE_DATAGRAMS	(-6)
#define VMCI_ERROR_NO_ACCESS		(-7)
#define VMCI_ERROR_DST_UNREACHABLE	(-10)
#define VMCI_ERROR_NO_RESOURCES		(-19)
#define VMCI_ERROR_UNAVAILABLE		(-20)
#define VMCI_ERROR_NOT_FOUND		(-21)
#define VMCI_ERROR_ALREADY_EXISTS	(-22)
#define VMCI_ERROR_NOT_PAGE_ALIGNED	(-23)
#define VMCI_ERROR_INVALID_SIZE		(-24)
#define VMCI_ERROR_REGION_ALREADY_SHARED (-25)
#define VMCI_ERROR_OBSOLETE		(-30)
#define VMCI_ERROR_QUEUEPAIR_MISMATCH	(-31)
#define VMCI_ERROR_QUEUEPAIR_NOTSET	(-32)
#define VMCI_ERROR_QUEUEPAIR_NOTOWNER	(-33)
#define VMCI_ERROR_QUEUEPAIR_NOTATTACHED (-34)

struct handle {
	uint32_t context;
	uint32_t resource;
};

struct dg_header {
	struct handle dst;
	struct handle src;
	uint64_t payload_size;
};

struct init_blk {
	uint32_t cid;
	uint32_t flags;
};

struct snd_rcv_info {
	uint64_t addr;
	uint32_t len;
	int32_t result;
};

struct ctx_info {
	uint32_t remote_cid;
	int32_t result;
};

struct set_notify_info {
	uint64_t notify_uva;
	int32_t result;
	uint32_t pad;
};

struct notify_resource_info {
	struct handle handle;
	uint16_t resource;
	uint16_t action;
	int32_t result;
};

/* The device the tests open; a test's first argument may replace it. */
static const char *dev_path = "/dev/vmci";

/* INIT_CONTEXT on an open device: 0, or -1 with errno. */
static inline int vmm_init_ctx(int fd, uint32_t wanted, uint32_t flags, uint32_t *cid)
{
	struct init_blk blk = { .cid = wanted, .flags = flags };
	int ret = ioctl(fd, IOC_INIT_CONTEXT, &blk);

	if (cid)
		*cid = blk.cid;
	return ret;
}

/* A fresh context with a CID of the driver's choice; -1 with errno. */
static inline int vmm_open_ctx(uint32_t flags, uint32_t *cid)
{
	int fd = open(dev_path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (vmm_init_ctx(fd, 0, flags, cid)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Queue-pair and checkpoint ioctl arguments (facts file, /dev/vmci). */
struct qp_alloc_info {
	struct handle handle;
	uint32_t peer;
	uint32_t flags;
	uint64_t produce_size;
	uint64_t consume_size;
	uint64_t ppn_va;
	uint64_t num_ppns;
	int32_t result;
	uint32_t version;
};

struct qp_set_va_info {
	struct handle handle;
	uint64_t va;
	uint64_t num_ppns;
	uint32_t version;
	int32_t result;
};

struct qp_dtch_info {
	struct handle handle;
	int32_t result;
	uint32_t pad;
};

struct chkpt_info {
	uint64_t cpt_buf;
	uint32_t cpt_type;
	uint32_t buf_size;
	int32_t result;
	uint32_t pad;
};

#endif
