// SPDX-License-Identifier: GPL-2.0
/*
 * Inside a device-model VM (tests/bench/guest-run) that has both guest
 * stacks, each on its own VMCI device: the in-tree one on AF_VSOCK (40),
 * ours on the family /dev/vmsock hands out (vmsock.ko falls back to it
 * while the in-tree vsock holds 40). Every run measures both, in turns
 * whose order alternates, so a change in the machine's load (these
 * machines swing by 2x within seconds) hits both stacks of a pair alike.
 * Numbers only; it fails only when a transfer goes wrong, because then
 * the number would mean nothing.
 *
 *  BULK port: tests/vmm/host/stream_bulk.py ("recv N" / "send N", the
 *             host answers with byte count and CRC-32)
 *  ECHO port: tests/vmm/host/stream_echo.py (echoes whatever arrives)
 *  DGRAM port: tests/vmm/host/dgram_sink.py (counts datagrams; optional)
 *
 * Prints "BENCH <key> <in-tree value> <our value>" lines, one set per
 * run, on stdout; the host takes the medians and the paired ratios.
 *
 * Usage: guest_bench BULK_PORT ECHO_PORT BYTES ROUNDS REPS [DGRAM_PORT]
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "../../include/uapi/vmci_sockets.h"
#include "../vmm/guest/bulk_crc.h"

#define CHUNK		65536
#define TIMEOUT_S	60
#define MAX_REPS	15

enum { INTREE, OURS, STACKS };

/* The address family the next host_connect() uses. */
static int family = AF_VSOCK;
/* Guest CPU time (all CPUs) the last timed transfer or exchange took, s. */
static double cpu_spent;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Busy time of all CPUs so far, in seconds, from /proc/stat's tick
 * counts: what both stacks cost the guest, beside the wall clock that the
 * host's scheduling mostly decides.
 */
static double cpu_busy(void)
{
	unsigned long long user, nice, sys, idle, iowait, irq, softirq;
	FILE *f = fopen("/proc/stat", "r");
	int n = 0;

	if (f) {
		n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys,
			   &idle, &iowait, &irq, &softirq);
		fclose(f);
	}
	if (n != 7)
		return 0;
	return (double)(user + nice + sys + irq + softirq) / sysconf(_SC_CLK_TCK);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A stuck transfer ends in an error after TIMEOUT_S, not a hung VM. */
static int host_connect(unsigned int port)
{
	struct sockaddr_vm to = {
		.svm_family = family, .svm_cid = VMADDR_CID_HOST, .svm_port = port,
	};
	struct timeval tv = { .tv_sec = TIMEOUT_S };
	int s = socket(family, SOCK_STREAM, 0);

	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&to, sizeof(to))) {
		close(s);
		return -1;
	}
	return s;
}

static int write_all(int s, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	ssize_t w;

	while (len) {
		w = send(s, p, len, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w;
		len -= w;
	}
	return 0;
}

static ssize_t read_byte(int s, char *c)
{
	return read(s, c, 1);
}

/* The host's "<count> <crc>\n" answer. */
static int read_summary(int s, unsigned long long *count, unsigned int *crc)
{
	return read_summary_with(s, count, crc, read_byte);
}

/*
 * The same 64 KiB of noise over and over: the expected CRC is computed
 * before the clock starts, and nothing else runs while it does.
 */
static double to_host(const unsigned char *chunk, unsigned int port,
		      unsigned long long total)
{
	unsigned long long sent = 0, count = 0, i;
	unsigned int crc = 0, host_crc = 0;
	char line[48];
	size_t n;
	double t0, t;
	int s;

	for (i = 0; i < total; i += n) {
		n = total - i < CHUNK ? total - i : CHUNK;
		crc = crc_update(crc, chunk, n);
	}
	s = host_connect(port);
	snprintf(line, sizeof(line), "recv %llu\n", total);
	if (s < 0 || write_all(s, line, strlen(line))) {
		printf("# guest->host: connect: %s\n", strerror(errno));
		if (s >= 0)
			close(s);
		return -1;
	}
	t0 = now();
	cpu_spent = cpu_busy();
	while (sent < total) {
		n = total - sent < CHUNK ? total - sent : CHUNK;
		if (write_all(s, chunk, n))
			break;
		sent += n;
	}
	shutdown(s, SHUT_WR);
	/* The host has everything once it answers: that ends the clock. */
	if (sent < total || read_summary(s, &count, &host_crc)) {
		printf("# guest->host: sent %llu of %llu: %s\n", sent, total, strerror(errno));
		close(s);
		return -1;
	}
	t = now() - t0;
	cpu_spent = cpu_busy() - cpu_spent;
	close(s);
	if (count != total || host_crc != crc) {
		printf("# guest->host: host got %llu crc %08x, sent %llu crc %08x\n",
		       count, host_crc, total, crc);
		return -1;
	}
	return total / t / 1048576.0;
}

static double from_host(unsigned char *buf, unsigned int port, unsigned long long total)
{
	unsigned long long want = 0, got = 0;
	unsigned int want_crc = 0;
	char line[48];
	ssize_t r = -1;
	double t0, t;
	int s = host_connect(port);

	snprintf(line, sizeof(line), "send %llu\n", total);
	if (s < 0 || write_all(s, line, strlen(line)) || read_summary(s, &want, &want_crc)) {
		printf("# host->guest: connect: %s\n", strerror(errno));
		if (s >= 0)
			close(s);
		return -1;
	}
	t0 = now();
	cpu_spent = cpu_busy();
	while (got < total) {
		r = read(s, buf + got, total - got < CHUNK ? total - got : CHUNK);
		if (r <= 0)
			break;
		got += r;
	}
	/* EOF right after the announced bytes ends the clock. */
	if (got == total)
		r = read(s, buf, 1);
	t = now() - t0;
	cpu_spent = cpu_busy() - cpu_spent;
	close(s);
	if (r != 0 || got != total || want != total) {
		printf("# host->guest: got %llu of %llu, last read %zd: %s\n", got, want, r,
		       strerror(errno));
		return -1;
	}
	if (crc_update(0, buf, got) != want_crc) {
		printf("# host->guest: CRC mismatch\n");
		return -1;
	}
	return total / t / 1048576.0;
}

/* One byte each way ROUNDS times; per-round times into RTT (microseconds). */
static int pingpong(unsigned int port, long rounds, double *rtt)
{
	int s = host_connect(port);
	char c, sent;
	double t;
	long i;

	if (s < 0) {
		printf("# ping-pong: connect: %s\n", strerror(errno));
		return -1;
	}
	/* The first rounds set up caches and the host's thread: not counted. */
	for (i = -20; i < rounds; i++) {
		if (!i)
			cpu_spent = cpu_busy();
		sent = (char)i;
		t = now();
		if (write(s, &sent, 1) != 1 || read(s, &c, 1) != 1 || c != sent) {
			printf("# ping-pong: round %ld: %s\n", i, strerror(errno));
			close(s);
			return -1;
		}
		if (i >= 0)
			rtt[i] = (now() - t) * 1e6;
	}
	cpu_spent = cpu_busy() - cpu_spent;
	close(s);
	return 0;
}

/*
 * Connection rate: CONNS connections to the echo port, each carrying one
 * byte there and back (so the host has accepted it) and then closed, as a
 * client that opens a connection per request does. Connections a second.
 */
#define CONNS	20

static double connect_rate(unsigned int port)
{
	double t0 = now();
	char c = 'c';
	int i, s;

	cpu_spent = cpu_busy();
	for (i = 0; i < CONNS; i++) {
		s = host_connect(port);
		if (s < 0 || write(s, &c, 1) != 1 || read(s, &c, 1) != 1 || c != 'c') {
			printf("# connect rate: connection %d: %s\n", i, strerror(errno));
			if (s >= 0)
				close(s);
			return -1;
		}
		close(s);
	}
	cpu_spent = cpu_busy() - cpu_spent;
	return CONNS / (now() - t0);
}

/*
 * Datagram rate: DGRAMS 1 KiB datagrams to the host's counting port
 * (tests/vmm/host/dgram_sink.py), then "Q" for the count that arrived.
 * Delivered per second, from the first send to the answer; the share
 * delivered goes to *@kept (percent), so a stack that drops is not
 * flattered by its send rate. Sends the stack refused count as lost too.
 */
#define DGRAMS		2000
#define DGRAM_SIZE	1024

static double dgram_rate(unsigned int port, double *kept)
{
	struct sockaddr_vm to = {
		.svm_family = family, .svm_cid = VMADDR_CID_HOST, .svm_port = port,
	};
	struct sockaddr_vm any = {
		.svm_family = family, .svm_cid = VMADDR_CID_ANY, .svm_port = VMADDR_PORT_ANY,
	};
	struct timeval tv = { .tv_sec = 2 };
	char buf[DGRAM_SIZE], answer[32];
	long got = -1, accepted = 0;
	int s, i, asked;
	double t0;
	ssize_t n;

	s = socket(family, SOCK_DGRAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&any, sizeof(any))) {
		printf("# datagrams: socket: %s\n", strerror(errno));
		if (s >= 0)
			close(s);
		return -1;
	}
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* Starts the host's count from zero; its answer is not needed. */
	sendto(s, "Q", 1, 0, (struct sockaddr *)&to, sizeof(to));
	recv(s, answer, sizeof(answer), 0);
	memset(buf, 'D', sizeof(buf));
	t0 = now();
	for (i = 0; i < DGRAMS; i++)
		if (sendto(s, buf, sizeof(buf), 0, (struct sockaddr *)&to, sizeof(to)) == DGRAM_SIZE)
			accepted++;
	/*
	 * The answer comes after every datagram the host queued before it.
	 * While the host's queue is still full the model refuses the "Q"
	 * too: ask again for up to 2 s.
	 */
	for (i = 0, asked = 0; i < 200 && asked < 3 && got < 0; i++) {
		if (sendto(s, "Q", 1, 0, (struct sockaddr *)&to, sizeof(to)) != 1) {
			usleep(10000);
			continue;
		}
		asked++;
		n = recv(s, answer, sizeof(answer) - 1, 0);
		if (n > 0) {
			answer[n] = 0;
			got = strtol(answer, NULL, 10);
		}
	}
	close(s);
	if (got <= 0) {
		printf("# datagrams: the host counted %ld\n", got);
		return -1;
	}
	/* Refused sends are reported to the sender; the rest lost is silent. */
	printf("# datagrams on family %d: %d sent, %ld accepted, %ld delivered, %ld lost unreported\n",
	       family, DGRAMS, accepted, got, accepted > got ? accepted - got : 0);
	*kept = 100.0 * got / DGRAMS;
	return got / (now() - t0);
}

/* Ours: the family vmsock.ko reserved; @fd keeps it reserved. */
static int our_family(int *fd)
{
	int af = -1;

	*fd = open(VMCI_SOCKETS_VMSOCK_DEVICE, O_RDONLY | O_CLOEXEC);
	if (*fd < 0 || ioctl(*fd, VMCI_SOCKETS_GET_AF_VALUE, &af) < 0 || af < 0) {
		printf("# no family from %s: %s\n", VMCI_SOCKETS_VMSOCK_DEVICE, strerror(errno));
		return -1;
	}
	return af;
}

/* Throughputs in MiB/s, times in us; cpu_* in us of guest CPU per MiB or round. */
struct run {
	double g2h, h2g, rtt_mean, rtt_p50, cpu_g2h, cpu_h2g, cpu_rtt, conn, cpu_conn;
	double dgram, dgram_kept;	/* datagrams/s delivered; percent delivered */
};

static int measure(const unsigned char *chunk, unsigned char *buf, unsigned int bulk_port,
		   unsigned int echo_port, unsigned int dgram_port, unsigned long long total,
		   long rounds, double *rtt, struct run *r)
{
	double sum = 0, mib = total / 1048576.0;
	long j;

	r->g2h = to_host(chunk, bulk_port, total);
	r->cpu_g2h = cpu_spent * 1e6 / mib;
	r->h2g = from_host(buf, bulk_port, total);
	r->cpu_h2g = cpu_spent * 1e6 / mib;
	if (r->g2h < 0 || r->h2g < 0 || pingpong(echo_port, rounds, rtt))
		return -1;
	r->cpu_rtt = cpu_spent * 1e6 / rounds;
	r->conn = connect_rate(echo_port);
	if (r->conn < 0)
		return -1;
	r->cpu_conn = cpu_spent * 1e6 / CONNS;
	r->dgram = r->dgram_kept = 0;
	if (dgram_port && (r->dgram = dgram_rate(dgram_port, &r->dgram_kept)) < 0)
		return -1;
	for (j = 0; j < rounds; j++)
		sum += rtt[j];
	r->rtt_mean = sum / rounds;
	r->rtt_p50 = median(rtt, rounds);
	return 0;
}

int main(int argc, char **argv)
{
	int af[STACKS] = { [INTREE] = AF_VSOCK }, fd, first, k;
	struct run r[STACKS];
	unsigned long long total;
	unsigned char *buf, chunk[CHUNK];
	unsigned int bulk_port, echo_port, dgram_port = 0, reps, i;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	double *rtt;
	long rounds, j;

	if (argc != 6 && argc != 7) {
		printf("usage: guest_bench BULK_PORT ECHO_PORT BYTES ROUNDS REPS [DGRAM_PORT]\n");
		return 2;
	}
	if (argc == 7)
		dgram_port = strtoul(argv[6], NULL, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	bulk_port = strtoul(argv[1], NULL, 0);
	echo_port = strtoul(argv[2], NULL, 0);
	total = strtoull(argv[3], NULL, 0);
	rounds = strtol(argv[4], NULL, 0);
	reps = strtoul(argv[5], NULL, 0);
	if (!total || rounds < 1 || !reps || reps > MAX_REPS) {
		printf("# bad arguments\n");
		return 2;
	}
	af[OURS] = our_family(&fd);
	if (af[OURS] < 0)
		return 1;
	printf("# in-tree on family %d, ours on family %d\n", af[INTREE], af[OURS]);
	buf = malloc(total);
	rtt = calloc(rounds, sizeof(*rtt));
	if (!buf || !rtt) {
		printf("# no memory for %llu bytes\n", total);
		return 1;
	}
	/* Touched now, so page faults stay out of the timed reads. */
	memset(buf, 0, total);
	crc_init();
	for (j = 0; j < CHUNK; j++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		chunk[j] = (unsigned char)x;
	}
	/*
	 * An untimed eighth first: in trial runs the first transfer of a boot
	 * was the slowest for both stacks (host threads, caches).
	 */
	for (k = 0; k < STACKS; k++) {
		family = af[k];
		if (to_host(chunk, bulk_port, total / 8 + 1) < 0 ||
		    from_host(buf, bulk_port, total / 8 + 1) < 0 ||
		    pingpong(echo_port, rounds / 8 + 1, rtt))
			return 1;
	}
	for (i = 0; i < reps; i++) {
		first = i % 2 ? OURS : INTREE;
		for (k = 0; k < STACKS; k++) {
			family = af[first ^ k];
			if (measure(chunk, buf, bulk_port, echo_port, dgram_port, total, rounds,
				    rtt, &r[first ^ k]))
				return 1;
		}
		printf("BENCH g2h %.2f %.2f\n", r[INTREE].g2h, r[OURS].g2h);
		printf("BENCH h2g %.2f %.2f\n", r[INTREE].h2g, r[OURS].h2g);
		printf("BENCH rtt_mean %.2f %.2f\n", r[INTREE].rtt_mean, r[OURS].rtt_mean);
		printf("BENCH rtt_p50 %.2f %.2f\n", r[INTREE].rtt_p50, r[OURS].rtt_p50);
		printf("BENCH cpu_g2h %.1f %.1f\n", r[INTREE].cpu_g2h, r[OURS].cpu_g2h);
		printf("BENCH cpu_h2g %.1f %.1f\n", r[INTREE].cpu_h2g, r[OURS].cpu_h2g);
		printf("BENCH cpu_rtt %.2f %.2f\n", r[INTREE].cpu_rtt, r[OURS].cpu_rtt);
		printf("BENCH conn %.2f %.2f\n", r[INTREE].conn, r[OURS].conn);
		printf("BENCH cpu_conn %.1f %.1f\n", r[INTREE].cpu_conn, r[OURS].cpu_conn);
		if (dgram_port) {
			printf("BENCH dgram %.1f %.1f\n", r[INTREE].dgram, r[OURS].dgram);
			printf("BENCH dgram_kept %.2f %.2f\n", r[INTREE].dgram_kept,
			       r[OURS].dgram_kept);
		}
	}
	close(fd);
	free(rtt);
	free(buf);
	return 0;
}
