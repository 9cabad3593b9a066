// SPDX-License-Identifier: GPL-2.0
/*
 * The host end of the nested run (tests/nested/run), in the outer VM: a
 * host vSockets program written as the VMCI Sockets Programming Guide
 * shows (the family from VMCISock_GetAFValueFd(), addresses with
 * VMADDR_CID_ANY), serving the inner guest that our QEMU runs with the
 * device model in VMX mode. Everything it sees crossed /dev/vmci, our
 * broker and vmsock.ko.
 *
 *  stream port P: the protocol of tests/vmm/host/stream_bulk.py, which the
 *    inner guest's model_bulk speaks: a line "recv N" (we read to EOF and
 *    answer "<count> <crc32>\n") or "send N" (we answer "N <crc32>\n",
 *    then N bytes, then close).
 *  datagram port D: every datagram goes back to its sender unchanged
 *    (the inner guest's model_dgram).
 *
 *  then, as a client: a connection to the guest's listener on port L
 *    (model_listen, which echoes until we half-close), BYTES sent and the
 *    same BYTES read back, checked by CRC-32.
 *
 * It serves CONNS stream connections and at least MIN_DGRAMS datagrams,
 * then connects; it gives up after SECS seconds. Every peer must be the
 * inner guest's CID.
 *
 * Usage: nested_host CID STREAM_PORT DGRAM_PORT CONNS MIN_DGRAMS SECS L BYTES
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "../user/tap.h"
#include "../vmm/guest/bulk_crc.h"

#define CHUNK		65536
#define MAX_DGRAM	69632

static int af;
static unsigned int guest_cid;
static unsigned char buf[CHUNK];
static unsigned char dgram[MAX_DGRAM];

static ssize_t read_byte(int s, char *c)
{
	return read(s, c, 1);
}

static int write_all(int s, const void *p, size_t len)
{
	const unsigned char *b = p;
	ssize_t w;

	while (len) {
		w = send(s, b, len, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		b += w;
		len -= w;
	}
	return 0;
}

/* The "recv N" side: counts and checksums what the guest sends until EOF. */
static int take(int s, unsigned long long want, char *why, size_t whylen)
{
	unsigned long long got = 0;
	uint32_t crc = 0;
	char line[48];
	ssize_t r;

	while ((r = read(s, buf, sizeof(buf))) > 0) {
		crc = crc_update(crc, buf, r);
		got += r;
	}
	snprintf(line, sizeof(line), "%llu %08x\n", got, crc);
	snprintf(why, whylen, "recv: wanted %llu, got %llu crc %08x, last read %zd (%s)",
		 want, got, crc, r, r < 0 ? strerror(errno) : "EOF");
	return write_all(s, line, strlen(line)) || r < 0 || got != want ? -1 : 0;
}

/* The "send N" side: the checksum first, then the bytes, then close. */
static int give(int s, unsigned long long total, char *why, size_t whylen)
{
	uint64_t x = 0x243f6a8885a308d3ull;
	unsigned long long i, sent = 0;
	uint32_t crc = 0;
	char line[48];
	size_t n;
	int pass;

	/* The same stream twice: once for the checksum, once to send. */
	for (pass = 0; pass < 2; pass++) {
		x = 0x243f6a8885a308d3ull;
		for (sent = 0; sent < total; sent += n) {
			n = total - sent < CHUNK ? total - sent : CHUNK;
			for (i = 0; i < n; i++) {
				x = x * 6364136223846793005ull + 1442695040888963407ull;
				buf[i] = (unsigned char)(x >> 56);
			}
			if (!pass) {
				crc = crc_update(crc, buf, n);
			} else if (write_all(s, buf, n)) {
				break;
			}
		}
		if (!pass) {
			snprintf(line, sizeof(line), "%llu %08x\n", total, crc);
			if (write_all(s, line, strlen(line)))
				break;
		}
	}
	snprintf(why, whylen, "send: %llu of %llu bytes, crc %08x (%s)", sent, total, crc,
		 strerror(errno));
	return sent == total ? 0 : -1;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void serve(int s, const struct sockaddr_vm *peer, unsigned int k)
{
	double t0 = now();
	unsigned long long n = 0;
	char line[64], why[160] = "no request line", name[48];
	size_t len = 0;
	int ok = 0;

	snprintf(name, sizeof(name), "conn%u_peer_is_guest", k);
	tap_report(peer->svm_cid == guest_cid, name, "peer %u:%u, guest %u", peer->svm_cid,
		   peer->svm_port, guest_cid);
	while (len < sizeof(line) - 1 && read_byte(s, line + len) == 1 && line[len] != '\n')
		len++;
	line[len] = 0;
	if (sscanf(line, "recv %llu", &n) == 1) {
		ok = !take(s, n, why, sizeof(why));
		snprintf(name, sizeof(name), "conn%u_guest_to_host", k);
	} else if (sscanf(line, "send %llu", &n) == 1) {
		ok = !give(s, n, why, sizeof(why));
		snprintf(name, sizeof(name), "conn%u_host_to_guest", k);
	} else {
		snprintf(name, sizeof(name), "conn%u_request", k);
		snprintf(why, sizeof(why), "bad request \"%s\"", line);
	}
	tap_report(ok, name, "%s", why);
	close(s);
	/* The outer VM's clock, the one that can be trusted here. */
	printf("# %s: %llu bytes in %.2f s\n", name, n, now() - t0);
}

/* Echoes one datagram; 1 if it came from the guest and went back whole. */
static int echo(int d)
{
	struct sockaddr_vm from;
	socklen_t flen = sizeof(from);
	ssize_t n;

	n = recvfrom(d, dgram, sizeof(dgram), 0, (struct sockaddr *)&from, &flen);
	if (n < 0)
		return 0;
	if (from.svm_cid != guest_cid) {
		printf("# datagram from %u:%u, not the guest\n", from.svm_cid, from.svm_port);
		return 0;
	}
	return sendto(d, dgram, n, 0, (struct sockaddr *)&from, flen) == n;
}

/*
 * Sends TOTAL bytes to the guest's echo listener while reading the echo
 * (poll: neither side may wait for the other's buffer to drain), then
 * half-closes and reads to EOF. 0 if every byte came back in order.
 */
static int echo_through_guest(int s, unsigned long long total, char *why, size_t whylen)
{
	unsigned long long sent = 0, got = 0, i;
	uint64_t x = 0x13198a2e03707344ull;
	uint32_t crc_out = 0, crc_in = 0;
	static unsigned char out[CHUNK];
	size_t have = 0, off = 0;
	struct pollfd p = { .fd = s };
	ssize_t r = 1;

	while (r > 0) {
		p.events = POLLIN | (sent < total ? POLLOUT : 0);
		if (poll(&p, 1, 120000) <= 0) {
			r = -1;
			break;
		}
		if (off == have && sent < total) {
			have = total - sent < CHUNK ? total - sent : CHUNK;
			for (i = 0; i < have; i++) {
				x = x * 6364136223846793005ull + 1442695040888963407ull;
				out[i] = (unsigned char)(x >> 56);
			}
			crc_out = crc_update(crc_out, out, have);
			off = 0;
		}
		if ((p.revents & POLLOUT) && off < have) {
			r = send(s, out + off, have - off, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (r < 0 && errno != EAGAIN)
				break;
			if (r > 0) {
				off += r;
				sent += r;
				if (sent == total)
					shutdown(s, SHUT_WR);
			}
			r = 1;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			r = recv(s, buf, sizeof(buf), MSG_DONTWAIT);
			if (r < 0 && errno == EAGAIN)
				r = 1;
			else if (r > 0) {
				crc_in = crc_update(crc_in, buf, r);
				got += r;
			}
		}
	}
	snprintf(why, whylen, "sent %llu crc %08x, echoed %llu crc %08x, last %zd (%s)", sent,
		 crc_out, got, crc_in, r, r < 0 ? strerror(errno) : "EOF");
	return r == 0 && sent == total && got == total && crc_in == crc_out ? 0 : -1;
}

/* The guest starts listening once its own tests are done: retry till then. */
static void client(unsigned int port, unsigned long long total, time_t deadline)
{
	struct sockaddr_vm a;
	char why[160];
	double t0;
	int s = -1, ok;

	memset(&a, 0, sizeof(a));
	a.svm_family = af;
	a.svm_cid = guest_cid;
	a.svm_port = port;
	while (time(NULL) < deadline) {
		s = socket(af, SOCK_STREAM, 0);
		if (s >= 0 && !connect(s, (struct sockaddr *)&a, sizeof(a)))
			break;
		if (s >= 0)
			close(s);
		s = -1;
		usleep(200000);
	}
	tap_report(s >= 0, "client_connect_to_guest", "%u:%u (%s)", guest_cid, port,
		   strerror(errno));
	if (s < 0) {
		tap_report(0, "client_echo_through_guest", "no connection");
		return;
	}
	t0 = now();
	ok = !echo_through_guest(s, total, why, sizeof(why));
	tap_report(ok, "client_echo_through_guest", "%s", why);
	printf("# client_echo_through_guest: %llu bytes each way in %.2f s\n", total,
	       now() - t0);
	close(s);
}

static int bound(int type, unsigned int port)
{
	struct sockaddr_vm a;
	int s = socket(af, type, 0);

	memset(&a, 0, sizeof(a));
	a.svm_family = af;
	a.svm_cid = VMADDR_CID_ANY;
	a.svm_port = port;
	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) ||
	    (type == SOCK_STREAM && listen(s, 4))) {
		if (s >= 0)
			close(s);
		return -1;
	}
	return s;
}

int main(int argc, char **argv)
{
	unsigned int conns, min_dgrams, echoed = 0, bad = 0, k = 0;
	struct pollfd p[2];
	struct sockaddr_vm peer;
	socklen_t plen;
	time_t deadline;
	int afd, l, d, c;

	if (argc != 9) {
		printf("usage: nested_host CID STREAM_PORT DGRAM_PORT CONNS MIN_DGRAMS SECS L BYTES\n");
		return 2;
	}
	guest_cid = strtoul(argv[1], NULL, 0);
	conns = strtoul(argv[4], NULL, 0);
	min_dgrams = strtoul(argv[5], NULL, 0);
	deadline = time(NULL) + strtol(argv[6], NULL, 0);
	/* setup, two per connection, the datagrams, two as a client */
	tap_plan(1 + 2 * conns + 1 + 2);
	crc_init();
	af = VMCISock_GetAFValueFd(&afd);
	l = af < 0 ? -1 : bound(SOCK_STREAM, strtoul(argv[2], NULL, 0));
	d = af < 0 ? -1 : bound(SOCK_DGRAM, strtoul(argv[3], NULL, 0));
	VMCISock_ReleaseAFValueFd(afd);
	tap_report(af >= 0 && l >= 0 && d >= 0, "host_setup", "family %d (%s)", af,
		   strerror(errno));
	if (l < 0 || d < 0)
		return 1;
	/* Ready: the outer init starts QEMU only after this line. */
	printf("# listening\n");
	fflush(stdout);
	p[0] = (struct pollfd){ .fd = l, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = d, .events = POLLIN };
	while ((k < conns || echoed < min_dgrams) && time(NULL) < deadline) {
		if (poll(p, 2, 1000) <= 0)
			continue;
		if (p[1].revents & POLLIN) {
			if (echo(d))
				echoed++;
			else
				bad++;
		}
		if ((p[0].revents & POLLIN) && k < conns) {
			plen = sizeof(peer);
			c = accept(l, (struct sockaddr *)&peer, &plen);
			if (c >= 0)
				serve(c, &peer, k++);
		}
	}
	for (; k < conns; k++) {
		char name[48];

		snprintf(name, sizeof(name), "conn%u_peer_is_guest", k);
		tap_report(0, name, "no connection within the time");
		snprintf(name, sizeof(name), "conn%u_transfer", k);
		tap_report(0, name, "no connection within the time");
	}
	tap_report(echoed >= min_dgrams && !bad, "datagrams_echoed",
		   "%u echoed, %u refused or not from the guest, wanted %u", echoed, bad,
		   min_dgrams);
	close(l);
	close(d);
	client(strtoul(argv[7], NULL, 0), strtoull(argv[8], NULL, 0), deadline);
	return tap_exit_code();
}
