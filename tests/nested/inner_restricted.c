// SPDX-License-Identifier: GPL-2.0
/*
 * In the nested run's inner guest, whose context the model created
 * RESTRICTED (vmx-restricted=on): what the guest's stack sees of the host
 * sockets tests/nested/host_restricted.c made, trusted (T, DT) and not
 * (U, DU). The guest cannot tell the two kinds apart; the host's VMCI
 * enforces the difference:
 *
 *  - a datagram to DU is refused (EPERM), one to DT comes back;
 *  - a connect to U fails (the host drops the request), one to T works
 *    and SMALL bytes come back through the host's echo;
 *  - the host's trusted connect to our listener L arrives (we echo it),
 *    and nothing else does: its untrusted one never left the host.
 *
 * Usage: inner_restricted T U DT DU L SMALL
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "../user/tap.h"
#include "pattern.h"

static unsigned char buf[65536];

static struct sockaddr_vm host(unsigned int port)
{
	return (struct sockaddr_vm){ .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST,
				     .svm_port = port };
}

static void set_timeouts(int s, int secs)
{
	struct timeval tv = { .tv_sec = secs };

	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Sends SMALL bytes, half-closes, reads them back: 0 if they came back intact. */
static int echo_through(int s, size_t small)
{
	size_t got = 0;
	ssize_t r;

	pattern_fill(buf, 0, small);
	if (write(s, buf, small) != (ssize_t)small || shutdown(s, SHUT_WR))
		return -1;
	memset(buf, 0, sizeof(buf));
	while ((r = read(s, buf + got, sizeof(buf) - got)) > 0)
		got += r;
	return r == 0 && got == small && pattern_check(buf, 0, small) == small ? 0 : -1;
}

/* Echoes one stream until the peer half-closes; the byte count, or -1. */
static long long echo_stream(int c)
{
	long long total = 0;
	ssize_t r;

	while ((r = read(c, buf, sizeof(buf))) > 0) {
		if (write(c, buf, r) != r)
			return -1;
		total += r;
	}
	return r == 0 ? total : -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY }, peer;
	struct sockaddr_vm t, u, dt, du;
	socklen_t plen = sizeof(peer);
	size_t small;
	ssize_t r;
	int l, d, s, c, err;
	long long n;

	if (argc != 7) {
		printf("usage: inner_restricted T U DT DU L SMALL\n");
		return 2;
	}
	t = host(strtoul(argv[1], NULL, 0));
	u = host(strtoul(argv[2], NULL, 0));
	dt = host(strtoul(argv[3], NULL, 0));
	du = host(strtoul(argv[4], NULL, 0));
	a.svm_port = strtoul(argv[5], NULL, 0);
	small = strtoul(argv[6], NULL, 0);
	if (small > sizeof(buf))
		small = sizeof(buf);
	tap_plan(8);
	/* Listening first: the host's connect comes once our part is done. */
	l = socket(AF_VSOCK, SOCK_STREAM, 0);
	d = socket(AF_VSOCK, SOCK_DGRAM, 0);
	tap_report(l >= 0 && d >= 0 && !bind(l, (struct sockaddr *)&a, sizeof(a)) && !listen(l, 4),
		   "setup", "%s", strerror(errno));
	set_timeouts(d, 30);

	errno = 0;
	r = sendto(d, "untrusted", 9, 0, (struct sockaddr *)&du, sizeof(du));
	err = errno;
	tap_report(r < 0 && err == EPERM, "dgram_to_untrusted_refused", "sendto 2:%u: %zd (%s)",
		   du.svm_port, r, strerror(err));
	r = sendto(d, "trusted", 7, 0, (struct sockaddr *)&dt, sizeof(dt));
	if (r == 7)
		r = recv(d, buf, sizeof(buf), 0);
	err = errno;
	tap_report(r == 7 && !memcmp(buf, "trusted", 7), "dgram_to_trusted_echoed",
		   "%zd (%s)", r, r < 0 ? strerror(err) : "");

	s = socket(AF_VSOCK, SOCK_STREAM, 0);
	r = connect(s, (struct sockaddr *)&u, sizeof(u));
	err = errno;
	tap_report(r < 0, "connect_to_untrusted_fails", "connect 2:%u: %zd (%s)", u.svm_port, r,
		   strerror(err));
	close(s);
	s = socket(AF_VSOCK, SOCK_STREAM, 0);
	set_timeouts(s, 60);
	r = connect(s, (struct sockaddr *)&t, sizeof(t));
	err = errno;
	tap_report(!r && !echo_through(s, small), "trusted_stream_echoed", "connect 2:%u: %zd (%s)",
		   t.svm_port, r, strerror(err));
	close(s);

	alarm(300);
	c = accept(l, (struct sockaddr *)&peer, &plen);
	tap_report(c >= 0 && peer.svm_cid == VMADDR_CID_HOST, "host_trusted_connect_accepted",
		   "%s, peer %u", c < 0 ? strerror(errno) : "", c >= 0 ? peer.svm_cid : 0);
	if (c >= 0)
		set_timeouts(c, 60);
	n = c < 0 ? -1 : echo_stream(c);
	tap_report(n == (long long)small, "host_stream_echoed", "%lld bytes, wanted %zu", n, small);
	if (c >= 0)
		close(c);
	/* The host's untrusted connect, had it left the host, would wait here. */
	fcntl(l, F_SETFL, O_NONBLOCK);
	c = accept(l, NULL, NULL);
	err = errno;
	tap_report(c < 0 && err == EAGAIN, "no_other_connection", "accept: %d (%s)", c,
		   strerror(err));
	return tap_exit_code();
}
