// SPDX-License-Identifier: GPL-2.0
/*
 * VMX mode of the device model: the host context through /dev/vmci of
 * the kernel the model runs on (vmci_vmx.h). The ioctl numbers and
 * argument layouts are restated from the facts sheet (section 6), not
 * taken from the driver's headers, which need the kernel's.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmci_vmx.h"

#define IOC_INIT_CONTEXT	1952
#define IOC_QP_SETVA		1956
#define IOC_NOTIFY_RESOURCE	1957
#define IOC_NOTIFICATIONS_RECV	1958
#define IOC_QP_ALLOC		1960
#define IOC_QP_DETACH		1962
#define IOC_DG_SEND		1963
#define IOC_DG_RECEIVE		1964
#define IOC_SET_NOTIFY		1995

#define RES_DOOR_BELL		1
#define ACT_NOTIFY		0
#define ACT_CREATE		1
#define ACT_DESTROY		2

#define ERROR_MORE_DATA		(-5)
#define ERROR_NO_MORE_DATAGRAMS	(-6)

/* A context holds at most a page's worth of doorbells (one bitmap byte each). */
#define MAX_HANDLES		VMM_PAGE_SIZE
/* Bounds one call, so that a busy host cannot keep the caller forever. */
#define POLL_BUDGET		256

struct vmx_handle {
	uint32_t context;
	uint32_t resource;
};

struct vmx_init_blk {
	uint32_t cid;
	uint32_t flags;
};

struct vmx_snd_rcv_info {
	uint64_t addr;
	uint32_t len;
	int32_t result;
};

struct vmx_qp_alloc_info {
	struct vmx_handle handle;
	uint32_t peer;
	uint32_t flags;
	uint64_t produce_size;
	uint64_t consume_size;
	uint64_t ppn_va;
	uint64_t num_ppns;
	int32_t result;
	uint32_t version;
};

struct vmx_qp_set_va_info {
	struct vmx_handle handle;
	uint64_t va;
	uint64_t num_ppns;
	uint32_t version;
	int32_t result;
};

struct vmx_qp_dtch_info {
	struct vmx_handle handle;
	int32_t result;
	uint32_t pad;
};

struct vmx_set_notify_info {
	uint64_t notify_uva;
	int32_t result;
	uint32_t pad;
};

struct vmx_notify_resource_info {
	struct vmx_handle handle;
	uint16_t resource;
	uint16_t action;
	int32_t result;
};

struct vmx_notify_recv_info {
	uint64_t db_uva;
	uint64_t db_size;
	uint64_t qp_uva;
	uint64_t qp_size;
	int32_t result;
	uint32_t pad;
};

_Static_assert(sizeof(struct vmx_qp_alloc_info) == 56, "qp_alloc_info layout");
_Static_assert(sizeof(struct vmx_qp_set_va_info) == 32, "qp_set_va_info layout");
_Static_assert(sizeof(struct vmx_notify_recv_info) == 40, "notify_recv_info layout");

/*
 * The VMCI result an ioctl left in RESULT; an ioctl that failed before
 * writing it (EFAULT, EINVAL) is a generic error for the guest.
 */
static int64_t ioctl_result(int fd, unsigned long nr, void *arg, int32_t *result)
{
	*result = INT32_MIN;
	if (ioctl(fd, nr, arg) && *result == INT32_MIN)
		return VMM_ERROR_GENERIC;
	return *result;
}

int vmm_vmx_open(struct vmm_vmx *x, struct vmci_model *m, const char *dev,
		 uint32_t priv_flags,
		 int (*ram_lookup)(void *opaque, uint64_t gpa, int *fd,
				   uint64_t *offset),
		 void *ram_opaque)
{
	struct vmx_init_blk blk = { .cid = m->cid, .flags = priv_flags };
	struct vmx_set_notify_info sn = { 0 };
	void *page;
	int err;

	memset(x, 0, sizeof(*x));
	x->model = m;
	x->ram_lookup = ram_lookup;
	x->ram_opaque = ram_opaque;
	x->buf = malloc(VMM_MAX_DG_SIZE);
	x->handles = calloc(MAX_HANDLES, sizeof(*x->handles));
	page = mmap(NULL, VMM_PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	x->fd = open(dev, O_RDWR | O_CLOEXEC);
	if (x->fd < 0 || !x->buf || !x->handles || page == MAP_FAILED) {
		err = x->fd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	x->notify = page;
	if (ioctl(x->fd, IOC_INIT_CONTEXT, &blk)) {
		err = -errno;
		goto fail;
	}
	x->cid = blk.cid;
	m->cid = blk.cid;
	/* The driver keeps the byte non-zero while work is pending. */
	sn.notify_uva = (uintptr_t)x->notify;
	if (ioctl_result(x->fd, IOC_SET_NOTIFY, &sn, &sn.result) < VMM_SUCCESS) {
		err = -EIO;
		goto fail;
	}
	return 0;

fail:
	if (x->fd >= 0)
		close(x->fd);
	if (page != MAP_FAILED)
		munmap(page, VMM_PAGE_SIZE);
	free(x->buf);
	free(x->handles);
	memset(x, 0, sizeof(*x));
	x->fd = -1;
	return err;
}

static void unmap_window(struct vmm_vmx_pair *p)
{
	if (p->window)
		munmap(p->window, p->len);
	p->window = NULL;
}

void vmm_vmx_close(struct vmm_vmx *x)
{
	unsigned int i;

	/* Closing the file detaches the context from every pair it held. */
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	for (i = 0; i < x->pair_count; i++)
		unmap_window(&x->pairs[i]);
	free(x->pairs);
	x->pairs = NULL;
	x->pair_count = 0;
	if (x->notify)
		munmap((void *)x->notify, VMM_PAGE_SIZE);
	x->notify = NULL;
	free(x->buf);
	free(x->handles);
	x->buf = NULL;
	x->handles = NULL;
}

int64_t vmm_vmx_from_guest(struct vmm_vmx *x, const uint8_t *dg, size_t len)
{
	struct vmx_snd_rcv_info info = {
		.addr = (uintptr_t)dg, .len = (uint32_t)len,
	};
	int64_t r;

	if (len > VMM_MAX_DG_SIZE)
		return VMM_ERROR_PAYLOAD_TOO_LARGE;
	r = ioctl_result(x->fd, IOC_DG_SEND, &info, &info.result);
	if (r >= VMM_SUCCESS)
		x->to_host++;
	return r;
}

int64_t vmm_vmx_doorbell(struct vmm_vmx *x, uint32_t rid, uint32_t context,
			 uint32_t resource)
{
	struct vmx_notify_resource_info info = {
		.handle = { context, resource }, .resource = RES_DOOR_BELL,
	};

	switch (rid) {
	case VMM_RID_DOORBELL_LINK:
		info.action = ACT_CREATE;
		break;
	case VMM_RID_DOORBELL_UNLINK:
		info.action = ACT_DESTROY;
		break;
	case VMM_RID_DOORBELL_NOTIFY:
		info.action = ACT_NOTIFY;
		x->rings_out++;
		break;
	default:
		return VMM_ERROR_INVALID_ARGS;
	}
	return ioctl_result(x->fd, IOC_NOTIFY_RESOURCE, &info, &info.result);
}

static struct vmm_vmx_pair *find_pair(struct vmm_vmx *x, uint32_t context,
				      uint32_t resource)
{
	unsigned int i;

	for (i = 0; i < x->pair_count; i++)
		if (x->pairs[i].context == context &&
		    x->pairs[i].resource == resource)
			return &x->pairs[i];
	return NULL;
}

/*
 * Reserves a window for the pair's pages and maps each guest page of its
 * page list there, from the file backing guest RAM, so that the driver
 * pins exactly the guest's pages in the order of the list. A run of pages
 * contiguous in the file takes one mapping. The reservation is private
 * and inaccessible, so no hole of it can be pinned by mistake: every page
 * is replaced or the whole window goes.
 */
static uint8_t *map_window(struct vmm_vmx *x, const struct vmm_qpair *qp)
{
	size_t len = qp->num_pages * VMM_PAGE_SIZE;
	uint64_t i = 0, run, off, next_off;
	uint8_t *w;
	int fd, next_fd;

	w = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0);
	if (w == MAP_FAILED)
		return NULL;
	while (i < qp->num_pages) {
		if (x->ram_lookup(x->ram_opaque, qp->ppns[i] << VMM_PAGE_SHIFT, &fd, &off))
			goto fail;
		for (run = 1; i + run < qp->num_pages; run++) {
			if (x->ram_lookup(x->ram_opaque,
					  qp->ppns[i + run] << VMM_PAGE_SHIFT,
					  &next_fd, &next_off) ||
			    next_fd != fd || next_off != off + run * VMM_PAGE_SIZE)
				break;
		}
		if (mmap(w + i * VMM_PAGE_SIZE, run * VMM_PAGE_SIZE,
			 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
			 (off_t)off) == MAP_FAILED)
			goto fail;
		i += run;
	}
	return w;

fail:
	munmap(w, len);
	return NULL;
}

static int64_t host_detach(struct vmm_vmx *x, uint32_t context, uint32_t resource)
{
	struct vmx_qp_dtch_info info = { .handle = { context, resource } };

	return ioctl_result(x->fd, IOC_QP_DETACH, &info, &info.result);
}

int64_t vmm_vmx_qp_alloc(struct vmm_vmx *x, const struct vmm_qpair *qp)
{
	struct vmx_qp_alloc_info alloc = {
		.handle = { qp->context, qp->resource }, .peer = qp->peer,
		.flags = qp->flags, .produce_size = qp->produce_size,
		.consume_size = qp->consume_size, .num_ppns = qp->num_pages,
	};
	struct vmx_qp_set_va_info setva = {
		.handle = { qp->context, qp->resource }, .num_ppns = qp->num_pages,
	};
	struct vmm_vmx_pair *grown, *p;
	int64_t r;

	grown = realloc(x->pairs, (x->pair_count + 1) * sizeof(*x->pairs));
	if (!grown)
		return VMM_ERROR_NO_MEM;
	x->pairs = grown;
	p = &x->pairs[x->pair_count];
	*p = (struct vmm_vmx_pair){
		.context = qp->context, .resource = qp->resource,
		.len = qp->num_pages * VMM_PAGE_SIZE,
	};
	p->window = map_window(x, qp);
	if (!p->window)
		return VMM_ERROR_NO_MEM;
	r = ioctl_result(x->fd, IOC_QP_ALLOC, &alloc, &alloc.result);
	if (r < VMM_SUCCESS) {
		unmap_window(p);
		return r;
	}
	/*
	 * The driver pins the window's pages now; they stay the guest's RAM
	 * pages, and the window stays mapped until the detach unpinned them.
	 */
	setva.va = (uintptr_t)p->window;
	r = ioctl_result(x->fd, IOC_QP_SETVA, &setva, &setva.result);
	if (r < VMM_SUCCESS) {
		host_detach(x, qp->context, qp->resource);
		unmap_window(p);
		return r;
	}
	x->pair_count++;
	return VMM_SUCCESS;
}

int64_t vmm_vmx_qp_detach(struct vmm_vmx *x, const struct vmm_qpair *qp)
{
	struct vmm_vmx_pair *p = find_pair(x, qp->context, qp->resource);
	int64_t r;

	if (!p)
		return VMM_ERROR_NOT_FOUND;
	r = host_detach(x, qp->context, qp->resource);
	/* The detach unpinned the pages (or the context was never theirs). */
	unmap_window(p);
	*p = x->pairs[--x->pair_count];
	return r;
}

/* Takes one datagram into x->buf; its length, 0 for none, or an error. */
static int64_t receive_one(struct vmm_vmx *x)
{
	struct vmx_snd_rcv_info info = {
		.addr = (uintptr_t)x->buf, .len = VMM_MAX_DG_SIZE,
	};
	int64_t r = ioctl_result(x->fd, IOC_DG_RECEIVE, &info, &info.result);

	if (r == ERROR_NO_MORE_DATAGRAMS)
		return 0;
	if (r < VMM_SUCCESS)
		return -EIO;
	return VMM_DG_HEADER_SIZE + vmm_get64(x->buf + 16);
}

/* Sets the bitmap byte of every guest doorbell the host rang. */
static int ring_pending(struct vmm_vmx *x)
{
	struct vmx_notify_recv_info info = {
		.db_uva = (uintptr_t)x->handles,
		.db_size = MAX_HANDLES * sizeof(*x->handles),
	};
	unsigned int i, n;

	if (ioctl_result(x->fd, IOC_NOTIFICATIONS_RECV, &info, &info.result) < VMM_SUCCESS)
		return -EIO;
	n = (unsigned int)(info.db_size / sizeof(*x->handles));
	for (i = 0; i < n && i < MAX_HANDLES; i++) {
		const uint8_t *h = (const uint8_t *)&x->handles[i];

		/* A doorbell the guest unlinked meanwhile is simply not found. */
		if (vmm_ring_doorbell(x->model, vmm_get32(h), vmm_get32(h + 4)) ==
		    VMM_SUCCESS)
			x->rings_in++;
	}
	return (int)n;
}

int vmm_vmx_poll(struct vmm_vmx *x)
{
	int done = 0, r, budget;
	int64_t len;

	for (budget = 0; budget < POLL_BUDGET; budget++) {
		if (x->held_len) {
			len = x->held_len;
		} else {
			len = receive_one(x);
			if (len <= 0)
				break;
		}
		if ((size_t)len > VMM_MAX_DG_SIZE)
			return -EIO;
		r = vmm_deliver(x->model, x->buf, (size_t)len);
		if (r == VMM_ERROR_NO_RESOURCES) {
			/* Keep it (first in line) until the guest made room. */
			if (!x->held_len)
				x->held++;
			x->held_len = (uint32_t)len;
			break;
		}
		x->held_len = 0;
		if (r == VMM_SUCCESS) {
			x->to_guest++;
			done++;
		}
	}
	r = ring_pending(x);
	return r < 0 ? r : done + r;
}
