// SPDX-License-Identifier: GPL-2.0
/*
 * vmsock SOCK_STREAM between sockets of this machine: echo integrity from
 * one byte to 64 MiB with several write sizes, many connections at once,
 * the handshake's failure cases, shutdown, close and signal semantics,
 * options, ioctls, and the errno of every rule the socket enforces.
 *
 * Usage: vsock_stream   (vmsock loaded with defaults, run as root)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
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
#include "tap.h"

#ifndef SIOCINQ
#define SIOCINQ		0x541B
#endif
#ifndef SIOCOUTQ
#define SIOCOUTQ	0x5411
#endif

#define CONCURRENT	50
#define CONCURRENT_BYTES (128 * 1024)

static int af;
static unsigned int local_cid;
/* Queue size connect_to() proposes; 0 leaves the default. */
static unsigned long long client_queue;

static struct sockaddr_vm vm_addr(unsigned int cid, unsigned int port)
{
	struct sockaddr_vm a;

	memset(&a, 0, sizeof(a));
	a.svm_family = af;
	a.svm_cid = cid;
	a.svm_port = port;
	return a;
}

static int stream_socket(void)
{
	return socket(af, SOCK_STREAM, 0);
}

/* A listener on {ANY, dynamic port}; the port in *port. */
static int listener(unsigned int *port, int backlog)
{
	struct sockaddr_vm a = vm_addr(VMADDR_CID_ANY, VMADDR_PORT_ANY);
	socklen_t len = sizeof(a);
	int fd = stream_socket();

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len) || listen(fd, backlog)) {
		close(fd);
		return -1;
	}
	*port = a.svm_port;
	return fd;
}

static int connect_to(unsigned int port)
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

/* A connected pair: *a the client, *b the accepted end. */
static int pair(int lfd, unsigned int port, int *a, int *b)
{
	*a = connect_to(port);
	if (*a < 0)
		return -1;
	*b = accept(lfd, NULL, NULL);
	if (*b < 0) {
		close(*a);
		return -1;
	}
	return 0;
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
	static __thread unsigned char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (write_all(fd, buf, n))
			break;
	close(fd);
	return NULL;
}

static void *echo_server(void *arg)
{
	int lfd = (int)(intptr_t)arg;
	pthread_t t;
	int fd;

	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		if (pthread_create(&t, NULL, echo_conn, (void *)(intptr_t)fd)) {
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

/* One echo round trip; returns 0 when everything came back intact. */
static int echo_once(unsigned int port, size_t total, size_t chunk, char *why, size_t whylen)
{
	struct sender s = { .total = total, .chunk = chunk, .seed = rand() };
	static __thread unsigned char buf[65536];
	uint64_t sum = 0xcbf29ce484222325ULL;
	size_t got = 0;
	pthread_t t;
	ssize_t n;

	s.fd = connect_to(port);
	if (s.fd < 0) {
		snprintf(why, whylen, "connect: %s", strerror(errno));
		return -1;
	}
	if (pthread_create(&t, NULL, send_side, &s)) {
		close(s.fd);
		snprintf(why, whylen, "pthread_create");
		return -1;
	}
	while ((n = read(s.fd, buf, sizeof(buf))) > 0) {
		sum = mix(sum, buf, n);
		got += n;
	}
	if (n < 0)
		snprintf(why, whylen, "read: %s", strerror(errno));
	pthread_join(t, NULL);
	close(s.fd);
	if (n < 0)
		return -1;
	if (s.err || got != total || sum != s.sum) {
		snprintf(why, whylen, "write err %d, got %zu of %zu bytes, sum %s", s.err,
			 got, total, sum == s.sum ? "ok" : "differs");
		return -1;
	}
	return 0;
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

struct conc {
	unsigned int port;
	int ok;
	char why[160];
};

static void *conc_client(void *arg)
{
	struct conc *c = arg;

	c->ok = !echo_once(c->port, CONCURRENT_BYTES, 16384, c->why, sizeof(c->why));
	return NULL;
}

static void test_concurrent(unsigned int port)
{
	static struct conc c[CONCURRENT];
	pthread_t t[CONCURRENT];
	int i, good = 0, started = 0;
	const char *why = "";

	for (i = 0; i < CONCURRENT; i++) {
		c[i].port = port;
		if (!pthread_create(&t[i], NULL, conc_client, &c[i]))
			started++;
		else
			break;
	}
	for (i = 0; i < started; i++) {
		pthread_join(t[i], NULL);
		if (c[i].ok)
			good++;
		else
			why = c[i].why;
	}
	tap_report(good == CONCURRENT, "concurrent_50_echo", "%d of %d good (%s)", good,
		   CONCURRENT, why);
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
	CHECK_ERRNO("connect_no_listener_econnreset", connect_to(port), ECONNRESET);

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

		if (setuid(65534))
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

	if (pair(lfd, port, &a, &b)) {
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
	if (!pair(lfd, port, &a, &b)) {
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

	if (pair(lfd, port, &a, &b))
		return;
	pthread_create(&t, NULL, close_later, (void *)(intptr_t)b);
	tap_check_int("peer_close_wakes_blocked_reader", read(a, &c, 1), 0);
	pthread_join(t, NULL);
	close(a);
}

static void test_close_listener_with_queue(void)
{
	unsigned int port;
	int lfd = listener(&port, 8), c[3], i, ok = 1;
	char ch;

	for (i = 0; i < 3; i++)
		c[i] = connect_to(port);
	close(lfd);
	for (i = 0; i < 3; i++) {
		if (c[i] < 0 || read(c[i], &ch, 1) != 0)
			ok = 0;
		close(c[i]);
	}
	tap_report(ok, "close_listener_with_accept_queue_eof", "");
	CHECK_ERRNO("connect_after_listener_closed", connect_to(port), ECONNRESET);
}

static void on_alarm(int sig)
{
	(void)sig;
}

static void test_eintr_accept(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct itimerval it = { .it_value = { .tv_usec = 200000 } };
	unsigned int port;
	int lfd = listener(&port, 1);

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	CHECK_ERRNO("accept_eintr", accept(lfd, NULL, NULL), EINTR);
	close(lfd);
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

int main(void)
{
	pthread_t server;
	unsigned int port, eport;
	int lfd, efd, afd = -1;
	struct timespec start, end;

	setvbuf(stdout, NULL, _IOLBF, 0);
	srand(time(NULL) ^ getpid());
	af = VMCISock_GetAFValueFd(&afd);
	local_cid = VMCISock_GetLocalCID();
	if (af < 0 || local_cid == VMADDR_CID_ANY) {
		tap_report(0, "setup", "af %d cid %u", af, local_cid);
		return 1;
	}
	/* A hang must fail the run, not stall the VM. */
	alarm(240);
	clock_gettime(CLOCK_MONOTONIC, &start);

	efd = listener(&eport, 128);
	tap_report(efd >= 0, "listen", "%s", strerror(errno));
	if (efd < 0)
		return 1;
	pthread_create(&server, NULL, echo_server, (void *)(intptr_t)efd);

	lfd = listener(&port, 16);
	test_errors(lfd, port);
	test_options();
	test_no_listener();
	test_nonblock_connect(lfd, port);
	test_shutdown_and_io(lfd, port);
	test_peer_close_while_reading(lfd, port);
	test_close_listener_with_queue();
	test_eintr_accept();
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
