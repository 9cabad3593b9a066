// SPDX-License-Identifier: GPL-2.0
/*
 * Plays a VMM process on /dev/vmci with queue pairs: QUEUEPAIR_ALLOC and
 * SETVA over memory of its own, the host end played by
 * vmci_test_endpoint.ko (commands to host resource 1504), data moved both
 * ways through the rings with checksums while this program keeps its side
 * of the queue headers itself, garbage offsets that the kernel must refuse,
 * hostile ioctl arguments, the checkpoint ioctls, and closing with live
 * pairs. Reads /sys/kernel/debug/vmci/stats to prove the teardown.
 *
 * Usage: vmm_qpair [vmci-device]
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tap.h"
#include "vmci_stats.h"
#include "vmm_dev.h"

/* ABI beyond vmm_dev.h that only this test uses. */

#define PAGE			4096u
#define ENDPOINT_QP_RID		1504u
#define MY_RID			77u
#define EVENT_HANDLER_RID	0u
#define EV_QP_PEER_ATTACH	3u
#define EV_QP_PEER_DETACH	4u
#define QPFLAG_LOCAL		2u

#define CPT_NOTIFICATION	1
#define CPT_WELLKNOWN		2
#define CPT_DG_OUT		3
#define CPT_DOORBELL		6

struct queue_header {
	struct handle handle;
	uint64_t producer_tail;
	uint64_t consumer_head;
};

/* The endpoint's protocol (tests/kmod/vmci_test_endpoint.c). */
enum { QP_ATTACH = 1, QP_ECHO, QP_SEND, QP_DETACH };

struct qp_cmd_dg {
	struct handle dst;
	struct handle src;
	uint64_t payload_size;
	uint32_t op;
	uint32_t pad;
	struct handle handle;
	uint64_t vmm_produce_size;
	uint64_t vmm_consume_size;
	uint64_t len;
};

struct rx_dg {
	struct handle dst;
	struct handle src;
	uint64_t payload_size;
	union {
		struct {
			int64_t result;
			uint64_t checksum;
		} reply;
		struct {
			uint32_t event;
			uint32_t pad;
			struct handle handle;
			uint32_t peer_id;
			uint32_t pad2;
		} ev;
		uint8_t bytes[128];
	} u;
};

/* One pair as this VMM sees it: its memory, sizes and both headers. */
struct pair {
	struct handle handle;
	uint64_t psize;		/* our produce queue */
	uint64_t csize;		/* our consume queue */
	uint8_t *mem;
	size_t pages;
	struct queue_header *ph;	/* produce header: we write producer_tail and consumer_head */
	uint8_t *pdata;
	struct queue_header *ch;	/* consume header: the host writes it */
	uint8_t *cdata;
};

static int last_event = -1;
static uint32_t last_event_peer;

static uint64_t pages_of(uint64_t size)
{
	return (size + PAGE - 1) / PAGE;
}

/* VMCI result of QUEUEPAIR_ALLOC, or -1000 - errno. */
static int32_t qp_alloc(int fd, struct handle h, uint32_t peer, uint32_t flags, uint64_t psize,
			uint64_t csize, uint64_t num_ppns)
{
	struct qp_alloc_info info = {
		.handle = h, .peer = peer, .flags = flags, .produce_size = psize,
		.consume_size = csize, .num_ppns = num_ppns, .result = 12345,
	};

	if (ioctl(fd, IOC_QP_ALLOC, &info))
		return -1000 - errno;
	return info.result;
}

static int32_t qp_setva(int fd, struct handle h, uint64_t va, uint64_t num_ppns)
{
	struct qp_set_va_info info = { .handle = h, .va = va, .num_ppns = num_ppns,
				       .result = 12345 };

	if (ioctl(fd, IOC_QP_SETVA, &info))
		return -1000 - errno;
	return info.result;
}

static int32_t qp_detach(int fd, struct handle h)
{
	struct qp_dtch_info info = { .handle = h, .result = 12345 };

	if (ioctl(fd, IOC_QP_DETACH, &info))
		return -1000 - errno;
	return info.result;
}

/*
 * Sends one command to the endpoint and waits for its reply; events that
 * arrive meanwhile are remembered in last_event. Returns the reply's
 * result, or -2000 if none came.
 */
static int64_t endpoint(int fd, uint32_t op, const struct pair *p, uint64_t len, uint64_t *sum)
{
	struct qp_cmd_dg dg = {
		.dst = { HOST_CID, ENDPOINT_QP_RID },
		.src = { INVALID_ID, MY_RID },
		.payload_size = sizeof(dg) - 24,
		.op = op,
		.handle = p->handle,
		.vmm_produce_size = p->psize,
		.vmm_consume_size = p->csize,
		.len = len,
	};
	struct snd_rcv_info info = { .addr = (uintptr_t)&dg, .len = sizeof(dg) };
	struct rx_dg rx;
	int tries;

	if (ioctl(fd, IOC_DG_SEND, &info) || info.result < 0)
		return -2000;
	for (tries = 0; tries < 500; tries++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, 20) != 1)
			continue;
		memset(&rx, 0, sizeof(rx));
		info = (struct snd_rcv_info){ .addr = (uintptr_t)&rx, .len = sizeof(rx) };
		if (ioctl(fd, IOC_DG_RECEIVE, &info) || info.result < 0)
			continue;
		if (rx.src.context == 0 && rx.dst.resource == EVENT_HANDLER_RID) {
			last_event = rx.u.ev.event;
			last_event_peer = rx.u.ev.peer_id;
			continue;
		}
		if (rx.src.context == HOST_CID && rx.src.resource == ENDPOINT_QP_RID) {
			if (sum)
				*sum = rx.u.reply.checksum;
			return rx.u.reply.result;
		}
	}
	return -2000;
}

static uint64_t checksum(const uint8_t *buf, size_t len)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < len; i++)
		sum += (uint64_t)buf[i] * (i + 1);
	return sum;
}

static int pair_map(struct pair *p)
{
	p->pages = pages_of(p->psize) + pages_of(p->csize) + 2;
	p->mem = mmap(NULL, p->pages * PAGE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->mem == MAP_FAILED)
		return -1;
	p->ph = (struct queue_header *)p->mem;
	p->pdata = p->mem + PAGE;
	p->ch = (struct queue_header *)(p->pdata + pages_of(p->psize) * PAGE);
	p->cdata = (uint8_t *)p->ch + PAGE;
	/* Facts 5.3: the creator's side sets the headers up before use. */
	p->ph->handle = p->handle;
	p->ch->handle = p->handle;
	__atomic_store_n(&p->ph->producer_tail, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&p->ph->consumer_head, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&p->ch->producer_tail, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&p->ch->consumer_head, 0, __ATOMIC_RELEASE);
	return 0;
}

/* Facts 5.4, our produce queue: head is in the consume header. */
static uint64_t vmm_free(const struct pair *p)
{
	uint64_t t = __atomic_load_n(&p->ph->producer_tail, __ATOMIC_ACQUIRE);
	uint64_t h = __atomic_load_n(&p->ch->consumer_head, __ATOMIC_ACQUIRE);

	if (t >= p->psize || h >= p->psize)
		return 0;
	return t >= h ? p->psize - (t - h) - 1 : h - t - 1;
}

static size_t vmm_enqueue(struct pair *p, const uint8_t *buf, size_t len)
{
	uint64_t t = __atomic_load_n(&p->ph->producer_tail, __ATOMIC_ACQUIRE);
	uint64_t room = vmm_free(p);
	size_t i;

	if (len > room)
		len = room;
	for (i = 0; i < len; i++)
		p->pdata[(t + i) % p->psize] = buf[i];
	/* Data before the tail that publishes it. */
	__atomic_store_n(&p->ph->producer_tail, (t + len) % p->psize, __ATOMIC_RELEASE);
	return len;
}

static size_t vmm_dequeue(struct pair *p, uint8_t *buf, size_t len)
{
	uint64_t t = __atomic_load_n(&p->ch->producer_tail, __ATOMIC_ACQUIRE);
	uint64_t h = __atomic_load_n(&p->ph->consumer_head, __ATOMIC_ACQUIRE);
	uint64_t ready;
	size_t i;

	if (t >= p->csize || h >= p->csize)
		return 0;
	ready = t >= h ? t - h : p->csize - (h - t);
	if (len > ready)
		len = ready;
	for (i = 0; i < len; i++)
		buf[i] = p->cdata[(h + i) % p->csize];
	__atomic_store_n(&p->ph->consumer_head, (h + len) % p->csize, __ATOMIC_RELEASE);
	return len;
}

static void test_before_init(void)
{
	struct qp_alloc_info a = { 0 };
	int fd = open(dev_path, O_RDWR | O_CLOEXEC);

	tap_report(fd >= 0, "open_before_init", "%s", strerror(errno));
	if (fd < 0)
		return;
	tap_check_errno("before_init_alloc", ioctl(fd, IOC_QP_ALLOC, &a), EINVAL);
	tap_check_errno("before_init_get_cpt", ioctl(fd, IOC_GET_CPT, &a), EINVAL);
	close(fd);
}

static void test_bad_alloc(int fd, uint32_t cid)
{
	struct handle h = { cid, 0x6000 };
	struct handle other = { cid + 1, 0x6000 };

	tap_check_int("alloc_huge", qp_alloc(fd, h, HOST_CID, 0, 1ull << 40, PAGE, 0),
		      VMCI_ERROR_NO_RESOURCES);
	tap_check_int("alloc_overflowing_sum",
		      qp_alloc(fd, h, HOST_CID, 0, UINT64_MAX, UINT64_MAX, 0),
		      VMCI_ERROR_NO_RESOURCES);
	tap_check_int("alloc_zero_size", qp_alloc(fd, h, HOST_CID, 0, 0, PAGE, 0),
		      VMCI_ERROR_INVALID_ARGS);
	tap_check_int("alloc_local_flag", qp_alloc(fd, h, HOST_CID, QPFLAG_LOCAL, PAGE, PAGE, 0),
		      VMCI_ERROR_INVALID_ARGS);
	tap_check_int("alloc_unknown_flag", qp_alloc(fd, h, HOST_CID, 0x100, PAGE, PAGE, 0),
		      VMCI_ERROR_INVALID_ARGS);
	tap_check_int("alloc_vm_peer", qp_alloc(fd, h, cid + 1, 0, PAGE, PAGE, 0),
		      VMCI_ERROR_DST_UNREACHABLE);
	tap_check_int("alloc_foreign_handle", qp_alloc(fd, other, HOST_CID, 0, PAGE, PAGE, 0),
		      VMCI_ERROR_NO_ACCESS);
	tap_check_int("alloc_wrong_ppn_count", qp_alloc(fd, h, HOST_CID, 0, PAGE, PAGE, 3),
		      VMCI_ERROR_INVALID_SIZE);
	tap_check_int("alloc_attach_only_missing", qp_alloc(fd, h, HOST_CID, 1, PAGE, PAGE, 0),
		      VMCI_ERROR_NOT_FOUND);
	tap_check_errno("alloc_bad_pointer", ioctl(fd, IOC_QP_ALLOC, NULL), EFAULT);
	tap_check_errno("setpagefile_refused", ioctl(fd, IOC_QP_SETPAGEFILE, NULL), EINVAL);
	tap_check_int("setva_bogus_handle", qp_setva(fd, (struct handle){ cid, 0x6001 }, 0x100000, 0),
		      VMCI_ERROR_NOT_FOUND);
	tap_check_int("detach_bogus_handle", qp_detach(fd, (struct handle){ cid, 0x6001 }),
		      VMCI_ERROR_NOT_FOUND);
	tap_check_int("nothing_left_after_refusals", stat_value("broker_queue_pairs"), 0);
}

/* SETVA's checks on a pair with nothing mapped yet. */
static void test_bad_setva(int fd, struct pair *p)
{
	void *hole = mmap(NULL, p->pages * PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	tap_check_int("setva_unaligned", qp_setva(fd, p->handle, (uintptr_t)p->mem + 8, 0),
		      VMCI_ERROR_NOT_PAGE_ALIGNED);
	tap_check_int("setva_wrong_count", qp_setva(fd, p->handle, (uintptr_t)p->mem, p->pages + 1),
		      VMCI_ERROR_INVALID_SIZE);
	tap_check_int("setva_kernel_address", qp_setva(fd, p->handle, 0xffff800000000000ull, 0),
		      VMCI_ERROR_INVALID_ARGS);
	tap_check_int("setva_wrapping", qp_setva(fd, p->handle, UINT64_MAX & ~(uint64_t)(PAGE - 1), 0),
		      VMCI_ERROR_INVALID_ARGS);
	if (hole != MAP_FAILED) {
		munmap(hole, p->pages * PAGE);
		tap_check_int("setva_unmapped_memory", qp_setva(fd, p->handle, (uintptr_t)hole, 0),
			      VMCI_ERROR_NO_MEM);
	}
	tap_check_int("unmap_when_unmapped", qp_setva(fd, p->handle, 0, 0),
		      VMCI_ERROR_QUEUEPAIR_NOTSET);
	tap_check_int("no_pages_pinned_by_refusals", stat_value("broker_pinned_pages"), 0);
}

/* Rounds of data through both rings; sizes are chosen so that both wrap. */
static void test_data(int fd, struct pair *p)
{
	uint8_t tx[3000], rx[3000];
	int round, ok = 1;
	uint64_t sum = 0;
	int64_t r;
	size_t i, n;

	for (round = 0; round < 12 && ok; round++) {
		size_t len = 1000 + round * 150;

		for (i = 0; i < len; i++)
			tx[i] = (uint8_t)(round * 13 + i * 7);
		n = vmm_enqueue(p, tx, len);
		if (n != len) {
			tap_report(0, "data_rounds", "round %d: enqueued %zu of %zu", round, n, len);
			return;
		}
		r = endpoint(fd, QP_ECHO, p, len, &sum);
		if (r != (int64_t)len || sum != checksum(tx, len)) {
			tap_report(0, "data_rounds", "round %d: echo %lld sum %llx want %llx", round,
				   (long long)r, (unsigned long long)sum,
				   (unsigned long long)checksum(tx, len));
			return;
		}
		memset(rx, 0, sizeof(rx));
		n = vmm_dequeue(p, rx, sizeof(rx));
		ok = n == len && !memcmp(rx, tx, len);
		if (!ok)
			tap_report(0, "data_rounds", "round %d: read back %zu of %zu", round, n, len);
	}
	if (ok)
		tap_report(1, "data_rounds", "");

	/* Host to VMM alone, with the checksum the host computed. */
	r = endpoint(fd, QP_SEND, p, 2000, &sum);
	n = vmm_dequeue(p, rx, sizeof(rx));
	tap_report(r == 2000 && n == 2000 && checksum(rx, n) == sum, "host_to_vmm",
		   "send %lld read %zu", (long long)r, n);
	/* Nothing ready: an echo moves nothing. */
	tap_check_int("echo_with_nothing_ready", endpoint(fd, QP_ECHO, p, 100, NULL), -36);
}

/* Offsets we own, set to nonsense: the kernel must refuse, never overrun. */
static void test_garbage(int fd, struct pair *p)
{
	uint64_t tail = __atomic_load_n(&p->ph->producer_tail, __ATOMIC_ACQUIRE);
	uint64_t head = __atomic_load_n(&p->ph->consumer_head, __ATOMIC_ACQUIRE);
	const uint64_t bad[] = { p->psize, p->psize + 1, 1ull << 40, UINT64_MAX };
	const uint64_t bad_head[] = { p->csize, p->csize + 1, 1ull << 40, UINT64_MAX };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[64];

		__atomic_store_n(&p->ph->producer_tail, bad[i], __ATOMIC_RELEASE);
		snprintf(name, sizeof(name), "garbage_tail_%zu", i);
		tap_check_int(name, endpoint(fd, QP_ECHO, p, 100, NULL), VMCI_ERROR_INVALID_SIZE);
	}
	__atomic_store_n(&p->ph->producer_tail, tail, __ATOMIC_RELEASE);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[64];

		/* Our consumer_head bounds what the host may write to us. */
		__atomic_store_n(&p->ph->consumer_head, bad_head[i], __ATOMIC_RELEASE);
		snprintf(name, sizeof(name), "garbage_head_%zu", i);
		tap_check_int(name, endpoint(fd, QP_SEND, p, 100, NULL), VMCI_ERROR_INVALID_SIZE);
	}
	__atomic_store_n(&p->ph->consumer_head, head, __ATOMIC_RELEASE);
	/* Sane again: the pair still works. */
	tap_check_int("after_garbage_send", endpoint(fd, QP_SEND, p, 100, NULL), 100);
}

static void test_pair(int fd, uint32_t cid)
{
	struct pair p = { .handle = { cid, 0x7000 }, .psize = 2 * PAGE + 123,
			  .csize = PAGE + 77 };

	if (pair_map(&p)) {
		tap_report(0, "pair_mmap", "%s", strerror(errno));
		return;
	}
	tap_check_int("alloc", qp_alloc(fd, p.handle, HOST_CID, 0, p.psize, p.csize, p.pages),
		      VMCI_SUCCESS);
	tap_check_int("alloc_again", qp_alloc(fd, p.handle, HOST_CID, 0, p.psize, p.csize, 0),
		      VMCI_ERROR_ALREADY_EXISTS);
	test_bad_setva(fd, &p);
	/* The host attaches before our memory is there: it must wait for it. */
	tap_check_int("host_attach", endpoint(fd, QP_ATTACH, &p, 0, NULL), VMCI_SUCCESS);
	tap_report(last_event == EV_QP_PEER_ATTACH && last_event_peer == HOST_CID,
		   "peer_attach_event", "event %d peer %u", last_event, last_event_peer);
	tap_check_int("echo_before_setva", endpoint(fd, QP_ECHO, &p, 10, NULL),
		      VMCI_ERROR_QUEUEPAIR_NOTATTACHED);
	tap_check_int("setva", qp_setva(fd, p.handle, (uintptr_t)p.mem, p.pages), VMCI_SUCCESS);
	tap_check_int("pages_pinned", stat_value("broker_pinned_pages"), p.pages);
	tap_check_int("setva_twice", qp_setva(fd, p.handle, (uintptr_t)p.mem, 0),
		      VMCI_ERROR_REGION_ALREADY_SHARED);

	test_data(fd, &p);
	test_garbage(fd, &p);

	/* Unmap and map again: the pages come and go with it. */
	tap_check_int("unmap", qp_setva(fd, p.handle, 0, 0), VMCI_SUCCESS);
	tap_check_int("unpinned_after_unmap", stat_value("broker_pinned_pages"), 0);
	tap_check_int("echo_after_unmap", endpoint(fd, QP_ECHO, &p, 10, NULL),
		      VMCI_ERROR_QUEUEPAIR_NOTATTACHED);
	tap_check_int("setva_again", qp_setva(fd, p.handle, (uintptr_t)p.mem, 0), VMCI_SUCCESS);

	last_event = -1;
	tap_check_int("detach", qp_detach(fd, p.handle), VMCI_SUCCESS);
	/* The endpoint leaves on our detach, so the pair is gone altogether. */
	tap_check_int("detach_twice", qp_detach(fd, p.handle), VMCI_ERROR_NOT_FOUND);
	tap_report(wait_stat("broker_queue_pairs", 0, 2000), "pair_gone_after_detach",
		   "%lld left", stat_value("broker_queue_pairs"));
	tap_check_int("unpinned_after_detach", stat_value("broker_pinned_pages"), 0);
	munmap(p.mem, p.pages * PAGE);
}

/* The host leaving first: we hear about it and can still detach. */
static void test_host_leaves(int fd, uint32_t cid)
{
	struct pair p = { .handle = { cid, 0x7001 }, .psize = PAGE, .csize = PAGE };

	if (pair_map(&p))
		return;
	qp_alloc(fd, p.handle, INVALID_ID, 0, p.psize, p.csize, 0);
	tap_check_int("setva_first", qp_setva(fd, p.handle, (uintptr_t)p.mem, 0), VMCI_SUCCESS);
	tap_check_int("host_attach_2", endpoint(fd, QP_ATTACH, &p, 0, NULL), VMCI_SUCCESS);
	last_event = -1;
	tap_check_int("host_detach", endpoint(fd, QP_DETACH, &p, 0, NULL), VMCI_SUCCESS);
	tap_report(last_event == EV_QP_PEER_DETACH && last_event_peer == HOST_CID,
		   "peer_detach_event", "event %d peer %u", last_event, last_event_peer);
	tap_check_int("vmm_detach_after_host", qp_detach(fd, p.handle), VMCI_SUCCESS);
	munmap(p.mem, p.pages * PAGE);
}

/* Closing with mapped pairs, one with the host attached, releases everything. */
static void test_close_live(void)
{
	struct pair p1, p2;
	uint32_t cid;
	int fd = vmm_open_ctx(0, &cid);

	if (fd < 0) {
		tap_report(0, "close_live_open", "%s", strerror(errno));
		return;
	}
	p1 = (struct pair){ .handle = { cid, 0x7100 }, .psize = 3 * PAGE, .csize = 5 * PAGE };
	p2 = (struct pair){ .handle = { cid, 0x7101 }, .psize = PAGE, .csize = PAGE };
	if (pair_map(&p1) || pair_map(&p2))
		return;
	qp_alloc(fd, p1.handle, HOST_CID, 0, p1.psize, p1.csize, 0);
	qp_alloc(fd, p2.handle, HOST_CID, 0, p2.psize, p2.csize, 0);
	qp_setva(fd, p1.handle, (uintptr_t)p1.mem, 0);
	qp_setva(fd, p2.handle, (uintptr_t)p2.mem, 0);
	tap_check_int("close_live_attach", endpoint(fd, QP_ATTACH, &p1, 0, NULL), VMCI_SUCCESS);
	tap_check_int("close_live_pinned", stat_value("broker_pinned_pages"),
		      (long long)(p1.pages + p2.pages));
	close(fd);
	tap_report(wait_stat("broker_queue_pairs", 0, 2000), "close_live_pairs_gone",
		   "%lld left", stat_value("broker_queue_pairs"));
	tap_check_int("close_live_unpinned", stat_value("broker_pinned_pages"), 0);
	munmap(p1.mem, p1.pages * PAGE);
	munmap(p2.mem, p2.pages * PAGE);
}

static int32_t cpt(int fd, unsigned long cmd, uint32_t type, void *buf, uint32_t *size)
{
	struct chkpt_info info = { .cpt_buf = (uintptr_t)buf, .cpt_type = type,
				   .buf_size = *size, .result = 12345 };

	if (ioctl(fd, cmd, &info))
		return -1000 - errno;
	*size = info.buf_size;
	return info.result;
}

static void test_checkpoint(void)
{
	uint32_t cid, other_cid, fresh_cid, cids[8] = { 0 }, size;
	struct notify_resource_info nr;
	struct ctx_info ci;
	uint64_t recs[8] = { 0 };
	int fd = vmm_open_ctx(0, &cid), other = vmm_open_ctx(0, &other_cid), fresh = vmm_open_ctx(0, &fresh_cid);

	if (fd < 0 || other < 0 || fresh < 0) {
		tap_report(0, "cpt_open", "%s", strerror(errno));
		return;
	}
	ci = (struct ctx_info){ .remote_cid = other_cid };
	ioctl(fd, IOC_CTX_ADD_NOTIFY, &ci);
	nr = (struct notify_resource_info){ .handle = { cid, 0x8000 }, .resource = 1, .action = 1 };
	ioctl(fd, IOC_NOTIFY_RESOURCE, &nr);

	size = 2;
	tap_check_int("cpt_notify_too_small", cpt(fd, IOC_GET_CPT, CPT_NOTIFICATION, cids, &size),
		      VMCI_ERROR_MORE_DATA);
	tap_check_int("cpt_notify_needed_size", size, 4);
	size = sizeof(cids);
	tap_check_int("cpt_notify_get", cpt(fd, IOC_GET_CPT, CPT_NOTIFICATION, cids, &size),
		      VMCI_SUCCESS);
	tap_report(size == 4 && cids[0] == other_cid, "cpt_notify_content", "size %u cid %u",
		   size, cids[0]);
	size = sizeof(cids);
	tap_check_int("cpt_wellknown_empty", cpt(fd, IOC_GET_CPT, CPT_WELLKNOWN, cids, &size),
		      VMCI_SUCCESS);
	tap_check_int("cpt_wellknown_size", size, 0);
	size = sizeof(recs);
	tap_check_int("cpt_doorbell_get", cpt(fd, IOC_GET_CPT, CPT_DOORBELL, recs, &size),
		      VMCI_SUCCESS);
	tap_report(size == 16 && recs[0] == ((uint64_t)0x8000 << 32 | cid) && recs[1] == 0,
		   "cpt_doorbell_content", "size %u rec %llx", size, (unsigned long long)recs[0]);
	size = sizeof(recs);
	tap_check_int("cpt_get_unknown_type", cpt(fd, IOC_GET_CPT, CPT_DG_OUT, recs, &size),
		      VMCI_ERROR_INVALID_ARGS);
	size = sizeof(recs);
	tap_check_int("cpt_get_bad_buffer", cpt(fd, IOC_GET_CPT, CPT_NOTIFICATION, (void *)8, &size),
		      -1000 - EFAULT);

	/* Restore into a fresh context, as a VMX does after resume. */
	cids[0] = other_cid;
	size = 4;
	tap_check_int("cpt_notify_set", cpt(fd, IOC_SET_CPT, CPT_NOTIFICATION, cids, &size),
		      VMCI_SUCCESS);
	size = 4;
	tap_check_int("cpt_notify_restore", cpt(fresh, IOC_SET_CPT, CPT_NOTIFICATION, cids, &size),
		      VMCI_SUCCESS);
	size = sizeof(cids);
	cids[0] = 0;
	cpt(fresh, IOC_GET_CPT, CPT_NOTIFICATION, cids, &size);
	tap_report(size == 4 && cids[0] == other_cid, "cpt_notify_restored", "size %u cid %u",
		   size, cids[0]);
	recs[0] = (uint64_t)0x8001 << 32 | fresh_cid;
	recs[1] = 5;
	size = 16;
	tap_check_int("cpt_doorbell_restore", cpt(fresh, IOC_SET_CPT, CPT_DOORBELL, recs, &size),
		      VMCI_SUCCESS);
	size = sizeof(recs);
	cpt(fresh, IOC_GET_CPT, CPT_DOORBELL, recs, &size);
	tap_report(size == 16 && recs[0] == ((uint64_t)0x8001 << 32 | fresh_cid),
		   "cpt_doorbell_restored", "size %u", size);
	size = 3;
	tap_check_int("cpt_set_ragged_size", cpt(fresh, IOC_SET_CPT, CPT_NOTIFICATION, cids, &size),
		      VMCI_ERROR_INVALID_ARGS);
	size = 0xfffffff0u;
	tap_check_int("cpt_set_huge_size", cpt(fresh, IOC_SET_CPT, CPT_NOTIFICATION, cids, &size),
		      VMCI_ERROR_INVALID_ARGS);
	cids[0] = 0x7ffffff0u;
	size = 4;
	tap_check_int("cpt_set_missing_cid", cpt(fresh, IOC_SET_CPT, CPT_NOTIFICATION, cids, &size),
		      VMCI_ERROR_NOT_FOUND);
	size = 8;
	tap_check_int("cpt_set_wellknown", cpt(fresh, IOC_SET_CPT, CPT_WELLKNOWN, cids, &size),
		      VMCI_ERROR_OBSOLETE);
	size = 4;
	tap_check_int("cpt_set_unknown_type", cpt(fresh, IOC_SET_CPT, 99, cids, &size),
		      VMCI_ERROR_INVALID_ARGS);
	close(fresh);
	close(other);
	close(fd);
}

int main(int argc, char **argv)
{
	long long contexts = stat_value("vmm_contexts");
	uint32_t cid;
	int fd;

	/*
	 * main 4, before_init 3, bad_alloc 14, pair 35 (bad_setva 7, data 3
	 * and garbage 9 included), host_leaves 5, close_live 4, checkpoint 20;
	 * pair_mmap, close_live_open and cpt_open report only on failure.
	 */
	tap_plan(85);
	if (argc > 1)
		dev_path = argv[1];
	test_before_init();
	fd = vmm_open_ctx(0, &cid);
	tap_report(fd >= 0, "init_context", "%s", strerror(errno));
	if (fd < 0)
		return 1;
	test_bad_alloc(fd, cid);
	test_pair(fd, cid);
	test_host_leaves(fd, cid);
	close(fd);
	test_close_live();
	test_checkpoint();
	tap_report(wait_stat("vmm_contexts", contexts, 2000), "contexts_gone", "%lld left",
		   stat_value("vmm_contexts"));
	tap_check_int("doorbells_gone", stat_value("vmm_doorbells"), 0);
	tap_check_int("broker_empty", stat_value("broker_queue_pairs"), 0);
	return tap_failures ? 1 : 0;
}
