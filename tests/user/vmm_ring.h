/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a test needs to play a guest's vSockets stack from a VMM context on
 * /dev/vmci: the queue-pair ioctls, a pair laid out in the VMM's own
 * memory with rings moved the way a guest moves them, and the vSockets
 * control packet. Restated from the facts file (sections 5.3, 5.4, 6, 7),
 * not from the driver's headers, so that a wrong layout is caught.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_TESTS_VMM_RING_H
#define VMCI_TESTS_VMM_RING_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "vmm_dev.h"

#define RING_PAGE		4096u
#define QPFLAG_ATTACH_ONLY	1u
#define EVENT_HANDLER_RID	0u
#define EV_QP_PEER_ATTACH	3u
#define EV_QP_PEER_DETACH	4u

/* vSockets control packets (facts 7.1, 7.2). */
#define CTL_RID			1u
#define PKT_OFFER		3
#define PKT_ATTACH		4
#define PKT_WROTE		5
#define PKT_READ		6
#define PKT_RST			7
#define PKT_SHUTDOWN		8
#define PKT_REQUEST2		11
#define PKT_NEGOTIATE2		12
#define PROTO_QSTATE		1

struct ctl_packet {
	struct handle dst, src;
	uint64_t payload_size;
	uint8_t version, type;
	uint16_t proto;
	uint32_t src_port, dst_port, reserved2;
	uint64_t u0, u1;
};

_Static_assert(sizeof(struct ctl_packet) == 56, "control packet layout");

/*
 * A VMM context @cid (its /dev/vmci file @fd) sends a vSockets control
 * packet to the host's control handle: 0, or -1 when the send failed.
 */
static inline int vmm_ctl_send(int fd, uint32_t cid, uint8_t type, uint16_t proto,
			       uint32_t sport, uint32_t dport, uint64_t u0)
{
	struct ctl_packet p;
	struct snd_rcv_info info = { .addr = (uintptr_t)&p, .len = sizeof(p) };

	memset(&p, 0, sizeof(p));
	p.dst = (struct handle){ HOST_CID, CTL_RID };
	p.src = (struct handle){ cid, CTL_RID };
	p.payload_size = sizeof(p) - DG_HEADER;
	p.version = 1;
	p.type = type;
	p.proto = proto;
	p.src_port = sport;
	p.dst_port = dport;
	p.u0 = u0;
	return ioctl(fd, IOC_DG_SEND, &info) || info.result < 0 ? -1 : 0;
}

/* A handle as the u64 a control packet carries it in. */
static inline uint64_t handle_u64(struct handle h)
{
	uint64_t u;

	memcpy(&u, &h, sizeof(u));
	return u;
}

/* A queue-pair event as the broker queues it to a VMM (facts 3.2). */
struct qp_event {
	struct dg_header hdr;
	uint32_t event, pad;
	struct handle handle;
	uint32_t peer_id, pad2;
};

_Static_assert(sizeof(struct qp_event) == 48, "queue-pair event layout");

struct queue_header {
	struct handle handle;
	uint64_t producer_tail;
	uint64_t consumer_head;
};

/* VMCI results of the queue-pair ioctls, or -1000 - errno. */
static inline int32_t vmm_qp_alloc(int fd, struct handle h, uint32_t peer, uint32_t flags,
				   uint64_t psize, uint64_t csize)
{
	struct qp_alloc_info info = {
		.handle = h, .peer = peer, .flags = flags, .produce_size = psize,
		.consume_size = csize, .result = 12345,
	};

	if (ioctl(fd, IOC_QP_ALLOC, &info))
		return -1000 - errno;
	return info.result;
}

static inline int32_t vmm_qp_setva(int fd, struct handle h, void *va)
{
	struct qp_set_va_info info = { .handle = h, .va = (uintptr_t)va, .result = 12345 };

	if (ioctl(fd, IOC_QP_SETVA, &info))
		return -1000 - errno;
	return info.result;
}

static inline int32_t vmm_qp_detach(int fd, struct handle h)
{
	struct qp_dtch_info info = { .handle = h, .result = 12345 };

	if (ioctl(fd, IOC_QP_DETACH, &info))
		return -1000 - errno;
	return info.result;
}

/*
 * One pair in the VMM's memory, in SETVA's order: produce header page,
 * produce ring, consume header page, consume ring. We write only our
 * produce header: producer_tail for what we send, consumer_head for what
 * we took from the consume ring; the peer writes the consume header.
 */
struct vmm_pair {
	struct handle handle;
	uint64_t size;		/* both rings: vSockets uses one size */
	uint8_t *mem;
	size_t len;
	struct queue_header *ph, *ch;
	uint8_t *pdata, *cdata;
};

/* Maps and initialises the pair's memory (the VMX's job, vmci-core.md). */
static inline int vmm_pair_map(struct vmm_pair *p, struct handle h, uint64_t size)
{
	uint64_t ring = (size + RING_PAGE - 1) / RING_PAGE * RING_PAGE;

	p->handle = h;
	p->size = size;
	p->len = 2 * (ring + RING_PAGE);
	p->mem = mmap(NULL, p->len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (p->mem == MAP_FAILED) {
		p->mem = NULL;
		return -1;
	}
	p->ph = (struct queue_header *)p->mem;
	p->pdata = p->mem + RING_PAGE;
	p->ch = (struct queue_header *)(p->pdata + ring);
	p->cdata = (uint8_t *)p->ch + RING_PAGE;
	p->ph->handle = h;
	p->ch->handle = h;
	return 0;
}

static inline void vmm_pair_unmap(struct vmm_pair *p)
{
	if (p->mem)
		munmap(p->mem, p->len);
	p->mem = NULL;
}

/*
 * Each offset is read once (the peer may change it at any time) and
 * checked against the size before it is used; -1 for a bad one.
 */
static inline int ring_load(const uint64_t *off, uint64_t size, uint64_t *val)
{
	*val = __atomic_load_n(off, __ATOMIC_ACQUIRE);
	return *val < size ? 0 : -1;
}

/* Facts 5.4: one byte always stays empty; tail == head is empty. */
static inline uint64_t ring_free(uint64_t tail, uint64_t head, uint64_t size)
{
	return tail >= head ? size - (tail - head) - 1 : head - tail - 1;
}

/*
 * Copies up to @len bytes into our produce ring. Returns the bytes
 * written, or -1 on a bad offset; *@ready is what the peer has unread
 * afterwards (equal to the return value: the ring was empty, send WROTE).
 * The peer's head is read again after the tail is published, with a full
 * fence between: a reader that emptied the ring meanwhile and went to
 * sleep must not be taken for one that is still busy.
 */
static inline long ring_put(struct vmm_pair *p, const uint8_t *buf, size_t len, uint64_t *ready)
{
	uint64_t tail, head, first;

	if (ring_load(&p->ph->producer_tail, p->size, &tail) ||
	    ring_load(&p->ch->consumer_head, p->size, &head))
		return -1;
	if (len > ring_free(tail, head, p->size))
		len = ring_free(tail, head, p->size);
	first = p->size - tail < len ? p->size - tail : len;
	memcpy(p->pdata + tail, buf, first);
	memcpy(p->pdata, buf + first, len - first);
	/* The data before the tail that publishes it. */
	tail = (tail + len) % p->size;
	__atomic_store_n(&p->ph->producer_tail, tail, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (ring_load(&p->ch->consumer_head, p->size, &head))
		return -1;
	*ready = p->size - 1 - ring_free(tail, head, p->size);
	return len;
}

/*
 * Takes up to @len bytes from our consume ring. Returns the bytes read,
 * or -1 on a bad offset; *@room is the free space the peer sees afterwards
 * (equal to the return value: the ring was full, send READ), the peer's
 * tail read again after our head is published, as in ring_put().
 */
static inline long ring_get(struct vmm_pair *p, uint8_t *buf, size_t len, uint64_t *room)
{
	uint64_t tail, head, ready, first;

	if (ring_load(&p->ch->producer_tail, p->size, &tail) ||
	    ring_load(&p->ph->consumer_head, p->size, &head))
		return -1;
	ready = p->size - 1 - ring_free(tail, head, p->size);
	if (len > ready)
		len = ready;
	first = p->size - head < len ? p->size - head : len;
	memcpy(buf, p->cdata + head, first);
	memcpy(buf + first, p->cdata, len - first);
	head = (head + len) % p->size;
	__atomic_store_n(&p->ph->consumer_head, head, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (ring_load(&p->ch->producer_tail, p->size, &tail))
		return -1;
	*room = ring_free(tail, head, p->size);
	return len;
}

#endif
