// SPDX-License-Identifier: GPL-2.0
/*
 * Allocation-failure injection through /proc/thread-self/fail-nth: every
 * /dev/vmci ioctl driven as a VMM, every /dev/vsock ioctl, and the socket
 * calls of both socket types. For each operation N = 1, 2, ... makes the
 * Nth fault-injection point the thread passes fail (failslab and
 * fail_page_alloc), until one run of the operation passes no more points
 * than it takes. Each injected failure must end in an error or in a
 * success the code copes with, never in an inconsistent state, and the
 * same operation without injection must work right after it. Leaks are
 * left to kmemleak and splats to the log scan of the harness.
 *
 * Needs the debug kernel's CONFIG_FAULT_INJECTION and
 * vmci_test_endpoint.ko (echo 1500, doorbell 1502, arming 1503).
 *
 * Usage: failnth [dry]   ("dry": each operation once, no injection)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "tap.h"
#include "vsock_addr.h"
#include "vmm_dev.h"

#define IOC_VERSION		1951
#define VSOCK_IOC_VERSION	1972
#define VSOCK_IOC_GET_AF	1976
#define VSOCK_IOC_LOCAL_CID	1977

#define ECHO_RID		1500u
#define DBELL_RID		1502u
#define ARM_RID			1503u
#define MY_RID			77u
#define DB_RID			1000u
#define PAGE			4096u
#define RES_DOOR_BELL		1
#define ACT_NOTIFY		0
#define ACT_CREATE		1
#define ACT_DESTROY		2
#define CPT_NOTIFICATION	1
#define CPT_DOORBELL		6

/* Fixed ports: a binding leaked by a failed call shows as EADDRINUSE later. */
#define PORT_DGRAM_A		6100u
#define PORT_DGRAM_B		6101u
#define PORT_STREAM_L		6102u
#define PORT_STREAM_C		6103u

/* No operation here passes anywhere near this many injection points. */
#define MAX_POINTS		3000
#define OP_WATCHDOG_S		50

struct notify_recv_info {
	uint64_t db_uva;
	uint64_t db_size;
	uint64_t qp_uva;
	uint64_t qp_size;
	int32_t result;
	uint32_t pad;
};

struct small_dg {
	struct dg_header h;
	uint8_t payload[64];
};

/* What run() says about one attempt. */
enum outcome {
	OUT_OK,		/* the operation did what it should */
	OUT_ERR,	/* it failed cleanly: an error code, nothing half done */
	OUT_BAD,	/* inconsistent: a success that did not happen, a lost item */
};

/* Everything one attempt sets up; teardown() releases all of it. */
struct fx {
	int vfd, vfd2;		/* /dev/vmci contexts */
	uint32_t cid, cid2;
	int dfd;		/* /dev/vsock */
	int a, b, l;		/* sockets */
	uint8_t *mem;		/* queue-pair memory or a notify page */
	size_t mem_len;
	char why[200];
};

struct op {
	const char *name;
	int (*setup)(struct fx *f);
	enum outcome (*run)(struct fx *f);
};

static int nth_fd = -1;
static const char *current_op = "setup";
static uint8_t *qp_mem_template;

static void why(struct fx *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void why(struct fx *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
}

/* ---- fail-nth ---------------------------------------------------------- */

static int nth_set(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(nth_fd, buf, len, 0) == len ? 0 : -1;
}

/* What is left of the countdown: 0 once a fault was injected. */
static long nth_get(void)
{
	char buf[16] = "";

	if (pread(nth_fd, buf, sizeof(buf) - 1, 0) <= 0)
		return -1;
	return strtol(buf, NULL, 10);
}

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/*
 * Faults for the task that asks through fail-nth only: task-filter first,
 * so that probability 100 never applies to anybody else (no task has
 * make-it-fail set), and order-0 pages count as well.
 */
static int configure_attr(const char *dir, int pages)
{
	static const char *const keys[][2] = {
		{ "task-filter", "Y" }, { "ignore-gfp-wait", "N" }, { "verbose", "0" },
		{ "interval", "1" }, { "times", "-1" }, { "probability", "100" },
	};
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s/%s", dir, keys[i][0]);
		if (write_str(path, keys[i][1]))
			return -1;
	}
	if (pages) {
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s/min-order", dir);
		if (write_str(path, "0"))
			return -1;
		snprintf(path, sizeof(path), "/sys/kernel/debug/%s/ignore-gfp-highmem", dir);
		if (write_str(path, "N"))
			return -1;
	}
	return 0;
}

static void unconfigure(void)
{
	write_str("/sys/kernel/debug/failslab/probability", "0");
	write_str("/sys/kernel/debug/fail_page_alloc/probability", "0");
}

/* ---- helpers ----------------------------------------------------------- */

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->vfd = f->vfd2 = f->dfd = f->a = f->b = f->l = -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void teardown(struct fx *f)
{
	close_fd(&f->a);
	close_fd(&f->b);
	close_fd(&f->l);
	close_fd(&f->dfd);
	close_fd(&f->vfd);
	close_fd(&f->vfd2);
	if (f->mem)
		munmap(f->mem, f->mem_len);
	f->mem = NULL;
}

static int readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* The ioctl's VMCI result, or -1000 - errno when the ioctl itself failed. */
static int32_t vioctl(int fd, unsigned long cmd, void *arg, int32_t *result)
{
	*result = 12345;
	if (ioctl(fd, cmd, arg))
		return -1000 - errno;
	return *result;
}

static int32_t send_small(int fd, struct handle dst, uint32_t src_rid, const void *payload,
			  uint32_t len)
{
	struct small_dg dg = { .h = { .dst = dst, .src = { INVALID_ID, src_rid },
				      .payload_size = len } };
	struct snd_rcv_info info = { .addr = (uintptr_t)&dg, .len = DG_HEADER + len };

	memcpy(dg.payload, payload, len);
	return vioctl(fd, IOC_DG_SEND, &info, &info.result);
}

static int32_t recv_small(int fd, struct small_dg *dg)
{
	struct snd_rcv_info info = { .addr = (uintptr_t)dg, .len = sizeof(*dg) };

	memset(dg, 0, sizeof(*dg));
	return vioctl(fd, IOC_DG_RECEIVE, &info, &info.result);
}

static int32_t dbell_op(int fd, uint16_t action, struct handle h)
{
	struct notify_resource_info info = { .handle = h, .resource = RES_DOOR_BELL,
					     .action = action };

	return vioctl(fd, IOC_NOTIFY_RESOURCE, &info, &info.result);
}

static int32_t ctx_notify(int fd, unsigned long cmd, uint32_t cid)
{
	struct ctx_info info = { .remote_cid = cid };

	return vioctl(fd, cmd, &info, &info.result);
}

static int32_t qp_alloc(int fd, uint32_t cid)
{
	struct qp_alloc_info info = { .handle = { cid, MY_RID }, .peer = HOST_CID,
				      .produce_size = PAGE, .consume_size = PAGE };

	return vioctl(fd, IOC_QP_ALLOC, &info, &info.result);
}

static int32_t qp_setva(int fd, uint32_t cid, void *va)
{
	struct qp_set_va_info info = { .handle = { cid, MY_RID }, .va = (uintptr_t)va };

	return vioctl(fd, IOC_QP_SETVA, &info, &info.result);
}

static int32_t qp_detach(int fd, uint32_t cid)
{
	struct qp_dtch_info info = { .handle = { cid, MY_RID } };

	return vioctl(fd, IOC_QP_DETACH, &info, &info.result);
}

/* A VMCI result or ioctl failure counts as a clean error; anything else is wrong. */
static enum outcome vmci_outcome(struct fx *f, const char *what, int32_t r)
{
	if (r == VMCI_SUCCESS)
		return OUT_OK;
	why(f, "%s: %d", what, r);
	if (r == VMCI_ERROR_NO_MEM || r == VMCI_ERROR_NO_RESOURCES || r == -1000 - ENOMEM ||
	    r == -1000 - EFAULT)
		return OUT_ERR;
	return OUT_BAD;
}

static enum outcome errno_outcome(struct fx *f, const char *what, int ok)
{
	if (ok)
		return OUT_OK;
	why(f, "%s: %s", what, strerror(errno));
	/*
	 * What an allocation failure may become on its way out: ENOMEM and
	 * ENOBUFS directly, the rest from a peer or a handshake that lost a
	 * packet to it.
	 */
	switch (errno) {
	case ENOMEM: case ENOBUFS: case EAGAIN: case ECONNRESET: case ECONNREFUSED:
	case ETIMEDOUT: case EPIPE: case EFAULT: case ENFILE: case EMFILE:
		return OUT_ERR;
	default:
		return OUT_BAD;
	}
}

static int bind_to(int fd, unsigned int cid, unsigned int port)
{
	struct sockaddr_vm a = vm_addr(cid, port);

	return bind(fd, (struct sockaddr *)&a, sizeof(a));
}

static int connect_to(int fd, unsigned int port)
{
	struct sockaddr_vm a = vm_addr(local_cid, port);

	return connect(fd, (struct sockaddr *)&a, sizeof(a));
}

/* ---- /dev/vmci --------------------------------------------------------- */

static int setup_none(struct fx *f)
{
	(void)f;
	return 0;
}

static int setup_vmci_open(struct fx *f)
{
	f->vfd = open(dev_path, O_RDWR | O_CLOEXEC);
	return f->vfd < 0 ? -1 : 0;
}

static int setup_ctx(struct fx *f)
{
	f->vfd = vmm_open_ctx(0, &f->cid);
	return f->vfd < 0 ? -1 : 0;
}

static int setup_two_ctx(struct fx *f)
{
	if (setup_ctx(f))
		return -1;
	f->vfd2 = vmm_open_ctx(0, &f->cid2);
	return f->vfd2 < 0 ? -1 : 0;
}

/* open() of /dev/vmci and the version ioctls a VMX starts with. */
static enum outcome run_vmci_version(struct fx *f)
{
	int v = 0x000B0000, r;

	f->vfd = open(dev_path, O_RDWR | O_CLOEXEC);
	if (f->vfd < 0)
		return errno_outcome(f, "open", 0);
	r = ioctl(f->vfd, IOC_VERSION2, &v);
	if (r < 0)
		return errno_outcome(f, "version2", 0);
	if (r != 0x000B0000) {
		why(f, "version2 %#x", r);
		return OUT_BAD;
	}
	/* VERSION reports what VERSION2 settled on. */
	r = ioctl(f->vfd, IOC_VERSION, 0);
	if (r < 0)
		return errno_outcome(f, "version", 0);
	if (r != 0x000B0000) {
		why(f, "version %#x", r);
		return OUT_BAD;
	}
	return OUT_OK;
}

static enum outcome run_init_context(struct fx *f)
{
	uint32_t cid = 0;

	if (vmm_init_ctx(f->vfd, 0, 0, &cid))
		return errno_outcome(f, "init_context", 0);
	if (cid == INVALID_ID || cid <= HOST_CID) {
		why(f, "cid %u", cid);
		return OUT_BAD;
	}
	return OUT_OK;
}

/* A datagram to the echo resource and its echo back. */
static enum outcome run_dg_send(struct fx *f)
{
	struct small_dg dg;
	int32_t r = send_small(f->vfd, (struct handle){ HOST_CID, ECHO_RID }, MY_RID, "ping", 4);

	if (r < 0)
		return vmci_outcome(f, "dg_send", r);
	if (r != DG_HEADER + 4) {
		why(f, "dg_send returned %d", r);
		return OUT_BAD;
	}
	/* The echo is the endpoint's and may be lost to an injected fault there. */
	if (!readable(f->vfd, 1000)) {
		why(f, "no echo");
		return OUT_ERR;
	}
	r = recv_small(f->vfd, &dg);
	if (r != VMCI_SUCCESS || dg.h.payload_size != 4 || memcmp(dg.payload, "ping", 4)) {
		why(f, "echo: %d size %llu", r, (unsigned long long)dg.h.payload_size);
		return OUT_BAD;
	}
	return OUT_OK;
}

static int setup_dg_pending(struct fx *f)
{
	if (setup_ctx(f) ||
	    send_small(f->vfd, (struct handle){ HOST_CID, ECHO_RID }, MY_RID, "pong", 4) < 0)
		return -1;
	return readable(f->vfd, 2000) ? 0 : -1;
}

/* A failed receive must leave the datagram queued. */
static enum outcome run_dg_receive(struct fx *f)
{
	struct small_dg dg;
	int32_t r = recv_small(f->vfd, &dg);

	if (r == VMCI_SUCCESS) {
		if (dg.h.payload_size != 4 || memcmp(dg.payload, "pong", 4)) {
			why(f, "payload");
			return OUT_BAD;
		}
		return OUT_OK;
	}
	why(f, "dg_receive: %d", r);
	if (!readable(f->vfd, 0)) {
		why(f, "dg_receive failed (%d) and lost the datagram", r);
		return OUT_BAD;
	}
	return vmci_outcome(f, "dg_receive", r);
}

static int setup_notify_page(struct fx *f)
{
	if (setup_ctx(f))
		return -1;
	f->mem_len = PAGE;
	f->mem = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->mem == MAP_FAILED) {
		f->mem = NULL;
		return -1;
	}
	f->mem[0] = 0;
	return 0;
}

/* SET_NOTIFY pins the VMX's notify byte; unsetting drops it again. */
static enum outcome run_set_notify(struct fx *f)
{
	struct set_notify_info info = { .notify_uva = (uintptr_t)f->mem + 16 };
	int32_t r = vioctl(f->vfd, IOC_SET_NOTIFY, &info, &info.result);

	if (r != VMCI_SUCCESS)
		return vmci_outcome(f, "set_notify", r);
	info = (struct set_notify_info){ .notify_uva = 0 };
	r = vioctl(f->vfd, IOC_SET_NOTIFY, &info, &info.result);
	return r == VMCI_SUCCESS ? OUT_OK : vmci_outcome(f, "unset_notify", r);
}

static enum outcome run_ctx_add_notification(struct fx *f)
{
	int32_t r = ctx_notify(f->vfd, IOC_CTX_ADD_NOTIFY, f->cid2);

	if (r != VMCI_SUCCESS) {
		enum outcome o = vmci_outcome(f, "add_notification", r);

		/* A failed subscription must not be half there. */
		if (ctx_notify(f->vfd, IOC_CTX_REMOVE_NOTIFY, f->cid2) != VMCI_ERROR_NOT_FOUND) {
			why(f, "failed subscription (%d) left behind", r);
			return OUT_BAD;
		}
		return o;
	}
	return OUT_OK;
}

static int setup_subscribed(struct fx *f)
{
	if (setup_two_ctx(f))
		return -1;
	return ctx_notify(f->vfd, IOC_CTX_ADD_NOTIFY, f->cid2) == VMCI_SUCCESS ? 0 : -1;
}

static enum outcome run_ctx_remove_notification(struct fx *f)
{
	return vmci_outcome(f, "remove_notification",
			    ctx_notify(f->vfd, IOC_CTX_REMOVE_NOTIFY, f->cid2));
}

/* The subscriber learns that the context it watches went away. */
static enum outcome run_ctx_removed_event(struct fx *f)
{
	struct small_dg dg;
	int32_t r;

	close_fd(&f->vfd2);
	if (!readable(f->vfd, 1000)) {
		why(f, "no removal event");
		return OUT_ERR;		/* the event's allocation may be the one that failed */
	}
	r = recv_small(f->vfd, &dg);
	return vmci_outcome(f, "removal event receive", r);
}

static enum outcome run_dbell_create(struct fx *f)
{
	int32_t r = dbell_op(f->vfd, ACT_CREATE, (struct handle){ f->cid, DB_RID });

	if (r != VMCI_SUCCESS) {
		enum outcome o = vmci_outcome(f, "doorbell create", r);

		if (dbell_op(f->vfd, ACT_DESTROY, (struct handle){ f->cid, DB_RID }) !=
		    VMCI_ERROR_NOT_FOUND) {
			why(f, "failed create (%d) left a doorbell", r);
			return OUT_BAD;
		}
		return o;
	}
	return OUT_OK;
}

static int setup_dbell(struct fx *f)
{
	if (setup_ctx(f))
		return -1;
	return dbell_op(f->vfd, ACT_CREATE, (struct handle){ f->cid, DB_RID }) == VMCI_SUCCESS ?
		0 : -1;
}

static enum outcome run_dbell_destroy(struct fx *f)
{
	return vmci_outcome(f, "doorbell destroy",
			    dbell_op(f->vfd, ACT_DESTROY, (struct handle){ f->cid, DB_RID }));
}

static enum outcome run_dbell_notify(struct fx *f)
{
	return vmci_outcome(f, "doorbell notify",
			    dbell_op(f->vfd, ACT_NOTIFY, (struct handle){ HOST_CID, DBELL_RID }));
}

/* Our doorbell rung by the endpoint (arming datagram), pending for us. */
static int setup_dbell_rung(struct fx *f)
{
	struct handle target;

	if (setup_dbell(f))
		return -1;
	target = (struct handle){ f->cid, DB_RID };
	if (send_small(f->vfd, (struct handle){ HOST_CID, ARM_RID }, 1, &target,
		       sizeof(target)) < 0)
		return -1;
	return readable(f->vfd, 2000) ? 0 : -1;
}

static enum outcome run_notifications_receive(struct fx *f)
{
	struct handle got[4] = { 0 };
	struct notify_recv_info info = { .db_uva = (uintptr_t)got, .db_size = sizeof(got) };
	int32_t r = vioctl(f->vfd, IOC_NOTIFICATIONS_RECV, &info, &info.result);

	if (r != VMCI_SUCCESS) {
		enum outcome o = vmci_outcome(f, "notifications receive", r);

		if (!readable(f->vfd, 0)) {
			why(f, "failed receive (%d) lost the rung doorbell", r);
			return OUT_BAD;
		}
		return o;
	}
	if (info.db_size != sizeof(got[0]) || got[0].context != f->cid ||
	    got[0].resource != DB_RID) {
		why(f, "got %llu bytes, %u:%u", (unsigned long long)info.db_size,
		    got[0].context, got[0].resource);
		return OUT_BAD;
	}
	return OUT_OK;
}

static int setup_qp_mem(struct fx *f)
{
	if (setup_ctx(f))
		return -1;
	f->mem_len = 4 * PAGE;
	f->mem = mmap(NULL, f->mem_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	if (f->mem == MAP_FAILED) {
		f->mem = NULL;
		return -1;
	}
	/* Queue headers carry the handle; the rest starts empty. */
	memcpy(f->mem, qp_mem_template, f->mem_len);
	memcpy(f->mem, &(struct handle){ f->cid, MY_RID }, sizeof(struct handle));
	memcpy(f->mem + 2 * PAGE, &(struct handle){ f->cid, MY_RID }, sizeof(struct handle));
	return 0;
}

static enum outcome run_qp_alloc(struct fx *f)
{
	int32_t r = qp_alloc(f->vfd, f->cid);

	if (r != VMCI_SUCCESS) {
		enum outcome o = vmci_outcome(f, "qp alloc", r);

		if (qp_detach(f->vfd, f->cid) == VMCI_SUCCESS) {
			why(f, "failed alloc (%d) left a pair", r);
			return OUT_BAD;
		}
		return o;
	}
	return OUT_OK;
}

static int setup_qp_alloced(struct fx *f)
{
	if (setup_qp_mem(f))
		return -1;
	return qp_alloc(f->vfd, f->cid) == VMCI_SUCCESS ? 0 : -1;
}

static enum outcome run_qp_setva(struct fx *f)
{
	int32_t r = qp_setva(f->vfd, f->cid, f->mem);

	if (r != VMCI_SUCCESS)
		return vmci_outcome(f, "qp setva", r);
	/* Unmapping the memory again is part of SETVA's contract. */
	return vmci_outcome(f, "qp setva unmap", qp_setva(f->vfd, f->cid, NULL));
}

static int setup_qp_mapped(struct fx *f)
{
	if (setup_qp_alloced(f))
		return -1;
	return qp_setva(f->vfd, f->cid, f->mem) == VMCI_SUCCESS ? 0 : -1;
}

static enum outcome run_qp_detach(struct fx *f)
{
	int32_t r = qp_detach(f->vfd, f->cid);

	if (r != VMCI_SUCCESS)
		return vmci_outcome(f, "qp detach", r);
	if (qp_detach(f->vfd, f->cid) == VMCI_SUCCESS) {
		why(f, "detached twice");
		return OUT_BAD;
	}
	return OUT_OK;
}

/* A context with a subscription and a doorbell: something to checkpoint. */
static int setup_cpt(struct fx *f)
{
	if (setup_subscribed(f))
		return -1;
	return dbell_op(f->vfd, ACT_CREATE, (struct handle){ f->cid, DB_RID }) == VMCI_SUCCESS ?
		0 : -1;
}

static int32_t cpt(int fd, unsigned long cmd, uint32_t type, void *buf, uint32_t *size)
{
	struct chkpt_info info = { .cpt_buf = (uintptr_t)buf, .cpt_type = type,
				   .buf_size = *size };
	int32_t r = vioctl(fd, cmd, &info, &info.result);

	*size = info.buf_size;
	return r;
}

static enum outcome run_cpt_get(struct fx *f)
{
	uint32_t cids[4] = { 0 }, size = sizeof(cids);
	uint64_t dbs[8] = { 0 };
	int32_t r = cpt(f->vfd, IOC_GET_CPT, CPT_NOTIFICATION, cids, &size);

	if (r != VMCI_SUCCESS)
		return vmci_outcome(f, "get notifications", r);
	if (size != 4 || cids[0] != f->cid2) {
		why(f, "notification state %u bytes, cid %u", size, cids[0]);
		return OUT_BAD;
	}
	size = sizeof(dbs);
	r = cpt(f->vfd, IOC_GET_CPT, CPT_DOORBELL, dbs, &size);
	if (r != VMCI_SUCCESS)
		return vmci_outcome(f, "get doorbells", r);
	if (size == 0 || size > sizeof(dbs)) {
		why(f, "doorbell state %u bytes", size);
		return OUT_BAD;
	}
	return OUT_OK;
}

/* Restoring into a fresh context what a saved one had. */
static enum outcome run_cpt_set(struct fx *f)
{
	uint32_t cids[1] = { f->cid2 }, size = sizeof(cids);
	struct { struct handle h; uint32_t bit; uint32_t pad; } db = { { f->cid, DB_RID + 1 }, 0, 0 };
	int32_t r = cpt(f->vfd, IOC_SET_CPT, CPT_NOTIFICATION, cids, &size);

	if (r != VMCI_SUCCESS && r != VMCI_ERROR_ALREADY_EXISTS)
		return vmci_outcome(f, "set notifications", r);
	size = sizeof(db);
	r = cpt(f->vfd, IOC_SET_CPT, CPT_DOORBELL, &db, &size);
	return vmci_outcome(f, "set doorbells", r);
}

/* Closing a context that holds one of everything. */
static int setup_full_ctx(struct fx *f)
{
	if (setup_qp_mapped(f))
		return -1;
	f->vfd2 = vmm_open_ctx(0, &f->cid2);
	if (f->vfd2 < 0 || ctx_notify(f->vfd, IOC_CTX_ADD_NOTIFY, f->cid2) != VMCI_SUCCESS ||
	    dbell_op(f->vfd, ACT_CREATE, (struct handle){ f->cid, DB_RID }) != VMCI_SUCCESS ||
	    send_small(f->vfd, (struct handle){ HOST_CID, ECHO_RID }, MY_RID, "x", 1) < 0)
		return -1;
	return readable(f->vfd, 2000) ? 0 : -1;
}

static enum outcome run_vmci_close(struct fx *f)
{
	int r = close(f->vfd);

	f->vfd = -1;
	return errno_outcome(f, "close", r == 0);
}

/* ---- /dev/vsock -------------------------------------------------------- */

static enum outcome run_vsock_version(struct fx *f)
{
	unsigned int v = 0;

	f->dfd = open(VMCI_SOCKETS_DEFAULT_DEVICE, O_RDWR | O_CLOEXEC);
	if (f->dfd < 0)
		return errno_outcome(f, "open /dev/vsock", 0);
	if (ioctl(f->dfd, VSOCK_IOC_VERSION, &v))
		return errno_outcome(f, "version", 0);
	if (v == VMCI_SOCKETS_INVALID_VERSION || !v) {
		why(f, "version %#x", v);
		return OUT_BAD;
	}
	return OUT_OK;
}

static int setup_vsock_dev(struct fx *f)
{
	f->dfd = open(VMCI_SOCKETS_DEFAULT_DEVICE, O_RDWR | O_CLOEXEC);
	return f->dfd < 0 ? -1 : 0;
}

/* The fd's hold on the family, and a socket of that family right after. */
static enum outcome run_vsock_get_af(struct fx *f)
{
	int v = -2;

	if (ioctl(f->dfd, VSOCK_IOC_GET_AF, &v))
		return errno_outcome(f, "get_af_value", 0);
	if (v != af) {
		why(f, "af %d, want %d", v, af);
		return OUT_BAD;
	}
	return OUT_OK;
}

static enum outcome run_vsock_local_cid(struct fx *f)
{
	unsigned int cid = 0;

	if (ioctl(f->dfd, VSOCK_IOC_LOCAL_CID, &cid))
		return errno_outcome(f, "get_local_cid", 0);
	if (cid != local_cid) {
		why(f, "cid %u, want %u", cid, local_cid);
		return OUT_BAD;
	}
	return OUT_OK;
}

/* ---- sockets ----------------------------------------------------------- */

static enum outcome run_dgram_socket(struct fx *f)
{
	f->a = socket(af, SOCK_DGRAM, 0);
	return errno_outcome(f, "socket", f->a >= 0);
}

static int setup_dgram_socket(struct fx *f)
{
	f->a = socket(af, SOCK_DGRAM, 0);
	return f->a < 0 ? -1 : 0;
}

static enum outcome run_dgram_bind(struct fx *f)
{
	return errno_outcome(f, "bind", !bind_to(f->a, VMADDR_CID_ANY, PORT_DGRAM_A));
}

/* Two bound datagram sockets: a at PORT_DGRAM_A, b at PORT_DGRAM_B. */
static int setup_dgram_pair(struct fx *f)
{
	f->a = socket(af, SOCK_DGRAM, 0);
	f->b = socket(af, SOCK_DGRAM, 0);
	if (f->a < 0 || f->b < 0)
		return -1;
	return bind_to(f->a, VMADDR_CID_ANY, PORT_DGRAM_A) ||
	       bind_to(f->b, VMADDR_CID_ANY, PORT_DGRAM_B) ? -1 : 0;
}

/* The pair with a connected to b: shutdown wants a connected datagram socket. */
static int setup_dgram_connected(struct fx *f)
{
	return setup_dgram_pair(f) || connect_to(f->a, PORT_DGRAM_B) ? -1 : 0;
}

static enum outcome run_dgram_connect(struct fx *f)
{
	return errno_outcome(f, "connect", !connect_to(f->a, PORT_DGRAM_B));
}

/* Sent is received; a send that failed sent nothing. */
static enum outcome run_dgram_send(struct fx *f)
{
	struct sockaddr_vm to = vm_addr(local_cid, PORT_DGRAM_B);
	char buf[16];
	ssize_t n = sendto(f->a, "hello", 5, 0, (struct sockaddr *)&to, sizeof(to));

	if (n < 0) {
		enum outcome o = errno_outcome(f, "sendto", 0);

		if (recv(f->b, buf, sizeof(buf), MSG_DONTWAIT) >= 0) {
			why(f, "failed send delivered");
			return OUT_BAD;
		}
		return o;
	}
	/* Datagrams may be dropped on the way in: a receive queue that cannot grow. */
	n = recv(f->b, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0) {
		why(f, "sent datagram not received: %s", strerror(errno));
		return OUT_ERR;
	}
	if (n != 5 || memcmp(buf, "hello", 5)) {
		why(f, "received %zd bytes", n);
		return OUT_BAD;
	}
	return OUT_OK;
}

static int setup_dgram_queued(struct fx *f)
{
	struct sockaddr_vm to = vm_addr(local_cid, PORT_DGRAM_B);

	if (setup_dgram_pair(f))
		return -1;
	if (sendto(f->a, "queued", 6, 0, (struct sockaddr *)&to, sizeof(to)) != 6)
		return -1;
	return readable(f->b, 1000) ? 0 : -1;
}

static enum outcome run_dgram_recv(struct fx *f)
{
	struct sockaddr_vm from;
	socklen_t len = sizeof(from);
	char buf[16];
	ssize_t n = recvfrom(f->b, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &len);

	if (n < 0) {
		enum outcome o = errno_outcome(f, "recvfrom", 0);

		if (!readable(f->b, 0)) {
			why(f, "failed recv lost the datagram");
			return OUT_BAD;
		}
		return o;
	}
	if (n != 6 || memcmp(buf, "queued", 6) || from.svm_port != PORT_DGRAM_A) {
		why(f, "received %zd bytes from port %u", n, from.svm_port);
		return OUT_BAD;
	}
	return OUT_OK;
}

static enum outcome run_sock_setsockopt(struct fx *f)
{
	int v = 65536;

	return errno_outcome(f, "setsockopt SO_RCVBUF",
			     !setsockopt(f->a, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)));
}

static enum outcome run_sock_getsockopt(struct fx *f)
{
	int v = -1;
	socklen_t len = sizeof(v);
	struct sockaddr_vm a;
	socklen_t alen = sizeof(a);

	if (getsockopt(f->a, SOL_SOCKET, SO_TYPE, &v, &len))
		return errno_outcome(f, "getsockopt SO_TYPE", 0);
	if (getsockname(f->a, (struct sockaddr *)&a, &alen))
		return errno_outcome(f, "getsockname", 0);
	if (v != SOCK_DGRAM && v != SOCK_STREAM) {
		why(f, "type %d", v);
		return OUT_BAD;
	}
	return OUT_OK;
}

static enum outcome run_sock_shutdown(struct fx *f)
{
	return errno_outcome(f, "shutdown", !shutdown(f->a, SHUT_RDWR));
}

static enum outcome run_dgram_poll(struct fx *f)
{
	struct pollfd p = { .fd = f->b, .events = POLLIN | POLLOUT };
	int n = poll(&p, 1, 0);

	if (n < 0)
		return errno_outcome(f, "poll", 0);
	if (n != 1 || !(p.revents & POLLIN)) {
		why(f, "poll %d revents %#x", n, p.revents);
		return OUT_BAD;
	}
	return OUT_OK;
}

static enum outcome run_sock_close(struct fx *f)
{
	int r = close(f->a);

	f->a = -1;
	return errno_outcome(f, "close", r == 0);
}

/* Streams: a listener on PORT_STREAM_L; clients connect with a short timeout. */

static int stream_client(void)
{
	struct timeval tv = { .tv_sec = 2 };
	int fd = socket(af, SOCK_STREAM, 0);

	if (fd >= 0)
		setsockopt(fd, af, SO_VMCI_CONNECT_TIMEOUT, &tv, sizeof(tv));
	return fd;
}

static int setup_listener(struct fx *f)
{
	f->l = socket(af, SOCK_STREAM, 0);
	if (f->l < 0 || bind_to(f->l, VMADDR_CID_ANY, PORT_STREAM_L) || listen(f->l, 8))
		return -1;
	return 0;
}

static enum outcome run_stream_socket(struct fx *f)
{
	f->a = socket(af, SOCK_STREAM, 0);
	return errno_outcome(f, "socket", f->a >= 0);
}

static int setup_stream_socket(struct fx *f)
{
	f->a = stream_client();
	return f->a < 0 ? -1 : 0;
}

static enum outcome run_stream_bind(struct fx *f)
{
	return errno_outcome(f, "bind", !bind_to(f->a, VMADDR_CID_ANY, PORT_STREAM_C));
}

static int setup_stream_bound(struct fx *f)
{
	f->a = socket(af, SOCK_STREAM, 0);
	return f->a < 0 || bind_to(f->a, VMADDR_CID_ANY, PORT_STREAM_L) ? -1 : 0;
}

static enum outcome run_stream_listen(struct fx *f)
{
	return errno_outcome(f, "listen", !listen(f->a, 8));
}

static int setup_listener_client(struct fx *f)
{
	if (setup_listener(f))
		return -1;
	f->a = stream_client();
	return f->a < 0 ? -1 : 0;
}

/*
 * A refused or failed connect leaves nothing the listener could hand out:
 * whatever accept() finds afterwards must be a usable connection.
 */
static enum outcome run_stream_connect(struct fx *f)
{
	if (connect_to(f->a, PORT_STREAM_L)) {
		enum outcome o = errno_outcome(f, "connect", 0);
		char c;

		if (readable(f->l, 0)) {
			int s = accept4(f->l, NULL, NULL, SOCK_NONBLOCK);

			if (s >= 0 && recv(s, &c, 1, MSG_DONTWAIT) > 0) {
				why(f, "failed connect gave the listener data");
				o = OUT_BAD;
			}
			if (s >= 0)
				close(s);
		}
		return o;
	}
	if (send(f->a, "c", 1, MSG_NOSIGNAL) != 1)
		return errno_outcome(f, "send after connect", 0);
	return OUT_OK;
}

static int setup_stream_pending(struct fx *f)
{
	if (setup_listener_client(f) || connect_to(f->a, PORT_STREAM_L))
		return -1;
	return readable(f->l, 2000) ? 0 : -1;
}

static enum outcome run_stream_accept(struct fx *f)
{
	char c;

	f->b = accept4(f->l, NULL, NULL, SOCK_NONBLOCK);
	if (f->b < 0)
		return errno_outcome(f, "accept", 0);
	/*
	 * The proof sends a byte, in the same task: a local pair's first
	 * write allocates its first ring page, so the fault may land there.
	 */
	if (send(f->a, "a", 1, MSG_NOSIGNAL) != 1)
		return errno_outcome(f, "send", 0);
	if (!readable(f->b, 2000) || recv(f->b, &c, 1, 0) != 1 || c != 'a') {
		why(f, "accepted connection carries nothing");
		return OUT_BAD;
	}
	return OUT_OK;
}

static int setup_stream_pair(struct fx *f)
{
	if (setup_stream_pending(f))
		return -1;
	f->b = accept(f->l, NULL, NULL);
	return f->b < 0 ? -1 : 0;
}

static enum outcome run_stream_send(struct fx *f)
{
	static char buf[8192], got[8192];
	ssize_t n, m = 0, r;

	memset(buf, 's', sizeof(buf));
	n = send(f->a, buf, sizeof(buf), MSG_NOSIGNAL | MSG_DONTWAIT);
	if (n <= 0)
		return errno_outcome(f, "send", 0);
	while (m < n && readable(f->b, 2000)) {
		r = recv(f->b, got + m, n - m, MSG_DONTWAIT);
		if (r <= 0)
			break;
		m += r;
	}
	if (m != n || memcmp(buf, got, n)) {
		why(f, "sent %zd, received %zd", n, m);
		return OUT_BAD;
	}
	return OUT_OK;
}

static int setup_stream_queued(struct fx *f)
{
	if (setup_stream_pair(f) || send(f->a, "0123456789", 10, MSG_NOSIGNAL) != 10)
		return -1;
	return readable(f->b, 2000) ? 0 : -1;
}

static enum outcome run_stream_recv(struct fx *f)
{
	char buf[16];
	ssize_t n = recv(f->b, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0) {
		enum outcome o = errno_outcome(f, "recv", 0);

		if (!readable(f->b, 0)) {
			why(f, "failed recv lost the data");
			return OUT_BAD;
		}
		return o;
	}
	if (n != 10 || memcmp(buf, "0123456789", 10)) {
		why(f, "received %zd bytes", n);
		return OUT_BAD;
	}
	return OUT_OK;
}

static enum outcome run_stream_setsockopt(struct fx *f)
{
	unsigned long long q = 16384;
	struct timeval tv = { .tv_sec = 1 };

	if (setsockopt(f->a, af, SO_VMCI_BUFFER_SIZE, &q, sizeof(q)))
		return errno_outcome(f, "setsockopt buffer size", 0);
	return errno_outcome(f, "setsockopt timeout",
			     !setsockopt(f->a, af, SO_VMCI_CONNECT_TIMEOUT, &tv, sizeof(tv)));
}

static enum outcome run_stream_getsockopt(struct fx *f)
{
	unsigned long long q = 0;
	socklen_t len = sizeof(q);
	struct sockaddr_vm a;
	socklen_t alen = sizeof(a);

	if (getsockopt(f->a, af, SO_VMCI_BUFFER_SIZE, &q, &len))
		return errno_outcome(f, "getsockopt buffer size", 0);
	if (getpeername(f->a, (struct sockaddr *)&a, &alen))
		return errno_outcome(f, "getpeername", 0);
	if (!q || a.svm_port != PORT_STREAM_L) {
		why(f, "buffer %llu peer port %u", q, a.svm_port);
		return OUT_BAD;
	}
	return OUT_OK;
}

/* Shutting down the write side shows as end of file at the peer. */
static enum outcome run_stream_shutdown(struct fx *f)
{
	char c;

	if (shutdown(f->a, SHUT_WR))
		return errno_outcome(f, "shutdown", 0);
	if (!readable(f->b, 2000) || recv(f->b, &c, 1, MSG_DONTWAIT) != 0) {
		why(f, "peer sees no end of file");
		return OUT_ERR;	/* the shutdown packet itself may have been the fault */
	}
	return OUT_OK;
}

static enum outcome run_stream_poll(struct fx *f)
{
	struct pollfd p[2] = { { .fd = f->b, .events = POLLIN }, { .fd = f->a, .events = POLLOUT } };
	int n = poll(p, 2, 0);

	if (n < 0)
		return errno_outcome(f, "poll", 0);
	if (n != 2 || !(p[0].revents & POLLIN) || !(p[1].revents & POLLOUT)) {
		why(f, "poll %d revents %#x %#x", n, p[0].revents, p[1].revents);
		return OUT_BAD;
	}
	return OUT_OK;
}

/* Closing one end is seen by the other. */
static enum outcome run_stream_close(struct fx *f)
{
	char c;
	int r = close(f->a);

	f->a = -1;
	if (r)
		return errno_outcome(f, "close", 0);
	if (!readable(f->b, 2000) || recv(f->b, &c, 1, MSG_DONTWAIT) != 0) {
		why(f, "peer sees no end of file");
		return OUT_ERR;
	}
	return OUT_OK;
}

static int setup_stream_listening_close(struct fx *f)
{
	if (setup_stream_pending(f))
		return -1;
	f->a = dup(f->l);	/* run_sock_close closes a; the pending child goes with it */
	close_fd(&f->l);
	return f->a < 0 ? -1 : 0;
}

static const struct op ops[] = {
	{ "vmci_open_version", setup_none, run_vmci_version },
	{ "vmci_init_context", setup_vmci_open, run_init_context },
	{ "vmci_datagram_send", setup_ctx, run_dg_send },
	{ "vmci_datagram_receive", setup_dg_pending, run_dg_receive },
	{ "vmci_set_notify", setup_notify_page, run_set_notify },
	{ "vmci_ctx_add_notification", setup_two_ctx, run_ctx_add_notification },
	{ "vmci_ctx_remove_notification", setup_subscribed, run_ctx_remove_notification },
	{ "vmci_ctx_removed_event", setup_subscribed, run_ctx_removed_event },
	{ "vmci_doorbell_create", setup_ctx, run_dbell_create },
	{ "vmci_doorbell_destroy", setup_dbell, run_dbell_destroy },
	{ "vmci_doorbell_notify", setup_ctx, run_dbell_notify },
	{ "vmci_notifications_receive", setup_dbell_rung, run_notifications_receive },
	{ "vmci_qp_alloc", setup_qp_mem, run_qp_alloc },
	{ "vmci_qp_setva", setup_qp_alloced, run_qp_setva },
	{ "vmci_qp_detach", setup_qp_mapped, run_qp_detach },
	{ "vmci_cpt_get", setup_cpt, run_cpt_get },
	{ "vmci_cpt_set", setup_two_ctx, run_cpt_set },
	{ "vmci_close_full_context", setup_full_ctx, run_vmci_close },
	{ "vsock_dev_version", setup_none, run_vsock_version },
	{ "vsock_dev_get_af_value", setup_vsock_dev, run_vsock_get_af },
	{ "vsock_dev_get_local_cid", setup_vsock_dev, run_vsock_local_cid },
	{ "dgram_socket", setup_none, run_dgram_socket },
	{ "dgram_bind", setup_dgram_socket, run_dgram_bind },
	{ "dgram_connect", setup_dgram_pair, run_dgram_connect },
	{ "dgram_send", setup_dgram_pair, run_dgram_send },
	{ "dgram_recv", setup_dgram_queued, run_dgram_recv },
	{ "dgram_setsockopt", setup_dgram_pair, run_sock_setsockopt },
	{ "dgram_getsockopt", setup_dgram_pair, run_sock_getsockopt },
	{ "dgram_shutdown", setup_dgram_connected, run_sock_shutdown },
	{ "dgram_poll", setup_dgram_queued, run_dgram_poll },
	{ "dgram_close", setup_dgram_queued, run_sock_close },
	{ "stream_socket", setup_none, run_stream_socket },
	{ "stream_bind", setup_stream_socket, run_stream_bind },
	{ "stream_listen", setup_stream_bound, run_stream_listen },
	{ "stream_connect", setup_listener_client, run_stream_connect },
	{ "stream_accept", setup_stream_pending, run_stream_accept },
	{ "stream_send", setup_stream_pair, run_stream_send },
	{ "stream_recv", setup_stream_queued, run_stream_recv },
	{ "stream_setsockopt", setup_stream_socket, run_stream_setsockopt },
	{ "stream_getsockopt", setup_stream_pair, run_stream_getsockopt },
	{ "stream_shutdown", setup_stream_pair, run_stream_shutdown },
	{ "stream_poll", setup_stream_queued, run_stream_poll },
	{ "stream_close", setup_stream_pair, run_stream_close },
	{ "stream_close_listener", setup_stream_listening_close, run_sock_close },
};

#define NOPS	((int)(sizeof(ops) / sizeof(ops[0])))

/* One clean attempt: setup, the operation, teardown. */
static enum outcome attempt(const struct op *op, unsigned int nth, long *left, char *why_out,
			    size_t why_len)
{
	struct fx f;
	enum outcome o;

	fx_init(&f);
	if (op->setup(&f)) {
		snprintf(why_out, why_len, "setup: %s", strerror(errno));
		teardown(&f);
		return OUT_BAD;
	}
	if (nth && nth_set(nth)) {
		snprintf(why_out, why_len, "fail-nth write: %s", strerror(errno));
		teardown(&f);
		return OUT_BAD;
	}
	o = op->run(&f);
	if (nth) {
		*left = nth_get();
		nth_set(0);
	}
	snprintf(why_out, why_len, "%s", f.why);
	teardown(&f);
	return o;
}

static void watchdog(int sig)
{
	static const char msg[] = "not ok watchdog # an operation hung\n";

	(void)sig;
	nth_set(0);
	if (write(1, msg, sizeof(msg) - 1) < 0)
		_exit(3);
	write_str("/sys/kernel/debug/failslab/probability", "0");
	write_str("/sys/kernel/debug/fail_page_alloc/probability", "0");
	_exit(2);
}

/*
 * Walks fail points 1, 2, ... of one operation. Returns how many the
 * operation passes through; *bad says what went wrong, if anything.
 */
static int walk(const struct op *op, char *bad, size_t bad_len, int *errs, int *coped)
{
	char w[200];
	unsigned int n;
	long left;
	enum outcome o;

	*errs = *coped = 0;
	for (n = 1; n <= MAX_POINTS; n++) {
		left = -1;
		o = attempt(op, n, &left, w, sizeof(w));
		if (left < 0) {
			snprintf(bad, bad_len, "fail-nth read back failed at %u", n);
			return -1;
		}
		if (left > 0) {
			/* Nothing was injected: the operation must simply work. */
			if (o != OUT_OK)
				snprintf(bad, bad_len, "uninjected run (%u points): %s", n - 1, w);
			return n - 1;
		}
		if (o == OUT_BAD) {
			snprintf(bad, bad_len, "point %u: %s", n, w);
			return n;
		}
		if (o == OUT_ERR)
			(*errs)++;
		else
			(*coped)++;
		/* And the same again, uninjected, must work after every failure. */
		o = attempt(op, 0, &left, w, sizeof(w));
		if (o != OUT_OK) {
			snprintf(bad, bad_len, "after point %u: %s", n, w);
			return n;
		}
	}
	snprintf(bad, bad_len, "more than %d points", MAX_POINTS);
	return MAX_POINTS;
}

/* Touches stack and locks everything, so user page faults never meet an injected fault. */
static void prefault(void)
{
	volatile char stack[256 * 1024];

	memset((char *)stack, 0, sizeof(stack));
	mlockall(MCL_CURRENT | MCL_FUTURE);
}

int main(int argc, char **argv)
{
	int dry = argc > 1 && !strcmp(argv[1], "dry");
	struct timespec t0, t1;
	long total = 0;
	int i, afd = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_plan(NOPS + 2);
	af = VMCISock_GetAFValueFd(&afd);
	local_cid = VMCISock_GetLocalCID();
	tap_report(af > 0 && local_cid != VMADDR_CID_ANY, "setup_family", "af %d cid %u", af,
		   local_cid);
	qp_mem_template = calloc(4, PAGE);
	if (!dry) {
		nth_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
		tap_report(nth_fd >= 0 && !configure_attr("failslab", 0) &&
			   !configure_attr("fail_page_alloc", 1), "setup_fault_injection",
			   "%s", strerror(errno));
	} else {
		tap_report(1, "setup_fault_injection", "");
	}
	if (af <= 0 || (!dry && nth_fd < 0) || !qp_mem_template) {
		for (i = 0; i < NOPS; i++)
			tap_report(0, ops[i].name, "no setup");
		unconfigure();
		return 1;
	}
	signal(SIGALRM, watchdog);
	signal(SIGPIPE, SIG_IGN);
	prefault();

	for (i = 0; i < NOPS; i++) {
		char bad[300] = "";
		int points, errs, coped;
		double s;

		current_op = ops[i].name;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		alarm(OP_WATCHDOG_S);
		if (dry) {
			long left = 0;

			points = 0;
			errs = coped = 0;
			if (attempt(&ops[i], 0, &left, bad, sizeof(bad)) == OUT_OK)
				bad[0] = 0;
			else if (!bad[0])
				snprintf(bad, sizeof(bad), "failed");
		} else {
			points = walk(&ops[i], bad, sizeof(bad), &errs, &coped);
		}
		alarm(0);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		printf("# %s: %d fail points walked (%d errors, %d coped), %.1f s\n", ops[i].name,
		       points, errs, coped, s);
		total += points > 0 ? points : 0;
		tap_report(!bad[0], ops[i].name, "%s", bad);
	}
	printf("# %ld fail points in all\n", total);
	if (!dry)
		unconfigure();
	VMCISock_ReleaseAFValueFd(afd);
	return tap_exit_code();
}
