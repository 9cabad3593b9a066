// SPDX-License-Identifier: GPL-2.0
/*
 * The demo's client, written as a vmci_sockets.h program is:
 *   vsock_echo_client stream CID PORT TEXT   send TEXT, print the echo
 *   vsock_echo_client dgram CID PORT TEXT    the same in one datagram
 *   vsock_echo_client hold CID PORT SECONDS  connect, send 4000 bytes,
 *                                            leave the echo unread for
 *                                            SECONDS (for vmsockstat)
 *   vsock_echo_client bench MIB              MIB MiB through a local
 *                                            vmsock stream, then through
 *                                            an AF_UNIX stream; MiB/s
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"

#define CHUNK	65536

static int fail(const char *what)
{
	perror(what);
	return 1;
}

static void vm_addr(struct sockaddr_vm *a, int af, unsigned int cid, unsigned int port)
{
	memset(a, 0, sizeof(*a));
	a->svm_family = af;
	a->svm_cid = cid;
	a->svm_port = port;
}

static int connect_to(int af, int type, unsigned int cid, unsigned int port)
{
	struct sockaddr_vm addr;
	int s = socket(af, type, 0);

	if (s < 0)
		return -1;
	vm_addr(&addr, af, cid, port);
	if (connect(s, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(s);
		return -1;
	}
	return s;
}

/* Reads exactly @len bytes unless the peer closes first. */
static ssize_t read_full(int s, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len && (n = read(s, buf + got, len - got)) > 0)
		got += n;
	return got;
}

static int echo(int af, int type, unsigned int cid, unsigned int port, const char *text)
{
	size_t len = strlen(text);
	char buf[4096];
	ssize_t n;
	int s = connect_to(af, type, cid, port);

	if (s < 0 || len >= sizeof(buf))
		return fail("connect");
	if (write(s, text, len) != (ssize_t)len)
		return fail("write");
	if (type == SOCK_STREAM) {
		n = read_full(s, buf, len);
	} else {
		n = recv(s, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			return fail("recv");
	}
	buf[n] = '\0';
	printf("client: sent \"%s\", got back \"%s\" (%s)\n", text, buf,
	       n == (ssize_t)len && !memcmp(buf, text, len) ? "same" : "DIFFERENT");
	close(s);
	return n == (ssize_t)len && !memcmp(buf, text, len) ? 0 : 1;
}

static int hold(int af, unsigned int cid, unsigned int port, int seconds)
{
	char buf[4000];
	int s = connect_to(af, SOCK_STREAM, cid, port);

	if (s < 0)
		return fail("connect");
	memset(buf, 'x', sizeof(buf));
	if (write(s, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
		return fail("write");
	printf("client: connected, 4000 bytes sent, echo left unread for %d s\n", seconds);
	fflush(stdout);
	sleep(seconds);
	shutdown(s, SHUT_WR);
	read_full(s, buf, sizeof(buf));
	close(s);
	return 0;
}

static double now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

/* Writes @mib MiB into @tx while a child drains @rx; MiB/s, or -1. */
static double pump(int tx, int rx, int mib)
{
	static char buf[CHUNK];
	long long left = (long long)mib << 20;
	double start;
	pid_t child;
	int status;

	child = fork();
	if (child < 0)
		return -1;
	if (!child) {
		close(tx);
		while (read(rx, buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	close(rx);
	start = now();
	while (left > 0) {
		ssize_t n = write(tx, buf, left < CHUNK ? left : CHUNK);

		if (n <= 0)
			return -1;
		left -= n;
	}
	close(tx);
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status))
		return -1;
	return mib / (now() - start);
}

static int bench(int af, int mib)
{
	struct sockaddr_vm addr;
	socklen_t len = sizeof(addr);
	int l, tx, rx, pair[2];
	double vm, unix_rate;

	l = socket(af, SOCK_STREAM, 0);
	vm_addr(&addr, af, VMADDR_CID_ANY, VMADDR_PORT_ANY);
	if (l < 0 || bind(l, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&addr, &len) < 0)
		return fail("listen");
	tx = connect_to(af, SOCK_STREAM, VMCISock_GetLocalCID(), addr.svm_port);
	rx = tx < 0 ? -1 : accept(l, NULL, NULL);
	if (rx < 0)
		return fail("connect/accept");
	close(l);
	vm = pump(tx, rx, mib);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) < 0)
		return fail("socketpair");
	unix_rate = pump(pair[0], pair[1], mib);
	if (vm < 0 || unix_rate < 0)
		return fail("transfer");
	printf("bench: %d MiB in 64 KiB writes: vmsock stream %.0f MiB/s, AF_UNIX stream %.0f MiB/s (%.2fx)\n",
	       mib, vm, unix_rate, vm / unix_rate);
	return 0;
}

int main(int argc, char **argv)
{
	int fd = -1, af, ret;

	if (argc < 3) {
		fprintf(stderr, "usage: %s stream|dgram CID PORT TEXT | hold CID PORT SECONDS | bench MIB\n",
			argv[0]);
		return 2;
	}
	af = VMCISock_GetAFValueFd(&fd);
	if (af < 0)
		return fail("VMCISock_GetAFValueFd");
	if (!strcmp(argv[1], "bench"))
		ret = bench(af, atoi(argv[2]));
	else if (argc < 5)
		ret = 2;
	else if (!strcmp(argv[1], "stream"))
		ret = echo(af, SOCK_STREAM, strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0), argv[4]);
	else if (!strcmp(argv[1], "dgram"))
		ret = echo(af, SOCK_DGRAM, strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0), argv[4]);
	else if (!strcmp(argv[1], "hold"))
		ret = hold(af, strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0), atoi(argv[4]));
	else
		ret = 2;
	VMCISock_ReleaseAFValueFd(fd);
	return ret;
}
