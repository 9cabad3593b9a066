// SPDX-License-Identifier: GPL-2.0
/*
 * What opening and closing many stream connections costs: opens N local
 * vmsock connections (small queues), then closes them all, and prints the
 * time of each phase per connection. The sizes take turns, ROUNDS times,
 * so that a slow minute of a shared host hits every size alike; the
 * table gives each size's median and spread over the rounds and its
 * ratio to the smallest size. Not a test: it prints numbers and judges
 * nothing. A cost that grows with the number of connections shows as a
 * ratio above 1 (issue 17's goal: within 1.2x).
 *
 * Usage: close_bench [-r ROUNDS] N...   (root: it raises its file limit)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"

#define QUEUE_BYTES	4096ULL
#define MAX_SIZES	16
#define MAX_ROUNDS	15

static int af;
static unsigned int cid;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct sockaddr_vm vm_addr(unsigned int c, unsigned int port)
{
	struct sockaddr_vm a;

	memset(&a, 0, sizeof(a));
	a.svm_family = af;
	a.svm_cid = c;
	a.svm_port = port;
	return a;
}

/* One round of size @n: per-connection open and close times, in us. */
static int run(long n, double *open_us, double *close_us)
{
	struct sockaddr_vm a = vm_addr(VMADDR_CID_ANY, VMADDR_PORT_ANY);
	unsigned long long q = QUEUE_BYTES;
	socklen_t len = sizeof(a);
	double t0, t1, t2;
	int lfd, *fds;
	long i;

	fds = calloc(2 * n, sizeof(*fds));
	lfd = socket(af, SOCK_STREAM, 0);
	if (!fds || lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(lfd, (struct sockaddr *)&a, &len) || listen(lfd, 64)) {
		perror("listener");
		return -1;
	}
	a = vm_addr(cid, a.svm_port);
	t0 = now();
	for (i = 0; i < n; i++) {
		fds[2 * i] = socket(af, SOCK_STREAM, 0);
		if (fds[2 * i] < 0 ||
		    setsockopt(fds[2 * i], af, SO_VMCI_BUFFER_SIZE, &q, sizeof(q)) ||
		    connect(fds[2 * i], (struct sockaddr *)&a, sizeof(a))) {
			fprintf(stderr, "connect %ld: %s\n", i, strerror(errno));
			return -1;
		}
		fds[2 * i + 1] = accept(lfd, NULL, NULL);
		if (fds[2 * i + 1] < 0) {
			fprintf(stderr, "accept %ld: %s\n", i, strerror(errno));
			return -1;
		}
	}
	t1 = now();
	for (i = 0; i < 2 * n; i++)
		close(fds[i]);
	t2 = now();
	close(lfd);
	*open_us = (t1 - t0) * 1e6 / n;
	*close_us = (t2 - t1) * 1e6 / n;
	printf("# N=%-6ld open %9.3f s (%8.1f us/conn)  close %9.3f s (%8.1f us/conn)\n",
	       n, t1 - t0, *open_us, t2 - t1, *close_us);
	fflush(stdout);
	free(fds);
	/* Let the detach work of this round drain before the next. */
	sleep(2);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	static double open_us[MAX_SIZES][MAX_ROUNDS], close_us[MAX_SIZES][MAX_ROUNDS];
	struct rlimit rl = { 1 << 16, 1 << 16 };
	long sizes[MAX_SIZES];
	int afd = -1, i, r, rounds = 1, nsizes = 0;
	double open_med[MAX_SIZES], close_med[MAX_SIZES];

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-r") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (nsizes < MAX_SIZES)
			sizes[nsizes++] = strtol(argv[i], NULL, 0);
	}
	if (rounds < 1 || rounds > MAX_ROUNDS || !nsizes) {
		fprintf(stderr, "usage: close_bench [-r ROUNDS(1-%d)] N... (at most %d)\n",
			MAX_ROUNDS, MAX_SIZES);
		return 2;
	}
	setrlimit(RLIMIT_NOFILE, &rl);
	af = VMCISock_GetAFValueFd(&afd);
	cid = VMCISock_GetLocalCID();
	if (af < 0 || cid == VMADDR_CID_ANY) {
		fprintf(stderr, "no vSockets family (af %d cid %u)\n", af, cid);
		return 1;
	}
	for (r = 0; r < rounds; r++)
		for (i = 0; i < nsizes; i++)
			if (run(sizes[i], &open_us[i][r], &close_us[i][r]))
				return 1;
	printf("%-8s %12s %14s %8s %12s %14s %8s   (%d rounds, median, low-high)\n",
	       "N", "open us/conn", "spread", "ratio", "close us/conn", "spread", "ratio",
	       rounds);
	for (i = 0; i < nsizes; i++) {
		open_med[i] = median(open_us[i], rounds);
		close_med[i] = median(close_us[i], rounds);
		printf("%-8ld %12.1f %6.1f-%-7.1f %7.2fx %12.1f %6.1f-%-7.1f %7.2fx\n",
		       sizes[i], open_med[i], open_us[i][0], open_us[i][rounds - 1],
		       open_med[i] / open_med[0], close_med[i], close_us[i][0],
		       close_us[i][rounds - 1], close_med[i] / close_med[0]);
	}
	return 0;
}
