// SPDX-License-Identifier: GPL-2.0
/*
 * vmsock's stream_local_wakeups parameter: on (the default), a local
 * stream wakes its peer directly and sends no WROTE or READ datagram;
 * off, it sends them as a stream to another machine does, and the data
 * still arrives whole. make bench's "vmsock pkt" column relies on the
 * switch, so the switch is tested: the WROTE and READ counts in
 * /proc/net/vmsock_stat must move only when it is off.
 *
 * Usage: vsock_local_wakeups   (as root, vmsock loaded, nothing else
 * sending stream control packets meanwhile)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "tap.h"
#include "vsock_conn.h"

#define PARAM	"/sys/module/vmsock/parameters/stream_local_wakeups"
#define BYTES	(1u << 20)
#define ROUNDS	50

#include "vmsock_switch.h"

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i * 7 + (i >> 11));
}

/* The writer's thread: BYTES in 4 KiB writes, then SHUT_WR. */
static void *writer(void *arg)
{
	int fd = *(int *)arg;
	unsigned char buf[4096];
	size_t i, k;

	for (i = 0; i < BYTES; i += sizeof(buf)) {
		for (k = 0; k < sizeof(buf); k++)
			buf[k] = pattern(i + k);
		/* Let the reader fall asleep on an empty queue now and then. */
		if (i % (64 * 1024) == 0)
			usleep(2000);
		if (write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf))
			return (void *)1;
	}
	shutdown(fd, SHUT_WR);
	return NULL;
}

/*
 * BYTES from a writer thread to this one over a fresh local pair, then
 * ROUNDS single bytes back the other way, each read before the next is
 * written; 0 when every byte arrived as sent.
 */
static int transfer(const char **why)
{
	unsigned char buf[8192];
	size_t got = 0, k;
	pthread_t t;
	void *wres;
	ssize_t n;
	int a, b, bad = 0, r;
	char c = 'x';

	*why = "make_pair";
	if (make_pair(&a, &b))
		return -1;
	if (pthread_create(&t, NULL, writer, &a)) {
		close(a);
		close(b);
		return -1;
	}
	while ((n = read(b, buf, sizeof(buf))) > 0) {
		for (k = 0; k < (size_t)n; k++)
			bad |= buf[k] != pattern(got + k);
		got += n;
	}
	pthread_join(t, &wres);
	*why = "bytes";
	if (n < 0 || wres || bad || got != BYTES)
		goto fail;
	/* The writer's end is shut for writing: the single bytes go the other way. */
	*why = "round trips";
	for (r = 0; r < ROUNDS; r++) {
		char e;

		if (write(b, &c, 1) != 1 || read(a, &e, 1) != 1 || e != c)
			goto fail;
	}
	close(a);
	close(b);
	return 0;
fail:
	close(a);
	close(b);
	return -1;
}

/* The change in the WROTE and READ sent counts across one transfer(). */
static int counted_transfer(long *wrote, long *read_pkts, const char **why)
{
	long w0 = vmsock_stat("ctl_sent_wrote"), r0 = vmsock_stat("ctl_sent_read");
	int ret = transfer(why);

	*wrote = vmsock_stat("ctl_sent_wrote") - w0;
	*read_pkts = vmsock_stat("ctl_sent_read") - r0;
	return ret;
}

int main(void)
{
	long wrote, reads;
	const char *why;
	int afd = -1, ret;

	tap_plan(9);
	/* A failed write reports as a check, not as a silent death. */
	signal(SIGPIPE, SIG_IGN);
	af = VMCISock_GetAFValueFd(&afd);
	local_cid = VMCISock_GetLocalCID();
	tap_report(af >= 0 && local_cid != (unsigned int)-1, "setup_family", "af %d cid %u", af,
		   local_cid);
	tap_report(vmsock_stat("ctl_sent_wrote") >= 0, "setup_stat", "no ctl_sent_wrote in %s",
		   STAT);
	tap_report(param_read() == 'Y', "default_on", "%s reads %c", PARAM, param_read());

	ret = counted_transfer(&wrote, &reads, &why);
	tap_report(!ret, "on_data_whole", "failed at %s", why);
	tap_report(wrote == 0 && reads == 0, "on_no_packets", "WROTE %ld, READ %ld sent", wrote,
		   reads);

	tap_report(!param_write("0") && param_read() == 'N', "switch_off", "%s",
		   strerror(errno));
	ret = counted_transfer(&wrote, &reads, &why);
	tap_report(!ret, "off_data_whole", "failed at %s", why);
	/* Every single byte lands in an empty queue: a WROTE each at least. */
	tap_report(wrote >= ROUNDS, "off_sends_wrote", "WROTE %ld sent, want >= %d", wrote,
		   ROUNDS);

	tap_report(!param_write("1") && param_read() == 'Y', "switch_back_on", "%s",
		   strerror(errno));
	if (afd >= 0)
		VMCISock_ReleaseAFValueFd(afd);
	return tap_exit_code();
}
