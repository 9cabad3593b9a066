// SPDX-License-Identifier: GPL-2.0
/*
 * The demo's echo server, written as a vmci_sockets.h program is:
 *   vsock_echo_server stream PORT [CONNECTIONS]   echo each connection
 *   vsock_echo_server dgram PORT [DATAGRAMS]      echo each datagram
 * It prints one line when it is ready and one per connection or
 * datagram, then exits after the given number (default 1).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"

static int fail(const char *what)
{
	perror(what);
	return 1;
}

static int bind_any(int af, int type, unsigned int port)
{
	struct sockaddr_vm addr;
	int s = socket(af, type, 0);

	if (s < 0)
		return -1;
	memset(&addr, 0, sizeof(addr));
	addr.svm_family = af;
	addr.svm_cid = VMADDR_CID_ANY;
	addr.svm_port = port;
	if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(s);
		return -1;
	}
	return s;
}

static int serve_stream(int s, int count)
{
	char buf[65536];
	struct sockaddr_vm peer;
	socklen_t len;
	long long total;
	ssize_t n;
	int c;

	if (listen(s, 4) < 0)
		return fail("listen");
	while (count--) {
		len = sizeof(peer);
		c = accept(s, (struct sockaddr *)&peer, &len);
		if (c < 0)
			return fail("accept");
		total = 0;
		while ((n = read(c, buf, sizeof(buf))) > 0) {
			if (write(c, buf, n) != n)
				return fail("write");
			total += n;
		}
		printf("server: connection from %u:%u echoed %lld bytes\n",
		       peer.svm_cid, peer.svm_port, total);
		fflush(stdout);
		close(c);
	}
	return 0;
}

static int serve_dgram(int s, int count)
{
	char buf[65536];
	struct sockaddr_vm peer;
	socklen_t len;
	ssize_t n;

	while (count--) {
		len = sizeof(peer);
		n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &len);
		if (n < 0)
			return fail("recvfrom");
		if (sendto(s, buf, n, 0, (struct sockaddr *)&peer, len) != n)
			return fail("sendto");
		printf("server: datagram from %u:%u, %zd bytes echoed\n",
		       peer.svm_cid, peer.svm_port, n);
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int fd = -1, af, s, ret, stream, count;

	if (argc < 3 || (strcmp(argv[1], "stream") && strcmp(argv[1], "dgram"))) {
		fprintf(stderr, "usage: %s stream|dgram PORT [COUNT]\n", argv[0]);
		return 2;
	}
	stream = !strcmp(argv[1], "stream");
	count = argc > 3 ? atoi(argv[3]) : 1;
	af = VMCISock_GetAFValueFd(&fd);
	if (af < 0)
		return fail("VMCISock_GetAFValueFd");
	s = bind_any(af, stream ? SOCK_STREAM : SOCK_DGRAM, strtoul(argv[2], NULL, 0));
	if (s < 0)
		return fail("socket/bind");
	printf("server: %s echo on %u:%s (family %d)\n", argv[1], VMCISock_GetLocalCID(),
	       argv[2], af);
	fflush(stdout);
	ret = stream ? serve_stream(s, count) : serve_dgram(s, count);
	close(s);
	VMCISock_ReleaseAFValueFd(fd);
	return ret;
}
