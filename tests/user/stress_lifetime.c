// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetime under stress, starting and ending with neither module loaded.
 *
 * Part 1, kill -9 of a VMM in the middle of a queue-pair call (vmci
 * loaded). A child VMM is held inside the ioctl by a userfaultfd page
 * nobody serves, the parent sees the fault and kills the child:
 * - setva_pin: SETVA over missing pages, held while pinning them;
 * - setva_result: SETVA on real memory, its argument in a write-protected
 *   page, held writing the result back after the pages were pinned;
 * - alloc_result: ALLOC, argument write-protected, held writing the
 *   result back after the pair was created;
 * - alloc_arg: ALLOC, argument in a missing page, held reading it.
 * Then VMMs looping ALLOC, SETVA, datagram sends, DETACH and close are
 * killed at random moments. Every child must die and be reaped within
 * KILL_BOUND_S; afterwards vmci must unload, and memory and pins be back
 * at the baseline taken before it was loaded (see stress_mem.h).
 *
 * Part 2, CYCLES load/unload cycles of vmci and vmsock while workers in
 * other processes loop over socket(), GET_AF_VALUE on /dev/vsock,
 * connect() to a port nobody listens on, open("/dev/vmci") with
 * INIT_CONTEXT, and whole stream connections with data. Each rmmod
 * (delete_module with O_NONBLOCK, as rmmod does) must succeed or fail
 * with EAGAIN (a reference is held: the kernel's answer for a module in
 * use) or EBUSY (a module still coming or going); any other errno fails.
 * Every cycle ends with both unloaded; at the end the workers must still
 * be alive (no crash in a worker) and have made progress, and memory and
 * pins be back at the baseline.
 *
 * Usage: stress_lifetime CYCLES KILLS vmci.ko vmsock.ko   (root)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "stress_mem.h"
#include "tap.h"
#include "uffd_pin.h"
#include "vmm_dev.h"

#define PAGE		4096u
#define PAIR_PAGES	4u
#define KILL_BOUND_S	10
#define UNLOAD_BOUND_S	20
#define TOL_KIB		(6 * 1024LL)
#define LOOPERS		4
#define ECHO_RID	1500u
#define NOBODY_PORT	9871u
#define TRAFFIC_PORT	9872u
#define GET_AF_VALUE	1976

enum stall_kind { SETVA_PIN, SETVA_RESULT, ALLOC_RESULT, ALLOC_ARG, NR_STALLS };
static const char *const stall_name[NR_STALLS] = {
	"setva_pin", "setva_result", "alloc_result", "alloc_arg",
};

#define PART1_CHECKS	(1 + 2 * NR_STALLS + 2 + 4)
#define PART2_CHECKS	(1 + 3 + 5 + 2 + 4)
#define PLAN		(1 + PART1_CHECKS + PART2_CHECKS)

static const char *vmci_ko, *vmsock_ko;

static int load(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = syscall(SYS_finit_module, fd, "", 0);
	close(fd);
	return ret;
}

static int loaded(const char *name)
{
	char line[256];
	size_t len = strlen(name);
	int found = 0;
	FILE *f = fopen("/proc/modules", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ' ')
			found = 1;
	fclose(f);
	return found;
}

/*
 * Retries an rmmod for up to @bound_s; 0 once it succeeded, else the
 * last errno. Counts refusals in *@busy and strange errnos in *@bad.
 */
static int unload(const char *name, int bound_s, long *busy, long *bad)
{
	double end = mono_now() + bound_s;

	for (;;) {
		if (!syscall(SYS_delete_module, name, O_NONBLOCK))
			return 0;
		if (errno == EAGAIN || errno == EBUSY) {
			if (busy)
				(*busy)++;
		} else {
			if (bad)
				(*bad)++;
			fprintf(stderr, "rmmod %s: %s\n", name, strerror(errno));
			return errno;
		}
		if (mono_now() > end)
			return errno;
		usleep(1000 + rand() % 4000);
	}
}

/* --- part 1 ---------------------------------------------------------------- */

struct stall_arg {
	int fd;
	enum stall_kind kind;
	struct handle h;
	void *info;	/* argument struct, in a userfaultfd page for *_RESULT / ALLOC_ARG */
	void *mem;	/* SETVA memory */
};

static void *stall_thread(void *p)
{
	struct stall_arg *a = p;

	switch (a->kind) {
	case SETVA_PIN:
	case SETVA_RESULT: {
		struct qp_set_va_info *s = a->info;

		if (a->kind == SETVA_PIN)
			*s = (struct qp_set_va_info){ .handle = a->h, .va = (uintptr_t)a->mem };
		ioctl(a->fd, IOC_QP_SETVA, s);
		break;
	}
	default:
		ioctl(a->fd, IOC_QP_ALLOC, a->info);
		break;
	}
	return NULL;
}

/* @len bytes of fresh memory registered with @uffd; @wp: populated and write-protected. */
static void *uffd_region(int uffd, size_t len, int wp)
{
	struct uffdio_register reg = {
		.mode = wp ? UFFDIO_REGISTER_MODE_WP : UFFDIO_REGISTER_MODE_MISSING,
	};
	struct uffdio_writeprotect prot = { .mode = UFFDIO_WRITEPROTECT_MODE_WP };
	void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (mem == MAP_FAILED)
		return NULL;
	if (wp)
		memset(mem, 0, len);
	reg.range.start = (uintptr_t)mem;
	reg.range.len = len;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		return NULL;
	prot.range = reg.range;
	if (wp && ioctl(uffd, UFFDIO_WRITEPROTECT, &prot))
		return NULL;
	return mem;
}

/*
 * The child VMM of one stall: sets its trap, starts the call in a thread
 * and writes 1 to @wfd once the call faulted into the trap (0 if the call
 * returned instead, -1 on a setup failure). Then waits to be killed.
 */
static void stall_child(enum stall_kind kind, int wfd)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct pollfd pfd = { .events = POLLIN };
	struct stall_arg a = { .kind = kind };
	struct uffd_msg msg;
	int uffd, report = -1;
	uint32_t cid = 0;
	pthread_t t;

	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	a.fd = vmm_open_ctx(0, &cid);
	a.h = (struct handle){ cid, 0x6000 };
	if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) || a.fd < 0)
		goto out;
	if (kind == SETVA_PIN) {
		struct qp_alloc_info al = { .handle = a.h, .peer = INVALID_ID,
					    .produce_size = PAGE, .consume_size = PAGE };

		a.mem = uffd_region(uffd, PAIR_PAGES * PAGE, 0);
		a.info = calloc(1, sizeof(struct qp_set_va_info));
		if (!a.mem || !a.info || ioctl(a.fd, IOC_QP_ALLOC, &al) || al.result)
			goto out;
	} else if (kind == SETVA_RESULT) {
		struct qp_alloc_info al = { .handle = a.h, .peer = INVALID_ID,
					    .produce_size = PAGE, .consume_size = PAGE };
		struct uffdio_writeprotect prot = { .mode = UFFDIO_WRITEPROTECT_MODE_WP };

		a.mem = mmap(NULL, PAIR_PAGES * PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		a.info = uffd_region(uffd, PAGE, 1);
		if (a.mem == MAP_FAILED || !a.info || ioctl(a.fd, IOC_QP_ALLOC, &al) || al.result)
			goto out;
		/* Filling in the argument needs the page writable for a moment. */
		prot.range.start = (uintptr_t)a.info;
		prot.range.len = PAGE;
		prot.mode = 0;
		if (ioctl(uffd, UFFDIO_WRITEPROTECT, &prot))
			goto out;
		*(struct qp_set_va_info *)a.info =
			(struct qp_set_va_info){ .handle = a.h, .va = (uintptr_t)a.mem };
		prot.mode = UFFDIO_WRITEPROTECT_MODE_WP;
		if (ioctl(uffd, UFFDIO_WRITEPROTECT, &prot))
			goto out;
	} else if (kind == ALLOC_RESULT) {
		struct uffdio_writeprotect prot = { .mode = 0 };

		a.info = uffd_region(uffd, PAGE, 1);
		if (!a.info)
			goto out;
		prot.range.start = (uintptr_t)a.info;
		prot.range.len = PAGE;
		if (ioctl(uffd, UFFDIO_WRITEPROTECT, &prot))
			goto out;
		*(struct qp_alloc_info *)a.info = (struct qp_alloc_info){
			.handle = a.h, .peer = INVALID_ID, .produce_size = 8 * PAGE,
			.consume_size = 8 * PAGE };
		prot.mode = UFFDIO_WRITEPROTECT_MODE_WP;
		if (ioctl(uffd, UFFDIO_WRITEPROTECT, &prot))
			goto out;
	} else {
		a.info = uffd_region(uffd, PAGE, 0);
		if (!a.info)
			goto out;
	}
	if (pthread_create(&t, NULL, stall_thread, &a))
		goto out;
	pfd.fd = uffd;
	report = poll(&pfd, 1, 5000) == 1 && read(uffd, &msg, sizeof(msg)) == sizeof(msg) &&
		 msg.event == UFFD_EVENT_PAGEFAULT;
out:
	if (report < 0)
		fprintf(stderr, "stall %s setup: %s\n", stall_name[kind], strerror(errno));
	if (write(wfd, &report, sizeof(report)) != sizeof(report))
		_exit(2);
	for (;;)
		pause();
}

/* SIGKILL, then reap within KILL_BOUND_S; 1 if it died of the kill. */
static int kill_and_reap(pid_t pid)
{
	double end = mono_now() + KILL_BOUND_S;
	int status;

	kill(pid, SIGKILL);
	while (mono_now() < end) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
		if (w < 0)
			return 0;
		usleep(10000);
	}
	fprintf(stderr, "pid %d still there %d s after SIGKILL\n", (int)pid, KILL_BOUND_S);
	return 0;
}

static void test_stall_kill(enum stall_kind kind, int reps)
{
	int stalled = 0, died = 0, refused = 0, i;
	char name[64];

	/*
	 * Where the pin cannot wait (uffd_pin.h), nothing can be held in
	 * it, and trying would only make the kernel's own complaint.
	 */
	if (kind == SETVA_PIN && !uffd_longterm_pin_waits()) {
		snprintf(name, sizeof(name), "kill_mid_%s_held", stall_name[kind]);
		tap_skip(name, UFFD_PIN_NO_WAIT_WHY);
		snprintf(name, sizeof(name), "kill_mid_%s_reaped", stall_name[kind]);
		tap_skip(name, UFFD_PIN_NO_WAIT_WHY);
		return;
	}
	for (i = 0; i < reps; i++) {
		int p[2], report = -1;
		pid_t pid;

		if (pipe(p))
			break;
		pid = fork();
		if (pid == 0) {
			close(p[0]);
			stall_child(kind, p[1]);
		}
		close(p[1]);
		if (pid < 0 || read(p[0], &report, sizeof(report)) != sizeof(report))
			report = -1;
		close(p[0]);
		if (report == 1)
			stalled++;
		else if (report == 0)
			refused++;
		if (pid > 0)
			died += kill_and_reap(pid);
	}
	printf("# %s: %d of %d held in the call and killed there (%d returned first)\n",
	       stall_name[kind], stalled, reps, refused);
	snprintf(name, sizeof(name), "kill_mid_%s_held", stall_name[kind]);
	tap_report(stalled == reps, name, "%d of %d held (%d returned)", stalled, reps, refused);
	snprintf(name, sizeof(name), "kill_mid_%s_reaped", stall_name[kind]);
	tap_report(died == reps, name, "%d of %d died of SIGKILL within %d s", died, reps,
		   KILL_BOUND_S);
}

/* A VMM that never stops allocating, mapping, sending, detaching and closing. */
static void looper(unsigned int seed)
{
	void *mem = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	unsigned char dg[DG_HEADER + 32] = { 0 };
	struct dg_header *h = (struct dg_header *)dg;

	srand(seed);
	h->dst = (struct handle){ HOST_CID, ECHO_RID };
	h->src = (struct handle){ INVALID_ID, 77 };
	h->payload_size = 32;
	for (;;) {
		uint32_t cid;
		int fd = vmm_open_ctx(0, &cid), i;

		if (fd < 0)
			continue;
		for (i = 0; i < 4; i++) {
			uint64_t q = PAGE * (1 + rand() % 4);
			struct handle hd = { cid, 0x7000 + i };
			struct qp_alloc_info al = { .handle = hd, .peer = INVALID_ID,
						    .produce_size = q, .consume_size = q };
			struct qp_set_va_info sv = { .handle = hd, .va = (uintptr_t)mem };
			struct qp_dtch_info dt = { .handle = hd };
			struct snd_rcv_info si = { .addr = (uintptr_t)dg, .len = sizeof(dg) };

			ioctl(fd, IOC_QP_ALLOC, &al);
			ioctl(fd, IOC_QP_SETVA, &sv);
			ioctl(fd, IOC_DG_SEND, &si);
			if (rand() % 2)
				ioctl(fd, IOC_QP_DETACH, &dt);
		}
		close(fd);
	}
}

static void test_random_kills(int rounds)
{
	int died = 0, total = 0, r, i;
	char name[64];

	for (r = 0; r < rounds; r++) {
		pid_t pids[LOOPERS];

		for (i = 0; i < LOOPERS; i++) {
			pids[i] = fork();
			if (pids[i] == 0)
				looper(r * LOOPERS + i + 1);
		}
		usleep(1000 * (1 + rand() % 50));
		for (i = 0; i < LOOPERS; i++) {
			if (pids[i] < 0)
				continue;
			total++;
			died += kill_and_reap(pids[i]);
		}
	}
	snprintf(name, sizeof(name), "kill_random_loopers_reaped");
	tap_report(died == rounds * LOOPERS && total == died, name,
		   "%d of %d looping VMMs died of SIGKILL within %d s", died, rounds * LOOPERS,
		   KILL_BOUND_S);
}

static void mem_checks(const char *part, const struct mem_snap *base)
{
	struct mem_snap after;
	char name[64];

	mem_settle_to(&after, base, TOL_KIB, 60);
	mem_print(part, &after);
	mem_explain(base, &after, 1024);
	snprintf(name, sizeof(name), "%s_memavailable_back", part);
	tap_report(base->avail_kib - after.avail_kib <= TOL_KIB, name,
		   "MemAvailable+pcp %lld KiB below the baseline (tolerance %lld)",
		   base->avail_kib - after.avail_kib, TOL_KIB);
	snprintf(name, sizeof(name), "%s_slab_back", part);
	tap_report(after.slab_kib - base->slab_kib <= TOL_KIB, name,
		   "Slab %lld KiB above the baseline (tolerance %lld)",
		   after.slab_kib - base->slab_kib, TOL_KIB);
	snprintf(name, sizeof(name), "%s_foll_pins_back", part);
	tap_check_int(name, after.foll_pins, base->foll_pins);
	snprintf(name, sizeof(name), "%s_mlocked_back", part);
	tap_check_int(name, after.mlocked_kib, base->mlocked_kib);
}

static void part1(int kills, const struct mem_snap *base)
{
	int k;

	tap_report(!load(vmci_ko), "part1_load_vmci", "%s", strerror(errno));
	for (k = 0; k < NR_STALLS; k++)
		test_stall_kill(k, kills);
	test_random_kills(kills);
	tap_check_int("part1_unload_vmci", unload("vmci", UNLOAD_BOUND_S, NULL, NULL), 0);
	mem_checks("part1", base);
}

/* --- part 2 ---------------------------------------------------------------- */

enum worker { W_SOCKET, W_GETAF, W_CONNECT, W_VMCI, W_TRAFFIC, NR_WORKERS };
static const char *const worker_name[NR_WORKERS] = {
	"socket", "get_af_value", "connect", "open_dev_vmci", "stream_traffic",
};

/* Shared with the workers (MAP_SHARED): what each got done. */
struct progress {
	long tries[NR_WORKERS];
	long done[NR_WORKERS];
};

static struct progress *prog;
static int family;
static unsigned int local_cid;

static struct sockaddr_vm vm_addr(unsigned int cid, unsigned int port)
{
	struct sockaddr_vm a;

	memset(&a, 0, sizeof(a));
	a.svm_family = family;
	a.svm_cid = cid;
	a.svm_port = port;
	return a;
}

/* One whole connection with 64 KiB each way; 1 if it all went through. */
static int traffic_once(void)
{
	static char buf[65536];
	struct sockaddr_vm a = vm_addr(VMADDR_CID_ANY, TRAFFIC_PORT);
	int l = socket(family, SOCK_STREAM, 0), c = -1, s = -1, ok = 0;
	struct timeval tv = { .tv_sec = 2 };

	if (l < 0)
		return 0;
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 4))
		goto out;
	c = socket(family, SOCK_STREAM, 0);
	a = vm_addr(local_cid, TRAFFIC_PORT);
	if (c < 0 || connect(c, (struct sockaddr *)&a, sizeof(a)))
		goto out;
	setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	s = accept(l, NULL, NULL);
	if (s < 0)
		goto out;
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* Within the default 256 KiB queue: the writes need no reader. */
	ok = send(c, buf, sizeof(buf), 0) == sizeof(buf) &&
	     recv(s, buf, sizeof(buf), MSG_WAITALL) == sizeof(buf) &&
	     send(s, buf, sizeof(buf), 0) == sizeof(buf) &&
	     recv(c, buf, sizeof(buf), MSG_WAITALL) == sizeof(buf);
out:
	if (s >= 0)
		close(s);
	if (c >= 0)
		close(c);
	close(l);
	return ok;
}

static int worker_once(enum worker w)
{
	struct sockaddr_vm a;
	int fd, ok = 0, af = 0;
	uint32_t cid;

	switch (w) {
	case W_SOCKET:
		fd = socket(family, SOCK_STREAM, 0);
		ok = fd >= 0;
		break;
	case W_GETAF:
		fd = open("/dev/vsock", O_RDONLY | O_CLOEXEC);
		ok = fd >= 0 && !ioctl(fd, GET_AF_VALUE, &af) && af == family;
		break;
	case W_CONNECT:
		fd = socket(family, SOCK_STREAM, 0);
		a = vm_addr(local_cid, NOBODY_PORT);
		/* Nobody listens: a reset is the answer, as fast as the module gives it. */
		ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) &&
		     errno == ECONNRESET;
		break;
	case W_VMCI:
		fd = vmm_open_ctx(0, &cid);
		ok = fd >= 0;
		break;
	default:
		return traffic_once();
	}
	if (fd >= 0)
		close(fd);
	return ok;
}

/*
 * Every socket and open file pins its module, so an rmmod can only win
 * in a moment when no worker holds one. Each worker therefore pauses a
 * random while between calls, as real users come and go (the traffic
 * worker, which holds its sockets longest, pauses longest): the unload
 * then lands between some calls and races the next ones in.
 */
static void worker(enum worker w)
{
	unsigned int pause_us = w == W_TRAFFIC ? 20000 : 2000;

	srand(1000 + w);
	for (;;) {
		int ok = worker_once(w);

		__atomic_add_fetch(&prog->tries[w], 1, __ATOMIC_RELAXED);
		if (ok)
			__atomic_add_fetch(&prog->done[w], 1, __ATOMIC_RELAXED);
		usleep(rand() % pause_us);
	}
}

static void part2(int cycles, const struct mem_snap *base)
{
	long busy = 0, bad = 0, both_gone = 0, loads_ok = 0;
	pid_t pids[NR_WORKERS];
	int alive = 0, w, c, afd = -1;
	double t0 = mono_now();
	char name[64];

	prog = mmap(NULL, sizeof(*prog), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		    -1, 0);
	/* The family number and CID, asked once the modules are in. */
	if (prog != MAP_FAILED && !load(vmci_ko) && !load(vmsock_ko)) {
		family = VMCISock_GetAFValueFd(&afd);
		local_cid = VMCISock_GetLocalCID();
		if (afd >= 0)
			close(afd);
	}
	tap_report(prog != MAP_FAILED && family > 0 && local_cid != VMADDR_CID_ANY,
		   "part2_setup", "family %d cid %u: %s", family, local_cid, strerror(errno));
	if (prog == MAP_FAILED || family <= 0)
		return;
	memset(prog, 0, sizeof(*prog));
	for (w = 0; w < NR_WORKERS; w++) {
		pids[w] = fork();
		if (pids[w] == 0)
			worker(w);
	}
	for (c = 0; c < cycles; c++) {
		int gone;

		if (c && !load(vmci_ko) && !load(vmsock_ko))
			loads_ok++;
		else if (!c)
			loads_ok++;
		/* Traffic runs a little while, then the unload races it. */
		usleep(1000 * (rand() % 30));
		gone = !unload("vmsock", UNLOAD_BOUND_S, &busy, &bad);
		gone &= !unload("vmci", UNLOAD_BOUND_S, &busy, &bad);
		both_gone += gone && loaded("vmci") == 0 && loaded("vmsock") == 0;
		if (!gone)
			break;
		usleep(1000 * (rand() % 10));
	}
	printf("# %d load/unload cycles in %.1f s; %ld rmmod refusals while in use; worker calls (ok/tried):",
	       cycles, mono_now() - t0, busy);
	for (w = 0; w < NR_WORKERS; w++)
		printf(" %s %ld/%ld", worker_name[w], prog->done[w], prog->tries[w]);
	printf("\n");
	tap_check_int("part2_every_load_worked", loads_ok, cycles);
	tap_check_int("part2_every_cycle_unloaded_both", both_gone, cycles);
	tap_check_int("part2_rmmod_errno_only_eagain_or_ebusy", bad, 0);
	for (w = 0; w < NR_WORKERS; w++) {
		snprintf(name, sizeof(name), "part2_worker_%s_progressed", worker_name[w]);
		tap_report(prog->done[w] > 0, name, "%ld of %ld calls worked", prog->done[w],
			   prog->tries[w]);
	}
	for (w = 0; w < NR_WORKERS; w++)
		if (pids[w] > 0 && waitpid(pids[w], NULL, WNOHANG) == 0)
			alive++;
	tap_check_int("part2_workers_alive", alive, NR_WORKERS);
	for (w = 0; w < NR_WORKERS; w++)
		if (pids[w] > 0)
			kill_and_reap(pids[w]);
	/* Whatever a worker held when it died is given back: both unload. */
	unload("vmsock", UNLOAD_BOUND_S, NULL, NULL);
	unload("vmci", UNLOAD_BOUND_S, NULL, NULL);
	tap_report(loaded("vmci") == 0 && loaded("vmsock") == 0, "part2_modules_gone_at_end",
		   "vmci %d vmsock %d in /proc/modules", loaded("vmci"), loaded("vmsock"));
	mem_checks("part2", base);
}

int main(int argc, char **argv)
{
	int cycles = argc > 1 ? atoi(argv[1]) : 20, kills = argc > 2 ? atoi(argv[2]) : 5;
	struct mem_snap base;

	vmci_ko = argc > 3 ? argv[3] : "/lib/test/vmci.ko";
	vmsock_ko = argc > 4 ? argv[4] : "/lib/test/vmsock.ko";
	srand(12345);
	tap_plan(PLAN);
	mem_settle(&base);
	mem_print("baseline", &base);
	tap_report(mem_readable(&base) && !loaded("vmci") && !loaded("vmsock") && cycles > 0 &&
		   kills > 0, "setup", "meminfo readable, neither module loaded, sizes > 0");
	part1(kills, &base);
	part2(cycles, &base);
	return tap_exit_code();
}
