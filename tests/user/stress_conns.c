// SPDX-License-Identifier: GPL-2.0
/*
 * N vmsock stream connections at once on this machine (local queue
 * pairs), driven with epoll: connects kept WINDOW at a time in flight,
 * accepted as they complete; then every client sends a message naming
 * itself, its server end echoes it, and the client checks it got its own
 * message back; then every socket is closed. Memory must return to the
 * baseline as the kernel reports it (stress_mem.h), pins exactly.
 *
 * Two rounds. Round 1 is judged against the baseline taken before it;
 * round 2 against what was left after round 1, so anything a connection
 * leaves behind shows up twice. Tolerance TOL_KIB for MemAvailable and
 * Slab: per-CPU page lists (pages freed but not yet counted free, a few
 * hundred per CPU) and the per-CPU KASAN quarantine (1 MiB each, not
 * flushed by mem_settle) on 2 vCPUs. A connection's queue pair alone is
 * 8 KiB of pages, so at 10,000 connections a leak of one connection in
 * 20 of them would exceed it; kmemleak covers what is smaller.
 *
 * Usage: stress_conns N   (root: raises RLIMIT_NOFILE; vmsock loaded)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "stress_mem.h"
#include "tap.h"
#include "vsock_addr.h"

#define QUEUE_BYTES	4096ULL
#define WINDOW		128
#define MSG_LEN		256
#define ROUNDS		2
#define TOL_KIB		(6 * 1024LL)
#define SETUP_CHECKS	3
#define ROUND_CHECKS	9


struct conn {
	int cfd;	/* client end */
	int sfd;	/* server end, -1 until accepted */
	int state;	/* 0 not started, 1 connecting, 2 connected, 3 echoed */
};

static int small_queue(int fd)
{
	unsigned long long q = QUEUE_BYTES;

	return setsockopt(fd, af, SO_VMCI_BUFFER_MAX_SIZE, &q, sizeof(q)) ||
	       setsockopt(fd, af, SO_VMCI_BUFFER_SIZE, &q, sizeof(q));
}

static int listener(unsigned int *port)
{
	struct sockaddr_vm a = vm_addr(VMADDR_CID_ANY, VMADDR_PORT_ANY);
	socklen_t len = sizeof(a);
	int fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0 || small_queue(fd) || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len) || listen(fd, 4 * WINDOW)) {
		fprintf(stderr, "listener: %s\n", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = a.svm_port;
	return fd;
}

/* epoll data: index << 1 | is_server; the listener is ~0. */
#define LISTEN_TAG	UINT64_MAX

static int ep_add(int ep, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = { .events = events, .data.u64 = tag };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void fill_msg(char *m, long i)
{
	memset(m, 'a' + i % 26, MSG_LEN);
	snprintf(m, MSG_LEN, "conn %ld", i);
}

/* Accepts what is ready; the server end's message tells whose it is later. */
static int accept_ready(int lfd, int ep, int *pending, long *accepted, long n)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return errno == EAGAIN ? 0 : -1;
		if (*accepted >= n || ep_add(ep, fd, EPOLLIN, (uint64_t)*accepted << 1 | 1)) {
			close(fd);
			return -1;
		}
		pending[(*accepted)++] = fd;
	}
}

/*
 * Connects all @n, WINDOW at a time; server ends land in @sfds in accept
 * order. Returns the number of clients connected.
 */
static long connect_all(struct conn *c, int *sfds, long n, int lfd, unsigned int port,
			int ep, long *accepted)
{
	struct sockaddr_vm a = vm_addr(local_cid, port);
	struct epoll_event evs[256];
	long started = 0, connected = 0, inflight = 0, i;
	int k, nev, err;
	socklen_t len;

	while (connected < n) {
		while (inflight < WINDOW && started < n) {
			struct conn *x = &c[started];

			x->cfd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			if (x->cfd < 0 || small_queue(x->cfd))
				return connected;
			if (connect(x->cfd, (struct sockaddr *)&a, sizeof(a)) &&
			    errno != EINPROGRESS) {
				fprintf(stderr, "connect %ld: %s\n", started, strerror(errno));
				return connected;
			}
			if (ep_add(ep, x->cfd, EPOLLOUT, (uint64_t)started << 1))
				return connected;
			x->state = 1;
			started++;
			inflight++;
		}
		nev = epoll_wait(ep, evs, 256, 30000);
		if (nev <= 0) {
			fprintf(stderr, "no progress: %ld connected, %ld in flight\n", connected,
				inflight);
			return connected;
		}
		for (k = 0; k < nev; k++) {
			if (evs[k].data.u64 == LISTEN_TAG) {
				if (accept_ready(lfd, ep, sfds, accepted, n))
					return connected;
				continue;
			}
			if (evs[k].data.u64 & 1)
				continue;	/* a server end: data comes later */
			i = (long)(evs[k].data.u64 >> 1);
			if (c[i].state != 1)
				continue;
			err = 0;
			len = sizeof(err);
			if (getsockopt(c[i].cfd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
				fprintf(stderr, "connect %ld failed: %s\n", i, strerror(err));
				return connected;
			}
			/* From now on the client end waits for its echo. */
			evs[k].events = EPOLLIN;
			if (epoll_ctl(ep, EPOLL_CTL_MOD, c[i].cfd, &evs[k]))
				return connected;
			c[i].state = 2;
			connected++;
			inflight--;
		}
	}
	/* The last server ends may still wait in the backlog. */
	while (*accepted < n) {
		if (accept_ready(lfd, ep, sfds, accepted, n))
			break;
		if (*accepted < n && epoll_wait(ep, evs, 1, 1000) < 0)
			break;
	}
	return connected;
}

/* Every client sends; servers echo as data arrives; clients check theirs. */
static long echo_all(struct conn *c, const int *sfds, long n, int ep)
{
	struct epoll_event evs[256];
	char msg[MSG_LEN], got[MSG_LEN];
	long echoed = 0, i;
	int k, nev, fd;

	for (i = 0; i < n; i++) {
		fill_msg(msg, i);
		if (send(c[i].cfd, msg, MSG_LEN, 0) != MSG_LEN) {
			fprintf(stderr, "send %ld: %s\n", i, strerror(errno));
			return 0;
		}
	}
	while (echoed < n) {
		nev = epoll_wait(ep, evs, 256, 30000);
		if (nev <= 0) {
			fprintf(stderr, "no progress: %ld echoed\n", echoed);
			return echoed;
		}
		for (k = 0; k < nev; k++) {
			if (evs[k].data.u64 == LISTEN_TAG)
				continue;
			i = (long)(evs[k].data.u64 >> 1);
			fd = evs[k].data.u64 & 1 ? sfds[i] : c[i].cfd;
			/* A message fits the queue: it arrives whole. */
			if (recv(fd, got, MSG_LEN, MSG_WAITALL) != MSG_LEN)
				continue;
			if (evs[k].data.u64 & 1) {
				if (send(fd, got, MSG_LEN, 0) != MSG_LEN)
					return echoed;
				continue;
			}
			fill_msg(msg, i);
			if (memcmp(msg, got, MSG_LEN) || c[i].state != 2) {
				fprintf(stderr, "client %ld got a wrong echo\n", i);
				return echoed;
			}
			c[i].state = 3;
			echoed++;
		}
	}
	return echoed;
}

static void round_checks(int r, long n, const struct mem_snap *base)
{
	struct conn *c = calloc(n, sizeof(*c));
	int *sfds = malloc(n * sizeof(*sfds));
	long connected = 0, echoed = 0, accepted = 0, bad_close = 0, i;
	struct mem_snap peak, after;
	unsigned int port = 0;
	int ep = epoll_create1(EPOLL_CLOEXEC), lfd = -1;
	double t0 = mono_now(), t1 = t0, t2 = t0, t3;
	char name[64];

	for (i = 0; c && sfds && i < n; i++)
		c[i].cfd = sfds[i] = -1;
	if (c && sfds && ep >= 0)
		lfd = listener(&port);
	snprintf(name, sizeof(name), "r%d_setup", r);
	tap_report(lfd >= 0 && !ep_add(ep, lfd, EPOLLIN, LISTEN_TAG), name, "%s", strerror(errno));
	if (lfd >= 0) {
		connected = connect_all(c, sfds, n, lfd, port, ep, &accepted);
		t1 = mono_now();
		if (connected == n && accepted == n)
			echoed = echo_all(c, sfds, n, ep);
		t2 = mono_now();
	}
	snprintf(name, sizeof(name), "r%d_all_connected", r);
	tap_report(connected == n && accepted == n, name, "%ld connected, %ld accepted of %ld",
		   connected, accepted, n);
	snprintf(name, sizeof(name), "r%d_all_echoed", r);
	tap_check_int(name, echoed, n);
	mem_read(&peak);
	mem_print("at peak", &peak);
	for (i = 0; c && i < n; i++) {
		if (c[i].cfd >= 0 && close(c[i].cfd))
			bad_close++;
		if (sfds[i] >= 0 && close(sfds[i]))
			bad_close++;
	}
	if (lfd >= 0)
		close(lfd);
	if (ep >= 0)
		close(ep);
	t3 = mono_now();
	snprintf(name, sizeof(name), "r%d_all_closed", r);
	tap_check_int(name, bad_close, 0);
	mem_settle_to(&after, base, TOL_KIB, 120);
	mem_print("after close", &after);
	mem_explain(base, &after, 1024);
	printf("# round %d: %ld connections: connect+accept %.1f s, echo %.1f s, close %.1f s, settle %.1f s; peak use %lld KiB MemAvailable, %lld KiB Slab\n",
	       r, n, t1 - t0, t2 - t1, t3 - t2, mono_now() - t3,
	       base->avail_kib - peak.avail_kib, peak.slab_kib - base->slab_kib);
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
	snprintf(name, sizeof(name), "r%d_own_vmpin_vmlck_zero", r);
	tap_report(pid_vm_kib(0, "VmPin:") == 0 && pid_vm_kib(0, "VmLck:") == 0, name,
		   "VmPin %lld VmLck %lld", pid_vm_kib(0, "VmPin:"), pid_vm_kib(0, "VmLck:"));
	free(c);
	free(sfds);
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 0) : 1000;
	struct rlimit rl = { .rlim_cur = 2 * n + 256, .rlim_max = 2 * n + 256 };
	struct mem_snap base, after1;
	int afd = -1, r;

	tap_plan(SETUP_CHECKS + ROUNDS * ROUND_CHECKS);
	tap_report(n > 0 && !setrlimit(RLIMIT_NOFILE, &rl), "setup_rlimit_nofile", "%s",
		   strerror(errno));
	af = VMCISock_GetAFValueFd(&afd);
	local_cid = VMCISock_GetLocalCID();
	tap_report(af > 0 && local_cid != VMADDR_CID_ANY, "setup_family", "af %d cid %u", af,
		   local_cid);
	mem_settle(&base);
	mem_print("baseline", &base);
	tap_report(mem_readable(&base), "setup_meminfo_vmstat",
		   "MemAvailable, Slab, Mlocked and nr_foll_pin_* must all be readable");
	round_checks(1, n, &base);
	mem_settle(&after1);
	mem_print("round 2 baseline", &after1);
	for (r = 2; r <= ROUNDS; r++)
		round_checks(r, n, &after1);
	if (afd >= 0)
		close(afd);
	return tap_exit_code();
}
