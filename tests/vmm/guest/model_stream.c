// SPDX-License-Identifier: GPL-2.0
/*
 * In the model VM: in-tree vSockets streams to the host context (CID 2)
 * through the device model and its Unix bridge, against an echo server
 * (tests/vmm/host/stream_echo.py). A writer process sends a pattern and
 * half-closes; the reader checks the echo byte for byte and sees EOF.
 *
 * Usage: model_stream PORT
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "../../user/tap.h"

static unsigned char pattern(size_t i, unsigned int seed)
{
	return (unsigned char)(i * 31 + seed + (i >> 11));
}

static int connect_host(unsigned int port)
{
	struct sockaddr_vm to = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = port,
	};
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (s < 0)
		return -1;
	if (connect(s, (struct sockaddr *)&to, sizeof(to))) {
		close(s);
		return -1;
	}
	return s;
}

/* Returns bytes verified, or -1 on a mismatch or error. */
static long long echo_once(unsigned int port, size_t total, unsigned int seed)
{
	static unsigned char buf[65536];
	size_t got = 0, i, n;
	pid_t writer;
	ssize_t r;
	int s = connect_host(port);

	if (s < 0) {
		printf("# connection %u: connect: %s\n", seed, strerror(errno));
		fflush(stdout);
		return -1;
	}
	writer = fork();
	if (writer == 0) {
		size_t sent = 0;

		while (sent < total) {
			n = total - sent < sizeof(buf) ? total - sent : sizeof(buf);
			for (i = 0; i < n; i++)
				buf[i] = pattern(sent + i, seed);
			r = write(s, buf, n);
			if (r <= 0)
				_exit(1);
			sent += r;
		}
		shutdown(s, SHUT_WR);
		_exit(0);
	}
	for (;;) {
		r = read(s, buf, sizeof(buf));
		if (r <= 0)
			break;
		for (i = 0; i < (size_t)r; i++)
			if (buf[i] != pattern(got + i, seed))
				break;
		if (i != (size_t)r) {
			got = (size_t)-1;
			break;
		}
		got += r;
	}
	if (got == (size_t)-1) {
		kill(writer, SIGKILL);
		printf("# connection %u: the echo differs from what was sent\n", seed);
	} else if (got != total) {
		printf("# connection %u: read %zd (%s) after %zu of %zu bytes\n", seed, r,
		       r < 0 ? strerror(errno) : "EOF", got, total);
	}
	fflush(stdout);
	waitpid(writer, NULL, 0);
	close(s);
	return got == (size_t)-1 ? -1 : (long long)got;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 1, 4096, 300000, 4 << 20 };
	struct timeval t0, t1;
	unsigned int port;
	char name[64];
	long long got;
	double secs;
	size_t i;
	int s;

	if (argc != 2) {
		printf("usage: model_stream PORT\n");
		return 2;
	}
	/* echo_ per size, the parallel connections, the refused connect. */
	tap_plan((int)(sizeof(sizes) / sizeof(sizes[0])) + 2);
	port = strtoul(argv[1], NULL, 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(name, sizeof(name), "echo_%zu", sizes[i]);
		gettimeofday(&t0, NULL);
		got = echo_once(port, sizes[i], i);
		gettimeofday(&t1, NULL);
		tap_check_int(name, got, (long long)sizes[i]);
		secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_usec - t0.tv_usec) / 1e6;
		if (sizes[i] >= (1 << 20))
			printf("# throughput: %zu bytes echoed in %.3f s = %.1f MiB/s each way\n",
			       sizes[i], secs, sizes[i] / 1048576.0 / secs);
	}
	/* Eight connections at once, each its own queue pair and socket. */
	for (i = 0; i < 8; i++) {
		if (fork() == 0)
			_exit(echo_once(port, 300000, 100 + i) == 300000 ? 0 : 1);
	}
	got = 0;
	for (i = 0; i < 8; i++) {
		int status;

		if (wait(&status) > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
			got++;
	}
	tap_check_int("eight_parallel_connections", got, 8);

	s = connect_host(port + 1);
	CHECK_ERRNO("no_listener_refused", s, ECONNRESET);
	return tap_exit_code();
}
