// SPDX-License-Identifier: GPL-2.0
/*
 * An unprivileged user (uid 65534) binds SOCK_DGRAM sockets at explicit
 * ports just ahead of the next dynamic one, which any user may do: each
 * port is a VMCI datagram resource ID, and dynamic ports are dynamic
 * resource IDs. Root's next dynamic bind must still succeed, on a port
 * nobody holds, and as fast as without the squatter (within BIND_BOUND_US
 * and within BIND_FACTOR times the same bind without it); a search that
 * walks the squatted IDs one by one is what this catches.
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

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : DEFAULT_COUNT;
	struct rlimit rl = { .rlim_cur = count + 64, .rlim_max = count + 64 };
	int up[2], down[2], afd = -1, got = -2, i, ok_binds = 0, outside = 1, fd;
	long long base, t, worst = 0;
	unsigned int next, port;
	struct pollfd pfd;
	pid_t child;

	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_plan(PLAN);
	af = VMCISock_GetAFValueFd(&afd);
	tap_report(af >= 0 && !setrlimit(RLIMIT_NOFILE, &rl) && !pipe(up) && !pipe(down),
		   "setup", "af %d: %s", af, strerror(errno));
	if (af < 0)
		return 1;
	/* As installed: every user may open /dev/vsock. */
	chmod("/dev/vsock", 0666);

	base = baseline_us(BASELINE_BINDS, &port);
	tap_report(base >= 0, "baseline_binds", "%s", strerror(errno));
	if (base < 0)
		return 1;
	/* Dynamic ports increase, so the next one is right after the last. */
	next = port + 1;
	printf("# baseline dynamic bind %lld us; squatting %d ports from %u\n", base, count,
	       next);

	child = fork();
	if (child == 0) {
		close(up[0]);
		close(down[1]);
		squatter(next, count, up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	pfd = (struct pollfd){ .fd = up[0], .events = POLLIN };
	if (child < 0 || poll(&pfd, 1, 300000) != 1 || read(up[0], &got, sizeof(got)) != sizeof(got))
		got = -2;
	tap_report(got == count, "nobody_binds_ports_ahead", "bound %d of %d", got, count);

	/* Root's dynamic binds: each must work, outside the squatted run, fast. */
	for (i = 0; i < ROOT_BINDS; i++) {
		fd = socket(af, SOCK_DGRAM, 0);
		port = fd >= 0 ? dynamic_bind(fd, &t) : 0;
		if (port)
			ok_binds++;
		if (port >= next && port - next < (unsigned int)count)
			outside = 0;
		if (t > worst)
			worst = t;
		printf("# root dynamic bind %d: port %u in %lld us\n", i, port, t);
		/* Kept open, so that each takes a new port. */
	}
	tap_check_int("root_dynamic_binds_succeed", ok_binds, ROOT_BINDS);
	tap_report(outside, "root_ports_not_squatted", "a root port inside [%u, %u)", next,
		   next + count);
	tap_report(worst <= BIND_BOUND_US, "root_bind_within_bound",
		   "worst %lld us, bound %d us (baseline %lld us)", worst, BIND_BOUND_US, base);
	tap_report(worst <= BIND_FACTOR * base + 1000, "root_bind_near_baseline",
		   "worst %lld us, baseline %lld us", worst, base);

	close(down[1]);
	if (child > 0)
		waitpid(child, NULL, 0);
	VMCISock_ReleaseAFValueFd(afd);
	return tap_exit_code();
}
