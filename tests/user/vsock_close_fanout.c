// SPDX-License-Identifier: GPL-2.0
/*
 * Closing a stream connection costs the same whatever else is open
 * (issue 12, item 9): a close raises one QP_PEER_DETACH, and vmci must
 * call one subscriber for it, not one per open connection, which made
 * closing N connections O(N^2). Counted, not timed: vmci's
 * event_callbacks counter must grow by about one per connection closed.
 *
 * An unprivileged user (uid 65534) opens a small set of connections to
 * its own listener and closes them, then a set ten times larger; the
 * callbacks per closed connection must stay small and about equal. These
 * rounds run with stream_local_connect off, so that each close raises
 * its detach event as a close between kernels does.
 *
 * With it on (the default), a closing end tells its local peer itself
 * and marks its end (vmcix_qpair_peer_told()): such closes must raise no
 * event at all (direct_close_no_event).
 *
 * Usage: vsock_close_fanout   (as root; vmci and vmsock loaded, debugfs)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "nobody.h"
#include "tap.h"
#include "vmci_stats.h"

#define SMALL		40
#define LARGE		400
/* Both ends' closes, the attach and a little slack: far below SMALL or LARGE. */
#define PER_CLOSE_MAX	4.0
/* A page each way keeps the user far inside its queue-pair share. */
#define QUEUE_BYTES	4096ULL

#include "vsock_addr.h"

#define PARAM	"/sys/module/vmsock/parameters/stream_local_connect"
#include "vmsock_switch.h"

static void small_queue(int fd)
{
	unsigned long long size = QUEUE_BYTES;

	setsockopt(fd, af, SO_VMCI_BUFFER_MIN_SIZE, &size, sizeof(size));
	setsockopt(fd, af, SO_VMCI_BUFFER_SIZE, &size, sizeof(size));
}

/* As uid 65534: @n connections to its own listener, all open at once, then all closed. */
static int open_and_close(int n)
{
	struct sockaddr_vm a = vm_addr(VMADDR_CID_ANY, VMADDR_PORT_ANY);
	socklen_t len = sizeof(a);
	int *fds = calloc(2 * n, sizeof(*fds));
	int lfd, i, made = 0;

	if (!fds || drop_to_nobody())
		return -1;
	lfd = socket(af, SOCK_STREAM, 0);
	if (lfd < 0)
		return -1;
	small_queue(lfd);
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(lfd, (struct sockaddr *)&a, &len) || listen(lfd, 8))
		return -1;
	a.svm_cid = local_cid;
	for (i = 0; i < n; i++) {
		fds[2 * i] = socket(af, SOCK_STREAM, 0);
		if (fds[2 * i] < 0)
			break;
		small_queue(fds[2 * i]);
		if (connect(fds[2 * i], (struct sockaddr *)&a, sizeof(a)))
			break;
		fds[2 * i + 1] = accept(lfd, NULL, NULL);
		if (fds[2 * i + 1] < 0)
			break;
		made++;
	}
	for (i = 0; i < 2 * made; i++)
		close(fds[i]);
	close(lfd);
	return made;
}

/* Runs open_and_close(@n) in a child; its result, or -1. */
static int as_nobody(int n)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid)
		_exit(open_and_close(n) == n ? 0 : 1);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status) ? -1 : n;
}

/*
 * Callbacks per connection for one round of @n, which must be between
 * @min and @max; -1 when the round failed.
 */
static double round_cost(const char *name, int n, double min, double max)
{
	long long before = stat_value("event_callbacks");
	long long pairs = stat_value("queue_pairs");
	int made = as_nobody(n);
	long long after;
	double per;

	/* Closes finish their detach before close() returns; give stragglers a moment. */
	wait_stat("queue_pairs", pairs, 5000);
	after = stat_value("event_callbacks");
	per = made > 0 ? (double)(after - before) / made : -1;
	tap_report(made == n && per >= min && per <= max, name,
		   "%d connections made of %d, %lld callbacks, %.2f per connection (%.1f to %.1f)",
		   made, n, after - before, per, min, max);
	printf("# %d connections opened and closed: %lld event callbacks, %.2f each\n", n,
	       after - before, per);
	return per;
}

int main(void)
{
	double small, large;
	int fd = -1;

	tap_plan(5);
	setvbuf(stdout, NULL, _IOLBF, 0);
	af = VMCISock_GetAFValueFd(&fd);
	local_cid = VMCISock_GetLocalCID();
	tap_report(af > 0 && local_cid != VMADDR_CID_ANY && stat_value("event_callbacks") >= 0 &&
		   param_write("0") == 0,
		   "setup", "af %d local cid %u event_callbacks %lld, %s writable", af, local_cid,
		   stat_value("event_callbacks"), PARAM);
	/* /dev/vsock is 0666 in real installs; the user never needs it here. */
	chmod("/dev/vsock", 0666);

	small = round_cost("callbacks_per_close_small", SMALL, 0, PER_CLOSE_MAX);
	large = round_cost("callbacks_per_close_large", LARGE, 0, PER_CLOSE_MAX);
	param_write("1");
	round_cost("direct_close_no_event", SMALL, 0, 0.1);
	/* O(N^2) would make the large round's cost per close ten times the small one's. */
	tap_report(small > 0 && large > 0 && large <= small * 1.5 + 0.5, "close_cost_flat",
		   "%.2f callbacks per connection with %d open, %.2f with %d", small, SMALL,
		   large, LARGE);
	VMCISock_ReleaseAFValueFd(fd);
	return tap_exit_code();
}
