// SPDX-License-Identifier: GPL-2.0
/*
 * vmsock SOCK_STREAM between sockets of this machine: echo integrity from
 * one byte to 64 MiB with several write sizes, 200 connections at once,
 * the handshake's failure cases, shutdown, close and signal semantics,
 * options, ioctls, and the errno of every rule the socket enforces.
 * A VMM context on /dev/vmci plays a peer that never answers, for the
 * connect timeout and for signals during a blocking connect.
 *
 * Usage: vsock_stream   (vmsock loaded with defaults, run as root)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "nobody.h"
#include "tap.h"
#include "vsock_conn.h"
#include "vsock_ctl.h"

#ifndef SIOCINQ
#define SIOCINQ		0x541B
#endif
#ifndef SIOCOUTQ
#define SIOCOUTQ	0x5411
#endif

#define CONCURRENT	200
#define CONCURRENT_BYTES (64 * 1024)
/* Thread stacks: 600 threads at glibc's 8 MiB would be 4.8 GiB of mappings. */
#define THREAD_STACK	(256 * 1024)
#define IO_BUF		65536

/* Queue size connect_sized() proposes; 0 leaves the default. */
static unsigned long long client_queue;

static int stream_socket(void)
{
	return socket(af, SOCK_STREAM, 0);
}

/* connect_to(), with the queue size client_queue asks for. */
static int connect_sized(unsigned int port)
{
	struct sockaddr_vm a = vm_addr(local_cid, port);
	int fd = stream_socket();

	if (fd < 0)
		return -1;
	if (client_queue)
		setsockopt(fd, af, SO_VMCI_BUFFER_SIZE, &client_queue, sizeof(client_queue));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* A thread with a small stack; 0 on success, as pthread_create. */
static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int ret;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	ret = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return ret;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) + (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static uint64_t mix(uint64_t h, const unsigned char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

/* Echo server: one thread per accepted connection, until the listener closes. */
static void *echo_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	unsigned char *buf = malloc(IO_BUF);
	ssize_t n;

	while (buf && (n = read(fd, buf, IO_BUF)) > 0)
		if (write_all(fd, buf, n))
			break;
	free(buf);
	close(fd);
	return NULL;
}

static void *echo_server(void *arg)
{
	int lfd = (int)(intptr_t)arg;
	pthread_t t;
	int fd;

	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		if (start_thread(&t, echo_conn, (void *)(intptr_t)fd)) {
			close(fd);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

struct sender {
	int fd;
	size_t total, chunk;
	unsigned int seed;
	uint64_t sum;
	int err;
};

/* Writes @total pseudo-random bytes in @chunk writes, then SHUT_WR. */
static void *send_side(void *arg)
{
	struct sender *s = arg;
	unsigned char *buf = malloc(s->chunk);
	size_t left = s->total, i, n;

	s->sum = 0xcbf29ce484222325ULL;
	if (!buf) {
		s->err = ENOMEM;
		return NULL;
	}
	while (left) {
		n = left < s->chunk ? left : s->chunk;
		for (i = 0; i < n; i++)
			buf[i] = rand_r(&s->seed);
		s->sum = mix(s->sum, buf, n);
		if (write_all(s->fd, buf, n)) {
			s->err = errno;
			break;
		}
		left -= n;
	}
	shutdown(s->fd, SHUT_WR);
	free(buf);
	return NULL;
}

/* One echo round trip on @fd, which it closes; 0 when all came back intact. */
static int echo_run(int fd, size_t total, size_t chunk, unsigned int seed, char *why,
		    size_t whylen)
{
	struct sender s = { .fd = fd, .total = total, .chunk = chunk, .seed = seed };
	uint64_t sum = 0xcbf29ce484222325ULL;
	unsigned char *buf = malloc(IO_BUF);
	size_t got = 0;
	pthread_t t;
	ssize_t n = -1;

	if (!buf || start_thread(&t, send_side, &s)) {
		free(buf);
		close(fd);
		snprintf(why, whylen, "malloc or pthread_create");
		return -1;
	}
	while ((n = read(fd, buf, IO_BUF)) > 0) {
		sum = mix(sum, buf, n);
		got += n;
	}
	if (n < 0)
		snprintf(why, whylen, "read: %s", strerror(errno));
	pthread_join(t, NULL);
	free(buf);
	close(fd);
	if (n < 0)
		return -1;
	if (s.err || got != total || sum != s.sum) {
		snprintf(why, whylen, "write err %d, got %zu of %zu bytes, sum %s", s.err,
			 got, total, sum == s.sum ? "ok" : "differs");
		return -1;
	}
	return 0;
}

static int echo_once(unsigned int port, size_t total, size_t chunk, char *why, size_t whylen)
{
	int fd = connect_sized(port);

	if (fd < 0) {
		snprintf(why, whylen, "connect: %s", strerror(errno));
		return -1;
	}
	return echo_run(fd, total, chunk, rand(), why, whylen);
}

static void test_echo(unsigned int port)
{
	static const struct { size_t total, chunk; } cases[] = {
		{ 1, 1 }, { 100, 7 }, { 4095, 4096 }, { 65536, 1000 },
		{ 262143, 65536 }, { 262144, 4096 }, { 262145, 262145 },
		{ (1 << 20) + 13, 65536 }, { 4 << 20, 1 << 20 }, { 1 << 20, 3000 },
		{ 64 << 20, 1 << 20 },
	};
	char name[80], why[160];
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct timespec t0, t1;
		int ok;

		snprintf(name, sizeof(name), "echo_%zu_by_%zu", cases[i].total, cases[i].chunk);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ok = !echo_once(port, cases[i].total, cases[i].chunk, why, sizeof(why));
		clock_gettime(CLOCK_MONOTONIC, &t1);
		tap_report(ok, name, "%s", why);
		if (cases[i].total >= (4 << 20))
			printf("# %s: %.1f MB/s echo\n", name, 2.0 * cases[i].total / 1e6 /
			       ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9));
	}
}

/*
 * Every client connects, then waits at a gate until all have: the data
 * of all CONCURRENT connections moves while all of them are open.
 */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_arrived, gate_connected, gate_open;

struct conc {
	unsigned int port, seed;
	int ok;
	char why[160];
};

static void *conc_client(void *arg)
{
	struct conc *c = arg;
	int fd = connect_sized(c->port);

	if (fd < 0)
		snprintf(c->why, sizeof(c->why), "connect: %s", strerror(errno));
	pthread_mutex_lock(&gate_lock);
	gate_arrived++;
	gate_connected += fd >= 0;
	pthread_cond_broadcast(&gate_cond);
	while (!gate_open)
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
	if (fd >= 0)
		c->ok = !echo_run(fd, CONCURRENT_BYTES, 16384, c->seed, c->why, sizeof(c->why));
	return NULL;
}

static void test_concurrent(unsigned int port)
{
	static struct conc c[CONCURRENT];
	static pthread_t t[CONCURRENT];
	int i, good = 0, started = 0, connected;
	const char *why = "";
	struct timespec t0, deadline;
	char name[64];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < CONCURRENT; i++) {
		c[i].port = port;
		c[i].seed = rand();
		if (start_thread(&t[i], conc_client, &c[i]))
			break;
		started++;
	}
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 60;
	pthread_mutex_lock(&gate_lock);
	while (gate_arrived < started &&
	       !pthread_cond_timedwait(&gate_cond, &gate_lock, &deadline))
		;
	connected = gate_connected;
	gate_open = 1;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
	snprintf(name, sizeof(name), "concurrent_%d_connected_at_once", CONCURRENT);
	tap_report(started == CONCURRENT && connected == CONCURRENT, name,
		   "%d threads, %d connected", started, connected);
	printf("# %d connections up after %.1f s\n", connected, seconds_since(&t0));

	for (i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		if (c[i].ok)
			good++;
		else
			why = c[i].why;
	}
	snprintf(name, sizeof(name), "concurrent_%d_echo", CONCURRENT);
	tap_report(good == CONCURRENT, name, "%d of %d good (%s)", good, CONCURRENT, why);
	printf("# %s: %d x %d bytes echoed in %.1f s\n", name, CONCURRENT, CONCURRENT_BYTES,
	       seconds_since(&t0));
}

static void test_no_listener(void)
{
	unsigned int port;
	int lfd = listener(&port, 1), fd;
	struct pollfd p;
	struct sockaddr_vm a;
	socklen_t len = sizeof(int);
	int err = 0;

	/* A port that was free a moment ago and is again. */
	close(lfd);
	CHECK_ERRNO("connect_no_listener_econnreset", connect_sized(port), ECONNRESET);

	fd = stream_socket();
	fcntl(fd, F_SETFL, O_NONBLOCK);
	a = vm_addr(local_cid, port);
	CHECK_ERRNO("nonblock_connect_no_listener_einprogress",
		    connect(fd, (struct sockaddr *)&a, sizeof(a)), EINPROGRESS);
	p.fd = fd;
	p.events = POLLOUT;
	tap_report(poll(&p, 1, 3000) == 1 && (p.revents & POLLERR),
		   "nonblock_connect_no_listener_pollerr", "revents %#x", p.revents);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	tap_check_int("nonblock_connect_no_listener_so_error", err, ECONNRESET);
	close(fd);
}

static void test_nonblock_connect(int lfd, unsigned int port)
{
	struct sockaddr_vm a = vm_addr(local_cid, port), peer;
	socklen_t len = sizeof(int);
	int fd = stream_socket(), afd, err = -1;
	struct pollfd p = { .events = POLLOUT };

	fcntl(fd, F_SETFL, O_NONBLOCK);
	CHECK_ERRNO("nonblock_connect_einprogress",
		    connect(fd, (struct sockaddr *)&a, sizeof(a)), EINPROGRESS);
	p.fd = fd;
	tap_report(poll(&p, 1, 3000) == 1 && (p.revents & POLLOUT) &&
		   !(p.revents & (POLLERR | POLLHUP)),
		   "nonblock_connect_pollout", "revents %#x", p.revents);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	tap_check_int("nonblock_connect_so_error_0", err, 0);
	CHECK_ERRNO("connect_again_eisconn", connect(fd, (struct sockaddr *)&a, sizeof(a)),
		    EISCONN);
	len = sizeof(peer);
	tap_report(!getpeername(fd, (struct sockaddr *)&peer, &len) &&
		   peer.svm_port == port && peer.svm_cid == local_cid,
		   "getpeername_connected", "port %u cid %u", peer.svm_port, peer.svm_cid);
	afd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	tap_report(afd >= 0 && (fcntl(afd, F_GETFL) & O_NONBLOCK) &&
		   (fcntl(afd, F_GETFD) & FD_CLOEXEC), "accept4_flags", "fd %d: %s", afd,
		   strerror(errno));
	{
		struct sockaddr_vm me, other;
		socklen_t l1 = sizeof(me), l2 = sizeof(other);

		getsockname(fd, (struct sockaddr *)&me, &l1);
		getpeername(afd, (struct sockaddr *)&other, &l2);
		tap_report(me.svm_port == other.svm_port && l1 == sizeof(me),
			   "accepted_peer_is_client", "client %u, accepted sees %u",
			   me.svm_port, other.svm_port);
	}
	CHECK_ERRNO("recv_dontwait_eagain", recv(afd, &err, 1, MSG_DONTWAIT), EAGAIN);
	close(afd);
	close(fd);
}

static void test_errors(int lfd, unsigned int lport)
{
	struct sockaddr_vm a = vm_addr(VMADDR_CID_ANY, VMADDR_PORT_ANY);
	int fd = stream_socket(), fd2, v = 0;
	char c = 0;
	socklen_t len = sizeof(a);

	CHECK_ERRNO("socket_protocol_eprotonosupport", socket(af, SOCK_STREAM, 1),
		    EPROTONOSUPPORT);
	CHECK_ERRNO("socket_seqpacket_esocktnosupport", socket(af, SOCK_SEQPACKET, 0),
		    ESOCKTNOSUPPORT);
	CHECK_ERRNO("listen_unbound_einval", listen(fd, 1), EINVAL);
	CHECK_ERRNO("accept_not_listening_einval", accept(fd, NULL, NULL), EINVAL);
	CHECK_ERRNO("recv_unconnected_enotconn", recv(fd, &c, 1, 0), ENOTCONN);
	CHECK_ERRNO("send_unconnected_enotconn", send(fd, &c, 1, MSG_NOSIGNAL), ENOTCONN);
	CHECK_ERRNO("getpeername_unconnected_enotconn",
		    getpeername(fd, (struct sockaddr *)&a, &len), ENOTCONN);
	CHECK_ERRNO("shutdown_unconnected_enotconn", shutdown(fd, SHUT_RDWR), ENOTCONN);
	CHECK_ERRNO("setsockopt_unknown_enoprotoopt",
		    setsockopt(fd, af, 99, &v, sizeof(v)), ENOPROTOOPT);
	CHECK_ERRNO("setsockopt_wrong_level_enoprotoopt",
		    setsockopt(fd, 6 /* IPPROTO_TCP */, 0, &v, sizeof(v)), ENOPROTOOPT);
	a = vm_addr(VMADDR_CID_LOCAL, lport);
	CHECK_ERRNO("connect_cid1_enetunreach", connect(fd, (struct sockaddr *)&a, sizeof(a)),
		    ENETUNREACH);
	a = vm_addr(local_cid + 1000, 5000);
	CHECK_ERRNO("bind_foreign_cid_eaddrnotavail",
		    bind(fd, (struct sockaddr *)&a, sizeof(a)), EADDRNOTAVAIL);
	a = vm_addr(VMADDR_CID_ANY, lport);
	CHECK_ERRNO("bind_taken_eaddrinuse", bind(fd, (struct sockaddr *)&a, sizeof(a)),
		    EADDRINUSE);
	a = vm_addr(local_cid, VMADDR_PORT_ANY);
	tap_report(!bind(fd, (struct sockaddr *)&a, sizeof(a)), "bind_own_cid", "%s",
		   strerror(errno));
	CHECK_ERRNO("bind_twice_einval", bind(fd, (struct sockaddr *)&a, sizeof(a)), EINVAL);
	len = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &len);
	tap_report(a.svm_port >= 1024 && a.svm_port != VMADDR_PORT_ANY && a.svm_cid == local_cid,
		   "ephemeral_port_at_least_1024", "port %u cid %u", a.svm_port, a.svm_cid);
	close(fd);

	fd2 = stream_socket();
	a = vm_addr(VMADDR_CID_ANY, lport);
	CHECK_ERRNO("connect_short_addr_einval", connect(fd2, (struct sockaddr *)&a, 8), EINVAL);
	close(fd2);

	/* Without CAP_NET_BIND_SERVICE a reserved port is refused. */
	if (fork() == 0) {
		int s;

		if (drop_to_nobody())
			_exit(2);
		s = stream_socket();
		a = vm_addr(VMADDR_CID_ANY, 500);
		_exit(bind(s, (struct sockaddr *)&a, sizeof(a)) == -1 && errno == EACCES ? 0 : 1);
	}
	wait(&v);
	tap_report(WIFEXITED(v) && WEXITSTATUS(v) == 0, "bind_reserved_unprivileged_eacces",
		   "child status %#x", v);
	fd = stream_socket();
	a = vm_addr(VMADDR_CID_ANY, 500);
	tap_report(!bind(fd, (struct sockaddr *)&a, sizeof(a)), "bind_reserved_root", "%s",
		   strerror(errno));
	close(fd);
	(void)lfd;
}

static void test_shutdown_and_io(int lfd, unsigned int port)
{
	int a, b, n = 0;
	char buf[256] = "hello";
	struct sigaction sa = { .sa_handler = SIG_IGN };

	if (accept_pair(lfd, connect_sized(port), &a, &b)) {
		tap_report(0, "pair", "%s", strerror(errno));
		return;
	}
	CHECK_ERRNO("send_oob_eopnotsupp", send(a, buf, 1, MSG_OOB), EOPNOTSUPP);
	CHECK_ERRNO("recv_oob_eopnotsupp", recv(a, buf, 1, MSG_OOB), EOPNOTSUPP);
	write(a, buf, 100);
	usleep(100000);
	ioctl(a, SIOCOUTQ, &n);
	tap_check_int("siocoutq", n, 100);
	ioctl(b, SIOCINQ, &n);
	tap_check_int("siocinq", n, 100);
	tap_check_int("msg_peek", recv(b, buf, 10, MSG_PEEK), 10);
	tap_check_int("peek_then_read_all", recv(b, buf, sizeof(buf), 0), 100);

	/* SHUT_WR: the peer reads end-of-file, we may no longer write. */
	shutdown(a, SHUT_WR);
	tap_check_int("shut_wr_peer_reads_eof", read(b, buf, sizeof(buf)), 0);
	CHECK_ERRNO("shut_wr_send_epipe", send(a, buf, 1, MSG_NOSIGNAL), EPIPE);
	sigaction(SIGPIPE, &sa, NULL);
	CHECK_ERRNO("shut_wr_write_epipe_sigpipe_ignored", write(a, buf, 1), EPIPE);
	/* The other direction still works. */
	tap_check_int("shut_wr_other_direction", write(b, buf, 5), 5);
	tap_check_int("shut_wr_other_direction_read", read(a, buf, sizeof(buf)), 5);
	/* SHUT_RD: our own reads end at once. */
	shutdown(b, SHUT_RD);
	tap_check_int("shut_rd_reads_eof", read(b, buf, sizeof(buf)), 0);
	{
		struct pollfd p = { .fd = a, .events = POLLIN };

		close(b);
		tap_report(poll(&p, 1, 3000) == 1 && (p.revents & POLLIN),
			   "peer_close_poll_readable", "revents %#x", p.revents);
		tap_check_int("peer_close_read_eof", read(a, buf, sizeof(buf)), 0);
	}
	close(a);

	/* MSG_WAITALL gathers several writes. */
	if (!accept_pair(lfd, connect_sized(port), &a, &b)) {
		if (fork() == 0) {
			int i;

			for (i = 0; i < 4; i++) {
				usleep(50000);
				write(a, buf, 25);
			}
			_exit(0);
		}
		tap_check_int("msg_waitall", recv(b, buf, 100, MSG_WAITALL), 100);
		wait(NULL);
		close(a);
		close(b);
	}
}

static void *close_later(void *arg)
{
	usleep(300000);
	close((int)(intptr_t)arg);
	return NULL;
}

static void test_peer_close_while_reading(int lfd, unsigned int port)
{
	int a, b;
	char c;
	pthread_t t;

	if (accept_pair(lfd, connect_sized(port), &a, &b))
		return;
	pthread_create(&t, NULL, close_later, (void *)(intptr_t)b);
	tap_check_int("peer_close_wakes_blocked_reader", read(a, &c, 1), 0);
	pthread_join(t, NULL);
	close(a);
}

/*
 * Bytes written before a shutdown or close are read before EOF, however
 * the reader's queue copy and the peer's shutdown interleave. recvmsg()
 * drops the socket lock while it copies, so the peer's data and then its
 * SHUTDOWN or RST can both land while a reader's copy is finding the
 * queue empty; a reader that then took the shutdown for "no more data"
 * lost the bytes (CI, 2026-12-04: 16 KiB of one of concurrent_200_echo's
 * connections on sid). The reader spins on non-blocking reads so that it
 * spends its time inside that window; the writer writes one byte and
 * shuts down (even rounds) or closes (odd rounds).
 */
#define EOF_RACE_ROUNDS 400

static void *write_then_end(void *arg)
{
	int fd = (int)(intptr_t)arg >> 1, closing = (int)(intptr_t)arg & 1;

	if (write(fd, "x", 1) != 1)
		perror("write_then_end");
	if (closing)
		close(fd);
	else
		shutdown(fd, SHUT_WR);
	return NULL;
}

static void test_data_before_eof(int lfd, unsigned int port)
{
	int round, lost = 0, failed = 0, a, b, got;
	char why[96] = "";
	pthread_t t;
	ssize_t n;
	char c;

	for (round = 0; round < EOF_RACE_ROUNDS && !failed; round++) {
		if (accept_pair(lfd, connect_sized(port), &a, &b) ||
		    start_thread(&t, write_then_end, (void *)(intptr_t)(b << 1 | (round & 1)))) {
			snprintf(why, sizeof(why), "round %d: setup: %s", round, strerror(errno));
			failed = 1;
			break;
		}
		got = 0;
		while ((n = recv(a, &c, 1, MSG_DONTWAIT)) != 0) {
			if (n == 1) {
				got++;
			} else if (errno != EAGAIN) {
				snprintf(why, sizeof(why), "round %d: recv: %s", round,
					 strerror(errno));
				failed = 1;
				break;
			}
		}
		pthread_join(t, NULL);
		if (!(round & 1))
			close(b);
		close(a);
		lost += got != 1;
	}
	tap_report(!failed && !lost, "data_before_eof_race",
		   "%d of %d rounds read EOF before the byte written ahead of it%s%s", lost, round,
		   *why ? "; " : "", why);
}

static void test_close_listener_with_queue(void)
{
	unsigned int port;
	int lfd = listener(&port, 8), c[3], i, ok = 1;
	char ch;

	for (i = 0; i < 3; i++)
		c[i] = connect_sized(port);
	close(lfd);
	for (i = 0; i < 3; i++) {
		if (c[i] < 0 || read(c[i], &ch, 1) != 0)
			ok = 0;
		close(c[i]);
	}
	tap_report(ok, "close_listener_with_accept_queue_eof", "");
	CHECK_ERRNO("connect_after_listener_closed", connect_sized(port), ECONNRESET);
}

/* --- Signals at blocking calls ------------------------------------------ */

static volatile sig_atomic_t alarms, sigpipes;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static void set_handler(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/*
 * SIGALRM to one thread every @ms until stopped. Thread-directed, so the
 * echo server's threads never see it; repeated, so a signal that lands
 * before the call blocks is followed by one that finds it blocked.
 */
struct kicker {
	pthread_t target, thread;
	unsigned int ms;
	int stop, started;
};

static void *kick_loop(void *arg)
{
	struct kicker *k = arg;

	for (;;) {
		usleep(k->ms * 1000);
		if (__atomic_load_n(&k->stop, __ATOMIC_ACQUIRE))
			return NULL;
		pthread_kill(k->target, SIGALRM);
	}
}

static void kick_start(struct kicker *k, unsigned int ms)
{
	k->target = pthread_self();
	k->ms = ms;
	k->stop = 0;
	k->started = !start_thread(&k->thread, kick_loop, k);
}

/* Every signal it sent has been handled when this returns. */
static void kick_stop(struct kicker *k)
{
	__atomic_store_n(&k->stop, 1, __ATOMIC_RELEASE);
	if (k->started)
		pthread_join(k->thread, NULL);
}

/* After @ms, writes one 'z' to @fd or closes it; done says it happened. */
struct later {
	int fd, close_it, done, started;
	unsigned int ms;
	pthread_t thread;
};

static void *later_loop(void *arg)
{
	struct later *l = arg;

	usleep(l->ms * 1000);
	__atomic_store_n(&l->done, 1, __ATOMIC_RELEASE);
	if (l->close_it)
		close(l->fd);
	else if (write(l->fd, "z", 1) != 1)
		__atomic_store_n(&l->done, -1, __ATOMIC_RELEASE);
	return NULL;
}

static void later_start(struct later *l, int fd, unsigned int ms, int close_it)
{
	l->fd = fd;
	l->ms = ms;
	l->close_it = close_it;
	l->done = 0;
	l->started = !start_thread(&l->thread, later_loop, l);
	/* Without a thread the action comes first, and the check says so. */
	if (!l->started)
		later_loop(l);
}

static int later_join(struct later *l)
{
	if (l->started)
		pthread_join(l->thread, NULL);
	return __atomic_load_n(&l->done, __ATOMIC_ACQUIRE);
}

/* Fills @fd's send queue without blocking; the bytes queued, or 0. */
static size_t fill_queue(int fd)
{
	static char chunk[IO_BUF];
	size_t total = 0;
	ssize_t w;

	while ((w = send(fd, chunk, sizeof(chunk), MSG_DONTWAIT | MSG_NOSIGNAL)) > 0)
		total += w;
	return w < 0 && errno == EAGAIN ? total : 0;
}

static void test_eintr_accept(void)
{
	struct kicker k;
	unsigned int port;
	int lfd = listener(&port, 1);

	set_handler(SIGALRM, on_alarm, 0);
	kick_start(&k, 200);
	CHECK_ERRNO("accept_eintr", accept(lfd, NULL, NULL), EINTR);
	kick_stop(&k);
	close(lfd);
}

/* A thread blocked in accept() on @lfd; fd is its result once done. */
struct accepter {
	int lfd, fd, done, started;
	pthread_t thread;
};

static void *accepter_loop(void *arg)
{
	struct accepter *a = arg;

	a->fd = accept(a->lfd, NULL, NULL);
	__atomic_store_n(&a->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static int accepters_done(struct accepter *a, int n)
{
	int i, done = 0;

	for (i = 0; i < n; i++)
		done += __atomic_load_n(&a[i].done, __ATOMIC_ACQUIRE);
	return done;
}

/*
 * accept() waits for a child without holding its listener: on an empty
 * queue it says EAGAIN at once with O_NONBLOCK and after SO_RCVTIMEO
 * without, and of two accept()s woken by one connection the loser waits
 * again for the next instead of failing. 4 checks; a setup that fails
 * fails its check instead of blocking.
 */
static void test_accept_waits(void)
{
	struct timeval tv = { .tv_usec = 200000 };
	struct accepter acc[2] = { { 0 } };
	struct timespec t0;
	int c1 = -1, c2 = -1, i, served = 0;
	unsigned int port;
	double waited;
	int lfd = listener(&port, 4);

	if (fcntl(lfd, F_SETFL, O_NONBLOCK))
		tap_report(0, "accept_nonblock_empty_eagain", "setup: errno %d", errno);
	else
		CHECK_ERRNO("accept_nonblock_empty_eagain", accept(lfd, NULL, NULL), EAGAIN);
	fcntl(lfd, F_SETFL, 0);

	if (setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		tap_report(0, "accept_rcvtimeo_eagain", "setup: errno %d", errno);
	} else {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		errno = 0;
		i = accept(lfd, NULL, NULL);
		waited = seconds_since(&t0);
		tap_report(i < 0 && errno == EAGAIN && waited >= 0.15,
			   "accept_rcvtimeo_eagain", "%.3f s, errno %d", waited, errno);
		if (i >= 0)
			close(i);
		tv.tv_usec = 0;
		setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}

	for (i = 0; i < 2; i++) {
		acc[i].lfd = lfd;
		acc[i].fd = -1;
		acc[i].started = !start_thread(&acc[i].thread, accepter_loop, &acc[i]);
	}
	/* Both asleep in accept() before the first connection comes. */
	usleep(200000);
	c1 = connect_to(port);
	for (i = 0; i < 50 && !accepters_done(acc, 2); i++)
		usleep(20000);
	usleep(200000);
	tap_report(acc[0].started && acc[1].started && c1 >= 0 && accepters_done(acc, 2) == 1,
		   "accept_two_waiters_one_served", "%d of 2 returned", accepters_done(acc, 2));
	c2 = connect_to(port);
	for (i = 0; i < 2; i++)
		if (acc[i].started)
			pthread_join(acc[i].thread, NULL);
	for (i = 0; i < 2; i++)
		served += acc[i].fd >= 0;
	tap_report(c2 >= 0 && served == 2, "accept_two_waiters_both_served", "%d accepted", served);
	for (i = 0; i < 2; i++)
		if (acc[i].fd >= 0)
			close(acc[i].fd);
	if (c1 >= 0)
		close(c1);
	if (c2 >= 0)
		close(c2);
	close(lfd);
}

/*
 * Many accept()s racing for one connection at a time, while a thread
 * keeps taking the listener's lock (getsockopt()). Every connection
 * wakes all the waiters; the ones that see it queued then queue on the
 * listener's lock behind the lock taker, and all but the first find the
 * queue empty once they hold it. Each of those must wait again, for the
 * full SO_RCVTIMEO if nothing comes: never fail early, and every
 * connection is accepted exactly once. The accepters stop at the first
 * timeout after the last connection. Every thread of it runs on CPU 0:
 * under the round-robin TCG of the test VMs another vCPU runs only when
 * this one idles, so a race across vCPUs would be rare, while on one CPU
 * a preemptible kernel (the debug VM's) lets a woken accept() run while
 * its waker still holds the listener. 2 checks.
 */
#define RACE_ACCEPTERS	6
#define RACE_CONNECTS	60
#define RACE_TIMEO_S	3

struct accept_race {
	int lfd, stop, accepted, early, early_errno, unpinned;
};

/* Moves the calling thread to CPU 0; 0 if it cannot. */
static int on_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	return !sched_setaffinity(0, sizeof(set), &set);
}

static void *race_accepter(void *arg)
{
	struct accept_race *r = arg;
	struct timespec t0;
	int fd;

	if (!on_cpu0())
		__atomic_add_fetch(&r->unpinned, 1, __ATOMIC_ACQ_REL);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		fd = accept(r->lfd, NULL, NULL);
		if (fd >= 0) {
			__atomic_add_fetch(&r->accepted, 1, __ATOMIC_ACQ_REL);
			close(fd);
			continue;
		}
		if (errno != EAGAIN || seconds_since(&t0) < 0.9 * RACE_TIMEO_S) {
			/* Anything but the whole timeout is a waiter given up. */
			if (!__atomic_fetch_add(&r->early, 1, __ATOMIC_ACQ_REL))
				r->early_errno = errno;
			return NULL;
		}
		if (__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
			return NULL;
	}
}

static void *race_locker(void *arg)
{
	struct accept_race *r = arg;
	unsigned long long q;
	socklen_t len;

	if (!on_cpu0())
		__atomic_add_fetch(&r->unpinned, 1, __ATOMIC_ACQ_REL);
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		len = sizeof(q);
		getsockopt(r->lfd, af, SO_VMCI_BUFFER_SIZE, &q, &len);
	}
	return NULL;
}

static void test_accept_race(void)
{
	struct timeval tv = { .tv_sec = RACE_TIMEO_S };
	pthread_t acc[RACE_ACCEPTERS], locker;
	int i, c, w, started = 0, locking, refused = 0;
	struct accept_race r = { 0 };
	unsigned int port;
	cpu_set_t saved;

	r.lfd = listener(&port, RACE_ACCEPTERS + 1);
	if (r.lfd < 0 || setsockopt(r.lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		tap_report(0, "accept_race_all_served", "setup: errno %d", errno);
		tap_report(0, "accept_race_none_early", "setup: errno %d", errno);
		if (r.lfd >= 0)
			close(r.lfd);
		return;
	}
	if (sched_getaffinity(0, sizeof(saved), &saved) || !on_cpu0())
		r.unpinned++;
	for (i = 0; i < RACE_ACCEPTERS; i++)
		started += !start_thread(&acc[i], race_accepter, &r);
	locking = !start_thread(&locker, race_locker, &r);
	usleep(200000);
	for (i = 0; i < RACE_CONNECTS; i++) {
		c = connect_to(port);
		refused += c < 0;
		/* One connection in the queue at a time: each is raced for. */
		for (w = 0; w < 200 && __atomic_load_n(&r.accepted, __ATOMIC_ACQUIRE) <= i; w++)
			usleep(5000);
		if (c >= 0)
			close(c);
	}
	/* The accepters see it after their next timeout. */
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < started; i++)
		pthread_join(acc[i], NULL);
	if (locking)
		pthread_join(locker, NULL);
	close(r.lfd);
	sched_setaffinity(0, sizeof(saved), &saved);
	tap_report(started == RACE_ACCEPTERS && locking && !refused && !r.unpinned &&
		   r.accepted == RACE_CONNECTS,
		   "accept_race_all_served", "%d of %d accepted, %d accepters, %d refused, %d not on CPU 0",
		   r.accepted, RACE_CONNECTS, started, refused, r.unpinned);
	tap_report(started == RACE_ACCEPTERS && !r.early, "accept_race_none_early",
		   "%d gave up early (first errno %d)", r.early, r.early_errno);
}

static void test_recv_signals(int lfd, unsigned int port)
{
	struct kicker k;
	struct later l;
	int a, b, err;
	ssize_t r;
	char c = 0;

	if (accept_pair(lfd, connect_sized(port), &a, &b)) {
		tap_report(0, "recv_signals_pair", "%s", strerror(errno));
		return;
	}
	set_handler(SIGALRM, on_alarm, 0);
	alarms = 0;
	kick_start(&k, 200);
	r = recv(a, &c, 1, 0);
	err = errno;
	kick_stop(&k);
	tap_report(r == -1 && err == EINTR && alarms > 0, "recv_idle_eintr",
		   "ret %zd errno %d (%s), %d alarms", r, err, strerror(err), (int)alarms);

	/* With SA_RESTART the read goes on through the signals and gets the byte. */
	set_handler(SIGALRM, on_alarm, SA_RESTART);
	alarms = 0;
	later_start(&l, b, 700, 0);
	kick_start(&k, 150);
	r = recv(a, &c, 1, 0);
	err = errno;
	kick_stop(&k);
	later_join(&l);
	tap_report(r == 1 && c == 'z' && alarms > 0, "recv_sa_restart_returns_data",
		   "ret %zd errno %d (%s) byte %#x, %d alarms", r, err, strerror(err), c,
		   (int)alarms);
	set_handler(SIGALRM, on_alarm, 0);
	close(a);
	close(b);
}

static void test_send_signals(int lfd, unsigned int port)
{
	const size_t big = 1 << 20;
	unsigned char *buf = malloc(big), *got = malloc(big);
	size_t i, filled, total = 0;
	struct kicker k;
	int a, b, err, inq = -1;
	ssize_t r, n;

	if (!buf || !got || accept_pair(lfd, connect_sized(port), &a, &b)) {
		tap_report(0, "send_signals_pair", "%s", strerror(errno));
		free(buf);
		free(got);
		return;
	}
	for (i = 0; i < big; i++)
		buf[i] = i * 7 + (i >> 11);
	set_handler(SIGALRM, on_alarm, 0);

	/* Queue already full: the send blocks before its first byte. */
	filled = fill_queue(a);
	tap_report(filled > 0, "send_fill_queue_eagain", "%s", strerror(errno));
	alarms = 0;
	kick_start(&k, 200);
	r = send(a, buf, 4096, MSG_NOSIGNAL);
	err = errno;
	kick_stop(&k);
	tap_report(r == -1 && err == EINTR && alarms > 0, "send_full_queue_eintr",
		   "ret %zd errno %d (%s), %d alarms", r, err, strerror(err), (int)alarms);
	close(a);
	close(b);

	/*
	 * Empty queue, 1 MiB to send: the call fills the queue, blocks, and the
	 * signal ends it with the count written, as for TCP; those bytes stay
	 * queued and intact.
	 */
	if (accept_pair(lfd, connect_sized(port), &a, &b)) {
		tap_report(0, "send_signals_pair", "%s", strerror(errno));
		free(buf);
		free(got);
		return;
	}
	alarms = 0;
	kick_start(&k, 300);
	r = send(a, buf, big, MSG_NOSIGNAL);
	err = errno;
	kick_stop(&k);
	tap_report(r > 0 && (size_t)r < big && alarms > 0, "send_interrupted_returns_partial_count",
		   "ret %zd errno %d (%s) of %zu, %d alarms", r, err, strerror(err), big,
		   (int)alarms);
	ioctl(b, SIOCINQ, &inq);
	tap_check_int("send_partial_count_is_what_peer_has", inq, r);
	while ((n = recv(b, got + total, big - total, MSG_DONTWAIT)) > 0)
		total += n;
	tap_report(r > 0 && total == (size_t)r && !memcmp(got, buf, total),
		   "send_partial_bytes_intact", "read %zu of %zd", total, r);
	close(a);
	close(b);
	free(buf);
	free(got);
}

/* --- The peer closes while this side blocks ------------------------------ */

static void test_peer_close_blocked_writer(int lfd, unsigned int port, int flags)
{
	const char *tag = flags & MSG_NOSIGNAL ? "_nosignal" : "";
	char name[80], buf[4096] = { 0 };
	struct later l;
	int a, b, err, closed;
	ssize_t r;

	if (accept_pair(lfd, connect_sized(port), &a, &b)) {
		tap_report(0, "peer_close_writer_pair", "%s", strerror(errno));
		return;
	}
	set_handler(SIGPIPE, on_sigpipe, 0);
	sigpipes = 0;
	fill_queue(a);
	later_start(&l, b, 300, 1);
	r = send(a, buf, sizeof(buf), flags);
	err = errno;
	closed = later_join(&l);
	snprintf(name, sizeof(name), "peer_close_blocked_writer%s_epipe", tag);
	tap_report(r == -1 && err == EPIPE && closed, name, "ret %zd errno %d (%s), closed %d",
		   r, err, strerror(err), closed);
	snprintf(name, sizeof(name), "peer_close_blocked_writer%s_sigpipe_%s", tag,
		 flags & MSG_NOSIGNAL ? "none" : "once");
	tap_check_int(name, sigpipes, flags & MSG_NOSIGNAL ? 0 : 1);
	set_handler(SIGPIPE, SIG_IGN, 0);
	close(a);
}

/*
 * As for TCP and Linux AF_VSOCK: the peer's close makes a poller readable
 * with RDHUP, and POLLHUP only follows once we stopped sending as well.
 */
static void test_peer_close_poll(int lfd, unsigned int port)
{
	struct pollfd p;
	struct later l;
	int a, b, r, closed;
	char c;

	if (accept_pair(lfd, connect_sized(port), &a, &b)) {
		tap_report(0, "peer_close_poll_pair", "%s", strerror(errno));
		return;
	}
	p = (struct pollfd){ .fd = a, .events = POLLIN | POLLRDHUP };
	later_start(&l, b, 300, 1);
	r = poll(&p, 1, 5000);
	closed = later_join(&l);
	tap_report(r == 1 && closed && (p.revents & (POLLIN | POLLRDHUP)) == (POLLIN | POLLRDHUP),
		   "peer_close_wakes_poll_in_rdhup", "ret %d revents %#x closed %d", r,
		   p.revents, closed);
	tap_report(!(p.revents & (POLLHUP | POLLERR)), "peer_close_poll_no_hup_before_own_shutdown",
		   "revents %#x", p.revents);
	tap_check_int("peer_close_poll_then_eof", read(a, &c, 1), 0);
	shutdown(a, SHUT_WR);
	p.revents = 0;
	r = poll(&p, 1, 0);
	tap_report(r == 1 && (p.revents & POLLHUP), "peer_close_and_shut_wr_pollhup",
		   "ret %d revents %#x", r, p.revents);
	close(a);

	/* A writer polling on a full queue wakes writable, then gets EPIPE. */
	if (accept_pair(lfd, connect_sized(port), &a, &b)) {
		tap_report(0, "peer_close_poll_pair", "%s", strerror(errno));
		return;
	}
	fill_queue(a);
	p = (struct pollfd){ .fd = a, .events = POLLOUT };
	tap_check_int("full_queue_not_writable", poll(&p, 1, 0), 0);
	later_start(&l, b, 300, 1);
	r = poll(&p, 1, 5000);
	closed = later_join(&l);
	tap_report(r == 1 && closed && (p.revents & POLLOUT), "peer_close_wakes_poll_out",
		   "ret %d revents %#x closed %d", r, p.revents, closed);
	CHECK_ERRNO("peer_close_poll_out_then_epipe", send(a, &c, 1, MSG_NOSIGNAL), EPIPE);
	close(a);
}

/* --- A peer that never answers: a VMM context on /dev/vmci --------------- */

/* /dev/vmci ABI (facts section 6), restated here. */
#define IOC_VMCI_INIT_CONTEXT	1952
#define IOC_VMCI_VERSION2	1959
#define IOC_VMCI_DG_RECEIVE	1964
#define VMCI_VERSION_NOVMVM	0x000B0000
#define VMCI_NO_MORE_DATAGRAMS	(-6)
#define VMM_WANTED_CID		1000u
#define VMM_PORT		7000u

/* Control packet types (facts section 7.2). */
#define PKT_RST			7
#define PKT_REQUEST2		11

static int vmm_open(uint32_t *cid)
{
	struct vmm_init_blk blk = { .cid = VMM_WANTED_CID };
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

/* The context's oldest pending datagram; its VMCI result (0 = got one). */
static int vmm_recv(int fd, struct ctl_packet *p)
{
	unsigned char buf[4096];
	struct vmm_dg_info info = { .addr = (uintptr_t)buf, .len = sizeof(buf) };

	memset(p, 0, sizeof(*p));
	if (ioctl(fd, IOC_VMCI_DG_RECEIVE, &info))
		return -1000 - errno;
	if (!info.result)
		memcpy(p, buf, sizeof(*p));
	return info.result;
}

/* What a connect to {vmm_cid, VMM_PORT} from @fd must have sent. */
static int is_request2(const struct ctl_packet *p, uint32_t vmm_cid, int fd)
{
	struct sockaddr_vm me;
	socklen_t len = sizeof(me);

	if (getsockname(fd, (struct sockaddr *)&me, &len))
		return 0;
	/*
	 * A failed connect lets go of the port it chose itself (vmsock-sockets.md):
	 * then the socket names no port, and the REQUEST's is checked against the RST's.
	 */
	return p->dst_cid == vmm_cid && p->dst_rid == 1 && p->src_cid == local_cid &&
	       p->src_rid == 1 && p->payload_size == 32 && p->version == 1 &&
	       p->type == PKT_REQUEST2 && p->proto == 1 &&
	       (p->src_port == me.svm_port || me.svm_port == VMADDR_PORT_ANY) &&
	       p->dst_port == VMM_PORT && !p->reserved2 && p->u0 == 262144;
}

/* The VMM's queue holds REQUEST2 then RST from @fd's one attempt, and no more. */
static void check_one_attempt(const char *name, int vfd, uint32_t vmm_cid, int sfd)
{
	struct ctl_packet req, rst, more;
	int r1 = vmm_recv(vfd, &req), r2 = vmm_recv(vfd, &rst), r3 = vmm_recv(vfd, &more);

	tap_report(!r1 && is_request2(&req, vmm_cid, sfd) && !r2 && rst.type == PKT_RST &&
		   rst.src_port == req.src_port && rst.dst_port == VMM_PORT &&
		   r3 == VMCI_NO_MORE_DATAGRAMS, name,
		   "results %d %d %d; types %u %u %u; ports %u->%u, dst %u:%u src %u:%u size %llu",
		   r1, r2, r3, req.type, rst.type, more.type, req.src_port, req.dst_port,
		   req.dst_cid, req.dst_rid, req.src_cid, req.src_rid,
		   (unsigned long long)req.u0);
}

static int timeout_socket(long usec)
{
	struct timeval tv = { .tv_sec = usec / 1000000, .tv_usec = usec % 1000000 };
	int fd = stream_socket();

	if (fd >= 0)
		setsockopt(fd, af, SO_VMCI_CONNECT_TIMEOUT, &tv, sizeof(tv));
	return fd;
}

/*
 * The kernel's timer counts in jiffies from inside the current one, so it
 * may end up to a jiffy (10 ms at HZ=100) before the wall-clock timeout.
 */
#define JIFFY_SLACK	0.010

static void test_connect_timeout(int vfd, uint32_t vmm_cid)
{
	struct sockaddr_vm a = vm_addr(vmm_cid, VMM_PORT);
	socklen_t len = sizeof(int);
	struct timespec t0;
	struct pollfd p;
	int fd, r, err, so_err = -1;
	double el;

	fd = timeout_socket(500000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	err = errno;
	el = seconds_since(&t0);
	tap_report(r == -1 && err == ETIMEDOUT, "connect_unanswered_etimedout",
		   "ret %d errno %d (%s) after %.3f s", r, err, strerror(err), el);
	/* Under the 2 s default: the option was used. */
	tap_report(el >= 0.5 - JIFFY_SLACK && el < 2.0, "connect_timeout_500ms_honoured",
		   "%.3f s", el);
	printf("# connect timeout of 0.5 s took %.3f s\n", el);
	check_one_attempt("connect_unanswered_request2_then_rst", vfd, vmm_cid, fd);
	len = sizeof(a);
	CHECK_ERRNO("connect_timed_out_not_connected",
		    getpeername(fd, (struct sockaddr *)&a, &len), ENOTCONN);
	close(fd);

	fd = timeout_socket(500000);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	a = vm_addr(vmm_cid, VMM_PORT);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_ERRNO("nonblock_connect_unanswered_einprogress",
		    connect(fd, (struct sockaddr *)&a, sizeof(a)), EINPROGRESS);
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	r = poll(&p, 1, 10000);
	el = seconds_since(&t0);
	tap_report(r == 1 && (p.revents & POLLERR), "nonblock_connect_unanswered_pollerr",
		   "ret %d revents %#x after %.3f s", r, p.revents, el);
	tap_report(el >= 0.5 - JIFFY_SLACK, "nonblock_connect_timeout_not_early", "%.3f s", el);
	len = sizeof(so_err);
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_err, &len);
	tap_check_int("nonblock_connect_unanswered_so_error_etimedout", so_err, ETIMEDOUT);
	check_one_attempt("nonblock_connect_request2_then_rst", vfd, vmm_cid, fd);
	close(fd);
}

/*
 * A signal ends the wait of a blocking connect with EINTR; as POSIX asks,
 * the attempt goes on: a second connect says EALREADY (non-blocking) or
 * waits for the same attempt's end (blocking), and the peer saw one
 * REQUEST2 only.
 */
static void test_connect_eintr(int vfd, uint32_t vmm_cid)
{
	struct sockaddr_vm a = vm_addr(vmm_cid, VMM_PORT);
	struct timespec t0;
	struct kicker k;
	int fd, r, err;
	double el;

	fd = timeout_socket(1500000);
	set_handler(SIGALRM, on_alarm, 0);
	alarms = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	kick_start(&k, 200);
	r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	err = errno;
	kick_stop(&k);
	tap_report(r == -1 && err == EINTR && alarms > 0, "connect_eintr",
		   "ret %d errno %d (%s) after %.3f s, %d alarms", r, err, strerror(err),
		   seconds_since(&t0), (int)alarms);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	CHECK_ERRNO("connect_after_eintr_ealready", connect(fd, (struct sockaddr *)&a, sizeof(a)),
		    EALREADY);
	fcntl(fd, F_SETFL, 0);
	r = connect(fd, (struct sockaddr *)&a, sizeof(a));
	err = errno;
	el = seconds_since(&t0);
	tap_report(r == -1 && err == ETIMEDOUT && el >= 1.5 - JIFFY_SLACK,
		   "connect_after_eintr_same_attempt_times_out",
		   "ret %d errno %d (%s) after %.3f s", r, err, strerror(err), el);
	check_one_attempt("connect_eintr_one_request2", vfd, vmm_cid, fd);
	close(fd);
}

static void test_unanswered_peer(void)
{
	uint32_t vmm_cid = 0;
	int vfd = vmm_open(&vmm_cid);

	tap_report(vfd >= 0 && vmm_cid != local_cid, "vmm_context", "%s, cid %u",
		   strerror(errno), vmm_cid);
	if (vfd < 0)
		return;
	test_connect_timeout(vfd, vmm_cid);
	test_connect_eintr(vfd, vmm_cid);
	close(vfd);
}

static void test_options(void)
{
	int fd = stream_socket();
	unsigned long long v = 0;
	socklen_t len = sizeof(v);
	struct timeval tv = { 0 };

	getsockopt(fd, af, SO_VMCI_BUFFER_SIZE, &v, &len);
	tap_check_int("opt_buffer_size_default", v, 262144);
	v = 64;
	setsockopt(fd, af, SO_VMCI_BUFFER_SIZE, &v, sizeof(v));
	getsockopt(fd, af, SO_VMCI_BUFFER_MIN_SIZE, &v, &len);
	tap_check_int("opt_size_below_min_lowers_min", v, 64);
	v = 1 << 20;
	setsockopt(fd, af, SO_VMCI_BUFFER_SIZE, &v, sizeof(v));
	getsockopt(fd, af, SO_VMCI_BUFFER_MAX_SIZE, &v, &len);
	tap_check_int("opt_size_above_max_raises_max", v, 1 << 20);
	v = 4096;
	setsockopt(fd, af, SO_VMCI_BUFFER_MAX_SIZE, &v, sizeof(v));
	getsockopt(fd, af, SO_VMCI_BUFFER_SIZE, &v, &len);
	tap_check_int("opt_max_below_size_lowers_size", v, 4096);
	v = 8192;
	setsockopt(fd, af, SO_VMCI_BUFFER_MIN_SIZE, &v, sizeof(v));
	getsockopt(fd, af, SO_VMCI_BUFFER_SIZE, &v, &len);
	tap_check_int("opt_min_above_size_raises_size", v, 8192);
	CHECK_ERRNO("opt_buffer_short_einval", setsockopt(fd, af, SO_VMCI_BUFFER_SIZE, &v, 4),
		    EINVAL);
	len = sizeof(tv);
	getsockopt(fd, af, SO_VMCI_CONNECT_TIMEOUT, &tv, &len);
	tap_report(tv.tv_sec == 2 && tv.tv_usec == 0, "opt_connect_timeout_default",
		   "%ld.%06ld", (long)tv.tv_sec, (long)tv.tv_usec);
	tv.tv_sec = 5;
	setsockopt(fd, af, SO_VMCI_CONNECT_TIMEOUT, &tv, sizeof(tv));
	getsockopt(fd, af, SO_VMCI_CONNECT_TIMEOUT, &tv, &len);
	tap_check_int("opt_connect_timeout_set", tv.tv_sec, 5);
	tv.tv_sec = -1;
	CHECK_ERRNO("opt_connect_timeout_negative_erange",
		    setsockopt(fd, af, SO_VMCI_CONNECT_TIMEOUT, &tv, sizeof(tv)), ERANGE);
	tv.tv_sec = 0;
	tv.tv_usec = 1000000;
	CHECK_ERRNO("opt_connect_timeout_usec_erange",
		    setsockopt(fd, af, SO_VMCI_CONNECT_TIMEOUT, &tv, sizeof(tv)), ERANGE);
	close(fd);
}

/* A small proposed queue is accepted and wraps constantly, full and empty. */
static void test_small_queue(unsigned int port)
{
	char why[160] = "";

	client_queue = 4096;
	tap_report(!echo_once(port, 1 << 20, 10000, why, sizeof(why)), "echo_queue_4096",
		   "%s", why);
	client_queue = 0;
}

static int set_old_request(const char *v)
{
	FILE *f = fopen("/sys/module/vmsock/parameters/stream_old_request", "w");
	int ok;

	if (!f)
		return -1;
	ok = fputs(v, f) >= 0;
	return fclose(f) || !ok ? -1 : 0;
}

/* Clients ask the way old peers do: REQUEST, NEGOTIATE, packet protocol. */
static void test_old_request(unsigned int port)
{
	char why[160] = "";

	if (set_old_request("1")) {
		tap_report(0, "old_request_param", "%s", strerror(errno));
		return;
	}
	tap_report(!echo_once(port, 4 << 20, 65536, why, sizeof(why)),
		   "old_request_echo_4194304_by_65536", "%s", why);
	tap_report(!echo_once(port, 1 << 20, 3000, why, sizeof(why)),
		   "old_request_echo_1048576_by_3000", "%s", why);
	set_old_request("0");
}

static void *watchdog_loop(void *arg)
{
	(void)arg;
	sleep(240);
	printf("not ok watchdog # still running after 240 s\n");
	fflush(stdout);
	_exit(1);
}

int main(void)
{
	pthread_t server, watchdog;
	unsigned int port, eport;
	int lfd, efd, afd = -1;
	struct timespec start, end;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/*
	 * main 1, errors 19, options 10, no_listener 4, nonblock_connect 8,
	 * shutdown_and_io 15, peer_close_while_reading 1, data_before_eof 1,
	 * close_listener 2, eintr_accept 1, accept_waits 4, accept_race 2, recv_signals 2, send_signals 5,
	 * blocked_writer 2 twice, peer_close_poll 7, unanswered_peer 14, echo 11, concurrent 2,
	 * small_queue 1, old_request 2; *_pair and setup only on failure.
	 */
	tap_plan(116);
	srand(time(NULL) ^ getpid());
	af = VMCISock_GetAFValueFd(&afd);
	local_cid = VMCISock_GetLocalCID();
	if (af < 0 || local_cid == VMADDR_CID_ANY) {
		tap_report(0, "setup", "af %d cid %u", af, local_cid);
		return 1;
	}
	/*
	 * A hang must fail the run, not stall the VM. A thread, not alarm():
	 * the tests below catch SIGALRM themselves.
	 */
	start_thread(&watchdog, watchdog_loop, NULL);
	clock_gettime(CLOCK_MONOTONIC, &start);

	/* Room for all CONCURRENT connections even if accept() falls behind. */
	efd = listener(&eport, 2 * CONCURRENT);
	tap_report(efd >= 0, "listen", "%s", strerror(errno));
	if (efd < 0)
		return 1;
	start_thread(&server, echo_server, (void *)(intptr_t)efd);

	lfd = listener(&port, 16);
	test_errors(lfd, port);
	test_options();
	test_no_listener();
	test_nonblock_connect(lfd, port);
	test_shutdown_and_io(lfd, port);
	test_peer_close_while_reading(lfd, port);
	test_data_before_eof(lfd, port);
	test_close_listener_with_queue();
	test_eintr_accept();
	test_accept_waits();
	test_accept_race();
	test_recv_signals(lfd, port);
	test_send_signals(lfd, port);
	test_peer_close_blocked_writer(lfd, port, 0);
	test_peer_close_blocked_writer(lfd, port, MSG_NOSIGNAL);
	test_peer_close_poll(lfd, port);
	test_unanswered_peer();
	test_echo(eport);
	test_concurrent(eport);
	test_small_queue(eport);
	test_old_request(eport);
	close(lfd);
	/* Wakes the echo server's accept with EINVAL once it sees the close. */
	shutdown(efd, SHUT_RDWR);
	clock_gettime(CLOCK_MONOTONIC, &end);
	printf("# whole test: %.1f s\n", (end.tv_sec - start.tv_sec) +
	       (end.tv_nsec - start.tv_nsec) / 1e9);
	return tap_exit_code();
}
