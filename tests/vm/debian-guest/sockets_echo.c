// SPDX-License-Identifier: GPL-2.0
/*
 * A program written the way a user writes one against the packaged header
 * (<vmci/vmci_sockets.h>, compiled inside the Debian guest by its own gcc):
 * it asks the header for the family and the local CID, then reaches the
 * host through the VMCI device model, a stream echoed by stream_echo.py
 * and a datagram echoed by dgram_echo.py.
 * Usage: sockets_echo CID STREAM_PORT DGRAM_PORT [intree]
 * "intree": Debian's own stack answers; its /dev/vsock has no version ioctl.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdlib.h>
#include <sys/time.h>

#include <vmci/vmci_sockets.h>

#include "tap.h"

#define STREAM_BYTES (256 * 1024)

static unsigned char out[STREAM_BYTES], in[STREAM_BYTES];

/* Neither end may hang the boot: every call gives up after 60 s. */
static void set_timeouts(int s)
{
	struct timeval tv = { .tv_sec = 60 };

	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static struct sockaddr_vm host_addr(int af, unsigned int port)
{
	struct sockaddr_vm a;

	memset(&a, 0, sizeof(a));
	a.svm_family = af;
	a.svm_cid = VMADDR_CID_HOST;
	a.svm_port = port;
	return a;
}

/* Sends STREAM_BYTES, half-closes, reads the echo back. */
static void stream_echo(int af, unsigned int port)
{
	struct sockaddr_vm a = host_addr(af, port);
	size_t sent = 0, got = 0, i;
	ssize_t n;
	int s, rc;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (unsigned char)(i * 7 + i / 251);
	s = socket(af, SOCK_STREAM, 0);
	tap_report(s >= 0, "stream_socket", "%s", strerror(errno));
	if (s < 0) {
		tap_skip("stream_connect", "no socket");
		tap_skip("stream_echoed", "no socket");
		return;
	}
	set_timeouts(s);
	rc = connect(s, (struct sockaddr *)&a, sizeof(a));
	tap_report(rc == 0, "stream_connect", "port %u: %s", port, strerror(errno));
	if (rc) {
		close(s);
		tap_skip("stream_echoed", "not connected");
		return;
	}
	while (sent < sizeof(out)) {
		n = send(s, out + sent, sizeof(out) - sent, 0);
		if (n <= 0)
			break;
		sent += n;
	}
	shutdown(s, SHUT_WR);
	while (got < sizeof(in)) {
		n = recv(s, in + got, sizeof(in) - got, 0);
		if (n <= 0)
			break;
		got += n;
	}
	close(s);
	tap_report(sent == sizeof(out) && got == sizeof(in) && !memcmp(in, out, sizeof(in)),
		   "stream_echoed", "sent %zu, got %zu back", sent, got);
}

static void dgram_echo(int af, unsigned int port)
{
	struct sockaddr_vm a = host_addr(af, port);
	const char msg[] = "debian guest datagram";
	char buf[256];
	ssize_t n = -1;
	int s;

	s = socket(af, SOCK_DGRAM, 0);
	if (s >= 0) {
		set_timeouts(s);
		n = sendto(s, msg, sizeof(msg), 0, (struct sockaddr *)&a, sizeof(a));
		if (n == (ssize_t)sizeof(msg))
			n = recv(s, buf, sizeof(buf), 0);
		else
			n = -1;
		close(s);
	}
	tap_report(n == (ssize_t)sizeof(msg) && !memcmp(buf, msg, sizeof(msg)), "dgram_echoed",
		   "socket %d, echo %zd bytes: %s", s, n, strerror(errno));
}

int main(int argc, char **argv)
{
	unsigned int version;
	int fd = -1, af;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: %s CID STREAM_PORT DGRAM_PORT [intree]\n", argv[0]);
		return 2;
	}
	tap_plan(7);
	version = VMCISock_Version();
	if (argc == 5)
		tap_skip("version", "Debian's /dev/vsock has no version ioctl");
	else
		tap_report(version != VMCI_SOCKETS_INVALID_VERSION, "version",
			   "no vSockets driver");
	af = VMCISock_GetAFValueFd(&fd);
	tap_check_int("af_value", af, 40);
	CHECK_EQ("local_cid", VMCISock_GetLocalCID(), strtoul(argv[1], NULL, 0));
	if (af < 0)
		af = VMCI_SOCKETS_AF_FIXED;
	stream_echo(af, strtoul(argv[2], NULL, 0));
	dgram_echo(af, strtoul(argv[3], NULL, 0));
	VMCISock_ReleaseAFValueFd(fd);
	return tap_exit_code();
}
