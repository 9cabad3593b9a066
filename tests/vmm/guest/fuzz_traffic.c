// SPDX-License-Identifier: GPL-2.0
/*
 * In the hostile-device fuzz VM (make fuzz-device): traffic on our stack
 * while tests/vmm/host/device_fuzz.py throws the device model's faults at
 * it. Two threads open streams to the host and echo through them, one
 * sends datagrams to the host's echo port; during the faults nothing they
 * see is a failure (the device is hostile), only counted. Every socket has
 * timeouts, so a fault cannot park a thread. Once the host says the faults
 * have stopped, a fresh stream and a fresh datagram must each make a
 * round trip (retried for a while: a late reset takes seconds to recover).
 *
 * Usage: fuzz_traffic STREAM_PORT CTL_PORT ECHO_PORT SECS
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "model_net.h"

#define STREAM_THREADS	2
#define SETTLE_SECS	60	/* how long the after-fault round trips are retried */

static unsigned int stream_port, ctl_port, echo_port;
static time_t deadline;

/* Counters, each written by one thread only and read after the joins. */
struct counts {
	unsigned long connected, connect_failed, rounds, round_failed, corrupt;
};

static void timeouts(int s, unsigned int secs)
{
	struct timeval tv = { .tv_sec = secs };

	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Reads exactly LEN bytes (within the socket's timeout); 0 or -1. */
static int read_all(int s, unsigned char *buf, size_t len)
{
	ssize_t r;

	while (len) {
		r = recv(s, buf, len, 0);
		if (r <= 0)
			return -1;
		buf += r;
		len -= r;
	}
	return 0;
}

/* One echo round of LEN bytes: 0 echoed, 1 echoed wrong, -1 failed. */
static int echo_round(int s, size_t len, unsigned int salt)
{
	static __thread unsigned char out[16384], in[16384];
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = (unsigned char)(salt + i * 13);
	if (model_write_all(s, out, len) || read_all(s, in, len))
		return -1;
	return memcmp(in, out, len) ? 1 : 0;
}

/* A stream to the fuzz host, introduced by our port; -1 on failure. */
static int open_stream(void)
{
	char line[16];
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);
	struct sockaddr_vm to = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = stream_port,
	};

	if (s < 0)
		return -1;
	timeouts(s, 3);
	if (connect(s, (struct sockaddr *)&to, sizeof(to))) {
		close(s);
		return -1;
	}
	snprintf(line, sizeof(line), "%u\n", model_local_port(s));
	if (model_write_all(s, line, strlen(line))) {
		close(s);
		return -1;
	}
	return s;
}

static void *streams(void *arg)
{
	struct counts *c = arg;
	unsigned int seed = (unsigned int)(uintptr_t)arg, n, i;
	int s, r;

	while (time(NULL) < deadline) {
		s = open_stream();
		if (s < 0) {
			c->connect_failed++;
			usleep(50000);
			continue;
		}
		c->connected++;
		n = 1 + rand_r(&seed) % 20;
		for (i = 0; i < n && time(NULL) < deadline; i++) {
			r = echo_round(s, 1 + rand_r(&seed) % 16384, i);
			if (r < 0) {
				c->round_failed++;
				break;
			}
			c->rounds++;
			c->corrupt += r;
		}
		close(s);
	}
	return NULL;
}

/* One datagram to the echo port and back: 0 echoed, 1 echoed wrong, -1 lost. */
static int dgram_round(int d, unsigned int port, size_t len, unsigned int salt)
{
	static __thread unsigned char out[4096], in[4097];
	struct sockaddr_vm to = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = port,
	};
	ssize_t r;
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = (unsigned char)(salt * 7 + i);
	if (sendto(d, out, len, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)len)
		return -1;
	r = recv(d, in, sizeof(in), 0);
	if (r < 0)
		return -1;
	return r != (ssize_t)len || memcmp(in, out, len) ? 1 : 0;
}

static void *dgrams(void *arg)
{
	struct counts *c = arg;
	unsigned int seed = 77, salt = 0;
	int d = -1, r;

	while (time(NULL) < deadline) {
		if (d < 0) {
			d = socket(AF_VSOCK, SOCK_DGRAM, 0);
			if (d < 0) {
				c->connect_failed++;
				usleep(50000);
				continue;
			}
			timeouts(d, 1);
		}
		r = dgram_round(d, echo_port, 1 + rand_r(&seed) % 4096, salt++);
		if (r < 0) {
			/*
			 * A stale echo could arrive late: start over on a new
			 * socket. A send refused at once would spin: pause.
			 */
			c->round_failed++;
			close(d);
			d = -1;
			usleep(10000);
			continue;
		}
		c->rounds++;
		c->corrupt += r;
	}
	if (d >= 0)
		close(d);
	return NULL;
}

/*
 * Asks the fuzz host WORD on CTL_PORT until the answer starts with WANT or
 * TRIES seconds pass; the answer goes to ANSWER. 0 on success.
 */
static int ask(const char *word, const char *want, int tries, char *answer, size_t size)
{
	struct sockaddr_vm to = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = ctl_port,
	};
	ssize_t r;
	int d, i;

	answer[0] = 0;
	for (i = 0; i < tries; i++) {
		d = socket(AF_VSOCK, SOCK_DGRAM, 0);
		if (d < 0) {
			sleep(1);
			continue;
		}
		timeouts(d, 1);
		r = -1;
		if (sendto(d, word, strlen(word), 0, (struct sockaddr *)&to, sizeof(to)) > 0)
			r = recv(d, answer, size - 1, 0);
		close(d);
		if (r > 0) {
			answer[r] = 0;
			if (!strncmp(answer, want, strlen(want)))
				return 0;
		}
		sleep(1);
	}
	return -1;
}

/* A fresh stream's echo round, retried for SETTLE_SECS. */
static int stream_after(void)
{
	time_t end = time(NULL) + SETTLE_SECS;
	int s, r;

	do {
		s = open_stream();
		if (s >= 0) {
			r = echo_round(s, 4096, 1);
			close(s);
			if (!r)
				return 0;
		}
		sleep(1);
	} while (time(NULL) < end);
	return -1;
}

static int dgram_after(void)
{
	time_t end = time(NULL) + SETTLE_SECS;
	int d, r;

	do {
		d = socket(AF_VSOCK, SOCK_DGRAM, 0);
		if (d >= 0) {
			timeouts(d, 2);
			r = dgram_round(d, echo_port, 1000, 5);
			close(d);
			if (!r)
				return 0;
		}
		sleep(1);
	} while (time(NULL) < end);
	return -1;
}

int main(int argc, char **argv)
{
	static struct counts sc[STREAM_THREADS], dc;
	pthread_t st[STREAM_THREADS], dt;
	unsigned long s_conn = 0, s_fail = 0, s_rounds = 0, s_bad = 0, s_corrupt = 0;
	char answer[64] = "";
	unsigned int secs;
	int i;

	if (argc != 5) {
		printf("usage: fuzz_traffic STREAM_PORT CTL_PORT ECHO_PORT SECS\n");
		return 2;
	}
	stream_port = strtoul(argv[1], NULL, 0);
	ctl_port = strtoul(argv[2], NULL, 0);
	echo_port = strtoul(argv[3], NULL, 0);
	secs = strtoul(argv[4], NULL, 0);
	signal(SIGPIPE, SIG_IGN);
	/* A hang ends the program, and its missing checks fail the plan. */
	alarm(secs + 4 * SETTLE_SECS);
	tap_plan(5);

	tap_report(!ask("start", "started", 30, answer, sizeof(answer)), "faults_started",
		   "the fuzz host did not answer");
	printf("# fuzz host: %s\n", answer);
	deadline = time(NULL) + secs;
	for (i = 0; i < STREAM_THREADS; i++)
		pthread_create(&st[i], NULL, streams, &sc[i]);
	pthread_create(&dt, NULL, dgrams, &dc);
	for (i = 0; i < STREAM_THREADS; i++) {
		pthread_join(st[i], NULL);
		s_conn += sc[i].connected;
		s_fail += sc[i].connect_failed;
		s_rounds += sc[i].rounds;
		s_bad += sc[i].round_failed;
		s_corrupt += sc[i].corrupt;
	}
	pthread_join(dt, NULL);
	printf("# traffic in %u s: streams %lu opened, %lu refused; echo rounds %lu, %lu failed, "
	       "%lu wrong; datagrams %lu echoed, %lu lost, %lu wrong\n", secs, s_conn, s_fail,
	       s_rounds, s_bad, s_corrupt, dc.rounds, dc.round_failed, dc.corrupt);
	tap_report(s_rounds + dc.rounds > 0, "traffic_during_faults", "no round trip at all");

	tap_report(!ask("status", "stopped", 60, answer, sizeof(answer)), "faults_stopped",
		   "last answer: \"%s\"", answer);
	printf("# fuzz host: %s\n", answer);
	tap_report(!stream_after(), "stream_after_faults", "no echo within %d s", SETTLE_SECS);
	tap_report(!dgram_after(), "dgram_after_faults", "no echo within %d s", SETTLE_SECS);
	return tap_failures ? 1 : 0;
}
