// SPDX-License-Identifier: GPL-2.0
/*
 * A blocking datagram sender waits for room in a full local receiver of
 * its own user, as an AF_UNIX sender does, so nothing is lost between a
 * user's own programs; across users it never waits (the datagram drops
 * and is counted), so a user who never reads holds nobody else's sender.
 * A sender that does not block still drops, and the reader learns how
 * many datagrams it lost with SO_RXQ_OVFL.
 *
 * Usage: vsock_dgram_room   (vmsock loaded, run as root)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "nobody.h"
#include "tap.h"
#include "vsock_addr.h"

#define DG_SIZE		1024
#define RCVBUF		8192	/* the kernel doubles it: a few datagrams */
#define LOSSLESS_COUNT	3000
#define CROSS_COUNT	2000
#define FILL_COUNT	64	/* 1 KiB datagrams: far over RCVBUF */
#define PLAN		8

static char buf[DG_SIZE];

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static void set_timeo(int fd, int opt, int ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

/* A datagram socket bound to {ANY, dynamic} with a small queue; port in *port. */
static int receiver(unsigned int *port)
{
	struct sockaddr_vm a = vm_addr(VMADDR_CID_ANY, VMADDR_PORT_ANY);
	socklen_t len = sizeof(a);
	int rcvbuf = RCVBUF, fd = socket(af, SOCK_DGRAM, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		close(fd);
		return -1;
	}
	*port = a.svm_port;
	return fd;
}

static ssize_t send_to(int fd, unsigned int port, int flags)
{
	struct sockaddr_vm dst = vm_addr(local_cid, port);

	return sendto(fd, buf, DG_SIZE, flags, (struct sockaddr *)&dst, sizeof(dst));
}

/*
 * Sends FILL_COUNT datagrams that do not wait to @port, more than its
 * queue holds: how many of the sends succeeded.
 */
static int fill(int tx, unsigned int port)
{
	int i, ok = 0;

	for (i = 0; i < FILL_COUNT; i++)
		if (send_to(tx, port, MSG_DONTWAIT) == DG_SIZE)
			ok++;
	return ok;
}

/*
 * One datagram from @fd: its size, or -1. *@drops gets the socket's
 * drop count from the SO_RXQ_OVFL control message, when one came.
 */
static ssize_t recv_with_drops(int fd, int flags, long long *drops)
{
	char cbuf[CMSG_SPACE(sizeof(uint32_t))];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c;
	ssize_t n = recvmsg(fd, &m, flags);

	if (n < 0)
		return n;
	for (c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
			*drops = *(uint32_t *)CMSG_DATA(c);
	return n;
}

/* One blocking send to @port: its result, errno in *@err, its time in *@ms. */
static ssize_t timed_send(int fd, unsigned int port, int *err, long long *ms)
{
	long long t0 = now_ms();
	ssize_t ret = send_to(fd, port, 0);

	*err = errno;
	*ms = now_ms() - t0;
	return ret;
}

/*
 * The reader lags: it starts reading LOSSLESS_COUNT datagrams 300 ms
 * after the sender began. A sender of the same user must wait for it;
 * every datagram arrives and the reader saw no drop.
 */
static void test_own_user_lossless(void)
{
	unsigned int port;
	int rx = receiver(&port), tx = socket(af, SOCK_DGRAM, 0);
	int fds[2], sent = 0, got = 0, status, i;
	long long drops = -1;
	pid_t pid;

	if (rx < 0 || tx < 0 || pipe(fds)) {
		tap_report(0, "own_user_sender_waits_nothing_lost", "setup: %s",
			   strerror(errno));
		return;
	}
	pid = fork();
	if (pid == 0) {
		int on = 1, n = 0;
		long long last = 0;

		setsockopt(rx, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on));
		set_timeo(rx, SO_RCVTIMEO, 5000);
		usleep(300000);
		while (n < LOSSLESS_COUNT && recv_with_drops(rx, 0, &last) == DG_SIZE)
			n++;
		dprintf(fds[1], "%d %lld\n", n, last);
		_exit(0);
	}
	close(fds[1]);
	close(rx);
	set_timeo(tx, SO_SNDTIMEO, 10000);
	for (i = 0; i < LOSSLESS_COUNT; i++)
		if (send_to(tx, port, 0) == DG_SIZE)
			sent++;
	{
		char line[64] = "";
		ssize_t n = read(fds[0], line, sizeof(line) - 1);

		if (n > 0)
			sscanf(line, "%d %lld", &got, &drops);
	}
	waitpid(pid, &status, 0);
	close(fds[0]);
	close(tx);
	printf("# %d sent, %d received, reader's SO_RXQ_OVFL %lld\n", sent, got, drops);
	tap_report(sent == LOSSLESS_COUNT && got == LOSSLESS_COUNT && drops == 0,
		   "own_user_sender_waits_nothing_lost",
		   "%d of %d sent, %d received, %lld dropped", sent, LOSSLESS_COUNT,
		   got, drops);
}

/*
 * With the reader stopped: a blocking sender of the same user waits out
 * its SO_SNDTIMEO and says EAGAIN; one that does not block drops and
 * succeeds; the reader's next datagram carries the count of the drops.
 */
static void test_own_user_full(void)
{
	unsigned int port;
	int rx = receiver(&port), tx = socket(af, SOCK_DGRAM, 0);
	int on = 1, queued, dropped = 0, i, err, seen = 0;
	long long ovfl = 0, ms;
	ssize_t ret;

	if (rx < 0 || tx < 0) {
		tap_report(0, "own_user_sender_times_out", "setup: %s", strerror(errno));
		tap_report(0, "nonblocking_sender_drops", "setup");
		tap_report(0, "rxq_ovfl_reports_drops", "setup");
		return;
	}
	setsockopt(rx, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on));
	queued = fill(tx, port);
	/* Into a full queue: each is dropped, and each says it was sent. */
	for (i = 0; i < 200; i++)
		if (send_to(tx, port, MSG_DONTWAIT) == DG_SIZE)
			dropped++;

	set_timeo(tx, SO_SNDTIMEO, 300);
	ret = timed_send(tx, port, &err, &ms);
	tap_report(ret < 0 && err == EAGAIN && ms >= 250, "own_user_sender_times_out",
		   "send returned %zd (%s) after %lld ms", ret, ret < 0 ? strerror(err) : "-", ms);

	/* Empty the queue; the next datagram's cmsg says what was lost. */
	while (recv(rx, buf, sizeof(buf), MSG_DONTWAIT) == DG_SIZE)
		seen++;
	if (send_to(tx, port, MSG_DONTWAIT) == DG_SIZE)
		recv_with_drops(rx, MSG_DONTWAIT, &ovfl);
	printf("# %d of %d fill sends and %d of 200 more succeeded, %d queued, SO_RXQ_OVFL %lld\n",
	       queued, FILL_COUNT, dropped, seen, ovfl);
	tap_report(queued == FILL_COUNT && dropped == 200 && seen > 0 && seen < FILL_COUNT,
		   "nonblocking_sender_drops",
		   "%d of %d and %d of 200 sends succeeded, %d queued", queued, FILL_COUNT,
		   dropped, seen);
	tap_report(seen > 0 && ovfl == FILL_COUNT + 200 - seen,
		   "rxq_ovfl_reports_drops", "SO_RXQ_OVFL said %lld, %d were dropped", ovfl,
		   FILL_COUNT + 200 - seen);
	close(rx);
	close(tx);
}

/*
 * CROSS_COUNT blocking sends to @port, each guarded by a 2 s SO_SNDTIMEO:
 * how many went, and in *@worst the slowest in ms. A send held 1 s or
 * more already fails the check, so the rest are not waited out.
 */
static int timed_sends(int fd, unsigned int port, long long *worst)
{
	int i, ok = 0;

	*worst = 0;
	set_timeo(fd, SO_SNDTIMEO, 2000);
	for (i = 0; i < CROSS_COUNT; i++) {
		long long ms;
		int err;

		if (timed_send(fd, port, &err, &ms) == DG_SIZE)
			ok++;
		if (ms > *worst)
			*worst = ms;
		if (ms >= 1000)
			break;
	}
	return ok;
}

/*
 * Another user's receiver that never reads: @count blocking sends each
 * way must all return at once (2 s guard each), the datagrams dropped.
 */
static void test_cross_user(void)
{
	int to_child[2], from_child[2], ok = 0, status;
	unsigned int nobody_port = 0, root_port;
	int rx = receiver(&root_port), tx = socket(af, SOCK_DGRAM, 0);
	char line[64] = "";
	long long worst = 0;
	pid_t pid;

	if (rx < 0 || tx < 0 || pipe(to_child) || pipe(from_child)) {
		tap_report(0, "other_user_receiver_holds_no_sender", "setup: %s",
			   strerror(errno));
		tap_report(0, "other_user_sender_never_waits", "setup");
		return;
	}
	pid = fork();
	if (pid == 0) {
		int crx = -1, ctx = -1, cok = 0;
		long long cworst = 0;

		close(to_child[1]);
		close(from_child[0]);
		if (!drop_to_nobody())
			crx = receiver(&nobody_port);
		ctx = socket(af, SOCK_DGRAM, 0);
		dprintf(from_child[1], "%u\n", crx < 0 ? 0 : nobody_port);
		/* Root fills its queue first; then this user sends into it. */
		if (read(to_child[0], line, 1) == 1 && ctx >= 0)
			cok = timed_sends(ctx, root_port, &cworst);
		dprintf(from_child[1], "%d %lld\n", cok, cworst);
		/* Hold the socket until root is done with it. */
		if (read(to_child[0], line, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(to_child[0]);
	close(from_child[1]);
	if (read(from_child[0], line, sizeof(line) - 1) > 0)
		sscanf(line, "%u", &nobody_port);

	if (nobody_port)
		ok = timed_sends(tx, nobody_port, &worst);
	printf("# root -> uid %d's port %u: %d of %d sent, worst %lld ms\n", NOBODY,
	       nobody_port, ok, CROSS_COUNT, worst);
	tap_report(nobody_port && ok == CROSS_COUNT && worst < 1000,
		   "other_user_receiver_holds_no_sender",
		   "port %u: %d of %d sent, worst %lld ms", nobody_port, ok, CROSS_COUNT, worst);

	fill(tx, root_port);
	memset(line, 0, sizeof(line));
	ok = 0;
	worst = -1;
	if (write(to_child[1], "g", 1) == 1 &&
	    read(from_child[0], line, sizeof(line) - 1) > 0)
		sscanf(line, "%d %lld", &ok, &worst);
	printf("# uid %d -> root's full port: %d of %d sent, worst %lld ms\n", NOBODY, ok,
	       CROSS_COUNT, worst);
	tap_report(ok == CROSS_COUNT && worst >= 0 && worst < 1000,
		   "other_user_sender_never_waits", "%d of %d sent, worst %lld ms", ok,
		   CROSS_COUNT, worst);
	close(to_child[1]);
	waitpid(pid, &status, 0);
	close(from_child[0]);
	close(rx);
	close(tx);
}

static void on_alarm(int sig)
{
	(void)sig;
}

struct closer {
	int fd;
	int delay_ms;
};

static void *close_later(void *arg)
{
	struct closer *c = arg;

	usleep(c->delay_ms * 1000);
	close(c->fd);
	return NULL;
}

/*
 * A sender waiting without a timeout: a signal ends the wait with EINTR,
 * and so does the receiver's close (the datagram then has nowhere to go).
 */
static void test_wait_ends(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	unsigned int port;
	int rx = receiver(&port), tx = socket(af, SOCK_DGRAM, 0), err;
	struct closer c;
	pthread_t th;
	long long ms;
	ssize_t ret;

	if (rx < 0 || tx < 0) {
		tap_report(0, "signal_ends_wait", "setup: %s", strerror(errno));
		tap_report(0, "receiver_close_ends_wait", "setup");
		return;
	}
	fill(tx, port);
	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART */
	alarm(1);
	ret = timed_send(tx, port, &err, &ms);
	alarm(0);
	tap_report(ret < 0 && err == EINTR && ms >= 900, "signal_ends_wait",
		   "send returned %zd (%s) after %lld ms", ret, ret < 0 ? strerror(err) : "-", ms);

	/* The guard alarm turns a wait nothing ends into a failure, not a hang. */
	c.fd = rx;
	c.delay_ms = 300;
	if (pthread_create(&th, NULL, close_later, &c)) {
		tap_report(0, "receiver_close_ends_wait", "pthread_create");
		close(rx);
		close(tx);
		return;
	}
	alarm(5);
	ret = timed_send(tx, port, &err, &ms);
	alarm(0);
	pthread_join(th, NULL);
	printf("# send after the receiver's close: %zd (%s) after %lld ms\n", ret,
	       ret < 0 ? strerror(err) : "sent", ms);
	tap_report(ms >= 250 && ms < 4000 && !(ret < 0 && err == EINTR),
		   "receiver_close_ends_wait", "send returned %zd (%s) after %lld ms", ret,
		   ret < 0 ? strerror(err) : "-", ms);
	close(tx);
}

int main(void)
{
	int afd = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	af = VMCISock_GetAFValueFd(&afd);
	local_cid = VMCISock_GetLocalCID();
	if (af < 0 || local_cid == VMADDR_CID_ANY) {
		tap_report(0, "setup", "af %d cid %u", af, local_cid);
		return 1;
	}
	memset(buf, 0x5a, sizeof(buf));
	printf("# family %d, local CID %u\n", af, local_cid);
	tap_plan(PLAN);
	test_own_user_lossless();
	test_own_user_full();
	test_cross_user();
	test_wait_ends();
	VMCISock_ReleaseAFValueFd(afd);
	return tap_exit_code();
}
