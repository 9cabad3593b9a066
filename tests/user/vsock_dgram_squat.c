// SPDX-License-Identifier: GPL-2.0
/*
 * An unprivileged user (uid 65534) binds SOCK_DGRAM sockets at explicit
 * ports just ahead of the next dynamic one, which any user may do: each
 * port is a VMCI datagram resource ID, and dynamic ports are dynamic
 * resource IDs. Root's next dynamic bind must still succeed, on a port
 * nobody holds, and as fast as without the squatter (within BIND_BOUND_US
 * and within BIND_FACTOR times the same bind without it); a search that
 * walks the squatted IDs one by one is what this catches. A slow trial is
 * repeated once on a fresh squat, since a walk is slow every time and a
 * host stall is not.
 *
 * Usage: vsock_dgram_squat [count]   (run as root; vmsock loaded)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "nobody.h"
#include "tap.h"
#include "vsock_addr.h"

#define DEFAULT_COUNT	16384
#define BASELINE_BINDS	15
#define ROOT_BINDS	5
#define BIND_BOUND_US	20000
#define BIND_FACTOR	20
#define PLAN		7

static long long now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

/*
 * Binds @fd to {ANY, dynamic}: returns the port, or 0 on failure; the
 * bind syscall alone is timed into *@us.
 */
static unsigned int dynamic_bind(int fd, long long *us)
{
	struct sockaddr_vm a = vm_addr(VMADDR_CID_ANY, VMADDR_PORT_ANY);
	socklen_t len = sizeof(a);
	long long t0 = now_us();
	int ret = bind(fd, (struct sockaddr *)&a, sizeof(a));

	*us = now_us() - t0;
	if (ret || getsockname(fd, (struct sockaddr *)&a, &len))
		return 0;
	return a.svm_port;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* Median time of @n dynamic binds of fresh sockets, closed at once; -1 on failure. */
static long long baseline_us(int n, unsigned int *last_port)
{
	long long t[BASELINE_BINDS];
	int i, fd;

	for (i = 0; i < n; i++) {
		fd = socket(af, SOCK_DGRAM, 0);
		if (fd < 0)
			return -1;
		*last_port = dynamic_bind(fd, &t[i]);
		close(fd);
		if (!*last_port)
			return -1;
	}
	qsort(t, n, sizeof(t[0]), cmp_ll);
	return t[n / 2];
}

/*
 * The squatter, as nobody: binds @count sockets at ports @first, @first +
 * 1, ... , reports how many it got through @wfd, then holds them until
 * @rfd closes.
 */
static void squatter(unsigned int first, int count, int wfd, int rfd)
{
	int i, fd, got = 0;
	char c;

	alarm(600);
	if (drop_to_nobody()) {
		got = -1;
		goto report;
	}
	for (i = 0; i < count; i++) {
		struct sockaddr_vm a = vm_addr(VMADDR_CID_ANY, first + i);

		fd = socket(af, SOCK_DGRAM, 0);
		if (fd < 0)
			break;
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)))
			close(fd);
		else
			got++;
	}
report:
	if (write(wfd, &got, sizeof(got)) != sizeof(got))
		_exit(2);
	/* Holds every socket until the parent is done. */
	while (read(rfd, &c, 1) > 0)
		;
	_exit(0);
}

/* What one squat and root's binds after it showed. */
struct trial {
	int squatted;		/* ports the squatter bound, -1 or -2 on failure */
	int ok_binds;		/* root's dynamic binds that succeeded */
	int outside;		/* none of root's ports fell in the squatted run */
	long long worst;	/* root's slowest bind, us */
	unsigned int last;	/* root's last port */
};

/*
 * Nobody squats @count ports from @next; root then binds ROOT_BINDS
 * sockets at dynamic ports, kept open so that each takes a new port.
 * The squatter is gone again on return.
 */
static void squat_then_bind(unsigned int next, int count, struct trial *r)
{
	int up[2], down[2], i, fd;
	struct pollfd pfd;
	unsigned int port;
	pid_t child = -1;
	long long t;

	*r = (struct trial){ .squatted = -2, .outside = 1 };
	if (pipe(up))
		return;
	if (pipe(down)) {
		close(up[0]);
		close(up[1]);
		return;
	}
	printf("# squatting %d ports from %u\n", count, next);
	child = fork();
	if (child == 0) {
		close(up[0]);
		close(down[1]);
		squatter(next, count, up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	pfd = (struct pollfd){ .fd = up[0], .events = POLLIN };
	if (child < 0 || poll(&pfd, 1, 300000) != 1 ||
	    read(up[0], &r->squatted, sizeof(r->squatted)) != sizeof(r->squatted))
		r->squatted = -2;
	close(up[0]);

	for (i = 0; i < ROOT_BINDS; i++) {
		fd = socket(af, SOCK_DGRAM, 0);
		t = 0;
		port = fd >= 0 ? dynamic_bind(fd, &t) : 0;
		if (port) {
			r->ok_binds++;
			r->last = port;
		}
		if (port >= next && port - next < (unsigned int)count)
			r->outside = 0;
		if (t > r->worst)
			r->worst = t;
		printf("# root dynamic bind %d: port %u in %lld us\n", i, port, t);
	}

	close(down[1]);
	if (child > 0)
		waitpid(child, NULL, 0);
}

/* The two speed checks, used to decide on a second trial and to report. */
static int within_bound(long long worst)
{
	return worst <= BIND_BOUND_US;
}

static int near_baseline(long long worst, long long base)
{
	return worst <= BIND_FACTOR * base + 1000;
}

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : DEFAULT_COUNT;
	/* Root keeps ROOT_BINDS sockets open per trial. */
	struct rlimit rl = { .rlim_cur = count + 64, .rlim_max = count + 64 };
	struct trial first, again, *last = &first;
	int afd = -1, outside;
	unsigned int port;
	long long base;

	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_plan(PLAN);
	af = VMCISock_GetAFValueFd(&afd);
	tap_report(af >= 0 && !setrlimit(RLIMIT_NOFILE, &rl), "setup", "af %d: %s", af,
		   strerror(errno));
	if (af < 0)
		return 1;
	/* As installed: every user may open /dev/vsock. */
	chmod("/dev/vsock", 0666);

	base = baseline_us(BASELINE_BINDS, &port);
	tap_report(base >= 0, "baseline_binds", "%s", strerror(errno));
	if (base < 0)
		return 1;
	printf("# baseline dynamic bind %lld us\n", base);

	/* Dynamic ports increase, so the next one is right after the last. */
	squat_then_bind(port + 1, count, &first);
	outside = first.outside;
	/*
	 * A search that walks the squatted run is slow on every squat; the
	 * host descheduling this VM for a moment is not. So a slow first
	 * trial is repeated once, on a new run ahead of root's last port, and
	 * the speed checks judge that one.
	 */
	if (first.squatted == count && first.ok_binds == ROOT_BINDS &&
	    !(within_bound(first.worst) && near_baseline(first.worst, base))) {
		printf("# worst bind %lld us; squatting again to tell a walk from a stall\n",
		       first.worst);
		squat_then_bind(first.last + 1, count, &again);
		outside = outside && again.outside;
		last = &again;
	}
	tap_report(last->squatted == count, "nobody_binds_ports_ahead", "bound %d of %d",
		   last->squatted, count);
	tap_check_int("root_dynamic_binds_succeed", last->ok_binds, ROOT_BINDS);
	tap_report(outside, "root_ports_not_squatted", "a root port inside a squatted run");
	tap_report(within_bound(last->worst), "root_bind_within_bound",
		   "worst %lld us, bound %d us (baseline %lld us)", last->worst, BIND_BOUND_US,
		   base);
	tap_report(near_baseline(last->worst, base), "root_bind_near_baseline",
		   "worst %lld us, baseline %lld us", last->worst, base);

	VMCISock_ReleaseAFValueFd(afd);
	return tap_exit_code();
}
