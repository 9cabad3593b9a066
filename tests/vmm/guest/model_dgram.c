// SPDX-License-Identifier: GPL-2.0
/*
 * In the model VM: in-tree vSockets datagrams to the host context (CID 2)
 * through the device model, echoed back by a host program on the Unix
 * side (tests/vmm/host/dgram_echo.py).
 *
 * Usage: model_dgram ECHO_PORT UNBOUND_PORT
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "../../user/tap.h"

#define GUEST_PORT 5000
#define MAX_PAYLOAD 69608

static unsigned char out[MAX_PAYLOAD], in[MAX_PAYLOAD + 1];

static void fill(size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = (unsigned char)(seed * 131 + i * 7 + (i >> 8));
}

/* Not a pass/fail check: a number for the notes (TCG distorts it). */
static void report_round_trips(int s, struct sockaddr_vm *to)
{
	struct timeval t0, t1;
	double secs;
	int i, done = 0;

	fill(65536, 7);
	gettimeofday(&t0, NULL);
	for (i = 0; i < 64; i++) {
		if (sendto(s, out, 65536, 0, (struct sockaddr *)to, sizeof(*to)) != 65536 ||
		    recv(s, in, sizeof(in), 0) != 65536)
			break;
		done++;
	}
	gettimeofday(&t1, NULL);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_usec - t0.tv_usec) / 1e6;
	printf("# throughput: %d echo round trips of 64 KiB in %.3f s = %.1f MiB/s each way\n",
	       done, secs, secs > 0 ? done / 16.0 / secs : 0.0);
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 1, 100, 4000, 4072, 10000, 65536, MAX_PAYLOAD };
	struct sockaddr_vm addr = { .svm_family = AF_VSOCK }, from;
	struct timeval tv = { .tv_sec = 10 };
	unsigned int echo_port, unbound_port;
	socklen_t flen;
	char name[64];
	size_t i;
	ssize_t n;
	int s;

	if (argc != 3) {
		printf("usage: model_dgram ECHO_PORT UNBOUND_PORT\n");
		return 2;
	}
	/* send_ and echo_ per size, the burst, the unbound port; setup only on failure. */
	tap_plan(2 * (int)(sizeof(sizes) / sizeof(sizes[0])) + 2);
	echo_port = strtoul(argv[1], NULL, 0);
	unbound_port = strtoul(argv[2], NULL, 0);

	s = socket(AF_VSOCK, SOCK_DGRAM, 0);
	addr.svm_cid = VMADDR_CID_ANY;
	addr.svm_port = GUEST_PORT;
	if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof(addr)) ||
	    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv))) {
		tap_report(0, "setup", "%s", strerror(errno));
		return 1;
	}
	addr.svm_cid = VMADDR_CID_HOST;
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill(sizes[i], i);
		addr.svm_port = echo_port;
		snprintf(name, sizeof(name), "send_%zu", sizes[i]);
		n = sendto(s, out, sizes[i], 0, (struct sockaddr *)&addr, sizeof(addr));
		tap_check_int(name, n, sizes[i]);
		snprintf(name, sizeof(name), "echo_%zu", sizes[i]);
		flen = sizeof(from);
		n = recvfrom(s, in, sizeof(in), 0, (struct sockaddr *)&from, &flen);
		tap_report(n == (ssize_t)sizes[i] && !memcmp(in, out, sizes[i]) &&
			   from.svm_cid == VMADDR_CID_HOST && from.svm_port == echo_port,
			   name, "got %zd bytes from %u:%u (%s)", n, from.svm_cid,
			   from.svm_port, n < 0 ? strerror(errno) : "");
	}
	/*
	 * Many in flight. A Unix datagram socket queues only a few, so the
	 * device answers NO_RESOURCES (ENOBUFS here) when the host program
	 * lags: back off and resend, as a datagram application must.
	 */
	addr.svm_port = echo_port;
	for (i = 0; i < 32; i++) {
		int tries = 0;

		fill(200, 1000 + i);
		while (sendto(s, out, 200, 0, (struct sockaddr *)&addr, sizeof(addr)) != 200 &&
		       errno == ENOBUFS && tries++ < 1000)
			usleep(1000);
	}
	for (i = 0; i < 32; i++) {
		n = recv(s, in, sizeof(in), 0);
		fill(200, 1000 + i);
		if (n != 200 || memcmp(in, out, 200))
			break;
	}
	tap_check_int("burst_of_32_in_order", i, 32);

	report_round_trips(s, &addr);

	addr.svm_port = unbound_port;
	n = sendto(s, out, 10, 0, (struct sockaddr *)&addr, sizeof(addr));
	tap_report(n < 0, "unbound_host_port_fails", "sendto returned %zd", n);
	close(s);
	return tap_exit_code();
}
