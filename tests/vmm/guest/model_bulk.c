// SPDX-License-Identifier: GPL-2.0
/*
 * In the model VM: bulk stream data one way at a time in 64 KiB writes
 * and reads, against tests/vmm/host/stream_bulk.py, checked by byte count
 * and CRC-32 (the zlib polynomial) on both ends; prints the throughput.
 * The data is generated and checked outside the timed part, so the
 * numbers are the stack's and the model's, not the CRC's.
 *
 *  guest->host: "recv N\n", N pseudo-random bytes, half-close; the host
 *               answers "<count> <crc>\n" for what it received.
 *  host->guest: "send N\n"; the host answers "<count> <crc>\n", then the
 *               data, then closes.
 *
 * Usage: model_bulk PORT BYTES
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdint.h>
#include <sys/time.h>

#include "bulk_crc.h"
#include "model_net.h"

#define CHUNK 65536

static double now(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

static ssize_t read_byte(int s, char *c)
{
	return model_read(s, c, 1, 120);
}

/* The host's "<count> <crc>\n" line, read byte by byte. */
static int read_summary(int s, unsigned long long *count, unsigned int *crc)
{
	return read_summary_with(s, count, crc, read_byte);
}

static void report(const char *dir, unsigned long long bytes, double secs)
{
	printf("# throughput: %s %llu bytes in 64 KiB writes: %.3f s = %.1f MiB/s\n",
	       dir, bytes, secs, bytes / 1048576.0 / secs);
}

static void to_host(unsigned char *buf, unsigned int port, unsigned long long total)
{
	unsigned long long sent = 0, count = 0, i;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	unsigned int crc, host_crc = 0;
	char line[48];
	double t0;
	size_t n;
	int s, ok;

	for (i = 0; i < total; i++) {
		if (!(i & 7)) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
		}
		buf[i] = (unsigned char)(x >> (8 * (i & 7)));
	}
	crc = crc_update(0, buf, total);
	s = model_connect(port);
	snprintf(line, sizeof(line), "recv %llu\n", total);
	if (s < 0 || model_write_all(s, line, strlen(line))) {
		tap_report(0, "guest_to_host_connect", "%s", strerror(errno));
		if (s >= 0)
			close(s);
		return;
	}
	t0 = now();
	while (sent < total) {
		n = total - sent < CHUNK ? total - sent : CHUNK;
		if (model_write_all(s, buf + sent, n))
			break;
		sent += n;
	}
	shutdown(s, SHUT_WR);
	ok = sent == total && !read_summary(s, &count, &host_crc);
	if (ok)
		report("guest->host", total, now() - t0);
	tap_report(ok && count == total && host_crc == crc, "guest_to_host_checksum",
		   "sent %llu crc %08x, host got %llu crc %08x (%s)", sent, crc, count,
		   host_crc, strerror(errno));
	close(s);
}

static void from_host(unsigned char *buf, unsigned int port, unsigned long long total)
{
	unsigned long long want = 0, got = 0;
	unsigned int crc = 0, want_crc = 0;
	char line[48];
	double t0;
	ssize_t r = -1;
	int s = model_connect(port);

	snprintf(line, sizeof(line), "send %llu\n", total);
	if (s < 0 || model_write_all(s, line, strlen(line)) ||
	    read_summary(s, &want, &want_crc)) {
		tap_report(0, "host_to_guest_connect", "%s", strerror(errno));
		if (s >= 0)
			close(s);
		return;
	}
	t0 = now();
	while (got < total && (r = model_read(s, buf + got, total - got < CHUNK ?
						       total - got : CHUNK, 120)) > 0)
		got += r;
	/* Nothing may follow the announced bytes. */
	if (got == total)
		r = model_read(s, buf, 1, 120);
	if (r == 0)
		report("host->guest", got, now() - t0);
	crc = crc_update(0, buf, got);
	tap_report(r == 0 && got == total && want == total && crc == want_crc,
		   "host_to_guest_checksum",
		   "got %llu crc %08x, host sent %llu crc %08x, last read %zd (%s)",
		   got, crc, want, want_crc, r, strerror(errno));
	close(s);
}

int main(int argc, char **argv)
{
	unsigned long long total;
	unsigned char *buf;
	unsigned int port;

	if (argc != 3) {
		printf("usage: model_bulk PORT BYTES\n");
		return 2;
	}
	/* One checksum each way; the *_connect and buffer reports only on failure. */
	tap_plan(2);
	port = strtoul(argv[1], NULL, 0);
	total = strtoull(argv[2], NULL, 0);
	buf = malloc(total ? total : 1);
	if (!buf) {
		tap_report(0, "buffer", "no memory for %llu bytes", total);
		return 1;
	}
	model_timeouts();
	crc_init();
	to_host(buf, port, total);
	from_host(buf, port, total);
	free(buf);
	return tap_exit_code();
}
