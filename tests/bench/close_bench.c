// SPDX-License-Identifier: GPL-2.0
/*
 * What closing many stream connections costs: opens N local vmsock
 * connections (small queues), then closes them all, and prints the time
 * of each phase in total and per connection. Not a test: it prints
 * numbers and judges nothing. A close whose cost grows with the number
 * of connections shows as a per-connection figure that grows with N.
 *
 * Usage: close_bench N...   (root: it raises its file limit)
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

static int run(long n)
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
	printf("close_bench N=%-6ld open %9.3f s (%8.1f us/conn)  close %9.3f s (%8.1f us/conn)\n",
	       n, t1 - t0, (t1 - t0) * 1e6 / n, t2 - t1, (t2 - t1) * 1e6 / n);
	fflush(stdout);
	free(fds);
	/* Let the detach work of this round drain before the next. */
	sleep(2);
	return 0;
}

int main(int argc, char **argv)
{
	struct rlimit rl = { 1 << 16, 1 << 16 };
	int afd = -1, i;

	setrlimit(RLIMIT_NOFILE, &rl);
	af = VMCISock_GetAFValueFd(&afd);
	cid = VMCISock_GetLocalCID();
	if (af < 0 || cid == VMADDR_CID_ANY) {
		fprintf(stderr, "no vSockets family (af %d cid %u)\n", af, cid);
		return 1;
	}
	for (i = 1; i < argc; i++)
		if (run(strtol(argv[i], NULL, 0)))
			return 1;
	return 0;
}
