// SPDX-License-Identifier: GPL-2.0
/*
 * What a connection costs while many others are open: opens N local
 * stream connections, then opens and closes CHURN more one at a time
 * while the N stay open, then closes the N, and prints the time per
 * connection of each phase. vmsock (small queues) and AF_UNIX, the
 * reference, take turns in every round, and the sizes take turns, ROUNDS
 * times, so that a slow minute of a shared host hits every size and both
 * families alike; a table per family gives each size's median and spread
 * over the rounds and its ratio to the smallest size. Not a test: it
 * prints numbers and judges nothing. A cost that grows with the number
 * of connections shows as a ratio above 1 (issue 17's goal: within
 * 1.2x); AF_UNIX's ratios show what the machine itself adds at large N
 * (caches and TLBs cover less of 20,000 sockets than of 200).
 *
 * The churn phase is the one that answers "what does a connection cost
 * at N": it is the same length at every N, so the work a close leaves
 * for later (a queue pair's free, after an RCU grace period) falls
 * inside it alike at every N. The bulk close is not like that: closing
 * 100 connections is over before their pairs' grace period ends, and
 * closing 10,000 lasts many grace periods, so it counts the frees only
 * at large N (docs/performance.md, "cost per connection at 100 / 1,000
 * / 10,000 open connections").
 *
 * Usage: close_bench [-r ROUNDS] [-c CHURN] [-o] N...   (-o: vmsock only,
 * for the tracing inits; root: it raises its file limit)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"

#define QUEUE_BYTES	4096ULL
#define MAX_SIZES	16
#define MAX_ROUNDS	15
#define DEFAULT_CHURN	5000

enum { VMSOCK, UNIX_REF, FAMILIES };
enum { OPEN, CHURN, CLOSE, PHASES };

static const char *const family_name[FAMILIES] = { "vmsock", "AF_UNIX" };
static const char *const phase_name[PHASES] = { "open", "churn", "close" };

static int vmsock_af;
static unsigned int local_cid;
static long churn = DEFAULT_CHURN;
static int families = FAMILIES;

/* Where run()'s connections go: its listener's address. */
static struct sockaddr_storage target;
static socklen_t target_len;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A listener of @family, its address in target. */
static int listen_on(int family)
{
	struct sockaddr_vm *vm = (struct sockaddr_vm *)&target;
	struct sockaddr_un *un = (struct sockaddr_un *)&target;
	static unsigned int serial;
	int lfd;

	memset(&target, 0, sizeof(target));
	if (family == VMSOCK) {
		vm->svm_family = vmsock_af;
		vm->svm_cid = VMADDR_CID_ANY;
		vm->svm_port = VMADDR_PORT_ANY;
		target_len = sizeof(*vm);
	} else {
		/* Abstract: nothing to unlink, and unique per listener. */
		un->sun_family = AF_UNIX;
		snprintf(un->sun_path + 1, sizeof(un->sun_path) - 1, "close_bench.%d.%u",
			 getpid(), serial++);
		target_len = offsetof(struct sockaddr_un, sun_path) + 1 +
			     strlen(un->sun_path + 1);
	}
	lfd = socket(target.ss_family, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&target, target_len) ||
	    getsockname(lfd, (struct sockaddr *)&target, &target_len) || listen(lfd, 64)) {
		perror("listener");
		return -1;
	}
	if (family == VMSOCK)
		vm->svm_cid = local_cid;
	return lfd;
}

/* One connection to @lfd: its two ends in @fds[0] and @fds[1]. */
static int open_one(int lfd, int *fds, long i)
{
	unsigned long long q = QUEUE_BYTES;

	fds[0] = socket(target.ss_family, SOCK_STREAM, 0);
	if (fds[0] < 0 ||
	    (target.ss_family == vmsock_af &&
	     setsockopt(fds[0], vmsock_af, SO_VMCI_BUFFER_SIZE, &q, sizeof(q))) ||
	    connect(fds[0], (struct sockaddr *)&target, target_len)) {
		fprintf(stderr, "connect %ld: %s\n", i, strerror(errno));
		return -1;
	}
	fds[1] = accept(lfd, NULL, NULL);
	if (fds[1] < 0) {
		fprintf(stderr, "accept %ld: %s\n", i, strerror(errno));
		return -1;
	}
	return 0;
}

/* One round of @family at size @n: each phase's time per connection, in us. */
static int run(int family, long n, double us[PHASES])
{
	int lfd, *fds, pair[2];
	double t0, t1, t2, t3;
	long i;

	fds = calloc(2 * n, sizeof(*fds));
	lfd = listen_on(family);
	if (!fds || lfd < 0)
		return -1;
	t0 = now();
	for (i = 0; i < n; i++)
		if (open_one(lfd, &fds[2 * i], i))
			return -1;
	t1 = now();
	for (i = 0; i < churn; i++) {
		if (open_one(lfd, pair, n + i))
			return -1;
		close(pair[0]);
		close(pair[1]);
	}
	t2 = now();
	for (i = 0; i < 2 * n; i++)
		close(fds[i]);
	t3 = now();
	close(lfd);
	us[OPEN] = (t1 - t0) * 1e6 / n;
	us[CHURN] = churn ? (t2 - t1) * 1e6 / churn : 0;
	us[CLOSE] = (t3 - t2) * 1e6 / n;
	printf("# %-7s N=%-6ld open %8.1f us/conn  churn %8.1f us/conn  close %8.1f us/conn\n",
	       family_name[family], n, us[OPEN], us[CHURN], us[CLOSE]);
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

/* Sorts @v: its spread is then v[0] to v[n - 1]. */
static double median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double us[FAMILIES][MAX_SIZES][PHASES][MAX_ROUNDS];

static void print_table(int family, const long *sizes, int nsizes, int rounds)
{
	double first[PHASES], med;
	int i, p;

	printf("%-16s", family_name[family]);
	for (p = 0; p < PHASES; p++)
		printf(" %9s %14s %7s", phase_name[p], "spread", "ratio");
	printf("\n");
	for (p = 0; p < PHASES; p++)
		first[p] = median(us[family][0][p], rounds);
	for (i = 0; i < nsizes; i++) {
		printf("%-16ld", sizes[i]);
		for (p = 0; p < PHASES; p++) {
			med = median(us[family][i][p], rounds);
			printf(" %9.1f %6.1f-%-7.1f %6.2fx", med, us[family][i][p][0],
			       us[family][i][p][rounds - 1], first[p] ? med / first[p] : 0);
		}
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	struct rlimit rl = { 1 << 16, 1 << 16 };
	int afd = -1, f, i, p, r, rounds = 1, nsizes = 0;
	double round_us[PHASES];
	long sizes[MAX_SIZES];

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-r") && i + 1 < argc)
			rounds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "-c") && i + 1 < argc)
			churn = strtol(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "-o"))
			families = 1;
		else if (nsizes < MAX_SIZES)
			sizes[nsizes++] = strtol(argv[i], NULL, 0);
	}
	if (rounds < 1 || rounds > MAX_ROUNDS || !nsizes || churn < 0) {
		fprintf(stderr, "usage: close_bench [-r ROUNDS(1-%d)] [-c CHURN] [-o] N... (at most %d)\n",
			MAX_ROUNDS, MAX_SIZES);
		return 2;
	}
	setrlimit(RLIMIT_NOFILE, &rl);
	vmsock_af = VMCISock_GetAFValueFd(&afd);
	local_cid = VMCISock_GetLocalCID();
	if (vmsock_af < 0 || local_cid == VMADDR_CID_ANY) {
		fprintf(stderr, "no vSockets family (af %d cid %u)\n", vmsock_af, local_cid);
		return 1;
	}
	for (r = 0; r < rounds; r++)
		for (i = 0; i < nsizes; i++)
			for (f = 0; f < families; f++) {
				/* Each family goes first in every other round. */
				int family = (f + r) % families;

				if (run(family, sizes[i], round_us))
					return 1;
				for (p = 0; p < PHASES; p++)
					us[family][i][p][r] = round_us[p];
			}
	printf("# us per connection, median of %d rounds, low-high, ratio to N = %ld;\n",
	       rounds, sizes[0]);
	printf("# churn: %ld connections opened and closed one at a time while the N stay open\n",
	       churn);
	for (f = 0; f < families; f++)
		print_table(f, sizes, nsizes, rounds);
	return 0;
}
