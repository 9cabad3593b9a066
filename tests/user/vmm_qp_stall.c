// SPDX-License-Identifier: GPL-2.0
/*
 * One VMM stalled on a user fault inside the queue-pair code must not
 * stall another VMM. Two ways to stall VMM A, each with a userfaultfd
 * page that nobody serves yet:
 * - setva: A maps its pair with SETVA over such memory, so pinning its
 *   pages waits in the fault, inside A's ioctl;
 * - copy: A, playing a guest, connects a vSockets stream to a host
 *   listener of an unprivileged user (uid 65534); that user send()s from
 *   such a page, so the copy into A's pair waits in the fault, and A then
 *   detaches, which has to wait for that copy to finish with its memory.
 * Meanwhile VMM B, another context in a child process, allocates, maps
 * and detaches a pair of its own and must be done within B_BOUND_MS. In
 * the copy case A also sends WAITING_WRITE for the stalled stream, and a
 * connection between two other local sockets must still be made within
 * B_BOUND_MS: the control worker that serves every socket must not wait
 * for A's pair.
 * Then the fault is served and A's call must complete. B runs in a
 * child because a VMM blocked in the kernel cannot be interrupted: the
 * parent only waits for its report, with a bound, and serves the fault
 * whatever happened, so no outcome hangs the test.
 *
 * Usage: vmm_qp_stall [vmci-device]   (root: userfaultfd for kernel faults)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "nobody.h"
#include "tap.h"
#include "uffd_page.h"
#include "uffd_pin.h"
#include "vmci_stats.h"
#include "vmm_dev.h"
#include "vmm_ring.h"

#define PAGE		4096u
#define A_RID		0x9000u
#define B_RID		0x9100u
#define C_RID		0x9200u
#define B_BOUND_MS	3000
#define PLAN		22

/* vSockets over VMCI (facts section 7): the VMM plays a guest's client. */
#define HOST_PORT	7100u
#define VMM_PORT	7200u
#define STREAM_SIZE	(4 * PAGE)
#define SEND_LEN	(2 * PAGE)
#define PKT_WAITING_WRITE 9

/* The vSockets family number, for the sender child too. */
static int af_family;

/* The VMM's pairs here are all with the host. */
static int32_t qp_alloc(int fd, struct handle h, uint64_t psize, uint64_t csize)
{
	return vmm_qp_alloc(fd, h, HOST_CID, 0, psize, csize);
}

/* A pair of one page each way spans four pages: two headers, two rings. */
#define PAIR_PAGES	4u
/* The stream's pair: STREAM_SIZE each way and two header pages. */
#define STREAM_PAGES	(2 * STREAM_SIZE / PAGE + 2)

struct stalled_setva {
	int fd;
	struct handle handle;
	void *mem;
	int32_t result;
	volatile int done;
};

static void *setva_thread(void *arg)
{
	struct stalled_setva *s = arg;

	s->result = vmm_qp_setva(s->fd, s->handle, s->mem);
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * VMM B's whole life with a pair. Writes its three results to @wfd. The
 * alarm only ends it if it ever gets out of the kernel late.
 */
static void vmm_b(int wfd)
{
	int32_t r[3] = { -2000, -2000, -2000 };
	uint32_t cid;
	void *mem;
	int fd;

	alarm(30);
	fd = vmm_open_ctx(0, &cid);
	mem = mmap(NULL, PAIR_PAGES * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (fd >= 0 && mem != MAP_FAILED) {
		struct handle h = { cid, B_RID };

		r[0] = qp_alloc(fd, h, PAGE, PAGE);
		r[1] = vmm_qp_setva(fd, h, mem);
		r[2] = vmm_qp_detach(fd, h);
		close(fd);
	}
	if (write(wfd, r, sizeof(r)) != sizeof(r))
		_exit(2);
	_exit(0);
}

/* Reads B's results if they come within @ms; 1 if they did. */
static int read_within(int rfd, int32_t *r, size_t len, int ms)
{
	struct pollfd pfd = { .fd = rfd, .events = POLLIN };

	if (poll(&pfd, 1, ms) != 1)
		return 0;
	return read(rfd, r, len) == (ssize_t)len;
}

/* Waits up to @ms for the thread's ioctl to return. */
static int wait_done(struct stalled_setva *s, int ms)
{
	int waited;

	for (waited = 0; waited < ms; waited += 10) {
		if (__atomic_load_n(&s->done, __ATOMIC_ACQUIRE))
			return 1;
		usleep(10000);
	}
	return __atomic_load_n(&s->done, __ATOMIC_ACQUIRE);
}

/* Resolves every missing page of [@mem, +@len) with zeroes; @len <= 64 KiB. */
static int serve_faults(int uffd, void *mem, size_t len)
{
	static char zero[65536];
	struct uffdio_copy copy = {
		.dst = (uintptr_t)mem, .src = (uintptr_t)zero, .len = len,
	};

	if (ioctl(uffd, UFFDIO_COPY, &copy) && errno != EEXIST)
		return -1;
	return 0;
}

/* VMM B in a child, and what the parent saw of it. */
struct vmm_b_run {
	pid_t child;
	int rfd;
	int in_time;
	int32_t r[3];
};

/* Starts B and checks that it is done within B_BOUND_MS, all successful. */
static void b_check(struct vmm_b_run *b, const char *prefix)
{
	char name[96];
	int p[2];

	b->in_time = 0;
	b->child = -1;
	b->rfd = -1;
	memset(b->r, 0xff, sizeof(b->r));
	if (!pipe(p)) {
		b->child = fork();
		if (b->child == 0) {
			close(p[0]);
			vmm_b(p[1]);
		}
		close(p[1]);
		b->rfd = p[0];
		b->in_time = b->child > 0 && read_within(p[0], b->r, sizeof(b->r), B_BOUND_MS);
	}
	snprintf(name, sizeof(name), "%s_b_alloc_map_detach_within_bound", prefix);
	tap_report(b->in_time, name, "VMM B still blocked after %d ms while A is stalled",
		   B_BOUND_MS);
	snprintf(name, sizeof(name), "%s_b_results", prefix);
	tap_report(!b->in_time || (b->r[0] == VMCI_SUCCESS && b->r[1] == VMCI_SUCCESS &&
				   b->r[2] == VMCI_SUCCESS), name,
		   "alloc %d setva %d detach %d", b->r[0], b->r[1], b->r[2]);
}

/* After A's fault is served: B gets through whatever happened before. */
static void b_finish(struct vmm_b_run *b, const char *prefix)
{
	char name[96];

	if (!b->in_time && b->rfd >= 0)
		b->in_time = read_within(b->rfd, b->r, sizeof(b->r), 10000);
	snprintf(name, sizeof(name), "%s_b_done_eventually", prefix);
	tap_report(b->in_time && b->r[2] == VMCI_SUCCESS, name, "done %d detach %d",
		   b->in_time, b->r[2]);
	if (b->child > 0) {
		if (!b->in_time)
			kill(b->child, SIGKILL);
		waitpid(b->child, NULL, 0);
	}
	if (b->rfd >= 0)
		close(b->rfd);
}

/* Waits up to 5 s for a fault on [@mem, +@len) to be reported on @uffd. */
static int fault_seen(int uffd, void *mem, size_t len)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;

	return poll(&pfd, 1, 5000) == 1 && read(uffd, &msg, sizeof(msg)) == sizeof(msg) &&
	       msg.event == UFFD_EVENT_PAGEFAULT &&
	       msg.arg.pagefault.address - (uintptr_t)mem < len;
}

/* Memory registered with @uffd for missing-page faults; NULL on failure. */
static void *uffd_area(int uffd, size_t len)
{
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };
	void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem == MAP_FAILED)
		return NULL;
	reg.range.start = (uintptr_t)mem;
	reg.range.len = len;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg)) {
		munmap(mem, len);
		return NULL;
	}
	return mem;
}

/*
 * Part 1: VMM A's SETVA pins pages that fault into the userfaultfd, so A
 * waits inside the ioctl, as long as nobody serves the fault.
 */
static void test_setva_stall(int uffd)
{
	static const char *const checks[] = {
		"setva_a_open", "setva_a_alloc", "setva_a_stalled_in_fault",
		"setva_b_alloc_map_detach_within_bound", "setva_b_results",
		"setva_serve_fault", "setva_a_completes", "setva_b_done_eventually",
		"setva_a_detach", NULL,
	};
	struct stalled_setva a = { .result = -2000 };
	struct vmm_b_run b;
	pthread_t thread;
	unsigned int i;
	uint32_t cid;
	int stalled;

	/*
	 * Where the pin cannot wait (uffd_pin.h), SETVA cannot stall in
	 * it, and trying would only make the kernel's own complaint.
	 */
	if (!uffd_longterm_pin_waits()) {
		for (i = 0; checks[i]; i++)
			tap_skip(checks[i], UFFD_PIN_NO_WAIT_WHY);
		return;
	}
	a.mem = uffd_area(uffd, PAIR_PAGES * PAGE);
	a.fd = vmm_open_ctx(0, &cid);
	tap_report(a.fd >= 0 && a.mem, "setva_a_open", "%s", strerror(errno));
	if (a.fd < 0 || !a.mem)
		return;
	a.handle = (struct handle){ cid, A_RID };
	tap_check_int("setva_a_alloc", qp_alloc(a.fd, a.handle, PAGE, PAGE), VMCI_SUCCESS);
	if (pthread_create(&thread, NULL, setva_thread, &a)) {
		tap_report(0, "setva_thread", "%s", strerror(errno));
		return;
	}
	stalled = fault_seen(uffd, a.mem, PAIR_PAGES * PAGE) &&
		  !__atomic_load_n(&a.done, __ATOMIC_ACQUIRE);
	tap_report(stalled, "setva_a_stalled_in_fault",
		   "no fault seen; setva done %d result %d", a.done, a.result);

	b_check(&b, "setva");

	tap_report(!serve_faults(uffd, a.mem, PAIR_PAGES * PAGE), "setva_serve_fault", "%s",
		   strerror(errno));
	/* Without the stall (failed above), SETVA ended with the pin's error. */
	tap_report(wait_done(&a, 5000) && (a.result == VMCI_SUCCESS || !stalled),
		   "setva_a_completes", "done %d result %d", a.done, a.result);
	pthread_join(thread, NULL);
	b_finish(&b, "setva");
	tap_check_int("setva_a_detach", vmm_qp_detach(a.fd, a.handle), VMCI_SUCCESS);
	close(a.fd);
	munmap(a.mem, PAIR_PAGES * PAGE);
}

/* --- Part 2: a host user's stream send stalled inside the pair's copy --- */

static int ctl_send(int fd, uint32_t cid, uint8_t type, uint64_t u0)
{
	struct ctl_packet p = {
		.dst = { HOST_CID, 1 }, .src = { cid, 1 },
		.payload_size = sizeof(p) - DG_HEADER, .version = 1, .type = type,
		.proto = type == PKT_REQUEST2 ? PROTO_QSTATE : 0,
		.src_port = VMM_PORT, .dst_port = HOST_PORT, .u0 = u0,
	};
	struct snd_rcv_info info = { .addr = (uintptr_t)&p, .len = sizeof(p) };

	return ioctl(fd, IOC_DG_SEND, &info) || info.result < 0 ? -1 : 0;
}

/* Waits up to 3 s for a control packet of @type from the host; 0 if it came. */
static int ctl_wait(int fd, uint8_t type, struct ctl_packet *p)
{
	unsigned char buf[4096];
	int tries;

	for (tries = 0; tries < 150; tries++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct snd_rcv_info info = { .addr = (uintptr_t)buf, .len = sizeof(buf) };

		if (poll(&pfd, 1, 20) != 1)
			continue;
		if (ioctl(fd, IOC_DG_RECEIVE, &info) || info.result < 0)
			continue;
		memcpy(p, buf, sizeof(*p));
		if (p->src.context == HOST_CID && p->type == type)
			return 0;
	}
	return -1;
}

/*
 * VMM A connects as a guest would to the host's listener on HOST_PORT:
 * REQUEST2, NEGOTIATE2, its own pair mapped from @mem, OFFER, ATTACH.
 * 0 once the host attached; the listener's owner accepts.
 */
static int vmm_connect(int fd, uint32_t cid, struct handle h, uint8_t *mem)
{
	struct queue_header *ph = (struct queue_header *)mem;
	struct queue_header *ch = (struct queue_header *)(mem + PAGE + STREAM_SIZE);
	struct ctl_packet p;
	uint64_t packed;

	if (ctl_send(fd, cid, PKT_REQUEST2, STREAM_SIZE) || ctl_wait(fd, PKT_NEGOTIATE2, &p) ||
	    p.u0 != STREAM_SIZE)
		return -1;
	/* Facts 5.3: the creator's side sets the headers up before use. */
	ph->handle = h;
	ch->handle = h;
	if (qp_alloc(fd, h, STREAM_SIZE, STREAM_SIZE) != VMCI_SUCCESS ||
	    vmm_qp_setva(fd, h, mem) != VMCI_SUCCESS)
		return -1;
	memcpy(&packed, &h, sizeof(packed));
	if (ctl_send(fd, cid, PKT_OFFER, packed) || ctl_wait(fd, PKT_ATTACH, &p))
		return -1;
	return 0;
}

struct stalled_send {
	int fd;
	void *buf;
	ssize_t result;
	int err;
	volatile int done;
};

static void *send_thread(void *arg)
{
	struct stalled_send *s = arg;

	s->result = send(s->fd, s->buf, SEND_LEN, 0);
	s->err = errno;
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * The host user who stalls the copy is uid 65534, in a child: it makes
 * its own userfaultfd (vm.unprivileged_userfaultfd, set by the parent),
 * listens on HOST_PORT, accepts VMM A's connection and send()s from a
 * missing page. It tells the parent each step as an int32 on @wfd: set
 * up (0 or errno), accepted (0 or errno), stalled in the fault (1 or 0);
 * then waits for a byte on @rfd, serves the fault and reports whether
 * that worked and what send() returned (or -errno).
 */
static void host_sender(int rfd, int wfd)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct sockaddr_vm addr = { .svm_family = af_family, .svm_cid = VMADDR_CID_ANY,
				    .svm_port = HOST_PORT };
	struct stalled_send snd = { .fd = -1 };
	struct pollfd pfd = { .events = POLLIN };
	int32_t step[2];
	pthread_t sender;
	int uffd, lfd;
	char go;

	alarm(60);
	step[0] = 0;
	if (drop_to_nobody())
		step[0] = errno;
	uffd = step[0] ? -1 : (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (!step[0] && (uffd < 0 || ioctl(uffd, UFFDIO_API, &api)))
		step[0] = errno;
	snd.buf = step[0] ? NULL : uffd_area(uffd, SEND_LEN);
	lfd = socket(af_family, SOCK_STREAM, 0);
	if (!step[0] && (!snd.buf || lfd < 0 ||
			 bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(lfd, 4)))
		step[0] = errno ? errno : EINVAL;
	if (write(wfd, step, sizeof(step[0])) != sizeof(step[0]) || step[0])
		_exit(1);

	pfd.fd = lfd;
	snd.fd = poll(&pfd, 1, 5000) == 1 ? accept(lfd, NULL, NULL) : -1;
	step[0] = snd.fd < 0 ? (errno ? errno : ETIMEDOUT) : 0;
	if (write(wfd, step, sizeof(step[0])) != sizeof(step[0]) || step[0])
		_exit(1);

	step[0] = !pthread_create(&sender, NULL, send_thread, &snd) &&
		  fault_seen(uffd, snd.buf, SEND_LEN) &&
		  !__atomic_load_n(&snd.done, __ATOMIC_ACQUIRE);
	if (write(wfd, step, sizeof(step[0])) != sizeof(step[0]) || !step[0])
		_exit(1);

	if (read(rfd, &go, 1) != 1)
		_exit(1);
	step[0] = !serve_faults(uffd, snd.buf, SEND_LEN);
	pthread_join(sender, NULL);
	step[1] = snd.result >= 0 ? (int32_t)snd.result : -snd.err;
	if (write(wfd, step, sizeof(step)) != sizeof(step))
		_exit(1);
	close(snd.fd);
	close(lfd);
	_exit(0);
}

/* The sender child and the two pipes to it. */
struct sender_run {
	pid_t pid;
	int to;		/* the parent writes "serve" here */
	int from;	/* the child's reports */
};

static int sender_start(struct sender_run *r)
{
	int down[2], up[2];

	r->pid = -1;
	if (pipe(down) || pipe(up))
		return -1;
	r->pid = fork();
	if (r->pid < 0)
		return -1;
	if (!r->pid) {
		close(down[1]);
		close(up[0]);
		host_sender(down[0], up[1]);
	}
	close(down[0]);
	close(up[1]);
	r->to = down[1];
	r->from = up[0];
	return 0;
}

/* The child's next report, if it comes within @ms; -1000 if it does not. */
static int32_t sender_report(struct sender_run *r, int ms)
{
	int32_t v;

	return read_within(r->from, &v, sizeof(v), ms) ? v : -1000;
}

/* Ends the child whatever state it is in (killing it ends its fault). */
static void sender_stop(struct sender_run *r)
{
	if (r->pid <= 0)
		return;
	close(r->to);
	close(r->from);
	kill(r->pid, SIGKILL);
	waitpid(r->pid, NULL, 0);
	r->pid = -1;
}

/*
 * A connection between two local sockets, which needs the control worker
 * for each of its packets: 1 if it is made within B_BOUND_MS.
 */
static int local_connect_in_time(int family)
{
	struct sockaddr_vm a = { .svm_family = family, .svm_cid = VMADDR_CID_ANY,
				 .svm_port = VMADDR_PORT_ANY };
	int lfd = socket(family, SOCK_STREAM, 0);
	int c = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	struct pollfd p = { .fd = c, .events = POLLOUT };
	socklen_t len = sizeof(a);
	int err = -1, ok = 0;

	if (lfd >= 0 && c >= 0 && !bind(lfd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(lfd, (struct sockaddr *)&a, &len) && !listen(lfd, 1)) {
		a.svm_cid = VMCISock_GetLocalCID();
		len = sizeof(err);
		if ((!connect(c, (struct sockaddr *)&a, sizeof(a)) || errno == EINPROGRESS) &&
		    poll(&p, 1, B_BOUND_MS) == 1 &&
		    !getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len))
			ok = err == 0;
	}
	close(c);
	close(lfd);
	return ok;
}

/* VMM A's detach, which has to wait for the host's copy on its own pair. */
static void *detach_thread(void *arg)
{
	struct stalled_setva *a = arg;

	a->result = vmm_qp_detach(a->fd, a->handle);
	__atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * Part 2: a host user's send() on a stream to VMM A copies from a buffer
 * whose page faults into the userfaultfd, so it waits with A's pair
 * locked for the copy; A then detaches, which must wait for that copy,
 * but must not make VMM B wait too. The host user is uid 65534: any
 * local user can hold a copy this way.
 */
static void test_host_copy_stall(void)
{
	struct stalled_setva a = { .result = -2000 };
	int32_t setup = -1000, accepted = -1000, stalled = 0, done[2] = { 0, -1000 };
	struct sender_run snd = { .pid = -1 };
	int old_sysctl = uffd_sysctl_set(1);
	int detaching = 0;
	pthread_t detacher;
	struct vmm_b_run b;
	uint32_t cid;

	a.fd = vmm_open_ctx(0, &cid);
	a.mem = mmap(NULL, STREAM_PAGES * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (a.fd >= 0 && a.mem != MAP_FAILED && !sender_start(&snd))
		setup = sender_report(&snd, 5000);
	tap_report(a.fd >= 0 && a.mem != MAP_FAILED && old_sysctl >= 0 && setup == 0,
		   "copy_setup", "vmm %d sysctl %d uid %d sender: %s", a.fd, old_sysctl, NOBODY,
		   setup > 0 ? strerror(setup) : setup ? "no report" : "ok");
	if (setup)
		goto out;
	a.handle = (struct handle){ cid, C_RID };
	if (!vmm_connect(a.fd, cid, a.handle, a.mem))
		accepted = sender_report(&snd, 5000);
	tap_report(accepted == 0, "copy_vmm_connects", "handshake or accept failed: %s",
		   accepted > 0 ? strerror(accepted) : "no report");
	if (accepted)
		goto out;

	stalled = sender_report(&snd, 6000) == 1;
	tap_report(stalled, "copy_host_send_stalled_in_fault",
		   "uid %d's send() was not seen waiting in its fault", NOBODY);
	if (!stalled)
		goto out;

	/* A leaves its pair while the host copies into it. */
	detaching = !pthread_create(&detacher, NULL, detach_thread, &a);
	usleep(300000);
	printf("# VMM A's detach %s while the copy is stalled\n",
	       __atomic_load_n(&a.done, __ATOMIC_ACQUIRE) ? "returned" : "waits");
	/*
	 * A, as an old peer would, says it waits to write on that stream.
	 * The host's control worker, which every connection shares, must
	 * not wait for A's pair memory to answer it: a new connection
	 * between two other sockets is still made in time.
	 */
	tap_report(!ctl_send(a.fd, cid, PKT_WAITING_WRITE, 0), "copy_a_sends_waiting_write",
		   "%s", strerror(errno));
	tap_report(local_connect_in_time(af_family), "copy_control_worker_not_held",
		   "a local connect was not made within %d ms", B_BOUND_MS);

	b_check(&b, "copy");

	if (write(snd.to, "s", 1) != 1 || !read_within(snd.from, done, sizeof(done), 10000))
		done[0] = 0;
	tap_report(done[0] == 1, "copy_serve_fault", "the sender could not serve its fault");
	tap_report(done[1] > 0, "copy_host_send_completes", "send returned %d", done[1]);
	tap_report(detaching && wait_done(&a, 5000) && a.result == VMCI_SUCCESS,
		   "copy_a_detach_completes", "done %d result %d", a.done, a.result);
	if (detaching)
		pthread_join(detacher, NULL);
	b_finish(&b, "copy");
out:
	sender_stop(&snd);
	if (old_sysctl >= 0)
		uffd_sysctl_set(old_sysctl);
	if (a.fd >= 0)
		close(a.fd);
	if (a.mem != MAP_FAILED)
		munmap(a.mem, STREAM_PAGES * PAGE);
}

int main(int argc, char **argv)
{
	struct uffdio_api api = { .api = UFFD_API };
	int uffd, family, afd = -1;

	if (argc > 1)
		dev_path = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_plan(PLAN);
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	family = VMCISock_GetAFValueFd(&afd);
	af_family = family;
	tap_report(uffd >= 0 && !ioctl(uffd, UFFDIO_API, &api) && family >= 0,
		   "setup_userfaultfd_and_family", "uffd %d family %d: %s", uffd, family,
		   strerror(errno));
	if (uffd < 0 || family < 0)
		return 1;
	test_setva_stall(uffd);
	test_host_copy_stall();
	tap_report(wait_stat("broker_pinned_pages", 0, 3000) &&
		   wait_stat("broker_queue_pairs", 0, 3000), "nothing_left",
		   "pairs %lld pinned %lld", stat_value("broker_queue_pairs"),
		   stat_value("broker_pinned_pages"));
	VMCISock_ReleaseAFValueFd(afd);
	return tap_exit_code();
}
