// SPDX-License-Identifier: GPL-2.0
/*
 * Socket semantics programs written for Linux's AF_VSOCK or VMware's
 * classic vsock rely on (issue 18): SO_RCVLOWAT in poll and epoll, epoll
 * level- and edge-triggered and EPOLLEXCLUSIVE on a listener, reusing a
 * client port for the next connection to the same server, the DGRAM
 * "shutdown to kick a blocked recv" idiom, the errno of each call where
 * vmsock follows classic vsock and Linux (docs/vmsock-sockets.md, "Calls
 * that differ"), SO_VMCI_TRUSTED on both types, the accept backlog,
 * queue-size negotiation, automatic ports and both connect-timeout
 * layouts.
 *
 * Usage: vsock_semantics   (vmsock loaded with defaults, run as root)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "nobody.h"
#include "tap.h"
#include "vsock_ctl.h"

#ifndef SIOCINQ
#define SIOCINQ		0x541B
#endif
#ifndef EPOLLEXCLUSIVE
#define EPOLLEXCLUSIVE	(1U << 28)
#endif
/* The 64-bit-time layout of the connect timeout (Linux's option 8). */
#define OPT_CONNECT_TIMEOUT_NEW	8
struct timeval64 {
	int64_t tv_sec;
	int64_t tv_usec;
};

#include "vsock_conn.h"

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

static unsigned int local_port(int fd)
{
	struct sockaddr_vm a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len))
		return VMADDR_PORT_ANY;
	return a.svm_port;
}

/* Connects @fd (a fresh stream socket) to our own @port; connect()'s result. */
static int connect_fd(int fd, unsigned int port)
{
	struct sockaddr_vm a = vm_addr(local_cid, port);

	return connect(fd, (struct sockaddr *)&a, sizeof(a));
}

static int inq(int fd)
{
	int n = -1;

	ioctl(fd, SIOCINQ, &n);
	return n;
}

/* Writes @len bytes to @fd after @ms milliseconds, from a thread. */
struct later_write {
	pthread_t t;
	int fd, ms;
	size_t len;
	ssize_t ret;
};

static void *later_write_fn(void *arg)
{
	struct later_write *l = arg;
	char buf[4096];

	memset(buf, 'w', sizeof(buf));
	usleep(l->ms * 1000);
	l->ret = send(l->fd, buf, l->len, MSG_NOSIGNAL);
	return NULL;
}

static int later_write_start(struct later_write *l, int fd, int ms, size_t len)
{
	l->fd = fd;
	l->ms = ms;
	l->len = len;
	l->ret = -2;
	return pthread_create(&l->t, NULL, later_write_fn, l);
}

static void drain(int fd)
{
	char buf[4096];

	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
}

/* --- SO_RCVLOWAT: 7 checks ------------------------------------------------ */

static void test_rcvlowat(int lfd, unsigned int port)
{
	char buf[4096];
	struct epoll_event ev = { .events = EPOLLIN };
	struct pollfd p;
	struct later_write l;
	int a = -1, b = -1, ep, r, lowat = 100, started;
	ssize_t n;

	if (accept_pair(lfd, connect_to(port), &a, &b))
		printf("# rcvlowat pair: %s\n", strerror(errno));
	memset(buf, 'x', sizeof(buf));
	tap_report(setsockopt(b, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)) == 0,
		   "rcvlowat_set", "%s", strerror(errno));
	send(a, buf, 10, MSG_NOSIGNAL);
	p = (struct pollfd){ .fd = b, .events = POLLIN };
	r = poll(&p, 1, 100);
	tap_report(r == 0, "rcvlowat_poll_below_not_readable",
		   "ret %d revents %#x with %d of %d bytes queued", r, p.revents, inq(b), lowat);
	send(a, buf, 90, MSG_NOSIGNAL);
	p.revents = 0;
	r = poll(&p, 1, 1000);
	tap_report(r == 1 && (p.revents & POLLIN), "rcvlowat_poll_reached_readable",
		   "ret %d revents %#x with %d bytes queued", r, p.revents, inq(b));
	drain(b);

	/* A waiter in epoll wakes when a later write crosses the mark. */
	ep = epoll_create1(0);
	epoll_ctl(ep, EPOLL_CTL_ADD, b, &ev);
	send(a, buf, 50, MSG_NOSIGNAL);
	started = !later_write_start(&l, a, 300, 50);
	r = epoll_wait(ep, &ev, 1, 3000);
	n = inq(b);
	if (started)
		pthread_join(l.t, NULL);
	tap_report(r == 1 && n >= lowat, "rcvlowat_epoll_wakes_at_mark",
		   "epoll_wait %d with %zd bytes queued (mark %d), writer %zd", r, n, lowat,
		   started ? l.ret : -3);

	/* recv() waits for the mark too, as for TCP. */
	drain(b);
	send(a, buf, 50, MSG_NOSIGNAL);
	started = !later_write_start(&l, a, 200, 50);
	n = recv(b, buf, sizeof(buf), 0);
	if (started)
		pthread_join(l.t, NULL);
	tap_report(n >= lowat, "rcvlowat_recv_waits_for_mark", "recv %zd", n);
	close(ep);

	lowat = 1 << 30;
	CHECK_ERRNO("rcvlowat_above_queue_einval",
		    setsockopt(b, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat)), EINVAL);
	lowat = 0;
	setsockopt(b, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat));
	{
		socklen_t len = sizeof(lowat);

		getsockopt(b, SOL_SOCKET, SO_RCVLOWAT, &lowat, &len);
		tap_check_int("rcvlowat_zero_means_one", lowat, 1);
	}
	close(a);
	close(b);
}

/* --- epoll: 6 checks ------------------------------------------------------ */

static int epoll_for(int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };
	int ep = epoll_create1(0);

	if (ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		close(ep);
		return -1;
	}
	return ep;
}

static int epoll_wait1(int ep, int ms, uint32_t *events)
{
	struct epoll_event ev = { 0 };
	int r = epoll_wait(ep, &ev, 1, ms);

	*events = ev.events;
	return r;
}

/*
 * Two processes wait on the same listener with EPOLLEXCLUSIVE: one
 * connection wakes one of them, not both. Returns how many woke.
 */
static int exclusive_wakeups(int lfd, unsigned int port)
{
	int pipes[2], i, woke = 0, c;
	pid_t pids[2];

	if (pipe(pipes))
		return -1;
	for (i = 0; i < 2; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			int ep = epoll_for(lfd, EPOLLIN | EPOLLEXCLUSIVE);
			uint32_t ev;
			char r;

			r = ep >= 0 && epoll_wait1(ep, 2000, &ev) == 1 ? 'w' : 'n';
			if (write(pipes[1], &r, 1) != 1)
				_exit(2);
			_exit(0);
		}
	}
	/* Both must be asleep in epoll_wait before the connection comes. */
	usleep(500 * 1000);
	c = connect_to(port);
	for (i = 0; i < 2; i++) {
		char r = 0;

		if (read(pipes[0], &r, 1) == 1 && r == 'w')
			woke++;
		if (pids[i] > 0)
			waitpid(pids[i], NULL, 0);
	}
	close(pipes[0]);
	close(pipes[1]);
	if (c >= 0) {
		int s = accept(lfd, NULL, NULL);

		close(s);
		close(c);
	}
	return woke;
}

static void test_epoll(int lfd, unsigned int port)
{
	int a = -1, b = -1, ep, r1, r2, woke;
	uint32_t ev1 = 0, ev2 = 0;
	char c = 'e';

	if (accept_pair(lfd, connect_to(port), &a, &b))
		printf("# epoll pair: %s\n", strerror(errno));

	/* Level-triggered: reported as long as the byte is there. */
	ep = epoll_for(b, EPOLLIN);
	send(a, &c, 1, MSG_NOSIGNAL);
	r1 = epoll_wait1(ep, 1000, &ev1);
	r2 = epoll_wait1(ep, 1000, &ev2);
	tap_report(r1 == 1 && r2 == 1 && (ev1 & ev2 & EPOLLIN), "epoll_lt_reports_until_read",
		   "%d %#x then %d %#x", r1, ev1, r2, ev2);
	close(ep);
	drain(b);

	/* Edge-triggered: once per change; drained, then a new byte fires again. */
	ep = epoll_for(b, EPOLLIN | EPOLLET);
	r1 = epoll_wait1(ep, 100, &ev1);
	tap_check_int("epoll_et_nothing_when_empty", r1, 0);
	send(a, &c, 1, MSG_NOSIGNAL);
	r1 = epoll_wait1(ep, 1000, &ev1);
	r2 = epoll_wait1(ep, 100, &ev2);
	tap_report(r1 == 1 && (ev1 & EPOLLIN) && r2 == 0, "epoll_et_reports_once",
		   "%d %#x then %d %#x", r1, ev1, r2, ev2);
	drain(b);
	{
		struct later_write l;
		int started = !later_write_start(&l, a, 200, 1);

		r1 = epoll_wait1(ep, 3000, &ev1);
		if (started)
			pthread_join(l.t, NULL);
		tap_report(r1 == 1 && (ev1 & EPOLLIN), "epoll_et_new_data_after_drain",
			   "%d %#x", r1, ev1);
	}
	close(ep);

	ep = epoll_for(a, EPOLLOUT | EPOLLET);
	r1 = epoll_wait1(ep, 1000, &ev1);
	tap_report(r1 == 1 && (ev1 & EPOLLOUT), "epoll_out_connected", "%d %#x", r1, ev1);
	close(ep);
	close(a);
	close(b);

	woke = exclusive_wakeups(lfd, port);
	tap_check_int("epoll_exclusive_listener_wakes_one", woke, 1);
}

/* --- Reusing a client port: 8 checks -------------------------------------- */

static int bind_port(int fd, unsigned int port)
{
	struct sockaddr_vm a = vm_addr(VMADDR_CID_ANY, port);

	return bind(fd, (struct sockaddr *)&a, sizeof(a));
}

static void test_port_reuse(int lfd, unsigned int port)
{
	unsigned int cport = 20000 + (getpid() % 20000);
	int c1, c2, s1 = -1, s2 = -1, r;
	char ch = 'r', in = 0;
	struct timespec t0;

	c1 = socket(af, SOCK_STREAM, 0);
	tap_report(bind_port(c1, cport) == 0 && connect_fd(c1, port) == 0,
		   "port_reuse_first_connect", "port %u: %s", cport, strerror(errno));
	s1 = accept(lfd, NULL, NULL);
	close(c1);

	/* The server still holds its end of the first connection. */
	c2 = socket(af, SOCK_STREAM, 0);
	tap_report(bind_port(c2, cport) == 0, "port_reuse_rebind_after_close", "%s",
		   strerror(errno));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = connect_fd(c2, port);
	tap_report(r == 0, "port_reuse_second_connect", "%s after %.3f s", strerror(errno),
		   seconds_since(&t0));
	/* Without the connection accept() must not block the program. */
	s2 = poll(&(struct pollfd){ .fd = lfd, .events = POLLIN }, 1, r ? 0 : 2000) == 1 ?
	     accept4(lfd, NULL, NULL, SOCK_NONBLOCK) : -1;
	tap_report(s2 >= 0, "port_reuse_second_accept", "%s", r ? "no connection" :
		   strerror(errno));
	tap_report(recv(s1, &in, 1, MSG_DONTWAIT) == 0, "port_reuse_old_end_sees_eof",
		   "%s", strerror(errno));

	/* The old end's shutdown and close must not reach the new connection. */
	shutdown(s1, SHUT_RDWR);
	close(s1);
	usleep(100 * 1000);
	tap_report(send(c2, &ch, 1, MSG_NOSIGNAL) == 1 && poll(&(struct pollfd){
			   .fd = s2, .events = POLLIN }, 1, 1000) == 1 &&
		   recv(s2, &in, 1, 0) == 1 && in == 'r', "port_reuse_new_connection_carries_data",
		   "%s", strerror(errno));
	CHECK_ERRNO("port_reuse_new_connection_not_shut_down",
		    recv(c2, &in, 1, MSG_DONTWAIT), EAGAIN);
	close(c2);
	close(s2);

	/* Both ends closed: the port is free at once. */
	c1 = socket(af, SOCK_STREAM, 0);
	tap_report(bind_port(c1, cport) == 0, "port_reuse_free_after_both_close", "%s",
		   strerror(errno));
	close(c1);
}

/* --- DGRAM shutdown kicks a blocked recv: 3 checks ------------------------ */

struct blocked_recv {
	int fd;
	ssize_t ret;
	int err;
	double took;
};

static void *blocked_recv_fn(void *arg)
{
	struct blocked_recv *br = arg;
	struct timespec t0;
	char buf[16];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	br->ret = recv(br->fd, buf, sizeof(buf), 0);
	br->err = errno;
	br->took = seconds_since(&t0);
	return NULL;
}

static void test_dgram_kick(void)
{
	struct timeval tv = { .tv_sec = 3 };
	struct blocked_recv br = { .ret = -2 };
	pthread_t t;
	int fd = socket(af, SOCK_DGRAM, 0), started;

	tap_report(bind_port(fd, VMADDR_PORT_ANY) == 0, "dgram_kick_bind", "%s",
		   strerror(errno));
	/* Old behaviour must end the test too: the receive gives up after 3 s. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	br.fd = fd;
	started = !pthread_create(&t, NULL, blocked_recv_fn, &br);
	usleep(300 * 1000);
	CHECK_ERRNO("dgram_kick_shutdown_unconnected_enotconn", shutdown(fd, SHUT_RDWR),
		    ENOTCONN);
	if (started)
		pthread_join(t, NULL);
	tap_report(br.ret == 0 && br.took < 2.5, "dgram_kick_wakes_blocked_recv",
		   "recv %zd (%s) after %.3f s", br.ret, strerror(br.err), br.took);
	close(fd);
}

/* --- errno where classic vsock and Linux agree or Linux decides: 8 + 11 checks */

static int trusted_flag(int fd)
{
	socklen_t len = sizeof(int);
	int v = -1;

	if (getsockopt(fd, af, SO_VMCI_TRUSTED, &v, &len) || len != sizeof(int))
		return -100 - errno;
	return v;
}

/* SO_VMCI_TRUSTED of a @type socket made by uid/gid 65534: 0 expected. */
static int trusted_as_nobody(int type)
{
	int fds[2], v = -200;
	pid_t pid;

	if (pipe(fds))
		return -201;
	pid = fork();
	if (pid == 0) {
		int fd;

		if (drop_to_nobody())
			_exit(2);
		fd = socket(af, type, 0);
		v = fd < 0 ? -300 : trusted_flag(fd);
		if (write(fds[1], &v, sizeof(v)) != sizeof(v))
			_exit(3);
		_exit(0);
	}
	if (pid > 0) {
		if (read(fds[0], &v, sizeof(v)) != sizeof(v))
			v = -202;
		waitpid(pid, NULL, 0);
	}
	close(fds[0]);
	close(fds[1]);
	return v;
}

static void test_stream_errnos(int lfd, unsigned int port)
{
	struct sockaddr_vm dst = vm_addr(local_cid, port), bad;
	int a = -1, b = -1, fd;
	char c = 'q', in = 0;

	if (accept_pair(lfd, connect_to(port), &a, &b))
		printf("# errno pair: %s\n", strerror(errno));
	send(a, &c, 1, MSG_NOSIGNAL);
	CHECK_ERRNO("stream_recv_errqueue_eagain", recv(b, &in, 1, MSG_ERRQUEUE | MSG_DONTWAIT),
		    EAGAIN);
	tap_report(recv(b, &in, 1, MSG_DONTWAIT) == 1 && in == 'q',
		   "stream_recv_errqueue_left_data", "%s", strerror(errno));
	CHECK_ERRNO("stream_sendto_connected_eisconn",
		    sendto(a, &c, 1, MSG_NOSIGNAL, (struct sockaddr *)&dst, sizeof(dst)), EISCONN);
	fd = socket(af, SOCK_STREAM, 0);
	CHECK_ERRNO("stream_sendto_unconnected_eopnotsupp",
		    sendto(fd, &c, 1, MSG_NOSIGNAL, (struct sockaddr *)&dst, sizeof(dst)),
		    EOPNOTSUPP);
	bad = vm_addr(VMADDR_CID_ANY, VMADDR_PORT_ANY);
	bad.svm_family = AF_INET;
	CHECK_ERRNO("stream_bind_wrong_family_einval",
		    bind(fd, (struct sockaddr *)&bad, sizeof(bad)), EINVAL);
	bad = dst;
	bad.svm_family = AF_INET;
	CHECK_ERRNO("stream_connect_wrong_family_einval",
		    connect(fd, (struct sockaddr *)&bad, sizeof(bad)), EINVAL);
	tap_check_int("stream_trusted_root", trusted_flag(fd), 1);
	tap_check_int("stream_trusted_nobody", trusted_as_nobody(SOCK_STREAM), 0);
	close(fd);
	close(a);
	close(b);
}

static void test_dgram_errnos(void)
{
	int a = socket(af, SOCK_DGRAM, 0), b = socket(af, SOCK_DGRAM, 0);
	struct sockaddr_vm dst, bad;
	unsigned long long v = 0;
	socklen_t len = sizeof(v);
	char c = 'd', in = 0;
	unsigned int pb;

	bind_port(b, VMADDR_PORT_ANY);
	pb = local_port(b);
	dst = vm_addr(VMADDR_CID_ANY, pb);
	tap_check_int("dgram_sendto_cid_any",
		      sendto(a, &c, 1, 0, (struct sockaddr *)&dst, sizeof(dst)), 1);
	tap_report(poll(&(struct pollfd){ .fd = b, .events = POLLIN }, 1, 1000) == 1 &&
		   recv(b, &in, 1, 0) == 1 && in == 'd', "dgram_sendto_cid_any_delivered_locally",
		   "%s", strerror(errno));
	CHECK_ERRNO("dgram_send_unconnected_einval", send(a, &c, 1, 0), EINVAL);
	dst = vm_addr(local_cid, VMADDR_PORT_ANY);
	CHECK_ERRNO("dgram_sendto_port_any_einval",
		    sendto(a, &c, 1, 0, (struct sockaddr *)&dst, sizeof(dst)), EINVAL);
	bad = vm_addr(local_cid, pb);
	bad.svm_family = AF_INET;
	CHECK_ERRNO("dgram_sendto_wrong_family_unconnected_einval",
		    sendto(a, &c, 1, 0, (struct sockaddr *)&bad, sizeof(bad)), EINVAL);
	CHECK_ERRNO("dgram_connect_wrong_family_einval",
		    connect(a, (struct sockaddr *)&bad, sizeof(bad)), EINVAL);
	/* Classic and Linux: an address that does not check out means "the peer". */
	dst = vm_addr(local_cid, pb);
	connect(a, (struct sockaddr *)&dst, sizeof(dst));
	c = 'p';
	tap_report(sendto(a, &c, 1, 0, (struct sockaddr *)&bad, sizeof(bad)) == 1 &&
		   poll(&(struct pollfd){ .fd = b, .events = POLLIN }, 1, 1000) == 1 &&
		   recv(b, &in, 1, 0) == 1 && in == 'p', "dgram_sendto_bad_address_goes_to_peer",
		   "%s", strerror(errno));
	CHECK_ERRNO("dgram_setsockopt_eopnotsupp",
		    setsockopt(a, af, SO_VMCI_BUFFER_SIZE, &v, sizeof(v)), EOPNOTSUPP);
	CHECK_ERRNO("dgram_getsockopt_other_eopnotsupp",
		    getsockopt(a, af, SO_VMCI_BUFFER_SIZE, &v, &len), EOPNOTSUPP);
	tap_check_int("dgram_trusted_root", trusted_flag(a), 1);
	tap_check_int("dgram_trusted_nobody", trusted_as_nobody(SOCK_DGRAM), 0);
	close(a);
	close(b);
}

/* --- Accept backlog: 3 checks --------------------------------------------- */

static void test_backlog(void)
{
	int fds[8], n = 0, err = 0, i, lfd, c, s;
	unsigned int port;

	lfd = listener(&port, 1);
	for (i = 0; i < 8; i++) {
		fds[i] = connect_to(port);
		if (fds[i] < 0) {
			err = errno;
			break;
		}
		n++;
	}
	printf("# backlog 1: %d connections queued before the refusal\n", n);
	tap_report(n >= 1 && n <= 2, "backlog_queues_up_to_backlog", "%d queued", n);
	tap_report(err == ECONNRESET, "backlog_overflow_econnreset", "errno %d (%s)", err,
		   strerror(err));
	s = accept(lfd, NULL, NULL);
	c = connect_to(port);
	tap_report(s >= 0 && c >= 0, "backlog_room_after_accept", "%s", strerror(errno));
	close(c);
	close(s);
	for (i = 0; i < n; i++)
		close(fds[i]);
	close(lfd);
}

/* --- Queue-size negotiation: 5 checks ------------------------------------- */

/* Bytes a non-blocking writer gets into the queue before EAGAIN. */
static long fill(int fd)
{
	char buf[4096];
	long total = 0;
	ssize_t n;

	memset(buf, 'f', sizeof(buf));
	while ((n = send(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL)) > 0)
		total += n;
	return total;
}

static int set_u64(int fd, int opt, unsigned long long v)
{
	return setsockopt(fd, af, opt, &v, sizeof(v));
}

/*
 * A listener accepting [min, max] with @size, a client proposing
 * @csize within [cmin, cmax]: connect()'s errno (0: connected) and, once
 * connected, how much the client could write.
 */
static int negotiate(unsigned long long min, unsigned long long max, unsigned long long size,
		     unsigned long long cmin, unsigned long long cmax,
		     unsigned long long csize, long *capacity)
{
	int lfd, c, s, err = 0;
	unsigned int port;

	*capacity = -1;
	lfd = listener(&port, 4);
	set_u64(lfd, SO_VMCI_BUFFER_MAX_SIZE, max);
	set_u64(lfd, SO_VMCI_BUFFER_MIN_SIZE, min);
	set_u64(lfd, SO_VMCI_BUFFER_SIZE, size);
	c = socket(af, SOCK_STREAM, 0);
	set_u64(c, SO_VMCI_BUFFER_MAX_SIZE, cmax);
	set_u64(c, SO_VMCI_BUFFER_MIN_SIZE, cmin);
	set_u64(c, SO_VMCI_BUFFER_SIZE, csize);
	if (connect_fd(c, port)) {
		err = errno;
	} else {
		s = accept(lfd, NULL, NULL);
		*capacity = fill(c);
		close(s);
	}
	close(c);
	close(lfd);
	return err;
}

static void test_queue_negotiation(void)
{
	long cap;
	int err;

	err = negotiate(4096, 262144, 65536, 128, 262144, 16384, &cap);
	tap_report(!err && cap > 16384 - 4096 && cap <= 16384, "qsize_client_size_in_range_used",
		   "errno %d, client wrote %ld", err, cap);
	err = negotiate(32768, 262144, 65536, 128, 262144, 4096, &cap);
	tap_report(!err && cap > 65536 - 4096 && cap <= 65536,
		   "qsize_client_size_out_of_range_gets_listener_size",
		   "errno %d, client wrote %ld", err, cap);
	err = negotiate(65536, 262144, 262144, 128, 8192, 8192, &cap);
	tap_check_int("qsize_listener_size_beyond_client_max_eproto", err, EPROTO);
	err = negotiate(128, 4096, 4096, 65536, 262144, 65536, &cap);
	tap_check_int("qsize_listener_size_below_client_min_eproto", err, EPROTO);
	/* What the failed attempts left behind must not stop a good one. */
	err = negotiate(128, 262144, 262144, 128, 262144, 262144, &cap);
	tap_report(!err && cap > 262144 - 4096 && cap <= 262144, "qsize_defaults_after_mismatch",
		   "errno %d, client wrote %ld", err, cap);
}

/* --- Automatic ports: 3 checks -------------------------------------------- */

#define AUTO_PORTS	512

static int cmp_uint(const void *a, const void *b)
{
	unsigned int x = *(const unsigned int *)a, y = *(const unsigned int *)b;

	return x < y ? -1 : x > y;
}

static void test_ephemeral(void)
{
	static unsigned int ports[AUTO_PORTS];
	static int fds[AUTO_PORTS];
	int i, ok = 0, distinct = 1, in_range = 1, fd;

	for (i = 0; i < AUTO_PORTS; i++) {
		fds[i] = socket(af, SOCK_STREAM, 0);
		ports[i] = VMADDR_PORT_ANY;
		if (fds[i] >= 0 && !bind_port(fds[i], VMADDR_PORT_ANY)) {
			ports[i] = local_port(fds[i]);
			ok++;
		}
	}
	tap_check_int("ephemeral_binds", ok, AUTO_PORTS);
	qsort(ports, AUTO_PORTS, sizeof(ports[0]), cmp_uint);
	for (i = 0; i < AUTO_PORTS; i++) {
		if (ports[i] <= 1023 || ports[i] == VMADDR_PORT_ANY)
			in_range = 0;
		if (i && ports[i] == ports[i - 1])
			distinct = 0;
	}
	tap_report(distinct && in_range, "ephemeral_distinct_unprivileged",
		   "distinct %d in range %d (lowest %u)", distinct, in_range, ports[0]);
	/* A port an automatic bind handed out is taken for an explicit one. */
	fd = socket(af, SOCK_STREAM, 0);
	CHECK_ERRNO("ephemeral_port_taken_eaddrinuse", bind_port(fd, ports[AUTO_PORTS / 2]),
		    EADDRINUSE);
	close(fd);
	for (i = 0; i < AUTO_PORTS; i++)
		close(fds[i]);
}

/* --- Connect timeout, both layouts: 7 checks ------------------------------ */

#define IOC_VMCI_INIT_CONTEXT	1952
#define IOC_VMCI_VERSION2	1959
#define IOC_VMCI_DG_SEND	1963
#define IOC_VMCI_DG_RECEIVE	1964
#define VMCI_VERSION_NOVMVM	0x000B0000
#define CTX_FLAG_RESTRICTED	1u
#define PKT_RID			1u
#define PKT_REQUEST2		11
#define PKT_NEGOTIATE2		12

/* A VMM context (wanting CID @cid) that answers nothing by itself. */
static int vmm_open(uint32_t want, uint32_t flags, uint32_t *cid)
{
	struct vmm_init_blk blk = { .cid = want, .flags = flags };
	int version = VMCI_VERSION_NOVMVM;
	int fd = open("/dev/vmci", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (ioctl(fd, IOC_VMCI_VERSION2, &version) < 0 ||
	    ioctl(fd, IOC_VMCI_INIT_CONTEXT, &blk)) {
		close(fd);
		return -1;
	}
	*cid = blk.cid;
	return fd;
}

static void test_connect_timeout(void)
{
	struct timeval64 t64 = { .tv_sec = 1, .tv_usec = 500000 };
	struct timeval tv = { 0 };
	socklen_t len = sizeof(tv);
	int fd = socket(af, SOCK_STREAM, 0), vfd, r, err;
	struct timespec t0;
	uint32_t vmm_cid = 0;
	double el;

	tap_report(setsockopt(fd, af, OPT_CONNECT_TIMEOUT_NEW, &t64, sizeof(t64)) == 0,
		   "timeout_new_set", "%s", strerror(errno));
	getsockopt(fd, af, SO_VMCI_CONNECT_TIMEOUT, &tv, &len);
	tap_report(tv.tv_sec == 1 && tv.tv_usec == 500000 && len == sizeof(tv),
		   "timeout_new_read_as_old", "%ld.%06ld len %u", (long)tv.tv_sec,
		   (long)tv.tv_usec, len);
	tv = (struct timeval){ .tv_sec = 0, .tv_usec = 500000 };
	setsockopt(fd, af, SO_VMCI_CONNECT_TIMEOUT, &tv, sizeof(tv));
	memset(&t64, 0, sizeof(t64));
	len = sizeof(t64);
	getsockopt(fd, af, OPT_CONNECT_TIMEOUT_NEW, &t64, &len);
	tap_report(t64.tv_sec == 0 && t64.tv_usec == 500000 && len == sizeof(t64),
		   "timeout_old_read_as_new", "%lld.%06lld len %u", (long long)t64.tv_sec,
		   (long long)t64.tv_usec, len);
	t64 = (struct timeval64){ .tv_sec = -1 };
	CHECK_ERRNO("timeout_new_negative_erange",
		    setsockopt(fd, af, OPT_CONNECT_TIMEOUT_NEW, &t64, sizeof(t64)), ERANGE);
	CHECK_ERRNO("timeout_new_short_einval",
		    setsockopt(fd, af, OPT_CONNECT_TIMEOUT_NEW, &t64, 8), EINVAL);

	/* 0.5 s set through the new layout ends a connect nobody answers. */
	t64 = (struct timeval64){ .tv_sec = 0, .tv_usec = 500000 };
	setsockopt(fd, af, OPT_CONNECT_TIMEOUT_NEW, &t64, sizeof(t64));
	vfd = vmm_open(1100, 0, &vmm_cid);
	tap_report(vfd >= 0, "timeout_vmm_context", "%s", strerror(errno));
	{
		struct sockaddr_vm a = vm_addr(vmm_cid, 7100);

		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = connect(fd, (struct sockaddr *)&a, sizeof(a));
		err = errno;
		el = seconds_since(&t0);
	}
	tap_report(r == -1 && err == ETIMEDOUT && el > 0.45 && el < 1.9,
		   "timeout_new_honoured", "ret %d errno %d (%s) after %.3f s", r, err,
		   strerror(err), el);
	close(vfd);
	close(fd);
}

/* --- Trust and RESTRICTED contexts: 5 checks ----------------------------- */

/* A REQUEST2 from the VMM's port 5000 to our @port. */
static int vmm_request(int vfd, unsigned int port)
{
	struct ctl_packet p = {
		.dst_cid = local_cid, .dst_rid = PKT_RID,
		.src_cid = 0xffffffffu, .src_rid = PKT_RID,
		.payload_size = sizeof(p) - 24,
		.version = 1, .type = PKT_REQUEST2, .proto = 1,
		.src_port = 5000, .dst_port = port, .u0 = 65536,
	};
	struct vmm_dg_info info = { .addr = (uintptr_t)&p, .len = sizeof(p) };

	if (ioctl(vfd, IOC_VMCI_DG_SEND, &info))
		return -1000 - errno;
	return info.result == (int)sizeof(p) ? 0 : info.result;
}

/* The type of the first control packet the VMM gets within @ms, or -1. */
static int vmm_next_type(int vfd, int ms)
{
	unsigned char buf[4096];
	struct ctl_packet p;
	int i;

	for (i = 0; i <= ms / 20; i++) {
		struct vmm_dg_info info = { .addr = (uintptr_t)buf, .len = sizeof(buf) };

		if (!ioctl(vfd, IOC_VMCI_DG_RECEIVE, &info) && !info.result) {
			memcpy(&p, buf, sizeof(p));
			return p.type;
		}
		usleep(20 * 1000);
	}
	return -1;
}

/*
 * What uid 65534 gets: its listener's port (as an int; -1 on failure)
 * through @to_parent, then
 * waits on @from_parent; or, with @connect_cid set, connect()'s errno.
 */
static void as_nobody(int to_parent, int from_parent, uint32_t connect_cid)
{
	struct timeval tv = { .tv_usec = 300000 };
	unsigned int port = VMADDR_PORT_ANY;
	int fd, v;
	char c;

	if (drop_to_nobody())
		_exit(2);
	if (connect_cid) {
		struct sockaddr_vm a = vm_addr(connect_cid, 7200);

		fd = socket(af, SOCK_STREAM, 0);
		setsockopt(fd, af, SO_VMCI_CONNECT_TIMEOUT, &tv, sizeof(tv));
		v = connect(fd, (struct sockaddr *)&a, sizeof(a)) ? errno : 0;
		if (write(to_parent, &v, sizeof(v)) != sizeof(v))
			_exit(3);
		_exit(0);
	}
	fd = listener(&port, 4);
	v = fd < 0 ? -1 : (int)port;
	if (write(to_parent, &v, sizeof(v)) != sizeof(v))
		_exit(3);
	if (read(from_parent, &c, 1) < 0)
		_exit(4);
	_exit(0);
}

/* Forks as_nobody(); its one int answer, or -1. *pid and *go for the listener case. */
static int nobody_start(uint32_t connect_cid, pid_t *pid, int *go)
{
	int up[2], down[2], v = -1;

	if (pipe(up) || pipe(down))
		return -1;
	*pid = fork();
	if (*pid == 0) {
		close(up[0]);
		close(down[1]);
		as_nobody(up[1], down[0], connect_cid);
	}
	close(up[1]);
	close(down[0]);
	if (*pid < 0 || read(up[0], &v, sizeof(v)) != sizeof(v))
		v = -1;
	close(up[0]);
	*go = down[1];
	return v;
}

static void test_restricted(void)
{
	struct timeval tv = { .tv_usec = 300000 };
	uint32_t rcid = 0;
	unsigned int port;
	int vfd, lfd, fd, go, v, type, r, err;
	pid_t pid;

	vfd = vmm_open(1300, CTX_FLAG_RESTRICTED, &rcid);
	tap_report(vfd >= 0, "restricted_vmm_context", "%s", strerror(errno));

	/* A trusted (root) listener answers a restricted VM. */
	lfd = listener(&port, 4);
	r = vmm_request(vfd, port);
	type = vmm_next_type(vfd, 2000);
	tap_report(!r && type == PKT_NEGOTIATE2, "restricted_request_to_trusted_listener_answered",
		   "send %d, answer type %d", r, type);
	close(lfd);
	/* The child's expiry RST, or nothing. */
	vmm_next_type(vfd, 1500);

	/* One made by nobody never hears of it (ports go up to 2^32 - 2). */
	v = nobody_start(0, &pid, &go);
	r = v != -1 ? vmm_request(vfd, (unsigned int)v) : -1;
	type = vmm_next_type(vfd, 500);
	tap_report(v != -1 && !r && type == -1, "restricted_request_to_untrusted_listener_dropped",
		   "port %u, send %d, answer type %d", (unsigned int)v, r, type);
	close(go);
	if (pid > 0)
		waitpid(pid, NULL, 0);

	v = nobody_start(rcid, &pid, &go);
	close(go);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	tap_report(v == EPERM, "restricted_untrusted_connect_eperm", "errno %d (%s)", v,
		   v > 0 ? strerror(v) : "?");

	fd = socket(af, SOCK_STREAM, 0);
	setsockopt(fd, af, SO_VMCI_CONNECT_TIMEOUT, &tv, sizeof(tv));
	{
		struct sockaddr_vm a = vm_addr(rcid, 7200);

		r = connect(fd, (struct sockaddr *)&a, sizeof(a));
		err = errno;
	}
	type = vmm_next_type(vfd, 500);
	tap_report(r == -1 && err == ETIMEDOUT && type == PKT_REQUEST2,
		   "restricted_trusted_connect_reaches_vm", "ret %d errno %d (%s), VM got type %d",
		   r, err, strerror(err), type);
	close(fd);
	close(vfd);
}

/* A hang must fail the run, not stall the VM. */
static void *watchdog(void *arg)
{
	(void)arg;
	sleep(180);
	printf("not ok watchdog # still running after 180 s\n");
	fflush(stdout);
	_exit(1);
}

int main(void)
{
	unsigned int port;
	int lfd, afd = -1;
	pthread_t wd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	af = VMCISock_GetAFValueFd(&afd);
	local_cid = VMCISock_GetLocalCID();
	tap_plan(1 + 7 + 6 + 8 + 3 + 8 + 11 + 3 + 5 + 3 + 7 + 5);
	tap_report(af >= 0 && local_cid != VMADDR_CID_ANY, "setup", "af %d cid %u", af,
		   local_cid);
	pthread_create(&wd, NULL, watchdog, NULL);
	lfd = listener(&port, 16);
	test_rcvlowat(lfd, port);
	test_epoll(lfd, port);
	test_port_reuse(lfd, port);
	test_dgram_kick();
	test_stream_errnos(lfd, port);
	test_dgram_errnos();
	test_backlog();
	test_queue_negotiation();
	test_ephemeral();
	test_connect_timeout();
	test_restricted();
	close(lfd);
	return tap_exit_code();
}
