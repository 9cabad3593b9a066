// SPDX-License-Identifier: GPL-2.0
/*
 * How long one stuck socket holds up everybody else's connections (issue
 * 12, item 1). Not a test: it prints numbers and judges nothing.
 *
 * First root times ROUNDS rounds of connect, accept, a 4-byte echo and
 * close on its own listener (the baseline). Then, for each way a socket
 * can be stuck (recv, send, setsockopt(SO_LINGER) on a userfaultfd page
 * nobody serves), an unprivileged process (uid 65534) gets one of its own
 * sockets stuck and makes its peer shut down, so a control packet for the
 * stuck socket is on its way; root repeats its rounds for SERVE_MS, after
 * which the fault is served. Printed per case: the first round's time,
 * the median and worst round, and how many rounds root finished before
 * the fault was served. When the stuck socket stalls the control worker,
 * root's first round lasts until the fault is served and none finishes
 * before it.
 *
 * Usage: stall_bench [serve_ms]   (root; vmsock loaded; needs userfaultfd)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "../user/uffd_page.h"
#include "../user/nobody.h"
#include "../user/vsock_conn.h"

#define ROUNDS		50
#define MAX_ROUNDS	100000
#define MSG_LEN		64

static long page_size;
static double rounds_ms[MAX_ROUNDS];

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One of root's rounds on @lfd (port @port): ms it took, or -1. */
static double root_round(int lfd, unsigned int port)
{
	char buf[4] = "ping", back[4];
	double t0 = now_ms();
	int c, s, ok;

	c = connect_to(port);
	s = c < 0 ? -1 : accept(lfd, NULL, NULL);
	ok = s >= 0 && send(c, buf, 4, 0) == 4 && recv(s, back, 4, MSG_WAITALL) == 4 &&
	     send(s, back, 4, 0) == 4 && recv(c, back, 4, MSG_WAITALL) == 4;
	if (s >= 0)
		close(s);
	if (c >= 0)
		close(c);
	return ok ? now_ms() - t0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* --- uid 65534: a socket stuck in a copy (as tests/user/vsock_stall.c) --- */

enum stuck_op { STUCK_RECV, STUCK_SEND, STUCK_SOCKOPT };

static const char *const op_name[] = { "recv", "send", "setsockopt" };

struct stuck_io {
	int fd;
	enum stuck_op op;
	void *buf;
};

static void *stuck_io_thread(void *arg)
{
	struct stuck_io *io = arg;

	switch (io->op) {
	case STUCK_RECV:
		recv(io->fd, io->buf, MSG_LEN, MSG_WAITALL);
		break;
	case STUCK_SEND:
		send(io->fd, io->buf, MSG_LEN, 0);
		break;
	case STUCK_SOCKOPT:
		setsockopt(io->fd, SOL_SOCKET, SO_LINGER, io->buf, sizeof(struct linger));
		break;
	}
	return NULL;
}

static int uffd_serve(int uffd, char *page)
{
	char *src = calloc(1, page_size);
	int ret;

	if (!src)
		return -1;
	ret = uffd_page_fill(uffd, page, src);
	free(src);
	return ret;
}

/* Writes 'S' once stuck with a packet on its way, serves the fault on 'G'. */
static void __attribute__((noreturn)) stuck_child(enum stuck_op op, int to_parent,
						  int from_parent)
{
	struct stuck_io io = { .op = op };
	char junk[MSG_LEN] = { 0 }, go;
	pthread_t thread;
	int uffd, a, b;
	char *page;

	if (drop_to_nobody())
		_exit(1);
	page = uffd_page(&uffd);
	if (!page || make_pair(&a, &b))
		_exit(1);
	/* SO_LINGER's second int is the one the core copies under the lock. */
	io.buf = op == STUCK_SOCKOPT ? page - sizeof(int) : page;
	io.fd = a;
	if ((op == STUCK_RECV && send(b, junk, MSG_LEN, 0) != MSG_LEN) ||
	    pthread_create(&thread, NULL, stuck_io_thread, &io) || uffd_page_wait_fault(uffd, 5000) ||
	    shutdown(b, SHUT_WR) || write(to_parent, "S", 1) != 1)
		_exit(1);
	if (read(from_parent, &go, 1) != 1 || uffd_serve(uffd, page))
		_exit(1);
	pthread_join(thread, NULL);
	_exit(0);
}

struct server {
	int fd;
	int delay_ms;
};

/* Root's helper: tells the child to serve the fault after @delay_ms. */
static void *serve_later(void *arg)
{
	struct server *sv = arg;

	usleep(sv->delay_ms * 1000);
	if (write(sv->fd, "G", 1) != 1)
		perror("write to child");
	return NULL;
}

static void report(const char *what, double *t, int n, double first, int before)
{
	qsort(t, n, sizeof(*t), cmp_double);
	printf("%-12s rounds %6d  first %9.1f ms  median %7.2f ms  worst %9.1f ms  done before serve %6d\n",
	       what, n, first, t[n / 2], t[n - 1], before);
}

static int run_stuck(enum stuck_op op, int lfd, unsigned int port, int serve_ms)
{
	int to_child[2], from_child[2], n = 0, before = 0;
	struct server sv = { .delay_ms = serve_ms };
	double start, served, first = 0, t;
	pthread_t thread;
	pid_t pid;
	char s;

	if (pipe(to_child) || pipe(from_child))
		return -1;
	pid = fork();
	if (!pid) {
		close(lfd);
		close(to_child[1]);
		close(from_child[0]);
		stuck_child(op, from_child[1], to_child[0]);
	}
	close(to_child[0]);
	close(from_child[1]);
	if (read(from_child[0], &s, 1) != 1) {
		fprintf(stderr, "%s: uid %d could not get a socket stuck\n", op_name[op], NOBODY);
		return -1;
	}
	sv.fd = to_child[1];
	start = now_ms();
	served = start + serve_ms;
	pthread_create(&thread, NULL, serve_later, &sv);
	/* Rounds until the fault is served, and one round at least. */
	do {
		t = root_round(lfd, port);
		if (t < 0) {
			fprintf(stderr, "%s: root's round %d failed: %s\n", op_name[op], n,
				strerror(errno));
			break;
		}
		if (!n)
			first = t;
		if (now_ms() < served)
			before++;
		rounds_ms[n++] = t;
	} while (now_ms() < served && n < MAX_ROUNDS);
	pthread_join(thread, NULL);
	waitpid(pid, NULL, 0);
	close(to_child[1]);
	close(from_child[0]);
	if (!n)
		return -1;
	report(op_name[op], rounds_ms, n, first, before);
	return 0;
}

int main(int argc, char **argv)
{
	int serve_ms = argc > 1 ? atoi(argv[1]) : 3000;
	int afd = -1, lfd, i, old, ret = 0;
	unsigned int port;
	double first;

	setvbuf(stdout, NULL, _IOLBF, 0);
	page_size = sysconf(_SC_PAGESIZE);
	af = VMCISock_GetAFValueFd(&afd);
	local_cid = VMCISock_GetLocalCID();
	old = uffd_sysctl_set(1);
	lfd = af < 0 ? -1 : listener(&port, 8);
	if (lfd < 0 || old < 0) {
		fprintf(stderr, "no vSockets listener (af %d) or no userfaultfd sysctl\n", af);
		return 1;
	}
	printf("stall bench: root's connect+accept+echo+close rounds; fault served after %d ms\n",
	       serve_ms);
	for (i = 0; i < ROUNDS; i++) {
		rounds_ms[i] = root_round(lfd, port);
		if (rounds_ms[i] < 0) {
			perror("baseline round");
			return 1;
		}
	}
	first = rounds_ms[0];
	report("baseline", rounds_ms, ROUNDS, first, ROUNDS);
	for (i = STUCK_RECV; i <= STUCK_SOCKOPT; i++)
		if (run_stuck(i, lfd, port, serve_ms))
			ret = 1;
	close(lfd);
	uffd_sysctl_set(old);
	return ret;
}
