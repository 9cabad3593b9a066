// SPDX-License-Identifier: GPL-2.0
/*
 * The executor: runs one program in a freshly forked process, each call
 * on its thread, all threads at once. Calls share a table of slots (open
 * descriptors and mappings), so one thread closes or unmaps what another
 * is using. Nothing here checks results: the kernel's log is the oracle.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "../user/vmm_dev.h"
#include "../user/vsock_ctl.h"
#include "fuzz.h"

#define KCOV_ENABLE	_IO('c', 100)
#define KCOV_DISABLE	_IO('c', 101)
#define KCOV_TRACE_PC	0

#define PAGE		4096ul
#define BUF_SIZE	(72 << 10)	/* more than the largest datagram */
#define IOC_VSOCK_VERSION	1972
#define IOC_VSOCK_GET_AF	1976
#define IOC_VSOCK_LOCAL_CID	1977
#define VERSION_NOVMVM	0x000B0000
#define CTL_RID		1u

/* What exec_setup learns once, in the parent. */
static int af = 40;
static uint32_t local_cid = 2;

enum kind { K_FREE, K_BUSY, K_VMCI, K_SOCK, K_VSOCK, K_EPOLL, K_MEM };

/*
 * A slot's state is (generation << 8 | kind), changed only by
 * compare-and-swap, so a thread frees only the object it looked at. The
 * other fields are written while the slot is K_BUSY; a reader may see
 * them torn or stale, which only hands the kernel a wrong number.
 */
struct slot {
	uint32_t state;
	int fd;
	uint32_t cid;		/* K_VMCI: the context's ID */
	struct handle qp;	/* K_VMCI: the last queue pair it allocated */
	uint64_t qp_pages;
	uint8_t *mem;		/* K_MEM */
	size_t len;
};

static struct slot slots[NSLOTS];

struct thread {
	int id;
	int kcov_fd;
	uint8_t *buf;
};

static int kind_of(uint32_t state)
{
	return state & 0xff;
}

/* A slot of @kind (K_FREE: any kind in use), searched from @a; -1 if none. */
static int slot_find(int kind, uint64_t a, struct slot *copy)
{
	int i;

	for (i = 0; i < NSLOTS; i++) {
		int s = (a + i) % NSLOTS;
		uint32_t st = __atomic_load_n(&slots[s].state, __ATOMIC_ACQUIRE);

		if (kind_of(st) == K_FREE || kind_of(st) == K_BUSY)
			continue;
		if (kind != K_FREE && kind_of(st) != kind)
			continue;
		*copy = slots[s];
		copy->state = st;
		return s;
	}
	return -1;
}

/* Puts a new object in a free slot; none free: it is released again. */
static int slot_put(struct slot *obj, int kind)
{
	int i;

	for (i = 0; i < NSLOTS; i++) {
		uint32_t st = __atomic_load_n(&slots[i].state, __ATOMIC_ACQUIRE);
		uint32_t busy = (st & ~0xffu) | K_BUSY;

		if (kind_of(st) != K_FREE ||
		    !__atomic_compare_exchange_n(&slots[i].state, &st, busy, 0, __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			continue;
		slots[i].fd = obj->fd;
		slots[i].cid = obj->cid;
		slots[i].qp = obj->qp;
		slots[i].qp_pages = obj->qp_pages;
		slots[i].mem = obj->mem;
		slots[i].len = obj->len;
		__atomic_store_n(&slots[i].state, (busy & ~0xffu) + 0x100 + kind, __ATOMIC_RELEASE);
		return i;
	}
	if (kind == K_MEM)
		munmap(obj->mem, obj->len);
	else
		close(obj->fd);
	return -1;
}

/* Frees slot @s if it still holds what @seen describes; 1 if we did. */
static int slot_take(int s, const struct slot *seen)
{
	uint32_t st = seen->state;

	return __atomic_compare_exchange_n(&slots[s].state, &st, (st & ~0xffu) | K_FREE, 0,
					   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/* --- argument selectors: the low bits choose a kind of value ------------- */

static uint32_t pick_cid(uint64_t a)
{
	struct slot s;

	switch (a % 8) {
	case 0: return VMADDR_CID_HYPERVISOR;
	case 1: return VMADDR_CID_LOCAL;
	case 2: return VMADDR_CID_HOST;
	case 3: return local_cid;
	case 4: return VMADDR_CID_ANY;
	case 5: return slot_find(K_VMCI, a >> 3, &s) >= 0 ? s.cid : local_cid;
	case 6: return (a >> 3) % 64;
	default: return a >> 8;
	}
}

static uint32_t pick_port(uint64_t a)
{
	switch (a % 8) {
	case 0: return (a >> 3) % 4;
	case 1: return 1024 + (a >> 3) % 4;
	case 2: return 1500 + (a >> 3) % 6;	/* the test endpoint's resources */
	case 3:
	case 4: return 5000 + (a >> 3) % 8;
	case 5: return VMADDR_PORT_ANY;
	case 6: return (a >> 3) & 0xffff;
	default: return a >> 8;
	}
}

static uint64_t pick_size(uint64_t a)
{
	uint64_t v = a >> 3;

	switch (a % 8) {
	case 0: return 0;
	case 1: return v % 64;
	case 2: return PAGE * (v % 16 + 1);
	case 3: return PAGE * (v % 16 + 1) + (v & 16 ? 1 : -1);
	case 4: return 1ull << (v % 40);
	case 5: return ~0ull >> (v % 64);
	case 6: return v & 0xffff;
	default: return v;
	}
}

/* Sizes of our own buffer, so the kernel never writes past it. */
static uint32_t pick_len(uint64_t a)
{
	return pick_size(a) % (BUF_SIZE + 1);
}

/* A user pointer: mostly our buffer, sometimes NULL or an unmapped one. */
static void *pick_ptr(uint64_t a, uint8_t *buf)
{
	switch (a % 16) {
	case 0: return NULL;
	case 1: return (void *)8ul;
	case 2: return (void *)0xffff800000000000ul;	/* kernel address */
	default: return buf;
	}
}

static struct handle pick_handle(uint64_t a, const struct slot *ctx)
{
	struct handle h;

	h.context = (a & 3) == 0 ? INVALID_ID : (a & 3) == 1 ? ctx->cid : pick_cid(a >> 2);
	switch ((a >> 8) % 4) {
	case 0: h.resource = INVALID_ID; break;
	case 1: h.resource = ctx->qp.resource; break;
	default: h.resource = (a >> 10) % 16; break;
	}
	return h;
}

static void fill(uint8_t *buf, size_t len, uint64_t seed)
{
	size_t i;

	for (i = 0; i < len; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		buf[i] = seed >> 56;
	}
}

static struct sockaddr_vm pick_addr(uint64_t cid, uint64_t port)
{
	struct sockaddr_vm sa;

	memset(&sa, 0, sizeof(sa));
	sa.svm_family = af;
	sa.svm_cid = pick_cid(cid);
	sa.svm_port = pick_port(port);
	return sa;
}

static socklen_t pick_addrlen(uint64_t a)
{
	return a % 8 ? sizeof(struct sockaddr_vm) : (a >> 3) % 32;
}

/* --- /dev/vmci ------------------------------------------------------------ */

static void op_vmci_open(const uint64_t *a)
{
	struct slot s = { .fd = open("/dev/vmci", O_RDWR | O_CLOEXEC) };
	int version = a[0] % 4 ? VERSION_NOVMVM : (int)a[0];
	struct init_blk blk = { .cid = a[1] % 4 ? 0 : pick_cid(a[1] >> 2),
				.flags = a[2] % 4 ? 0 : a[2] >> 2 };

	if (s.fd < 0)
		return;
	if (a[3] % 8)
		ioctl(s.fd, IOC_VERSION2, &version);
	if (a[4] % 8)
		ioctl(s.fd, IOC_INIT_CONTEXT, &blk);
	s.cid = blk.cid;
	s.qp.context = INVALID_ID;
	s.qp.resource = INVALID_ID;
	slot_put(&s, K_VMCI);
}

static void op_vmci_dg_send(const uint64_t *a, uint8_t *buf)
{
	struct dg_header *dg = (struct dg_header *)buf;
	struct snd_rcv_info info;
	uint64_t payload = pick_size(a[3]) % (BUF_SIZE - DG_HEADER);
	struct slot s;

	if (slot_find(K_VMCI, a[0], &s) < 0)
		return;
	dg->dst.context = pick_cid(a[1]);
	dg->dst.resource = (a[1] >> 32) % 4 ? pick_port(a[1] >> 34) : (uint32_t)(a[1] >> 32);
	dg->src.context = a[2] % 4 ? INVALID_ID : pick_cid(a[2] >> 2);
	dg->src.resource = pick_port(a[2] >> 8);
	dg->payload_size = a[4] % 8 ? payload : pick_size(a[4] >> 3);
	fill(buf + DG_HEADER, payload, a[5]);
	info.addr = (uintptr_t)pick_ptr(a[5], buf);
	info.len = a[4] % 4 ? DG_HEADER + payload : pick_len(a[4] >> 2);
	info.result = 0;
	ioctl(s.fd, IOC_DG_SEND, &info);
}

static void op_vmci_dg_recv(const uint64_t *a, uint8_t *buf)
{
	struct snd_rcv_info info = { .len = pick_len(a[1]) };
	struct slot s;

	if (slot_find(K_VMCI, a[0], &s) < 0)
		return;
	info.addr = (uintptr_t)pick_ptr(a[2], buf);
	ioctl(s.fd, IOC_DG_RECEIVE, a[3] % 16 ? &info : NULL);
}

static void op_vmci_notify_res(const uint64_t *a)
{
	struct notify_resource_info info;
	struct slot s;

	if (slot_find(K_VMCI, a[0], &s) < 0)
		return;
	info.handle = pick_handle(a[1], &s);
	/* 1 a doorbell, 0 a queue pair (refused) */
	info.resource = a[2] % 4 < 2 ? 1 : a[2] % 4 == 2 ? 0 : a[2] >> 2;
	info.action = a[3] % 4 ? a[3] % 3 : a[3] >> 2;
	info.result = 0;
	ioctl(s.fd, IOC_NOTIFY_RESOURCE, &info);
}

struct notify_recv_info {
	uint64_t db_uva, db_size, qp_uva, qp_size;
	int32_t result;
	uint32_t pad;
};

static void op_vmci_notify_recv(const uint64_t *a, uint8_t *buf)
{
	struct notify_recv_info info = {
		.db_uva = (uintptr_t)pick_ptr(a[1], buf), .db_size = pick_len(a[2]) / 2,
		.qp_uva = (uintptr_t)pick_ptr(a[3], buf + BUF_SIZE / 2),
		.qp_size = pick_len(a[4]) / 2,
	};
	struct slot s;

	if (slot_find(K_VMCI, a[0], &s) < 0)
		return;
	ioctl(s.fd, IOC_NOTIFICATIONS_RECV, &info);
}

static void op_vmci_ctx_notify(const uint64_t *a)
{
	struct ctx_info info = { .remote_cid = pick_cid(a[1]) };
	struct slot s;

	if (slot_find(K_VMCI, a[0], &s) < 0)
		return;
	ioctl(s.fd, a[2] % 2 ? IOC_CTX_ADD_NOTIFY : IOC_CTX_REMOVE_NOTIFY, &info);
}

static void op_vmci_set_notify(const uint64_t *a, uint8_t *buf)
{
	struct set_notify_info info = { 0 };
	struct slot s, m;

	if (slot_find(K_VMCI, a[0], &s) < 0)
		return;
	if (a[1] % 2 && slot_find(K_MEM, a[2], &m) >= 0)
		info.notify_uva = (uintptr_t)m.mem + (a[3] % 4 ? 0 : a[3] % PAGE);
	else
		info.notify_uva = (uintptr_t)pick_ptr(a[3], buf);
	ioctl(s.fd, IOC_SET_NOTIFY, &info);
}

static uint64_t pages_of(uint64_t size)
{
	return (size + PAGE - 1) / PAGE;
}

static void op_vmci_qp_alloc(const uint64_t *a)
{
	struct qp_alloc_info info = { 0 };
	struct slot s;
	int i;

	i = slot_find(K_VMCI, a[0], &s);
	if (i < 0)
		return;
	info.handle = pick_handle(a[1], &s);
	if (a[1] % 8 == 0)
		info.handle.resource = INVALID_ID;
	info.peer = a[2] % 2 ? INVALID_ID : pick_cid(a[2] >> 1);
	info.flags = a[3] % 4 ? (a[3] >> 2) % 16 : a[3] >> 2;
	info.produce_size = a[4] % 4 ? PAGE * ((a[4] >> 2) % 8 + 1) : pick_size(a[4] >> 2);
	info.consume_size = a[5] % 4 ? PAGE * ((a[5] >> 2) % 8 + 1) : pick_size(a[5] >> 2);
	if (a[3] % 8 != 3)
		info.num_ppns = pages_of(info.produce_size) + pages_of(info.consume_size) + 2;
	if (ioctl(s.fd, IOC_QP_ALLOC, &info) == 0 && info.result >= 0) {
		/* Remembered for SETVA and DETACH; a race may lose it, that is fine. */
		slots[i].qp = info.handle;
		slots[i].qp_pages = pages_of(info.produce_size) + pages_of(info.consume_size) + 2;
	}
}

static void op_vmci_qp_setva(const uint64_t *a, uint8_t *buf)
{
	struct qp_set_va_info info = { 0 };
	struct slot s, m;

	if (slot_find(K_VMCI, a[0], &s) < 0)
		return;
	info.handle = a[2] % 4 ? s.qp : pick_handle(a[2] >> 2, &s);
	if (slot_find(K_MEM, a[1], &m) >= 0 && a[3] % 8) {
		info.va = (uintptr_t)m.mem + (a[3] % 8 == 1 ? PAGE : 0);
		info.num_ppns = a[4] % 4 ? s.qp_pages : m.len / PAGE;
	} else {
		info.va = (uintptr_t)pick_ptr(a[3] >> 3, buf);
		info.num_ppns = pick_size(a[4]);
	}
	if (a[5] % 8 == 0)
		info.va = 0;	/* a VA of 0 unmaps */
	ioctl(s.fd, IOC_QP_SETVA, &info);
}

static void op_vmci_qp_detach(const uint64_t *a)
{
	struct qp_dtch_info info = { 0 };
	struct slot s;

	if (slot_find(K_VMCI, a[0], &s) < 0)
		return;
	info.handle = a[1] % 4 ? s.qp : pick_handle(a[1] >> 2, &s);
	ioctl(s.fd, IOC_QP_DETACH, &info);
}

static void op_vmci_cpt(const uint64_t *a, uint8_t *buf)
{
	struct chkpt_info info = { 0 };
	uint32_t *words = (uint32_t *)buf;
	struct slot s, other;
	unsigned int i;

	if (slot_find(K_VMCI, a[0], &s) < 0)
		return;
	info.cpt_type = a[1] % 8 ? (a[1] >> 3) % 8 : a[1] >> 3;
	info.buf_size = a[2] % 8 ? pick_len(a[2] >> 3) % 4096 : pick_len(a[2] >> 3);
	info.cpt_buf = (uintptr_t)pick_ptr(a[3], buf);
	/* Restored state names contexts and handles that may exist. */
	for (i = 0; i < 64; i++)
		words[i] = (a[4] >> (i % 32)) & 1 ? pick_cid(a[4] + i) :
			   slot_find(K_VMCI, a[5] + i, &other) >= 0 ? other.cid : i;
	ioctl(s.fd, a[5] % 2 ? IOC_GET_CPT : IOC_SET_CPT, &info);
}

static void op_vmci_misc(const uint64_t *a, uint8_t *buf)
{
	unsigned int cmd = a[1] % 4 ? 1940 + (a[1] >> 2) % 64 : (uint32_t)(a[1] >> 2);
	struct slot s;

	if (slot_find(K_VMCI, a[0], &s) < 0)
		return;
	fill(buf, 256, a[3]);
	ioctl(s.fd, cmd, pick_ptr(a[2], buf));
}

/*
 * A hostile VMM: a vSockets control packet from a VMM context to the
 * host's sockets, well formed but for random types, ports and values, and
 * sometimes with random bytes changed.
 */
static void op_vmci_ctl_pkt(const uint64_t *a, uint8_t *buf)
{
	struct ctl_packet *p = (struct ctl_packet *)buf;
	struct snd_rcv_info info;
	struct slot s;
	int flips;

	if (slot_find(K_VMCI, a[0], &s) < 0)
		return;
	memset(p, 0, sizeof(*p));
	p->dst_cid = a[1] % 8 ? local_cid : pick_cid(a[1] >> 3);
	p->dst_rid = a[1] % 16 ? CTL_RID : (uint32_t)(a[1] >> 4);
	p->src_cid = INVALID_ID;
	p->src_rid = CTL_RID;
	p->payload_size = sizeof(*p) - DG_HEADER;
	p->version = (a[1] >> 8) % 8 ? 1 : a[1] >> 11;
	p->type = (a[1] >> 16) % 16;
	p->src_port = pick_port(a[2]);
	p->dst_port = pick_port(a[3]);
	p->u0 = pick_size(a[4]);
	p->u1 = a[5] % 2 ? pick_size(a[5] >> 1) :
		((uint64_t)s.qp.resource << 32 | s.qp.context);
	for (flips = (a[5] >> 8) % 8 < 2 ? (a[5] >> 11) % 4 + 1 : 0; flips; flips--)
		buf[(a[5] >> (16 + flips * 8)) % sizeof(*p)] ^= 1 << (flips + (a[5] >> 60)) % 8;
	info.addr = (uintptr_t)p;
	info.len = sizeof(*p);
	info.result = 0;
	ioctl(s.fd, IOC_DG_SEND, &info);
}

/* --- memory and descriptors ----------------------------------------------- */

static void op_mmap(const uint64_t *a)
{
	struct slot s = { .len = PAGE * (a[0] % 40 + 1) };
	int prot = a[1] % 8 ? PROT_READ | PROT_WRITE : PROT_READ;
	int flags = (a[2] % 4 ? MAP_PRIVATE : MAP_SHARED) | MAP_ANONYMOUS;

	s.mem = mmap(NULL, s.len, prot, flags, -1, 0);
	if (s.mem == MAP_FAILED)
		return;
	/* Queue headers start zeroed: anonymous memory already is. */
	if (a[3] % 4 == 0 && (prot & PROT_WRITE))
		fill(s.mem, PAGE, a[3]);
	slot_put(&s, K_MEM);
}

static void op_munmap(const uint64_t *a)
{
	struct slot m;
	int i = slot_find(K_MEM, a[0], &m);

	if (i >= 0 && slot_take(i, &m))
		munmap(m.mem, m.len);
}

static void op_close(const uint64_t *a)
{
	struct slot s;
	int i = slot_find(K_FREE, a[0], &s);

	if (i < 0 || !slot_take(i, &s))
		return;
	if (kind_of(s.state) == K_MEM)
		munmap(s.mem, s.len);
	else
		close(s.fd);
}

static void op_vsock_dev(const uint64_t *a, uint8_t *buf)
{
	static const unsigned int cmds[] = { IOC_VSOCK_VERSION, IOC_VSOCK_GET_AF,
					     IOC_VSOCK_LOCAL_CID };
	struct slot s;
	unsigned int cmd;

	if (a[0] % 4 == 0 || slot_find(K_VSOCK, a[1], &s) < 0) {
		s.fd = open("/dev/vsock", O_RDWR | O_CLOEXEC);
		if (s.fd < 0)
			return;
		if (slot_put(&s, K_VSOCK) < 0)
			return;
	}
	cmd = a[2] % 4 ? cmds[(a[2] >> 2) % 3] : 1940 + (a[2] >> 2) % 64;
	ioctl(s.fd, cmd, pick_ptr(a[3], buf));
}

/* --- the socket API ------------------------------------------------------- */

static void op_socket(const uint64_t *a)
{
	static const int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_STREAM, SOCK_DGRAM,
				     SOCK_SEQPACKET, SOCK_RAW };
	int type = a[0] % 8 < 6 ? types[a[0] % 8] : (int)(a[0] >> 3) % 16;
	struct timeval tv = { .tv_usec = 50000 };
	struct slot s;

	/* Mostly nonblocking: a blocked call only ends at the program's timeout. */
	type |= a[1] % 8 ? SOCK_NONBLOCK : 0;
	s.fd = socket(a[3] % 16 ? af : (int)(a[3] >> 4) % 64, type | SOCK_CLOEXEC,
		      a[2] % 8 ? 0 : (int)(a[2] >> 3));
	if (s.fd < 0)
		return;
	setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	tv.tv_usec = 200000;
	setsockopt(s.fd, af, SO_VMCI_CONNECT_TIMEOUT, &tv, sizeof(tv));
	slot_put(&s, K_SOCK);
}

static void op_bind(const uint64_t *a)
{
	struct sockaddr_vm sa = pick_addr(a[1], a[2]);
	struct slot s;

	if (slot_find(K_SOCK, a[0], &s) < 0)
		return;
	if (a[4] % 16 == 0)
		sa.svm_family = a[4] >> 4;
	if (a[4] % 16 == 1)
		sa.svm_flags = a[4] >> 4;
	bind(s.fd, (struct sockaddr *)&sa, pick_addrlen(a[3]));
}

static void op_connect(const uint64_t *a)
{
	struct sockaddr_vm sa = pick_addr(a[1], a[2]);
	struct slot s;

	if (slot_find(K_SOCK, a[0], &s) < 0)
		return;
	if (a[4] % 16 == 0)
		sa.svm_family = a[4] % 32 ? AF_UNSPEC : a[4] >> 5;
	connect(s.fd, (struct sockaddr *)&sa, pick_addrlen(a[3]));
}

static void op_listen(const uint64_t *a)
{
	struct slot s;

	if (slot_find(K_SOCK, a[0], &s) >= 0)
		listen(s.fd, a[1] % 4 ? (int)(a[1] >> 2) % 8 : (int)(a[1] >> 2));
}

static void op_accept(const uint64_t *a)
{
	struct sockaddr_vm sa;
	socklen_t len = pick_addrlen(a[2]);
	struct slot s;

	if (slot_find(K_SOCK, a[0], &s) < 0)
		return;
	s.fd = accept4(s.fd, a[3] % 4 ? (struct sockaddr *)&sa : NULL, &len,
		       (a[1] % 8 ? SOCK_NONBLOCK : 0) | SOCK_CLOEXEC);
	if (s.fd >= 0)
		slot_put(&s, K_SOCK);
}

static int pick_msg_flags(uint64_t a)
{
	static const int bits[] = { MSG_OOB, MSG_PEEK, MSG_DONTROUTE, MSG_TRUNC, MSG_WAITALL,
				    MSG_EOR, MSG_MORE, MSG_CONFIRM, MSG_ERRQUEUE, MSG_CMSG_CLOEXEC };
	int flags = MSG_NOSIGNAL, i;

	/* Mostly MSG_DONTWAIT, for the same reason sockets are nonblocking. */
	if (a % 8)
		flags |= MSG_DONTWAIT;
	for (i = 0; i < 10; i++)
		if ((a >> (3 + i * 3)) % 8 == 0)
			flags |= bits[i];
	return flags;
}

static void op_send(const uint64_t *a, uint8_t *buf)
{
	struct sockaddr_vm sa = pick_addr(a[3], a[3] >> 24);
	size_t len = pick_len(a[1]);
	struct iovec iov[2] = { { buf, len / 2 }, { buf + len / 2, len - len / 2 } };
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = a[4] % 4 ? 1 : 2 };
	struct slot s;

	if (slot_find(K_SOCK, a[0], &s) < 0)
		return;
	if (msg.msg_iovlen == 1)
		iov[0].iov_len = len;
	if (a[4] % 8 < 3) {
		msg.msg_name = &sa;
		msg.msg_namelen = pick_addrlen(a[5]);
	}
	fill(buf, len < 256 ? len : 256, a[5]);
	sendmsg(s.fd, &msg, pick_msg_flags(a[2]));
}

static void op_recv(const uint64_t *a, uint8_t *buf)
{
	struct sockaddr_vm sa;
	struct iovec iov = { buf, pick_len(a[1]) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct slot s;

	if (slot_find(K_SOCK, a[0], &s) < 0)
		return;
	if (a[3] % 2) {
		msg.msg_name = &sa;
		msg.msg_namelen = pick_addrlen(a[4]);
	}
	recvmsg(s.fd, &msg, pick_msg_flags(a[2]));
}

static const int sol_socket_opts[] = {
	SO_RCVBUF, SO_SNDBUF, SO_RCVLOWAT, SO_SNDLOWAT, SO_LINGER, SO_KEEPALIVE,
	SO_REUSEADDR, SO_PRIORITY, SO_RCVTIMEO, SO_SNDTIMEO, SO_ERROR, SO_TYPE,
	SO_ZEROCOPY, SO_PEEK_OFF, SO_RCVBUFFORCE, SO_PASSCRED,
};

static void pick_opt(const uint64_t *a, int *level, int *name)
{
	switch (a[1] % 8) {
	case 0:
	case 1:
	case 2:
		*level = SOL_SOCKET;
		*name = sol_socket_opts[(a[1] >> 3) % 16];
		break;
	case 7:
		*level = (int)(a[1] >> 3) % 300;
		*name = (int)(a[1] >> 12) % 64;
		break;
	default:
		*level = af;
		*name = (a[1] >> 3) % 14;
		break;
	}
}

static void op_setsockopt(const uint64_t *a, uint8_t *buf)
{
	static const socklen_t lens[] = { 0, 1, 4, 8, 16, 3, 64 };
	uint64_t *val = (uint64_t *)buf;
	int level, name;
	struct slot s;

	if (slot_find(K_SOCK, a[0], &s) < 0)
		return;
	pick_opt(a, &level, &name);
	val[0] = pick_size(a[2]);
	val[1] = pick_size(a[3]);
	/* A send or receive timeout stays short: blocking calls must end. */
	if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO ||
				    name == SO_LINGER)) {
		val[0] %= 2;
		val[1] %= 100000;
	}
	setsockopt(s.fd, level, name, pick_ptr(a[5], buf), lens[a[4] % 7]);
}

static void op_getsockopt(const uint64_t *a, uint8_t *buf)
{
	socklen_t len = a[4] % 4 ? 64 : (socklen_t)(a[4] >> 2) % 128;
	int level, name;
	struct slot s;

	if (slot_find(K_SOCK, a[0], &s) < 0)
		return;
	pick_opt(a, &level, &name);
	getsockopt(s.fd, level, name, pick_ptr(a[5], buf), a[3] % 16 ? &len : NULL);
}

static void op_shutdown(const uint64_t *a)
{
	struct slot s;

	if (slot_find(K_SOCK, a[0], &s) >= 0)
		shutdown(s.fd, a[1] % 8 ? (int)(a[1] % 3) : (int)(a[1] >> 3));
}

static void op_poll(const uint64_t *a)
{
	struct pollfd pfd = { .events = (short)(a[1] % 2 ? POLLIN | POLLOUT : a[1] >> 1) };
	struct slot s;

	if (slot_find(a[2] % 4 ? K_SOCK : K_VMCI, a[0], &s) < 0)
		return;
	pfd.fd = s.fd;
	poll(&pfd, 1, a[3] % 16 ? 0 : 10);
}

static void op_epoll(const uint64_t *a)
{
	struct epoll_event ev = { .events = (uint32_t)(a[3] % 2 ? EPOLLIN | EPOLLOUT : a[3] >> 1) };
	struct epoll_event out[8];
	struct slot e, s;

	if (a[0] % 4 == 0 || slot_find(K_EPOLL, a[1], &e) < 0) {
		e.fd = epoll_create1(EPOLL_CLOEXEC);
		if (e.fd < 0 || slot_put(&e, K_EPOLL) < 0)
			return;
	}
	if (slot_find(a[2] % 4 ? K_SOCK : K_VMCI, a[2] >> 2, &s) >= 0)
		epoll_ctl(e.fd, (a[4] % 4 ? 0 : a[4] >> 2) % 3 + 1, s.fd, &ev);
	epoll_wait(e.fd, out, a[5] % 8 + 1, 0);
}

static void op_sockname(const uint64_t *a)
{
	struct sockaddr_vm sa;
	socklen_t len = pick_addrlen(a[2]);
	struct slot s;

	if (slot_find(K_SOCK, a[0], &s) < 0)
		return;
	if (a[1] % 2)
		getsockname(s.fd, (struct sockaddr *)&sa, &len);
	else
		getpeername(s.fd, (struct sockaddr *)&sa, &len);
}

/*
 * A listener (or a bound datagram socket) on one of 16 ports of the host's
 * own CID, a socket connected to it and, for a stream, the accepted end:
 * an established connection by chance needs a bind, a listen, a connect
 * to the right CID and port and an accept after the handshake, in order.
 */
static void op_pair(const uint64_t *a)
{
	int type = a[0] % 4 ? SOCK_STREAM : SOCK_DGRAM;
	struct timeval tv = { .tv_usec = 50000 }, conn_tv = { .tv_usec = 500000 };
	struct sockaddr_vm sa;
	struct slot l = { 0 }, c = { 0 }, acc = { 0 };

	memset(&sa, 0, sizeof(sa));
	sa.svm_family = af;
	sa.svm_cid = a[1] % 8 ? local_cid : pick_cid(a[1] >> 3);
	sa.svm_port = a[2] % 8 ? 6000 + (a[2] >> 3) % 16 : pick_port(a[2] >> 3);
	l.fd = socket(af, type | SOCK_CLOEXEC, 0);
	if (l.fd < 0)
		return;
	setsockopt(l.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(l.fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    (type == SOCK_STREAM && listen(l.fd, 4))) {
		close(l.fd);
		return;
	}
	c.fd = socket(af, type | SOCK_CLOEXEC, 0);
	if (c.fd >= 0) {
		setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		setsockopt(c.fd, af, SO_VMCI_CONNECT_TIMEOUT, &conn_tv, sizeof(conn_tv));
		connect(c.fd, (struct sockaddr *)&sa, sizeof(sa));
		acc.fd = type == SOCK_STREAM ?
			 accept4(l.fd, NULL, NULL, SOCK_CLOEXEC | (a[3] % 2 ? SOCK_NONBLOCK : 0)) :
			 -1;
		slot_put(&c, K_SOCK);
		if (acc.fd >= 0)
			slot_put(&acc, K_SOCK);
	}
	slot_put(&l, K_SOCK);
}

/* --- the executor --------------------------------------------------------- */

static void run_call(const struct call *c, uint8_t *buf)
{
	const uint64_t *a = c->a;

	switch (c->op) {
	case OP_VMCI_OPEN: op_vmci_open(a); break;
	case OP_VMCI_DG_SEND: op_vmci_dg_send(a, buf); break;
	case OP_VMCI_DG_RECV: op_vmci_dg_recv(a, buf); break;
	case OP_VMCI_NOTIFY_RES: op_vmci_notify_res(a); break;
	case OP_VMCI_NOTIFY_RECV: op_vmci_notify_recv(a, buf); break;
	case OP_VMCI_CTX_NOTIFY: op_vmci_ctx_notify(a); break;
	case OP_VMCI_SET_NOTIFY: op_vmci_set_notify(a, buf); break;
	case OP_VMCI_QP_ALLOC: op_vmci_qp_alloc(a); break;
	case OP_VMCI_QP_SETVA: op_vmci_qp_setva(a, buf); break;
	case OP_VMCI_QP_DETACH: op_vmci_qp_detach(a); break;
	case OP_VMCI_CPT: op_vmci_cpt(a, buf); break;
	case OP_VMCI_MISC: op_vmci_misc(a, buf); break;
	case OP_VMCI_CTL_PKT: op_vmci_ctl_pkt(a, buf); break;
	case OP_MMAP: op_mmap(a); break;
	case OP_MUNMAP: op_munmap(a); break;
	case OP_CLOSE: op_close(a); break;
	case OP_VSOCK_DEV: op_vsock_dev(a, buf); break;
	case OP_SOCKET: op_socket(a); break;
	case OP_BIND: op_bind(a); break;
	case OP_CONNECT: op_connect(a); break;
	case OP_LISTEN: op_listen(a); break;
	case OP_ACCEPT: op_accept(a); break;
	case OP_SEND: op_send(a, buf); break;
	case OP_RECV: op_recv(a, buf); break;
	case OP_SETSOCKOPT: op_setsockopt(a, buf); break;
	case OP_GETSOCKOPT: op_getsockopt(a, buf); break;
	case OP_SHUTDOWN: op_shutdown(a); break;
	case OP_POLL: op_poll(a); break;
	case OP_EPOLL: op_epoll(a); break;
	case OP_SOCKNAME: op_sockname(a); break;
	case OP_PAIR: op_pair(a); break;
	default: break;
	}
}

/*
 * Helper processes OP_FORK made during the current program: killed and
 * reaped when it ends.
 */
#define MAX_HELPERS	64
static pid_t helpers[MAX_HELPERS];
static int helpers_n;

static struct exec_shared *shared;

static double mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Runs @c and adds its time to its operation's total. */
static void timed_call(const struct call *c, uint8_t *buf)
{
	double t0 = mono_ns();

	run_call(c, buf);
	__atomic_add_fetch(&shared->op_ns[c->op], (uint64_t)(mono_ns() - t0), __ATOMIC_RELAXED);
	__atomic_add_fetch(&shared->op_n[c->op], 1, __ATOMIC_RELAXED);
}

/*
 * Everything the program left open goes, slot by slot, on thread 0: with
 * KCOV on, so the release paths (context teardown, socket release) count
 * as coverage too.
 */
static void release_all(void)
{
	int i;

	for (i = 0; i < helpers_n; i++)
		kill(helpers[i], SIGKILL);
	for (i = 0; i < helpers_n; i++)
		waitpid(helpers[i], NULL, 0);
	helpers_n = 0;
	for (i = 0; i < NSLOTS; i++) {
		uint32_t st = slots[i].state;

		switch (kind_of(st)) {
		case K_MEM:
			munmap(slots[i].mem, slots[i].len);
			break;
		case K_VMCI:
		case K_SOCK:
		case K_VSOCK:
		case K_EPOLL:
			close(slots[i].fd);
			break;
		default:
			break;
		}
		slots[i].state = (st & ~0xffu) | K_FREE;
	}
}

/* The calls of the current program that are thread @t->id's. */
static void run_thread_calls(struct thread *t)
{
	const struct prog *p = &shared->prog;
	int i, skip = 0;

	for (i = 0; i < p->n; i++) {
		const struct call *c = &p->c[i];
		pid_t pid;

		if (c->thread != t->id)
			continue;
		if (skip) {
			skip--;
			continue;
		}
		if (c->op != OP_FORK) {
			timed_call(c, t->buf);
			continue;
		}
		/*
		 * A second process runs this thread's next calls on the same
		 * descriptors (without coverage: KCOV stays with this thread).
		 */
		skip = c->a[0] % 4 + 1;
		pid = fork();
		if (pid == 0) {
			for (i++; i < p->n && skip; i++) {
				if (p->c[i].thread == t->id && p->c[i].op != OP_FORK) {
					run_call(&p->c[i], t->buf);
					skip--;
				}
			}
			_exit(0);
		}
		if (pid > 0) {
			int n = __atomic_fetch_add(&helpers_n, 1, __ATOMIC_RELAXED);

			if (n < MAX_HELPERS)
				helpers[n] = pid;
			else
				__atomic_fetch_sub(&helpers_n, 1, __ATOMIC_RELAXED);
		}
	}
}

static pthread_barrier_t bar_start, bar_ran, bar_released;

/*
 * A worker lives as long as its executor, with KCOV on from start to end:
 * per program it runs its calls, waits for the others, and thread 0 then
 * releases what the program left open.
 */
static void *worker(void *arg)
{
	struct thread *t = arg;

	if (t->kcov_fd >= 0)
		ioctl(t->kcov_fd, KCOV_ENABLE, KCOV_TRACE_PC);
	for (;;) {
		pthread_barrier_wait(&bar_start);
		run_thread_calls(t);
		pthread_barrier_wait(&bar_ran);
		if (t->id == 0)
			release_all();
		pthread_barrier_wait(&bar_released);
	}
	return NULL;
}

/* Once in the parent: the family number and our CID, for the selectors. */
void exec_setup(void)
{
	int fd = open("/dev/vsock", O_RDONLY | O_CLOEXEC);
	int value;

	if (fd < 0)
		return;
	if (ioctl(fd, IOC_VSOCK_GET_AF, &value) == 0)
		af = value;
	if (ioctl(fd, IOC_VSOCK_LOCAL_CID, &value) == 0)
		local_cid = value;
	/* Kept open: the family number stays ours for the whole run. */
}

void exec_serve(int req_fd, int done_fd, struct exec_shared *sh, const int *kcov_fds)
{
	static struct thread t[NTHREADS];
	pthread_t tid;
	char byte;
	int i;

	shared = sh;
	signal(SIGPIPE, SIG_IGN);
	pthread_barrier_init(&bar_start, NULL, NTHREADS + 1);
	pthread_barrier_init(&bar_ran, NULL, NTHREADS + 1);
	pthread_barrier_init(&bar_released, NULL, NTHREADS + 1);
	for (i = 0; i < NTHREADS; i++) {
		t[i] = (struct thread){ .id = i, .kcov_fd = kcov_fds ? kcov_fds[i] : -1,
					.buf = aligned_alloc(PAGE, BUF_SIZE) };
		if (!t[i].buf || pthread_create(&tid, NULL, worker, &t[i]))
			_exit(2);
	}
	/* One byte in: run the program in the shared page; one byte out: done. */
	while (read(req_fd, &byte, 1) == 1) {
		pthread_barrier_wait(&bar_start);
		pthread_barrier_wait(&bar_ran);
		pthread_barrier_wait(&bar_released);
		if (write(done_fd, &byte, 1) != 1)
			break;
	}
	_exit(0);
}
