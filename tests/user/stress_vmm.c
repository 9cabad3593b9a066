// SPDX-License-Identifier: GPL-2.0
/*
 * N VMM contexts at once on the host personality (/dev/vmci), in as many
 * processes as max_contexts_per_process requires (the default limit
 * stays). Each context sends a datagram to the test endpoint's echo
 * (host resource 1500) and receives it back, allocates a queue pair and
 * maps it with QUEUEPAIR_SETVA on real anonymous memory, so its pages are
 * pinned. While all are up, the kernel's own figures must show every pin:
 * each process's VmPin, and the machine's FOLL_PIN count. Then half the
 * processes detach and close explicitly and the other half just exit
 * (the files close with the process); memory and pins must be back.
 * Two rounds, judged as in stress_conns.c (round 2 against what round 1
 * left). Tolerance TOL_KIB as there; here a context pins 40 KiB of user
 * pages, so a lost unpin of one context in 150 at N = 1,000 exceeds it,
 * and the FOLL_PIN count is compared exactly.
 *
 * Usage: stress_vmm N   (root; vmci and vmci_test_endpoint loaded)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stress_mem.h"
#include "tap.h"
#include "vmm_dev.h"

#define PAGE		4096u
#define ECHO_RID	1500u
#define SRC_RID		4242u
#define QP_RID		0x5000u
#define QUEUE		(4u * PAGE)
/* Both queues and a header page each. */
#define PAIR_PAGES	(2u * QUEUE / PAGE + 2u)
#define PAYLOAD		64u
#define LIMIT_PARAM	"/sys/module/vmci/parameters/max_contexts_per_process"
#define ROUNDS		2
#define TOL_KIB		(6 * 1024LL)
#define SETUP_CHECKS	3
#define ROUND_CHECKS	12

struct child_report {
	int contexts;
	int echoed;
	int mapped;
	int detach_ok;
	long long vmpin_kib;
};

static int32_t dg_echo(int fd, uint32_t cid)
{
	unsigned char tx[DG_HEADER + PAYLOAD], rx[DG_HEADER + PAYLOAD + 64];
	struct dg_header *h = (struct dg_header *)tx;
	struct snd_rcv_info info = { .addr = (uintptr_t)tx, .len = sizeof(tx) };
	struct pollfd p = { .fd = fd, .events = POLLIN };

	h->dst = (struct handle){ HOST_CID, ECHO_RID };
	h->src = (struct handle){ INVALID_ID, SRC_RID };
	h->payload_size = PAYLOAD;
	memset(tx + DG_HEADER, (int)(cid & 0xff), PAYLOAD);
	if (ioctl(fd, IOC_DG_SEND, &info) || info.result != (int32_t)sizeof(tx))
		return -1;
	if (poll(&p, 1, 10000) != 1)
		return -2;
	info = (struct snd_rcv_info){ .addr = (uintptr_t)rx, .len = sizeof(rx) };
	if (ioctl(fd, IOC_DG_RECEIVE, &info) || info.result != VMCI_SUCCESS)
		return -3;
	h = (struct dg_header *)rx;
	if (h->payload_size != PAYLOAD || h->src.resource != ECHO_RID ||
	    memcmp(rx + DG_HEADER, tx + DG_HEADER, PAYLOAD))
		return -4;
	return 0;
}

static int qp_map(int fd, uint32_t cid, void *mem)
{
	struct qp_alloc_info a = {
		.handle = { cid, QP_RID }, .peer = INVALID_ID,
		.produce_size = QUEUE, .consume_size = QUEUE, .result = 12345,
	};
	struct qp_set_va_info s = { .handle = { cid, QP_RID }, .va = (uintptr_t)mem,
				    .result = 12345 };

	if (ioctl(fd, IOC_QP_ALLOC, &a) || a.result != VMCI_SUCCESS)
		return -1;
	if (ioctl(fd, IOC_QP_SETVA, &s) || s.result != VMCI_SUCCESS)
		return -2;
	return 0;
}

static int qp_detach(int fd, uint32_t cid)
{
	struct qp_dtch_info d = { .handle = { cid, QP_RID }, .result = 12345 };

	return ioctl(fd, IOC_QP_DETACH, &d) || d.result != VMCI_SUCCESS ? -1 : 0;
}

/*
 * One VMM process with @k contexts. Reports on @wfd once all are up,
 * waits for @gofd to close, then tears down (explicitly if @explicit).
 */
static void vmm_child(int k, int wfd, int gofd, int explicit)
{
	struct child_report rep = { 0 };
	int fds[64];
	uint32_t cids[64];
	void *mem[64];
	char c;
	int i;

	for (i = 0; i < k; i++) {
		fds[i] = vmm_open_ctx(0, &cids[i]);
		mem[i] = mmap(NULL, PAIR_PAGES * PAGE, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (fds[i] < 0 || mem[i] == MAP_FAILED) {
			fprintf(stderr, "context %d: %s\n", i, strerror(errno));
			continue;
		}
		rep.contexts++;
		if (!dg_echo(fds[i], cids[i]))
			rep.echoed++;
		if (!qp_map(fds[i], cids[i], mem[i]))
			rep.mapped++;
	}
	rep.vmpin_kib = pid_vm_kib(0, "VmPin:");
	if (write(wfd, &rep, sizeof(rep)) != sizeof(rep))
		_exit(2);
	/* The parent reads our figures, then closes the go pipe. */
	if (read(gofd, &c, 1) < 0)
		_exit(3);
	if (!explicit)
		_exit(0);
	for (i = 0; i < k; i++) {
		if (fds[i] < 0)
			continue;
		if (!qp_detach(fds[i], cids[i]))
			rep.detach_ok++;
		close(fds[i]);
		munmap(mem[i], PAIR_PAGES * PAGE);
	}
	_exit(rep.detach_ok == rep.mapped ? 0 : 4);
}

static long read_param(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void round_checks(int r, int n, int per, const struct mem_snap *base)
{
	int nproc = (n + per - 1) / per, i, up = 0, reported = 0, status, exits_ok = 0;
	struct child_report tot = { 0 }, rep;
	long long pin_seen = 0, want_pin_kib;
	pid_t *pids = calloc(nproc, sizeof(*pids));
	int *rfds = calloc(nproc, sizeof(*rfds));
	int go[2] = { -1, -1 };
	struct mem_snap peak, after;
	double t0 = mono_now(), t1, t2;
	char name[64];

	snprintf(name, sizeof(name), "r%d_setup", r);
	tap_report(pids && rfds && !pipe(go), name, "%s", strerror(errno));
	for (i = 0; pids && rfds && go[0] >= 0 && i < nproc; i++) {
		int k = i == nproc - 1 ? n - per * (nproc - 1) : per, p[2];

		rfds[i] = -1;
		if (pipe(p))
			break;
		pids[i] = fork();
		if (pids[i] == 0) {
			close(p[0]);
			close(go[1]);
			vmm_child(k, p[1], go[0], i % 2 == 0);
		}
		close(p[1]);
		rfds[i] = p[0];
		if (pids[i] > 0)
			up++;
	}
	for (i = 0; i < up; i++) {
		if (read(rfds[i], &rep, sizeof(rep)) != sizeof(rep))
			continue;
		reported++;
		tot.contexts += rep.contexts;
		tot.echoed += rep.echoed;
		tot.mapped += rep.mapped;
		tot.vmpin_kib += rep.vmpin_kib;
		/* The kernel's own view of the child, read from outside it. */
		pin_seen += pid_vm_kib(pids[i], "VmPin:");
	}
	t1 = mono_now();
	mem_read(&peak);
	mem_print("all contexts up", &peak);
	want_pin_kib = (long long)n * PAIR_PAGES * PAGE / 1024;
	snprintf(name, sizeof(name), "r%d_processes_reported", r);
	tap_report(up == nproc && reported == nproc, name, "%d forked, %d reported of %d", up,
		   reported, nproc);
	snprintf(name, sizeof(name), "r%d_all_contexts_up", r);
	tap_check_int(name, tot.contexts, n);
	snprintf(name, sizeof(name), "r%d_all_datagrams_echoed", r);
	tap_check_int(name, tot.echoed, n);
	snprintf(name, sizeof(name), "r%d_all_pairs_mapped", r);
	tap_check_int(name, tot.mapped, n);
	snprintf(name, sizeof(name), "r%d_vmpin_shows_every_pin", r);
	tap_report(pin_seen == want_pin_kib && tot.vmpin_kib == want_pin_kib, name,
		   "VmPin summed from /proc/<pid>/status %lld KiB, children saw %lld, want %lld",
		   pin_seen, tot.vmpin_kib, want_pin_kib);
	snprintf(name, sizeof(name), "r%d_foll_pins_counted", r);
	tap_check_int(name, peak.foll_pins - base->foll_pins, (long long)n * PAIR_PAGES);

	/* Release every child at once: close the go pipe. */
	if (go[1] >= 0)
		close(go[1]);
	for (i = 0; i < up; i++) {
		if (waitpid(pids[i], &status, 0) == pids[i] && WIFEXITED(status) &&
		    !WEXITSTATUS(status))
			exits_ok++;
		close(rfds[i]);
	}
	if (go[0] >= 0)
		close(go[0]);
	t2 = mono_now();
	snprintf(name, sizeof(name), "r%d_teardown_clean", r);
	tap_report(exits_ok == up, name, "%d of %d children detached and exited cleanly",
		   exits_ok, up);
	mem_settle_to(&after, base, TOL_KIB, 120);
	mem_print("after teardown", &after);
	mem_explain(base, &after, 1024);
	printf("# round %d: %d contexts in %d processes: up %.1f s, teardown %.1f s, settle %.1f s; peak use %lld KiB MemAvailable, %lld KiB Slab, %lld pinned pages\n",
	       r, n, nproc, t1 - t0, t2 - t1, mono_now() - t2, base->avail_kib - peak.avail_kib,
	       peak.slab_kib - base->slab_kib, peak.foll_pins - base->foll_pins);
	snprintf(name, sizeof(name), "r%d_memavailable_back", r);
	tap_report(base->avail_kib - after.avail_kib <= TOL_KIB, name,
		   "MemAvailable+pcp %lld KiB below the baseline (tolerance %lld)",
		   base->avail_kib - after.avail_kib, TOL_KIB);
	snprintf(name, sizeof(name), "r%d_slab_back", r);
	tap_report(after.slab_kib - base->slab_kib <= TOL_KIB, name,
		   "Slab %lld KiB above the baseline (tolerance %lld)",
		   after.slab_kib - base->slab_kib, TOL_KIB);
	snprintf(name, sizeof(name), "r%d_foll_pins_back", r);
	tap_check_int(name, after.foll_pins, base->foll_pins);
	snprintf(name, sizeof(name), "r%d_mlocked_back", r);
	tap_check_int(name, after.mlocked_kib, base->mlocked_kib);
	free(pids);
	free(rfds);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100, r;
	long per = read_param(LIMIT_PARAM);
	struct mem_snap base, after1;
	uint32_t cid;
	int fd;

	tap_plan(SETUP_CHECKS + ROUNDS * ROUND_CHECKS);
	tap_report(n > 0 && per > 0, "setup_limit_param", "max_contexts_per_process %ld", per);
	if (per <= 0 || per > 64)
		per = per <= 0 ? 1 : 64;
	fd = vmm_open_ctx(0, &cid);
	tap_report(fd >= 0 && !dg_echo(fd, cid), "setup_echo_endpoint",
		   "a context and an echo from host resource 1500 (vmci_test_endpoint): %s",
		   strerror(errno));
	if (fd >= 0)
		close(fd);
	mem_settle(&base);
	mem_print("baseline", &base);
	tap_report(mem_readable(&base), "setup_meminfo_vmstat",
		   "MemAvailable, Slab, Mlocked and nr_foll_pin_* must all be readable");
	round_checks(1, n, (int)per, &base);
	mem_settle(&after1);
	mem_print("round 2 baseline", &after1);
	for (r = 2; r <= ROUNDS; r++)
		round_checks(r, n, (int)per, &after1);
	return tap_exit_code();
}
