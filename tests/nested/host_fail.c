// SPDX-License-Identifier: GPL-2.0
/*
 * The host end of the nested run's failure phases (tests/nested/run), in
 * the outer VM, written with vmci_sockets.h like nested_host.c. The inner
 * guest runs tests/nested/inner_fail.c; every stream starts with a line
 * "g2h N" (the guest sends N bytes of pattern.h), "h2g N" (the host
 * does) or "hold".
 *
 *  kill CID PORT BYTES PIDFILE: the guest opens a g2h and an h2g stream of
 *    BYTES and stops each in the middle (it sends half, and reads half).
 *    Once both are stalled, with a host thread blocked in recv() on one and
 *    in send() on the other, QEMU (its pid in PIDFILE) gets SIGKILL. Both
 *    calls must end, with EOF or a reset (a 60 s socket timeout would
 *    show up as EAGAIN: a hang), and then the CID must be gone.
 *
 *  close CID PORT BYTES LISTEN HOLD_LISTEN DPORT PINS: the host closes in
 *    the middle of a g2h stream of BYTES (after reading a quarter) and of
 *    an h2g stream it opened to the guest's LISTEN (after sending a
 *    quarter); the guest checks what it saw, closes its ends and says so
 *    (a datagram to DPORT): with the guest still running, the pinned pages
 *    must be back at PINS (the count before QEMU started) and the broker
 *    must hold no pair. Then the guest holds two idle streams open (one
 *    it opened, one the host opened to HOLD_LISTEN) and shuts down: both
 *    must end on the host, and then the CID must be gone.
 *
 * Every peer must be the guest's CID. Ends with a TAP summary.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "../user/tap.h"
#include "pattern.h"

#define CHUNK		65536
/* Longer than any wake-up may take: a call still blocked then has hung. */
#define IO_TIMEOUT	60
/* How long after the kill (or the shutdown) the calls may take to end. */
#define END_LIMIT	10.0

static int af;
static unsigned int guest_cid;
static time_t deadline;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void set_timeouts(int s)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT };

	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int listener(unsigned int port)
{
	struct sockaddr_vm a = { .svm_family = af, .svm_cid = VMADDR_CID_ANY, .svm_port = port };
	int s = socket(af, SOCK_STREAM, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4))
		return -1;
	return s;
}

/* Accepts one connection from the guest before the deadline; -1 if none. */
static int accept_guest(int l, const char *name)
{
	struct pollfd p = { .fd = l, .events = POLLIN };
	struct sockaddr_vm peer;
	socklen_t plen = sizeof(peer);
	int c = -1;

	while (time(NULL) < deadline && c < 0) {
		if (poll(&p, 1, 1000) == 1)
			c = accept(l, (struct sockaddr *)&peer, &plen);
	}
	tap_report(c >= 0 && peer.svm_cid == guest_cid, name, "peer %u, guest %u (%s)",
		   c >= 0 ? peer.svm_cid : 0, guest_cid, c < 0 ? "no connection" : "");
	if (c >= 0)
		set_timeouts(c);
	return c;
}

/* A connection to the guest's PORT, retried until it listens. */
static int connect_guest(unsigned int port, const char *name)
{
	struct sockaddr_vm a = { .svm_family = af, .svm_cid = guest_cid, .svm_port = port };
	int s = -1;

	while (time(NULL) < deadline) {
		s = socket(af, SOCK_STREAM, 0);
		if (s >= 0 && !connect(s, (struct sockaddr *)&a, sizeof(a)))
			break;
		if (s >= 0)
			close(s);
		s = -1;
		usleep(200000);
	}
	tap_report(s >= 0, name, "%u:%u (%s)", guest_cid, port, s < 0 ? strerror(errno) : "");
	if (s >= 0)
		set_timeouts(s);
	return s;
}

/* The request line; its kind ("g2h", "h2g", "hold") and size. */
static int request(int s, char *kind, unsigned long long *n)
{
	char line[64];
	size_t len = 0;

	while (len < sizeof(line) - 1 && read(s, line + len, 1) == 1 && line[len] != '\n')
		len++;
	line[len] = 0;
	*n = 0;
	return sscanf(line, "%7s %llu", kind, n) >= 1 ? 0 : -1;
}

/* One side of a stream, run in its own thread. */
struct side {
	int s;
	unsigned long long total;	/* the stream's size */
	unsigned long long limit;	/* stop moving bytes here (close mode) */
	unsigned long long moved;
	size_t bad_at;			/* first wrong byte's offset, or moved */
	int stalled;			/* set once the guest stopped (atomic) */
	ssize_t last;			/* the call that ended the loop */
	int err;
	double ended;
};

/* Reads until the stream ends; "stalled" once half the stream arrived. */
static void *reader(void *arg)
{
	static unsigned char buf[CHUNK];
	struct side *d = arg;
	size_t bad;
	ssize_t r;

	d->bad_at = (size_t)-1;
	for (;;) {
		size_t want = sizeof(buf);

		if (d->limit && d->limit - d->moved < want)
			want = d->limit - d->moved;
		if (!want) {
			r = 0;
			break;
		}
		r = recv(d->s, buf, want, 0);
		if (r <= 0)
			break;
		bad = pattern_check(buf, d->moved, r);
		if (bad < (size_t)r && d->bad_at == (size_t)-1)
			d->bad_at = d->moved + bad;
		d->moved += r;
		if (d->moved >= d->total / 2)
			__atomic_store_n(&d->stalled, 1, __ATOMIC_RELEASE);
	}
	d->last = r;
	d->err = r < 0 ? errno : 0;
	d->ended = now();
	return NULL;
}

/*
 * Sends the stream (up to LIMIT, if set). Non-blocking while the guest
 * reads; once a send would block past the middle the guest has stopped:
 * "stalled", and the next send blocks.
 */
static void *writer(void *arg)
{
	static unsigned char buf[CHUNK];
	struct side *d = arg;
	struct pollfd p = { .fd = d->s, .events = POLLOUT };
	unsigned long long end = d->limit ? d->limit : d->total;
	ssize_t r = 0;

	while (d->moved < end) {
		size_t n = end - d->moved < CHUNK ? end - d->moved : CHUNK;

		pattern_fill(buf, d->moved, n);
		r = send(d->s, buf, n, (d->stalled ? 0 : MSG_DONTWAIT) | MSG_NOSIGNAL);
		if (r < 0 && errno == EAGAIN && !d->stalled) {
			if (d->moved >= d->total / 2)
				__atomic_store_n(&d->stalled, 1, __ATOMIC_RELEASE);
			else
				poll(&p, 1, 1000);
			continue;
		}
		if (r <= 0)
			break;
		d->moved += r;
	}
	d->last = r;
	d->err = r < 0 ? errno : 0;
	d->ended = now();
	return NULL;
}

/*
 * Pages pinned with FOLL_PIN and not yet unpinned, by the core mm's own
 * counters (not ours); stat_refresh first folds every CPU's share.
 */
static long long pins(void)
{
	long long acq = -1, rel = -1, v;
	char name[64];
	FILE *f;

	f = fopen("/proc/sys/vm/stat_refresh", "w");
	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			acq = v;
		else if (!strcmp(name, "nr_foll_pin_released"))
			rel = v;
	}
	fclose(f);
	return acq < 0 || rel < 0 ? -1 : acq - rel;
}

/* One line of our driver's /proc/driver/vmci/stats, or -1. */
static long long vmci_stat(const char *what)
{
	long long v, found = -1;
	char name[64];
	FILE *f = fopen("/proc/driver/vmci/stats", "r");

	while (f && fscanf(f, "%63s %lld", name, &v) == 2)
		if (!strcmp(name, what))
			found = v;
	if (f)
		fclose(f);
	return found;
}

/*
 * The guest says (a datagram to DPORT) that it closed everything; while
 * it runs on, no page of its queue pairs may stay pinned and no pair may
 * be left. One pin is QEMU's for as long as its context lives: the notify
 * byte's page (SET_NOTIFY), so the count must be BASE (before QEMU
 * started) plus one. Then the guest may go on.
 */
static void closed_and_released(int d, long long base)
{
	struct sockaddr_vm from;
	socklen_t flen = sizeof(from);
	struct timeval tv = { .tv_sec = 300 };
	long long p = -1, qp = -1;
	char msg[16] = "";
	int i;

	setsockopt(d, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (d < 0 || recvfrom(d, msg, sizeof(msg) - 1, 0, (struct sockaddr *)&from, &flen) <= 0 ||
	    from.svm_cid != guest_cid)
		msg[0] = 0;
	for (i = 0; i < 40; i++) {
		p = pins();
		qp = vmci_stat("broker_queue_pairs");
		if (p == base + 1 && !qp)
			break;
		usleep(250000);
	}
	tap_report(!strcmp(msg, "closed") && p == base + 1, "close_guest_pins_released",
		   "guest said \"%s\"; %lld pinned pages, %lld before QEMU (+1: its notify page)",
		   msg, p, base);
	tap_report(!strcmp(msg, "closed") && !qp, "close_no_pair_left",
		   "broker_queue_pairs %lld", qp);
	if (msg[0])
		sendto(d, "go", 2, 0, (struct sockaddr *)&from, flen);
}

static const char *how(const struct side *d)
{
	static char text[2][96];
	static int k;

	k ^= 1;
	snprintf(text[k], sizeof(text[k]), "last call %zd (%s) after %llu of %llu bytes", d->last,
		 d->last < 0 ? strerror(d->err) : d->last ? "more data" : "EOF", d->moved,
		 d->total);
	return text[k];
}

/* A stream's end after the peer vanished: EOF or a reset, not a timeout. */
static int ended_cleanly(const struct side *d, int sending)
{
	if (sending)
		return d->last < 0 && (d->err == EPIPE || d->err == ECONNRESET);
	return d->last == 0 || (d->last < 0 && d->err == ECONNRESET);
}

/*
 * Once QEMU is gone, so is the guest's context: a datagram and a stream
 * connect to its CID fail at once with EHOSTUNREACH (a context that still
 * existed would take the request, and the connect would only time out).
 * The driver detaches a dying context's pairs (which woke us) just before
 * it drops the context, so the datagram is retried for up to 2 s first.
 */
static void cid_gone(const char *prefix, unsigned int port)
{
	struct sockaddr_vm a = { .svm_family = af, .svm_cid = guest_cid, .svm_port = port };
	char name[64];
	double t0 = now();
	int s, r, err;

	s = socket(af, SOCK_DGRAM, 0);
	do {
		r = s < 0 ? -1 : sendto(s, "x", 1, 0, (struct sockaddr *)&a, sizeof(a));
		err = errno;
		if (r < 0 && err == EHOSTUNREACH)
			break;
		usleep(100000);
	} while (now() - t0 < 2);
	snprintf(name, sizeof(name), "%s_stale_cid_dgram_refused", prefix);
	tap_report(r < 0 && err == EHOSTUNREACH, name, "sendto %u: %d (%s) after %.3f s",
		   guest_cid, r, strerror(err), now() - t0);
	if (s >= 0)
		close(s);
	s = socket(af, SOCK_STREAM, 0);
	t0 = now();
	r = s < 0 ? -1 : connect(s, (struct sockaddr *)&a, sizeof(a));
	err = errno;
	snprintf(name, sizeof(name), "%s_stale_cid_connect_refused", prefix);
	tap_report(r < 0 && err == EHOSTUNREACH && now() - t0 < 1, name,
		   "connect to %u: %d (%s) in %.3f s", guest_cid, r, strerror(err), now() - t0);
	if (s >= 0)
		close(s);
}

static int kill_mode(unsigned int port, unsigned long long bytes, const char *pidfile)
{
	struct side side[2] = { { .s = -1 }, { .s = -1 } };
	pthread_t th[2];
	int started[2] = { 0, 0 };
	unsigned long long n;
	char kind[8], line[32];
	int l, i, ok = 1, killed = 0;
	long pid = 0;
	double t_kill = 0;
	FILE *f;

	/* setup 2, stalls 2, kill 1, ends 2, bytes 1, cid 2 */
	tap_plan(10);
	l = listener(port);
	printf("# listening\n");
	fflush(stdout);
	/* side[0] is the guest's sending stream, side[1] its receiving one. */
	for (i = 0; i < 2 && l >= 0; i++) {
		char name[32];
		int c, k;

		snprintf(name, sizeof(name), "kill_accept_%d", i);
		c = accept_guest(l, name);
		if (c < 0 || request(c, kind, &n) || n != bytes ||
		    (strcmp(kind, "g2h") && strcmp(kind, "h2g"))) {
			ok = 0;
			continue;
		}
		k = kind[0] == 'h';
		if (started[k]) {
			ok = 0;
			continue;
		}
		side[k].s = c;
		side[k].total = n;
		started[k] = !pthread_create(&th[k], NULL, k ? writer : reader, &side[k]);
	}
	if (l < 0 || !ok || !started[0] || !started[1]) {
		printf("# setup failed: listener %d, requests %s\n", l, ok ? "ok" : "bad");
		return 1;
	}
	while (time(NULL) < deadline && !(__atomic_load_n(&side[0].stalled, __ATOMIC_ACQUIRE) &&
					  __atomic_load_n(&side[1].stalled, __ATOMIC_ACQUIRE)))
		usleep(100000);
	tap_report(side[0].stalled && side[0].moved == bytes / 2, "kill_g2h_stalled_in_middle",
		   "%llu of %llu bytes received", side[0].moved, bytes);
	tap_report(side[1].stalled && side[1].moved >= bytes / 2 && side[1].moved < bytes,
		   "kill_h2g_stalled_in_middle", "%llu of %llu bytes sent", side[1].moved, bytes);
	/* Let the writer enter its blocking send. */
	sleep(1);
	f = fopen(pidfile, "r");
	if (f && fgets(line, sizeof(line), f))
		pid = strtol(line, NULL, 10);
	if (f)
		fclose(f);
	if (pid > 1 && !kill(pid, SIGKILL)) {
		killed = 1;
		t_kill = now();
	}
	tap_report(killed, "kill_qemu_sigkill", "pid %ld from %s (%s)", pid, pidfile,
		   strerror(errno));
	printf("# killed QEMU (pid %ld) with %llu bytes received, %llu sent\n", pid,
	       side[0].moved, side[1].moved);
	fflush(stdout);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	tap_report(ended_cleanly(&side[0], 0) && side[0].ended - t_kill < END_LIMIT,
		   "kill_g2h_recv_ends", "%s, %.3f s after the kill", how(&side[0]),
		   side[0].ended - t_kill);
	tap_report(ended_cleanly(&side[1], 1) && side[1].ended - t_kill < END_LIMIT,
		   "kill_h2g_send_ends", "%s, %.3f s after the kill", how(&side[1]),
		   side[1].ended - t_kill);
	tap_report(side[0].bad_at == (size_t)-1, "kill_g2h_bytes_intact", "first bad byte at %zd",
		   (ssize_t)side[0].bad_at);
	printf("# kill: recv ended %.3f s, send %.3f s after the kill\n", side[0].ended - t_kill,
	       side[1].ended - t_kill);
	close(side[0].s);
	close(side[1].s);
	cid_gone("kill", port);
	close(l);
	return tap_exit_code();
}

static int close_mode(unsigned int port, unsigned long long bytes, unsigned int lport,
		      unsigned int hport, unsigned int dport, long long base)
{
	struct side g = { .s = -1 }, h = { .s = -1 }, held[2] = { { .s = -1 }, { .s = -1 } };
	struct sockaddr_vm da = { .svm_family = af, .svm_cid = VMADDR_CID_ANY, .svm_port = dport };
	unsigned long long n;
	pthread_t th[2];
	char kind[8];
	double t0;
	int l, d, i;

	/* close: 2 + 2 + 2; hold: 2 + 2; cid 2 */
	tap_plan(12);
	l = listener(port);
	d = socket(af, SOCK_DGRAM, 0);
	if (d >= 0 && bind(d, (struct sockaddr *)&da, sizeof(da))) {
		close(d);
		d = -1;
	}
	printf("# listening\n");
	fflush(stdout);
	if (l < 0 || d < 0)
		return 1;

	/* The guest sends BYTES; we take a quarter and close. */
	g.s = accept_guest(l, "close_g2h_accept");
	if (g.s >= 0 && !request(g.s, kind, &n) && !strcmp(kind, "g2h")) {
		g.total = n;
		g.limit = n / 4;
		reader(&g);
	}
	close(g.s);
	tap_report(g.moved == bytes / 4 && g.bad_at == (size_t)-1, "close_g2h_host_read_quarter",
		   "%s, first bad byte at %zd", how(&g), (ssize_t)g.bad_at);
	printf("# closed the g2h stream after %llu bytes\n", g.moved);

	/* We connect and send a quarter of BYTES, then close. */
	h.s = connect_guest(lport, "close_h2g_connect");
	if (h.s >= 0) {
		h.total = bytes;
		h.limit = bytes / 4;
		writer(&h);
		close(h.s);
	}
	tap_report(h.moved == bytes / 4, "close_h2g_host_sent_quarter", "%s", how(&h));
	printf("# closed the h2g stream after %llu bytes\n", h.moved);
	fflush(stdout);
	closed_and_released(d, base);
	close(d);

	/* The guest holds two idle streams, then shuts down. */
	held[0].s = accept_guest(l, "hold_g2h_accept");
	if (held[0].s >= 0 && (request(held[0].s, kind, &n) || strcmp(kind, "hold"))) {
		close(held[0].s);
		held[0].s = -1;
	}
	held[1].s = connect_guest(hport, "hold_h2g_connect");
	printf("# holding\n");
	fflush(stdout);
	t0 = now();
	for (i = 0; i < 2; i++) {
		held[i].total = 0;
		if (held[i].s >= 0)
			pthread_create(&th[i], NULL, reader, &held[i]);
	}
	for (i = 0; i < 2; i++) {
		char name[32];

		if (held[i].s >= 0)
			pthread_join(th[i], NULL);
		snprintf(name, sizeof(name), "hold_%s_ends", i ? "h2g" : "g2h");
		tap_report(held[i].s >= 0 && ended_cleanly(&held[i], 0), name,
			   "%s, %.1f s after both were held", how(&held[i]), held[i].ended - t0);
		printf("# %s: %s\n", name, how(&held[i]));
		close(held[i].s);
	}
	cid_gone("hold", port);
	close(l);
	return tap_exit_code();
}

int main(int argc, char **argv)
{
	int afd;

	if (argc < 5) {
		printf("usage: host_fail kill CID PORT BYTES PIDFILE\n"
		       "       host_fail close CID PORT BYTES LISTEN HOLD_LISTEN DPORT PINS\n");
		return 2;
	}
	guest_cid = strtoul(argv[2], NULL, 0);
	/* The inner guest's boot alone takes minutes under nested emulation. */
	deadline = time(NULL) + 900;
	af = VMCISock_GetAFValueFd(&afd);
	if (af < 0) {
		printf("# no vSockets family (%s)\n", strerror(errno));
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	if (!strcmp(argv[1], "kill") && argc == 6)
		return kill_mode(strtoul(argv[3], NULL, 0), strtoull(argv[4], NULL, 0), argv[5]);
	if (!strcmp(argv[1], "close") && argc == 9)
		return close_mode(strtoul(argv[3], NULL, 0), strtoull(argv[4], NULL, 0),
				  strtoul(argv[5], NULL, 0), strtoul(argv[6], NULL, 0),
				  strtoul(argv[7], NULL, 0), strtoll(argv[8], NULL, 0));
	printf("# bad arguments\n");
	return 2;
}
