// SPDX-License-Identifier: GPL-2.0
/*
 * The host end of the nested run's RESTRICTED phase (tests/nested/run):
 * the inner guest's context was created RESTRICTED (vmx-restricted=on),
 * as an isolated VMware VM's is. Two parties may deal with each other
 * unless one is RESTRICTED and the other is not TRUSTED, and a host
 * socket is trusted when its creator had CAP_NET_ADMIN (Programming
 * Guide, "Trusted vSockets"). So sockets made as root reach the guest,
 * and sockets made after dropping to uid 65534 must not:
 *
 *  - the guest's connect to the untrusted listener U never arrives, to
 *    the trusted listener T it does (it sends SMALL bytes, we echo them,
 *    it checks them: tests/nested/inner_restricted.c);
 *  - the guest's datagram to the untrusted port DU is refused, to the
 *    trusted DT it arrives and our answer reaches the guest;
 *  - our untrusted datagram to the guest and our untrusted connect to its
 *    listener L fail with EPERM, our trusted connect to L works and the
 *    guest echoes SMALL bytes through it.
 *
 * Usage: host_restricted CID T U DT DU L SMALL
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <poll.h>
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

#define NOBODY	65534

static int af;
static unsigned int guest_cid;
static unsigned char buf[65536];

static int bound(int type, unsigned int port)
{
	struct sockaddr_vm a = { .svm_family = af, .svm_cid = VMADDR_CID_ANY, .svm_port = port };
	int s = socket(af, type, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) ||
	    (type == SOCK_STREAM && listen(s, 4))) {
		printf("# socket on %u: %s\n", port, strerror(errno));
		return -1;
	}
	return s;
}

static int trusted(int s)
{
	int v = -1;
	socklen_t len = sizeof(v);

	if (s < 0 || getsockopt(s, af, SO_VMCI_TRUSTED, &v, &len))
		return -1;
	return v;
}

/* Echoes one stream until the guest half-closes; 0 if all SMALL came and went. */
static int echo_stream(int c, unsigned long long small)
{
	unsigned long long got = 0;
	ssize_t r;

	while ((r = read(c, buf, sizeof(buf))) > 0) {
		if (write(c, buf, r) != r)
			return -1;
		got += r;
	}
	printf("# echoed %llu bytes for the guest\n", got);
	return r == 0 && got == small ? 0 : -1;
}

/* Sends SMALL bytes through the guest's echo and reads them back. */
static int echo_through(int s, unsigned long long small)
{
	unsigned long long got = 0;
	ssize_t r;

	pattern_fill(buf, 0, small);
	if (write(s, buf, small) != (ssize_t)small || shutdown(s, SHUT_WR))
		return -1;
	memset(buf, 0, sizeof(buf));
	while ((r = read(s, buf + got, sizeof(buf) - got)) > 0)
		got += r;
	return r == 0 && got == small && pattern_check(buf, 0, small) == small ? 0 : -1;
}

int main(int argc, char **argv)
{
	int tl, td, tc, ul, ud, us, ts, afd, r, err, served = 0, dgrams = 0;
	unsigned int untrusted_accepts = 0, untrusted_dgrams = 0;
	struct sockaddr_vm from, guest;
	struct pollfd p[4];
	unsigned long long small;
	socklen_t flen;
	time_t deadline;

	if (argc != 8) {
		printf("usage: host_restricted CID T U DT DU L SMALL\n");
		return 2;
	}
	guest_cid = strtoul(argv[1], NULL, 0);
	small = strtoull(argv[7], NULL, 0);
	if (small > sizeof(buf))
		small = sizeof(buf);
	deadline = time(NULL) + 900;
	tap_plan(9);
	af = VMCISock_GetAFValueFd(&afd);
	/* As root: CAP_NET_ADMIN, trusted sockets. */
	tl = bound(SOCK_STREAM, strtoul(argv[2], NULL, 0));
	td = bound(SOCK_DGRAM, strtoul(argv[4], NULL, 0));
	tc = socket(af, SOCK_STREAM, 0);
	/* Then as nobody, with no capabilities left: untrusted ones. */
	r = setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY);
	ul = bound(SOCK_STREAM, strtoul(argv[3], NULL, 0));
	ud = bound(SOCK_DGRAM, strtoul(argv[5], NULL, 0));
	us = socket(af, SOCK_STREAM, 0);
	tap_report(af >= 0 && !r && geteuid() == NOBODY && trusted(tl) == 1 && trusted(td) == 1 &&
		   trusted(tc) == 1 && !trusted(ul) && !trusted(ud) && !trusted(us), "host_setup",
		   "family %d, uid %d, trusted: tl %d td %d tc %d ul %d ud %d us %d", af,
		   geteuid(), trusted(tl), trusted(td), trusted(tc), trusted(ul), trusted(ud),
		   trusted(us));
	printf("# listening\n");
	fflush(stdout);

	/* The guest's part: one trusted stream and one trusted datagram. */
	p[0] = (struct pollfd){ .fd = tl, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = td, .events = POLLIN };
	p[2] = (struct pollfd){ .fd = ul, .events = POLLIN };
	p[3] = (struct pollfd){ .fd = ud, .events = POLLIN };
	memset(&guest, 0, sizeof(guest));
	while ((!served || !dgrams) && time(NULL) < deadline) {
		if (poll(p, 4, 1000) <= 0)
			continue;
		if (p[0].revents & POLLIN) {
			flen = sizeof(from);
			ts = accept(tl, (struct sockaddr *)&from, &flen);
			served = ts >= 0 && from.svm_cid == guest_cid && !echo_stream(ts, small) ?
				 1 : -1;
			close(ts);
		}
		if (p[1].revents & POLLIN) {
			flen = sizeof(from);
			r = recvfrom(td, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
			if (r > 0 && from.svm_cid == guest_cid &&
			    sendto(td, buf, r, 0, (struct sockaddr *)&from, flen) == r) {
				guest = from;
				dgrams++;
			}
		}
		if (p[2].revents & POLLIN) {
			close(accept(ul, NULL, NULL));
			untrusted_accepts++;
		}
		if (p[3].revents & POLLIN) {
			recv(ud, buf, sizeof(buf), 0);
			untrusted_dgrams++;
		}
	}
	tap_report(served == 1, "trusted_listener_served_guest", "%s",
		   served ? "echoed" : "no connection");
	tap_report(dgrams > 0, "trusted_dgram_echoed_to_guest", "%d datagrams from %u:%u", dgrams,
		   guest.svm_cid, guest.svm_port);

	/* Ours: the untrusted datagram, then the connects to the guest's listener. */
	errno = 0;
	r = guest.svm_cid ? sendto(ud, "x", 1, 0, (struct sockaddr *)&guest, sizeof(guest)) : 0;
	err = errno;
	tap_report(r < 0 && err == EPERM, "untrusted_dgram_to_guest_refused",
		   "sendto %u:%u: %d (%s)", guest.svm_cid, guest.svm_port, r, strerror(err));
	guest.svm_port = strtoul(argv[6], NULL, 0);
	guest.svm_cid = guest_cid;
	guest.svm_family = af;
	r = connect(us, (struct sockaddr *)&guest, sizeof(guest));
	err = errno;
	tap_report(r < 0 && err == EPERM, "untrusted_connect_to_guest_refused",
		   "connect to %u:%u: %d (%s)", guest_cid, guest.svm_port, r, strerror(err));
	/* The guest listened before it began its part: one attempt is enough. */
	r = tc < 0 ? -1 : connect(tc, (struct sockaddr *)&guest, sizeof(guest));
	err = errno;
	tap_report(!r, "trusted_connect_to_guest", "connect to %u:%u: %d (%s)", guest_cid,
		   guest.svm_port, r, strerror(err));
	tap_report(!r && !echo_through(tc, small), "trusted_stream_echoed_by_guest",
		   "%llu bytes", small);
	close(tc);
	/* Anything the untrusted ports got late. */
	if (poll(p + 2, 2, 1000) > 0) {
		untrusted_accepts += !!(p[2].revents & POLLIN);
		untrusted_dgrams += !!(p[3].revents & POLLIN);
	}
	tap_report(untrusted_accepts == 0, "untrusted_listener_never_reached", "%u connections",
		   untrusted_accepts);
	tap_report(untrusted_dgrams == 0, "untrusted_dgram_port_never_reached", "%u datagrams",
		   untrusted_dgrams);
	VMCISock_ReleaseAFValueFd(afd);
	return tap_exit_code();
}
