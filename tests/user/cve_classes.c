// SPDX-License-Identifier: GPL-2.0
/*
 * One regression test per class of bug that hit the in-tree vSockets and
 * VMCI code, each named after the CVE that anchors the class. None of
 * them reproduces the original bug (our code is different); each drives
 * the same pattern hard for a bounded time so that the debug kernel's
 * KASAN, lockdep and kmemleak catch a use-after-free, a lock inversion or
 * a lost reference, and checks that the sockets and handles still behave
 * afterwards.
 *
 * - CVE-2021-26708: socket state changed under threads that use it:
 *   connect, setsockopt, sendmsg, getsockopt and poll on one socket from
 *   several threads while the connection comes and goes.
 * - CVE-2024-50264: a connect interrupted by a signal, then the socket
 *   reused (connected again, closed) while the first attempt is in flight.
 * - CVE-2025-21756: a bound socket whose connect fails and which is then
 *   connected, rebound and closed, over and over: the binding's reference
 *   must live exactly as long as the socket.
 * - CVE-2024-46738: VMCI resources removed while in use: datagram handles
 *   (datagram sockets) closed and doorbells destroyed while other threads
 *   deliver to them.
 *
 * The first three are what any local user can do with sockets, so each
 * runs in a child that becomes uid 65534 as soon as its silent VMM (on
 * /dev/vmci, which is root's) is open; the fourth plays VMMs throughout.
 *
 * Needs vmci_test_endpoint.ko (echo 1500, doorbell 1502, arming 1503).
 *
 * Usage: cve_classes [seconds-per-test]   (default 8)
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
#include "nobody.h"
#include "tap.h"
#include "vsock_addr.h"
#include "vmci_stats.h"
#include "vmm_dev.h"

#define DBELL_RID		1502u
#define ARM_RID			1503u
#define RES_DOOR_BELL		1
#define ACT_NOTIFY		0
#define ACT_CREATE		1
#define ACT_DESTROY		2

#define RACE_FD			200	/* the one socket the race threads share */
#define VMM_PORT		7000u	/* nobody answers there */
#define PORT_REBIND		6200u
#define PORT_DG_VICTIM		6201u
#define THREAD_STACK		(256 * 1024)

static int seconds = 8;
#define MIN_REMOVAL_LOOPS	20
static volatile int stop;
/* The acceptor runs until after the final echo check, so it has its own flag. */
static volatile int acceptor_stop;

/* ---- small helpers ----------------------------------------------------- */

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	int r;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	r = pthread_create(t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return r;
}

static int vconnect(int fd, unsigned int cid, unsigned int port)
{
	struct sockaddr_vm a = vm_addr(cid, port);

	return connect(fd, (struct sockaddr *)&a, sizeof(a));
}

static int vbind(int fd, unsigned int port)
{
	struct sockaddr_vm a = vm_addr(VMADDR_CID_ANY, port);

	return bind(fd, (struct sockaddr *)&a, sizeof(a));
}

/*
 * 64 KiB queues: as uid 65534 a loop's live pairs (the backlog of 64 and
 * a few accepted) take 8 MiB of the user's 32 MiB queue-pair share, not
 * all of it as default-sized pairs would.
 */
#define RACE_QUEUE	65536ULL

static int timeout_socket(long usec)
{
	struct timeval tv = { .tv_sec = usec / 1000000, .tv_usec = usec % 1000000 };
	unsigned long long size = RACE_QUEUE;
	int fd = socket(af, SOCK_STREAM, 0);

	if (fd >= 0) {
		setsockopt(fd, af, SO_VMCI_CONNECT_TIMEOUT, &tv, sizeof(tv));
		setsockopt(fd, af, SO_VMCI_BUFFER_MIN_SIZE, &size, sizeof(size));
		setsockopt(fd, af, SO_VMCI_BUFFER_SIZE, &size, sizeof(size));
	}
	return fd;
}

static int readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

/* A listener on a dynamic port, its port in *port. */
static int listener(unsigned int *port)
{
	struct sockaddr_vm a = vm_addr(VMADDR_CID_ANY, VMADDR_PORT_ANY);
	socklen_t len = sizeof(a);
	int fd = socket(af, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len) || listen(fd, 64)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = a.svm_port;
	return fd;
}

/* Accepts and echoes one byte per connection until stop; closes each. */
static void *acceptor(void *arg)
{
	int lfd = (int)(intptr_t)arg;

	while (!acceptor_stop) {
		char buf[256];
		int c;

		if (!readable(lfd, 50))
			continue;
		c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		if (c < 0)
			continue;
		if (readable(c, 20)) {
			ssize_t n = recv(c, buf, sizeof(buf), 0);

			if (n > 0)
				send(c, buf, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		}
		close(c);
	}
	return NULL;
}

/* A connection to the listener carries a byte there and back. */
static int echo_works_once(unsigned int port);

/* The echo check, then the acceptor ends. */
static int echo_works(unsigned int port, pthread_t acc)
{
	int ok = echo_works_once(port);

	acceptor_stop = 1;
	pthread_join(acc, NULL);
	return ok;
}

static int echo_works_once(unsigned int port)
{
	int fd = timeout_socket(2000000), ok = 0;
	char c = 0;

	if (fd < 0)
		return 0;
	if (!vconnect(fd, local_cid, port) && send(fd, "e", 1, MSG_NOSIGNAL) == 1 &&
	    readable(fd, 3000) && recv(fd, &c, 1, 0) == 1)
		ok = c == 'e';
	close(fd);
	return ok;
}

/* A VMM context that never answers, and a thread that keeps its queue empty. */
struct silent_vmm {
	int fd;
	uint32_t cid;
	pthread_t drainer;
};

static void *drain_loop(void *arg)
{
	struct silent_vmm *v = arg;
	unsigned char buf[4096];

	while (!stop) {
		struct snd_rcv_info info = { .addr = (uintptr_t)buf, .len = sizeof(buf) };

		if (!readable(v->fd, 50))
			continue;
		/* Empty the queue each time: a REQUEST per connect fills it fast. */
		while (!stop && !ioctl(v->fd, IOC_DG_RECEIVE, &info))
			info = (struct snd_rcv_info){ .addr = (uintptr_t)buf, .len = sizeof(buf) };
		usleep(1000);
	}
	return NULL;
}

/* Set in the child of run_as_nobody(): drop privileges once the VMM is open. */
static int drop_after_vmm;

static int silent_vmm_start(struct silent_vmm *v)
{
	v->fd = vmm_open_ctx(0, &v->cid);
	if (v->fd < 0)
		return -1;
	/* The open context keeps working for its drainer after the drop. */
	if (drop_after_vmm && drop_to_nobody()) {
		close(v->fd);
		return -1;
	}
	if (start_thread(&v->drainer, drain_loop, v)) {
		close(v->fd);
		return -1;
	}
	if (drop_after_vmm)
		printf("# sockets of uid %u from here on\n", (unsigned int)geteuid());
	return 0;
}

static void silent_vmm_stop(struct silent_vmm *v)
{
	pthread_join(v->drainer, NULL);
	close(v->fd);
}

static int errno_in(int err, const int *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] == err)
			return 1;
	return 0;
}

/* Counts of what happened, and the first errno nobody expected. */
struct tally {
	long ok, expected_err, unexpected;
	int first_bad_errno;
	const char *first_bad_what;
	pthread_mutex_t lock;
};

static void tally_err(struct tally *t, const char *what, int err, const int *set, size_t n)
{
	pthread_mutex_lock(&t->lock);
	if (errno_in(err, set, n)) {
		t->expected_err++;
	} else {
		if (!t->unexpected++) {
			t->first_bad_errno = err;
			t->first_bad_what = what;
		}
	}
	pthread_mutex_unlock(&t->lock);
}

static void tally_ok(struct tally *t)
{
	pthread_mutex_lock(&t->lock);
	t->ok++;
	pthread_mutex_unlock(&t->lock);
}

#define TALLY_INIT { .lock = PTHREAD_MUTEX_INITIALIZER }
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- CVE-2021-26708: socket state changed under concurrent users -------- */

struct race_ctx {
	unsigned int port;
	uint32_t vmm_cid;
	struct tally t;
};

/*
 * Any state a stream socket can be in makes these legal; a use-after-free
 * or a state the code did not expect shows up elsewhere (KASAN, EFAULT).
 * ENOBUFS: the silent VMM's datagram queue is at its limit for a moment
 * (a context holds at most 139,264 bytes of pending datagrams).
 */
static const int race_errs[] = {
	EISCONN, EALREADY, EINPROGRESS, ECONNREFUSED, ECONNRESET, ETIMEDOUT, ENOTCONN,
	EINVAL, EAGAIN, EPIPE, ENETUNREACH, EADDRNOTAVAIL, EBADF, ENOTSOCK, EHOSTUNREACH,
	EINTR, EOPNOTSUPP, ESHUTDOWN, ENOBUFS,
};

static void *race_connector(void *arg)
{
	struct race_ctx *c = arg;
	unsigned int i = 0;

	while (!stop) {
		int r;

		/* Our listener, the silent VMM (non-blocking) and nowhere at all. */
		switch (i++ % 3) {
		case 0:
			r = vconnect(RACE_FD, local_cid, c->port);
			break;
		case 1:
			fcntl(RACE_FD, F_SETFL, O_NONBLOCK);
			r = vconnect(RACE_FD, c->vmm_cid, VMM_PORT);
			fcntl(RACE_FD, F_SETFL, 0);
			break;
		default:
			r = vconnect(RACE_FD, 0x7ffffff0, VMM_PORT);
			break;
		}
		if (r)
			tally_err(&c->t, "connect", errno, race_errs, NELEM(race_errs));
		else
			tally_ok(&c->t);
	}
	return NULL;
}

static void *race_options(void *arg)
{
	struct race_ctx *c = arg;
	unsigned long long q = 4096;

	while (!stop) {
		struct timeval tv = { .tv_usec = 100000 };
		socklen_t len = sizeof(q);

		q = q == 4096 ? 1 << 20 : 4096;
		if (setsockopt(RACE_FD, af, SO_VMCI_BUFFER_SIZE, &q, sizeof(q)) ||
		    setsockopt(RACE_FD, af, SO_VMCI_CONNECT_TIMEOUT, &tv, sizeof(tv)) ||
		    getsockopt(RACE_FD, af, SO_VMCI_BUFFER_SIZE, &q, &len))
			tally_err(&c->t, "sockopt", errno, race_errs, NELEM(race_errs));
		else
			tally_ok(&c->t);
	}
	return NULL;
}

static void *race_sender(void *arg)
{
	struct race_ctx *c = arg;
	static char buf[8192];

	while (!stop) {
		struct pollfd p = { .fd = RACE_FD, .events = POLLIN | POLLOUT };
		ssize_t n = send(RACE_FD, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0)
			tally_err(&c->t, "send", errno, race_errs, NELEM(race_errs));
		else
			tally_ok(&c->t);
		poll(&p, 1, 0);
		recv(RACE_FD, buf, sizeof(buf), MSG_DONTWAIT);
	}
	return NULL;
}

static void test_cve_2021_26708(void)
{
	struct race_ctx c = { .t = TALLY_INIT };
	struct silent_vmm v;
	pthread_t acc, th[4];
	int lfd, i, rounds = 0, s, echo;
	double end;

	lfd = listener(&c.port);
	if (lfd < 0 || silent_vmm_start(&v)) {
		tap_report(0, "cve_2021_26708_setup", "%s", strerror(errno));
		tap_report(0, "cve_2021_26708_socket_state_race", "no setup");
		if (lfd >= 0)
			close(lfd);
		return;
	}
	tap_report(1, "cve_2021_26708_setup", "");
	c.vmm_cid = v.cid;
	stop = 0;
	s = socket(af, SOCK_STREAM, 0);
	dup2(s, RACE_FD);
	close(s);
	acceptor_stop = 0;
	start_thread(&acc, acceptor, (void *)(intptr_t)lfd);
	start_thread(&th[0], race_connector, &c);
	start_thread(&th[1], race_connector, &c);
	start_thread(&th[2], race_options, &c);
	start_thread(&th[3], race_sender, &c);
	/* A fresh socket under the threads every few milliseconds: dup2 swaps it atomically. */
	for (end = now() + seconds; now() < end; rounds++) {
		usleep(3000 + rand() % 5000);
		s = socket(af, SOCK_STREAM, 0);
		if (s >= 0) {
			dup2(s, RACE_FD);
			close(s);
		}
	}
	stop = 1;
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	silent_vmm_stop(&v);
	close(RACE_FD);
	printf("# cve_2021_26708: %d sockets, %ld calls ok, %ld expected errors\n", rounds,
	       c.t.ok, c.t.expected_err);
	echo = echo_works(c.port, acc);
	tap_report(!c.t.unexpected && c.t.ok > 0 && echo,
		   "cve_2021_26708_socket_state_race",
		   "%ld unexpected (first: %s %s), %ld ok, or no echo afterwards", c.t.unexpected,
		   c.t.first_bad_what ? c.t.first_bad_what : "-", strerror(c.t.first_bad_errno),
		   c.t.ok);
	close(lfd);
}

/* ---- CVE-2024-50264: connect interrupted by a signal, socket reused ----- */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* Interrupts the main thread after a random few milliseconds, again and again. */
static void *kicker(void *arg)
{
	pthread_t target = *(pthread_t *)arg;

	while (!stop) {
		usleep(1000 + rand() % 6000);
		pthread_kill(target, SIGALRM);
	}
	return NULL;
}

static void test_cve_2024_50264(void)
{
	/* ENOBUFS: the silent VMM's queue is full for a moment (see race_errs). */
	static const int connect_errs[] = { EINTR, EALREADY, ETIMEDOUT, ECONNRESET,
					    ECONNREFUSED, EISCONN, EINPROGRESS, ENOBUFS };
	struct tally t = TALLY_INIT;
	struct sigaction sa = { .sa_handler = on_alarm };
	struct silent_vmm v;
	unsigned int port;
	pthread_t acc, kick, self = pthread_self();
	long eintr = 0, reused_ok = 0, rounds = 0, backlog_full = 0;
	int lfd, echo;
	double end;

	lfd = listener(&port);
	if (lfd < 0 || silent_vmm_start(&v)) {
		tap_report(0, "cve_2024_50264_setup", "%s", strerror(errno));
		tap_report(0, "cve_2024_50264_connect_signal_reuse", "no setup");
		if (lfd >= 0)
			close(lfd);
		return;
	}
	tap_report(1, "cve_2024_50264_setup", "");
	stop = 0;
	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: connect must see EINTR */
	acceptor_stop = 0;
	start_thread(&acc, acceptor, (void *)(intptr_t)lfd);
	start_thread(&kick, kicker, &self);
	for (end = now() + seconds; now() < end; rounds++) {
		int fd = timeout_socket(2000 + rand() % 20000), r;

		if (fd < 0) {
			tally_err(&t, "socket", errno, NULL, 0);
			continue;
		}
		r = vconnect(fd, v.cid, VMM_PORT);
		if (r)
			tally_err(&t, "first connect", errno, connect_errs, NELEM(connect_errs));
		if (r && errno == EINTR)
			eintr++;
		/* What a program does with a socket whose connect was cut short. */
		switch (rounds % 4) {
		case 0:		/* gives up at once: the attempt is still in flight */
			break;
		case 1:		/* asks again at once, without waiting */
			fcntl(fd, F_SETFL, O_NONBLOCK);
			if (vconnect(fd, v.cid, VMM_PORT))
				tally_err(&t, "again", errno, connect_errs, NELEM(connect_errs));
			break;
		case 2:		/* reuses it for another peer until that works */
		case 3:
			/*
			 * A blocking connect first waits for the old attempt
			 * to time out; then the socket is free for a new one.
			 */
			/*
			 * Refusals of a loop that connects faster than the rest
			 * keeps up (local connects take no packets since
			 * 73bb9b2): ECONNRESET, the listener's backlog (64) was
			 * full and vSockets answers that with a reset. Counted,
			 * tried again. (ENOBUFS is not: a closed pair's budget
			 * comes back at its last detach, so the live pairs,
			 * bounded by the backlog, always fit.)
			 */
			do {
				r = vconnect(fd, local_cid, port);
				if (r && errno == ECONNRESET)
					backlog_full++;
			} while (r && (errno == EINTR || errno == EALREADY || errno == ETIMEDOUT ||
				       errno == ECONNRESET) && now() < end + 5);
			/* EISCONN: an earlier interrupted connect to it went on and succeeded. */
			if (r && errno == EISCONN) {
				reused_ok++;
			} else if (r) {
				tally_err(&t, "reuse", errno, NULL, 0);
			} else {
				reused_ok++;
				send(fd, "r", 1, MSG_NOSIGNAL);
				tally_ok(&t);
			}
			break;
		}
		close(fd);
	}
	stop = 1;
	pthread_join(kick, NULL);
	silent_vmm_stop(&v);
	signal(SIGALRM, SIG_IGN);
	printf("# cve_2024_50264: %ld sockets, %ld interrupted connects, %ld reused and connected, %ld refused (full backlog) and retried, %d signals\n",
	       rounds, eintr, reused_ok, backlog_full, (int)alarms);
	echo = echo_works(port, acc);
	tap_report(!t.unexpected && eintr > 0 && reused_ok > 0 && echo,
		   "cve_2024_50264_connect_signal_reuse",
		   "%ld unexpected (first: %s %s), %ld interrupted, %ld reused", t.unexpected,
		   t.first_bad_what ? t.first_bad_what : "-", strerror(t.first_bad_errno),
		   eintr, reused_ok);
	close(lfd);
}

/* ---- CVE-2025-21756: the binding lives exactly as long as the socket ---- */

struct bind_ctx {
	struct tally t;
	long stolen;		/* someone else got PORT_REBIND while a socket held it */
	volatile int holding;	/* the main loop's socket has PORT_REBIND right now */
};

/* Tries to take the port all the time: must fail while a socket holds it. */
static void *port_thief(void *arg)
{
	struct bind_ctx *c = arg;

	while (!stop) {
		int fd = socket(af, SOCK_STREAM, 0);
		int held = c->holding;

		if (fd < 0)
			continue;
		if (!vbind(fd, PORT_REBIND) && held && c->holding) {
			pthread_mutex_lock(&c->t.lock);
			c->stolen++;
			pthread_mutex_unlock(&c->t.lock);
		}
		close(fd);
		sched_yield();
	}
	return NULL;
}

static void test_cve_2025_21756(void)
{
	static const int fail_errs[] = { ENETUNREACH, ECONNRESET, ECONNREFUSED, ETIMEDOUT,
					 EHOSTUNREACH, EADDRINUSE, EINTR, ENOBUFS };
	struct bind_ctx c = { .t = TALLY_INIT };
	struct silent_vmm v;
	unsigned int port;
	pthread_t acc, thief;
	long rounds = 0, kept = 0, connected = 0;
	int lfd, free_after, echo;
	double end;

	lfd = listener(&port);
	if (lfd < 0 || silent_vmm_start(&v)) {
		tap_report(0, "cve_2025_21756_setup", "%s", strerror(errno));
		tap_report(0, "cve_2025_21756_bind_refcount", "no setup");
		if (lfd >= 0)
			close(lfd);
		return;
	}
	tap_report(1, "cve_2025_21756_setup", "");
	stop = 0;
	acceptor_stop = 0;
	start_thread(&acc, acceptor, (void *)(intptr_t)lfd);
	start_thread(&thief, port_thief, &c);
	for (end = now() + seconds; now() < end; rounds++) {
		int fd = timeout_socket(3000);
		struct sockaddr_vm a;
		socklen_t len = sizeof(a);

		if (fd < 0)
			continue;
		if (vbind(fd, PORT_REBIND)) {
			/* The thief holds it for a moment; try again. */
			if (errno != EADDRINUSE)
				tally_err(&c.t, "bind", errno, NULL, 0);
			close(fd);
			continue;
		}
		c.holding = 1;
		/* A connect that fails: nobody there, or a peer that never answers. */
		if (!vconnect(fd, rounds % 2 ? 0x7ffffff0 : v.cid, VMM_PORT))
			tally_err(&c.t, "failed connect succeeded", 0, NULL, 0);
		else
			tally_err(&c.t, "failed connect", errno, fail_errs, NELEM(fail_errs));
		/* Still bound where it was, and still usable. */
		if (!getsockname(fd, (struct sockaddr *)&a, &len) && a.svm_port == PORT_REBIND)
			kept++;
		else
			tally_err(&c.t, "binding lost after failed connect", 0, NULL, 0);
		if (rounds % 3 == 0) {
			struct timeval tv = { .tv_sec = 2 };

			setsockopt(fd, af, SO_VMCI_CONNECT_TIMEOUT, &tv, sizeof(tv));
			/* A listener whose backlog is full lets a request time out. */
			if (vconnect(fd, local_cid, port)) {
				tally_err(&c.t, "connect after failure", errno, fail_errs,
					  NELEM(fail_errs));
			} else {
				send(fd, "b", 1, MSG_NOSIGNAL);
				connected++;
			}
		}
		c.holding = 0;
		close(fd);
	}
	stop = 1;
	pthread_join(thief, NULL);
	silent_vmm_stop(&v);
	/* Once every socket is gone the port is free again. */
	{
		int fd = socket(af, SOCK_STREAM, 0);

		free_after = fd >= 0 && !vbind(fd, PORT_REBIND);
		if (fd >= 0)
			close(fd);
	}
	printf("# cve_2025_21756: %ld bound sockets, %ld kept their binding, %ld reconnected\n",
	       rounds, kept, connected);
	echo = echo_works(port, acc);
	tap_report(!c.t.unexpected && !c.stolen && kept > 0 && connected > 0 && free_after &&
		   echo,
		   "cve_2025_21756_bind_refcount",
		   "%ld unexpected (first: %s %s), %ld stolen bindings, port free after: %d",
		   c.t.unexpected, c.t.first_bad_what ? c.t.first_bad_what : "-",
		   strerror(c.t.first_bad_errno), c.stolen, free_after);
	close(lfd);
}

/* ---- CVE-2024-46738: VMCI resources removed while in use ---------------- */

struct removal_ctx {
	struct tally t;
	long delivered;
	int vfd;		/* the doorbell owner's context */
	uint32_t cid;
};

static int32_t dbell_op(int fd, uint16_t action, struct handle h)
{
	struct notify_resource_info info = { .handle = h, .resource = RES_DOOR_BELL,
					     .action = action, .result = 12345 };

	if (ioctl(fd, IOC_NOTIFY_RESOURCE, &info))
		return -1000 - errno;
	return info.result;
}

/* VMM senders: datagrams to the datagram socket that comes and goes. */
static void *dg_sender(void *arg)
{
	struct removal_ctx *c = arg;
	uint32_t cid;
	int fd = vmm_open_ctx(0, &cid);
	struct {
		struct dg_header h;
		uint8_t payload[32];
	} dg = { .h = { .dst = { HOST_CID, PORT_DG_VICTIM }, .src = { INVALID_ID, 5 },
			.payload_size = 32 } };

	if (fd < 0) {
		tally_err(&c->t, "sender context", errno, NULL, 0);
		return NULL;
	}
	while (!stop) {
		struct snd_rcv_info info = { .addr = (uintptr_t)&dg, .len = sizeof(dg),
					     .result = 12345 };

		if (ioctl(fd, IOC_DG_SEND, &info))
			tally_err(&c->t, "dg send ioctl", errno, NULL, 0);
		else if (info.result == (int32_t)sizeof(dg))
			tally_ok(&c->t);
		else if (info.result != VMCI_ERROR_NOT_FOUND &&
			 info.result != VMCI_ERROR_INVALID_RESOURCE &&
			 info.result != VMCI_ERROR_DST_UNREACHABLE &&
			 info.result != VMCI_ERROR_NO_RESOURCES &&
			 info.result != VMCI_ERROR_NO_MEM)
			tally_err(&c->t, "dg send result", -info.result, NULL, 0);
		/* Our own queue fills with nothing; keep it from growing. */
	}
	close(fd);
	return NULL;
}

/* Rings the endpoint's doorbell, which rings our armed one, while it is destroyed. */
static void *dbell_ringer(void *arg)
{
	struct removal_ctx *c = arg;
	uint32_t cid;
	int fd = vmm_open_ctx(0, &cid);

	if (fd < 0) {
		tally_err(&c->t, "ringer context", errno, NULL, 0);
		return NULL;
	}
	while (!stop) {
		struct {
			struct dg_header h;
			struct handle target;
		} arm = { .h = { .dst = { HOST_CID, ARM_RID }, .src = { INVALID_ID, 6 },
				 .payload_size = sizeof(struct handle) },
			  .target = { c->cid, 1000 + rand() % 4 } };
		struct snd_rcv_info info = { .addr = (uintptr_t)&arm, .len = sizeof(arm) };
		int32_t r;

		if (ioctl(fd, IOC_DG_SEND, &info))
			tally_err(&c->t, "arm ioctl", errno, NULL, 0);
		r = dbell_op(fd, ACT_NOTIFY, (struct handle){ HOST_CID, DBELL_RID });
		if (r != VMCI_SUCCESS)
			tally_err(&c->t, "ring host doorbell", -r, NULL, 0);
	}
	close(fd);
	return NULL;
}

static void test_cve_2024_46738(void)
{
	struct removal_ctx c = { .t = TALLY_INIT };
	pthread_t th[5];
	long sockets = 0, dbells = 0, dbell_bad = 0, contexts = 0, loops = 0;
	int i, n = 0;
	double end;

	c.vfd = vmm_open_ctx(0, &c.cid);
	tap_report(c.vfd >= 0, "cve_2024_46738_setup", "%s", strerror(errno));
	if (c.vfd < 0) {
		tap_report(0, "cve_2024_46738_resource_removal_in_use", "no setup");
		return;
	}
	stop = 0;
	for (i = 0; i < 3; i++)
		n += !start_thread(&th[n], dg_sender, &c);
	for (i = 0; i < 2; i++)
		n += !start_thread(&th[n], dbell_ringer, &c);
	/*
	 * At least MIN_REMOVAL_LOOPS rounds, so that a whole context goes at
	 * least once: a debug kernel on a loaded host managed 5 in 8 s (each
	 * doorbell destroy waits a grace period). The watchdog bounds it.
	 */
	for (end = now() + seconds; now() < end || loops < MIN_REMOVAL_LOOPS; loops++) {
		int s = socket(af, SOCK_DGRAM, 0);
		char buf[64];
		int k;

		/* The datagram handle appears, takes some deliveries, and goes. */
		if (s >= 0 && !vbind(s, PORT_DG_VICTIM)) {
			sockets++;
			usleep(rand() % 2000);
			while (recv(s, buf, sizeof(buf), MSG_DONTWAIT) > 0)
				c.delivered++;
		}
		if (s >= 0)
			close(s);
		/* Doorbells created and destroyed under the rings aimed at them. */
		for (k = 0; k < 4; k++) {
			int32_t r = dbell_op(c.vfd, ACT_CREATE, (struct handle){ c.cid, 1000 + k });

			dbells += r == VMCI_SUCCESS;
			dbell_bad += r != VMCI_SUCCESS;
		}
		for (k = 0; k < 4; k++)
			dbell_bad += dbell_op(c.vfd, ACT_DESTROY,
					      (struct handle){ c.cid, 1000 + k }) != VMCI_SUCCESS;
		/* And now and then the whole context, with rings still in flight. */
		if (loops % 10 == 9) {
			dbell_op(c.vfd, ACT_CREATE, (struct handle){ c.cid, 1000 });
			close(c.vfd);
			c.vfd = vmm_open_ctx(0, &c.cid);
			contexts++;
			if (c.vfd < 0)
				break;
		}
		/* The fetched notifications: keep the pending list from holding stale ones. */
		{
			struct handle got[8];
			struct {
				uint64_t db_uva, db_size, qp_uva, qp_size;
				int32_t result;
				uint32_t pad;
			} nr = { .db_uva = (uintptr_t)got, .db_size = sizeof(got) };

			ioctl(c.vfd, IOC_NOTIFICATIONS_RECV, &nr);
		}
	}
	stop = 1;
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	if (c.vfd >= 0)
		close(c.vfd);
	printf("# cve_2024_46738: %ld socket lifetimes, %ld datagrams delivered, %ld sent, %ld doorbells, %ld contexts\n",
	       sockets, c.delivered, c.t.ok, dbells, contexts);
	tap_report(n == 5 && !c.t.unexpected && !dbell_bad && c.delivered > 0 && dbells > 0 &&
		   contexts > 0 &&
		   wait_stat("vmm_doorbells", 0, 3000) && wait_stat("vmm_contexts", 0, 3000),
		   "cve_2024_46738_resource_removal_in_use",
		   "%d threads, %ld unexpected (first: %s %d), %ld doorbell ops failed, %ld delivered, vmm_doorbells %lld vmm_contexts %lld",
		   n, c.t.unexpected, c.t.first_bad_what ? c.t.first_bad_what : "-",
		   c.t.first_bad_errno, dbell_bad, c.delivered, stat_value("vmm_doorbells"),
		   stat_value("vmm_contexts"));
}

/*
 * Runs @test in a child that is uid 65534 from its silent VMM on; its
 * checks are printed by the child, and a child that fails or dies counts
 * as a failure here too.
 */
static void run_as_nobody(void (*test)(void))
{
	int status = -1;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (!pid) {
		drop_after_vmm = 1;
		test();
		fflush(stdout);
		_exit(tap_exit_code());
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		tap_failures++;
}

static void *watchdog(void *arg)
{
	(void)arg;
	sleep(4 * seconds + 60);
	printf("not ok watchdog # still running after %d s\n", 4 * seconds + 60);
	fflush(stdout);
	_exit(1);
}

int main(int argc, char **argv)
{
	pthread_t wd;
	int afd = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1)
		seconds = atoi(argv[1]) > 0 ? atoi(argv[1]) : seconds;
	srand(time(NULL) ^ getpid());
	signal(SIGPIPE, SIG_IGN);
	tap_plan(9);
	af = VMCISock_GetAFValueFd(&afd);
	local_cid = VMCISock_GetLocalCID();
	tap_report(af > 0 && local_cid != VMADDR_CID_ANY, "setup_family", "af %d cid %u", af,
		   local_cid);
	start_thread(&wd, watchdog, NULL);
	run_as_nobody(test_cve_2021_26708);
	run_as_nobody(test_cve_2024_50264);
	run_as_nobody(test_cve_2025_21756);
	test_cve_2024_46738();
	VMCISock_ReleaseAFValueFd(afd);
	return tap_exit_code();
}
