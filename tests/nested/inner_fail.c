// SPDX-License-Identifier: GPL-2.0
/*
 * In the nested run's inner guest: the guest end of the failure phases,
 * against tests/nested/host_fail.c in the outer VM (CID 2), on whichever
 * guest stack registered AF_VSOCK. Streams start with a line "g2h N",
 * "h2g N" or "hold" and carry the bytes of pattern.h.
 *
 *  stall PORT BYTES: a g2h stream of BYTES that stops after half, and an
 *    h2g stream of BYTES read only to its half; prints "# stalled" and
 *    waits, until QEMU dies under it.
 *  close PORT BYTES LISTEN DPORT: sends a g2h stream of BYTES that the
 *    host closes after a quarter (the send must fail, not hang), and reads
 *    the h2g stream the host opens to LISTEN and closes after a quarter
 *    (EOF after exactly that many intact bytes); then, every stream
 *    closed, says so with a datagram to the host's DPORT and waits for
 *    its answer (it counts the pins meanwhile). TAP output.
 *  hold-out PORT / hold-in LISTEN: one idle stream, opened to the host or
 *    accepted from it; prints "# holding" and waits for the shutdown.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "../user/tap.h"
#include "pattern.h"

#define CHUNK	65536

static unsigned char buf[CHUNK];

/* Longer than any wake-up may take; a timeout reads as EAGAIN: a hang. */
static void set_timeouts(int s)
{
	struct timeval tv = { .tv_sec = 120 };

	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int to_host(unsigned int port, const char *req)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST,
				 .svm_port = port };
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) ||
	    write(s, req, strlen(req)) != (ssize_t)strlen(req)) {
		printf("# connect to 2:%u: %s\n", port, strerror(errno));
		if (s >= 0)
			close(s);
		return -1;
	}
	set_timeouts(s);
	return s;
}

static int listener(unsigned int port)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				 .svm_port = port };
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 4)) {
		printf("# listen on %u: %s\n", port, strerror(errno));
		return -1;
	}
	return s;
}

static int accept_host(int l)
{
	struct sockaddr_vm peer;
	socklen_t plen = sizeof(peer);
	int c = accept(l, (struct sockaddr *)&peer, &plen);

	if (c >= 0 && peer.svm_cid != VMADDR_CID_HOST) {
		printf("# peer %u is not the host\n", peer.svm_cid);
		close(c);
		return -1;
	}
	if (c >= 0)
		set_timeouts(c);
	return c;
}

/* Sends pattern bytes from offset *SENT up to END; the last call's result. */
static ssize_t send_pattern(int s, unsigned long long *sent, unsigned long long end)
{
	ssize_t w = 0;

	while (*sent < end) {
		size_t n = end - *sent < CHUNK ? end - *sent : CHUNK;

		pattern_fill(buf, *sent, n);
		w = send(s, buf, n, MSG_NOSIGNAL);
		if (w <= 0)
			return w < 0 ? -1 : 0;
		*sent += w;
	}
	return w;
}

/* Reads up to END (0: to EOF); the last call's result. *BAD: first wrong byte. */
static ssize_t read_pattern(int s, unsigned long long *got, unsigned long long end, long long *bad)
{
	ssize_t r;
	size_t k;

	for (;;) {
		size_t want = CHUNK;

		if (end && end - *got < want)
			want = end - *got;
		if (!want)
			return 1;
		r = recv(s, buf, want, 0);
		if (r <= 0)
			return r;
		k = pattern_check(buf, *got, r);
		if (k < (size_t)r && *bad < 0)
			*bad = *got + k;
		*got += r;
	}
}

static int stall(unsigned int port, unsigned long long bytes)
{
	unsigned long long sent = 0, got = 0;
	long long bad = -1;
	char req[32];
	int g, h;

	snprintf(req, sizeof(req), "g2h %llu\n", bytes);
	g = to_host(port, req);
	if (g < 0 || send_pattern(g, &sent, bytes / 2) < 0)
		return 1;
	snprintf(req, sizeof(req), "h2g %llu\n", bytes);
	h = to_host(port, req);
	if (h < 0 || read_pattern(h, &got, bytes / 2, &bad) <= 0)
		return 1;
	printf("# stalled: sent %llu, read %llu of %llu each, first bad byte %lld\n", sent, got,
	       bytes, bad);
	fflush(stdout);
	for (;;)
		pause();
}

/*
 * Tells the host (a datagram to DPORT) that every stream of ours is
 * closed, and waits for its "go": it counts the pinned pages meanwhile.
 */
static int closed(unsigned int dport)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST,
				 .svm_port = dport };
	char msg[8] = "";
	int d = socket(AF_VSOCK, SOCK_DGRAM, 0);

	set_timeouts(d);
	if (d < 0 || sendto(d, "closed", 6, 0, (struct sockaddr *)&a, sizeof(a)) != 6 ||
	    recv(d, msg, sizeof(msg) - 1, 0) != 2)
		return -1;
	close(d);
	return strcmp(msg, "go") ? -1 : 0;
}

static int close_test(unsigned int port, unsigned long long bytes, unsigned int lport,
		      unsigned int dport)
{
	unsigned long long sent = 0, got = 0;
	long long bad = -1;
	char req[32];
	ssize_t r;
	int l, g, h, err;

	tap_plan(6);
	l = listener(lport);
	snprintf(req, sizeof(req), "g2h %llu\n", bytes);
	g = to_host(port, req);
	tap_report(l >= 0 && g >= 0, "setup", "listener %d, stream %d", l, g);
	if (l < 0 || g < 0)
		return 1;
	r = send_pattern(g, &sent, bytes);
	err = errno;
	tap_report(r < 0 && (err == EPIPE || err == ECONNRESET), "g2h_send_fails",
		   "last send %zd (%s) after %llu of %llu bytes", r, r < 0 ? strerror(err) : "",
		   sent, bytes);
	tap_report(sent >= bytes / 4 && sent < bytes, "g2h_sent_part", "%llu of %llu bytes", sent,
		   bytes);
	close(g);

	h = accept_host(l);
	r = h < 0 ? -1 : read_pattern(h, &got, 0, &bad);
	err = errno;
	tap_report(h >= 0 && (r == 0 || (r < 0 && err == ECONNRESET)), "h2g_read_ends",
		   "last read %zd (%s)", r, r < 0 ? strerror(err) : "EOF");
	tap_report(got == bytes / 4 && bad < 0, "h2g_got_quarter_intact",
		   "%llu bytes, wanted %llu, first bad byte %lld", got, bytes / 4, bad);
	if (h >= 0)
		close(h);
	close(l);
	tap_report(!closed(dport), "host_saw_all_closed", "%s", strerror(errno));
	return tap_exit_code();
}

static int hold(int s)
{
	if (s < 0)
		return 1;
	printf("# holding\n");
	fflush(stdout);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	int l;

	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && !strcmp(argv[1], "stall"))
		return stall(strtoul(argv[2], NULL, 0), strtoull(argv[3], NULL, 0));
	if (argc == 6 && !strcmp(argv[1], "close"))
		return close_test(strtoul(argv[2], NULL, 0), strtoull(argv[3], NULL, 0),
				  strtoul(argv[4], NULL, 0), strtoul(argv[5], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "hold-out"))
		return hold(to_host(strtoul(argv[2], NULL, 0), "hold\n"));
	if (argc == 3 && !strcmp(argv[1], "hold-in")) {
		l = listener(strtoul(argv[2], NULL, 0));
		return hold(l < 0 ? -1 : accept_host(l));
	}
	printf("usage: inner_fail stall PORT BYTES | close PORT BYTES LISTEN DPORT |\n"
	       "                  hold-out PORT | hold-in LISTEN\n");
	return 2;
}
