// SPDX-License-Identifier: GPL-2.0
/*
 * Queue-pair budgets are shared fairly: an unprivileged user (uid 65534)
 * asks for 64 MiB buffers and opens as many connections to its own
 * listener as it can; root must still connect with the default size and
 * move data, and the user's memory must come back when it closes.
 * Also: a user who connects and closes in a loop is never refused,
 * unaccepted children are bounded by the backlog, and a connection's
 * queue pages are charged to the memory cgroup of the process that made
 * it (when cgroup v2 with the memory controller is there; otherwise
 * those checks are skipped).
 *
 * Usage: vsock_budget   (vmci and vmsock loaded with defaults, as root)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "nobody.h"
#include "tap.h"
#include "vmci_stats.h"

#define HUGE_BUFFER	(64ULL * 1024 * 1024)
#define MAX_CONNS	64
/* What vmci and vmsock default to, when their parameters are missing. */
#define BUDGET		(128ULL * 1024 * 1024)
#define DEFAULT_PERCENT	25
#define DEFAULT_CAP	(8ULL * 1024 * 1024)

#define CGROUP_ROOT	"/sys/fs/cgroup"
#define CGROUP_DIR	CGROUP_ROOT "/vsock_budget"
#define MEMCG_QUEUE	(4ULL * 1024 * 1024)
#define MIB		(1024LL * 1024)

#include "vsock_addr.h"

static long long read_number(const char *path)
{
	long long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Both sizes, max first so that size is not clamped by the old max. */
static void ask_buffer(int fd, unsigned long long size)
{
	setsockopt(fd, af, SO_VMCI_BUFFER_MAX_SIZE, &size, sizeof(size));
	setsockopt(fd, af, SO_VMCI_BUFFER_SIZE, &size, sizeof(size));
}

/* A listener on {ANY, dynamic port}; the port in *port. */
static int listener(unsigned int *port, int backlog, unsigned long long size)
{
	struct sockaddr_vm a = vm_addr(VMADDR_CID_ANY, VMADDR_PORT_ANY);
	socklen_t len = sizeof(a);
	int fd = socket(af, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (size)
		ask_buffer(fd, size);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len) || listen(fd, backlog)) {
		close(fd);
		return -1;
	}
	*port = a.svm_port;
	return fd;
}

/* A connected socket, or -1 with errno from socket() or connect(). */
static int connect_to(unsigned int port, unsigned long long size)
{
	struct sockaddr_vm a = vm_addr(local_cid, port);
	int fd = socket(af, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (size)
		ask_buffer(fd, size);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* What an attacking child tells its parent. */
struct round {
	int setup_ok;
	int conns;
	int err;
	unsigned long long kept;	/* buffer size its listener kept */
};

/*
 * As uid 65534: a listener and as many 64 MiB connections to it as it
 * gets (connected and accepted, so every pair is live), until one fails.
 * Reports on @report_fd, then holds everything until @hold_fd closes.
 */
static void attack(int report_fd, int hold_fd)
{
	struct round r = { 0 };
	socklen_t len = sizeof(r.kept);
	unsigned int port;
	int lfd, c, a;
	char ch;

	if (drop_to_nobody())
		goto report;
	lfd = listener(&port, MAX_CONNS, HUGE_BUFFER);
	if (lfd < 0 || getsockopt(lfd, af, SO_VMCI_BUFFER_SIZE, &r.kept, &len))
		goto report;
	r.setup_ok = 1;
	for (r.conns = 0; r.conns < MAX_CONNS; r.conns++) {
		c = connect_to(port, HUGE_BUFFER);
		if (c < 0) {
			r.err = errno;
			break;
		}
		a = accept(lfd, NULL, NULL);
		if (a < 0) {
			r.err = errno;
			break;
		}
	}
report:
	if (write(report_fd, &r, sizeof(r)) != sizeof(r))
		_exit(2);
	/* EOF when the parent is done looking; exit closes everything. */
	if (read(hold_fd, &ch, 1) < 0)
		_exit(2);
	_exit(0);
}

struct attacker {
	pid_t pid;
	int hold_fd;
	struct round r;
};

static int attacker_start(struct attacker *at)
{
	int report[2], hold[2];

	memset(at, 0, sizeof(*at));
	if (pipe(report) || pipe(hold))
		return -1;
	at->pid = fork();
	if (at->pid < 0)
		return -1;
	if (!at->pid) {
		close(report[0]);
		close(hold[1]);
		attack(report[1], hold[0]);
	}
	close(report[1]);
	close(hold[0]);
	at->hold_fd = hold[1];
	if (read(report[0], &at->r, sizeof(at->r)) != sizeof(at->r))
		at->r.setup_ok = 0;
	close(report[0]);
	return 0;
}

static int attacker_stop(struct attacker *at)
{
	int status;

	close(at->hold_fd);
	if (waitpid(at->pid, &status, 0) != at->pid)
		return -1;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			return -1;
		p += w;
		n -= w;
	}
	return 0;
}

static int read_all(int fd, unsigned char *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);

		if (r <= 0)
			return -1;
		p += r;
		n -= r;
	}
	return 0;
}

/* 1 MiB each way in 64 KiB steps, under the default 256 KiB queue. */
static int transfer_both_ways(int x, int y)
{
	static unsigned char out[65536], in[65536];
	unsigned int i, j;

	for (i = 0; i < 32; i++) {
		int from = i & 1 ? y : x, to = i & 1 ? x : y;

		for (j = 0; j < sizeof(out); j++)
			out[j] = (unsigned char)(i * 131 + j * 7);
		if (write_all(from, out, sizeof(out)) || read_all(to, in, sizeof(in)) ||
		    memcmp(out, in, sizeof(in)))
			return -1;
	}
	return 0;
}

/* Root, default sizes, while the user holds all it could get. */
static void check_root_connects(void)
{
	unsigned int port;
	int lfd = listener(&port, 4, 0);
	int c = -1, a = -1, err = 0;

	if (lfd >= 0) {
		c = connect_to(port, 0);
		err = errno;
	}
	if (c >= 0)
		a = accept(lfd, NULL, NULL);
	tap_report(c >= 0 && a >= 0, "root_default_connect", "listener %d connect %d (%s)",
		   lfd, c, c < 0 ? strerror(err) : "ok");
	tap_report(a >= 0 && !transfer_both_ways(c, a), "root_data_both_ways",
		   "transfer failed");
	if (a >= 0)
		close(a);
	if (c >= 0)
		close(c);
	if (lfd >= 0)
		close(lfd);
}

/*
 * A user who connects and closes in a loop holds one pair at a time, and
 * its share must say so: a closed pair's charge comes back at its last
 * detach, not a grace period later when its queues are freed. With
 * 8 MiB queues two pairs fill the share, so a share still holding
 * closed pairs refuses within a few rounds.
 */
#define CHURN_ROUNDS	300

static void churn(int report_fd)
{
	int refused = 0, err = 0, i;
	unsigned int port;
	int lfd, c, a;

	if (drop_to_nobody())
		_exit(3);
	lfd = listener(&port, 4, DEFAULT_CAP);
	if (lfd < 0)
		_exit(3);
	for (i = 0; i < CHURN_ROUNDS; i++) {
		c = connect_to(port, DEFAULT_CAP);
		if (c < 0) {
			if (!err)
				err = errno;
			refused++;
			continue;
		}
		a = accept(lfd, NULL, NULL);
		if (a >= 0)
			close(a);
		close(c);
	}
	if (write(report_fd, &refused, sizeof(refused)) != sizeof(refused) ||
	    write(report_fd, &err, sizeof(err)) != sizeof(err))
		_exit(2);
	_exit(0);
}

static void check_churn_within_share(void)
{
	int fds[2], refused = -1, err = 0, status = -1;
	pid_t pid;

	if (pipe(fds) || (pid = fork()) < 0) {
		tap_report(0, "user_churn_within_share", "setup: %s", strerror(errno));
		return;
	}
	if (!pid) {
		close(fds[0]);
		churn(fds[1]);
	}
	close(fds[1]);
	if (read(fds[0], &refused, sizeof(refused)) != sizeof(refused) ||
	    read(fds[0], &err, sizeof(err)) != sizeof(err))
		refused = -1;
	close(fds[0]);
	waitpid(pid, &status, 0);
	tap_report(refused == 0 && WIFEXITED(status) && !WEXITSTATUS(status),
		   "user_churn_within_share",
		   "%d of %d connect-and-close rounds of 8 MiB queues refused (first: %s), exit %d",
		   refused, CHURN_ROUNDS, err ? strerror(err) : "none", status);
}

/*
 * Unaccepted children, half-open or ready, are bounded by the listener's
 * backlog together: with backlog 2, at most 3 connects complete without
 * an accept, and the next is reset.
 */
static void check_backlog_bounds_children(void)
{
	int fds[8], n = 0, err = 0, i;
	unsigned int port;
	int lfd = listener(&port, 2, 0);

	while (lfd >= 0 && n < 8) {
		fds[n] = connect_to(port, 0);
		if (fds[n] < 0) {
			err = errno;
			break;
		}
		n++;
	}
	tap_report(lfd >= 0 && n >= 1 && n <= 3 && err == ECONNRESET,
		   "unaccepted_children_bounded_by_backlog",
		   "%d connects completed unaccepted (last: %s)", n, strerror(err));
	for (i = 0; i < n; i++)
		close(fds[i]);
	if (lfd >= 0)
		close(lfd);
}

/* cgroup v2 with the memory controller for a child group; 0 when usable. */
static int memcg_setup(void)
{
	mkdir(CGROUP_ROOT, 0755);
	if (access(CGROUP_ROOT "/cgroup.controllers", F_OK) &&
	    mount("none", CGROUP_ROOT, "cgroup2", 0, NULL))
		return -1;
	if (write_text(CGROUP_ROOT "/cgroup.subtree_control", "+memory"))
		return -1;
	if (mkdir(CGROUP_DIR, 0755) && errno != EEXIST)
		return -1;
	return access(CGROUP_DIR "/memory.current", R_OK);
}

/* Waits up to 5 s for @path to be at most @limit; returns the last value. */
static long long wait_at_most(const char *path, long long limit)
{
	long long v = read_number(path);
	int i;

	for (i = 0; i < 500 && v > limit; i++) {
		usleep(10000);
		v = read_number(path);
	}
	return v;
}

/* Writes into @fd, non-blocking, until its queue is full; the bytes written. */
static long long fill_queue(int fd)
{
	static char chunk[64 * 1024];
	long long total = 0;
	ssize_t n;
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while ((n = write(fd, chunk, sizeof(chunk))) > 0)
		total += n;
	fcntl(fd, F_SETFL, fl);
	return total;
}

/*
 * A process in the child group connects with 4 MiB queues to root's
 * listener outside it, and both ends fill their queue: the group pays for
 * both queues (8 MiB; ring pages appear as they are written, each charged
 * to the pair's creator, whoever writes) while the connection lives, and
 * gets it back after close.
 */
static void check_memcg(void)
{
	int to_child[2], from_child[2];
	long long before, during, after;
	unsigned int port;
	int lfd, a = -1;
	char ch = 0;
	pid_t pid;

	if (memcg_setup()) {
		printf("skip memcg_charged_when_filled # no cgroup v2 memory controller (%s)\n",
		       strerror(errno));
		printf("skip memcg_uncharged_on_close # no cgroup v2 memory controller\n");
		return;
	}
	lfd = listener(&port, 4, MEMCG_QUEUE);
	if (lfd < 0 || pipe(to_child) || pipe(from_child)) {
		tap_report(0, "memcg_charged_when_filled", "setup: %s", strerror(errno));
		tap_report(0, "memcg_uncharged_on_close", "setup failed");
		return;
	}
	pid = fork();
	if (!pid) {
		char pidbuf[16];
		int c = -1;

		snprintf(pidbuf, sizeof(pidbuf), "%d", getpid());
		if (write_text(CGROUP_DIR "/cgroup.procs", pidbuf))
			_exit(2);
		/* Joined: the parent measures, then lets us connect. */
		if (write(from_child[1], "j", 1) != 1 || read(to_child[0], &ch, 1) != 1)
			_exit(2);
		c = connect_to(port, MEMCG_QUEUE);
		ch = c >= 0 && fill_queue(c) >= (long long)MEMCG_QUEUE - 65536 ? 'c' : 'f';
		if (write(from_child[1], &ch, 1) != 1 || read(to_child[0], &ch, 1) != 1)
			_exit(2);
		close(c);
		_exit(0);
	}
	before = -1;
	during = -1;
	if (pid > 0 && read(from_child[0], &ch, 1) == 1) {
		before = read_number(CGROUP_DIR "/memory.current");
		if (write(to_child[1], "g", 1) == 1 && read(from_child[0], &ch, 1) == 1 &&
		    ch == 'c') {
			a = accept(lfd, NULL, NULL);
			if (a >= 0 && fill_queue(a) >= (long long)MEMCG_QUEUE - 65536)
				during = read_number(CGROUP_DIR "/memory.current");
		}
	}
	tap_report(before >= 0 && during - before >= (long long)(2 * MEMCG_QUEUE) &&
		   during - before <= (long long)(2 * MEMCG_QUEUE) + 4 * MIB,
		   "memcg_charged_when_filled",
		   "memory.current %lld -> %lld, want a rise of 8-12 MiB", before, during);
	/* The child closes its end; the queues go once ours goes too. */
	if (write(to_child[1], "x", 1) != 1)
		kill(pid, SIGKILL);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	if (a >= 0)
		close(a);
	after = wait_at_most(CGROUP_DIR "/memory.current", before + MIB);
	printf("# memory.current of the child group: %lld, %lld while connected, %lld after close\n",
	       before, during, after);
	tap_report(before >= 0 && during >= 0 && after <= before + MIB,
		   "memcg_uncharged_on_close",
		   "memory.current %lld, %lld while connected, %lld after", before, during,
		   after);
	close(lfd);
	rmdir(CGROUP_DIR);
}

int main(void)
{
	long long percent, cap, share, baseline, held;
	struct attacker first, second;
	int fd = -1;

	tap_plan(15);
	setvbuf(stdout, NULL, _IOLBF, 0);
	af = VMCISock_GetAFValueFd(&fd);
	local_cid = VMCISock_GetLocalCID();
	tap_report(af > 0 && local_cid != VMADDR_CID_ANY, "setup_family",
		   "af %d local cid %u", af, local_cid);
	/* /dev/vsock is 0666 in real installs; the user never needs it here. */
	chmod("/dev/vsock", 0666);

	percent = read_number("/sys/module/vmci/parameters/qp_user_percent");
	cap = read_number("/sys/module/vmsock/parameters/stream_user_buffer_max");
	tap_report(percent > 0 && cap > 0, "limits_are_parameters",
		   "qp_user_percent %lld stream_user_buffer_max %lld", percent, cap);
	if (percent <= 0)
		percent = DEFAULT_PERCENT;
	if (cap <= 0)
		cap = DEFAULT_CAP;
	share = BUDGET * percent / 100;
	baseline = stat_value("queue_pair_charged");
	if (baseline < 0)
		baseline = stat_value("queue_pair_bytes");

	if (attacker_start(&first)) {
		perror("fork");
		return 1;
	}
	tap_report(first.r.setup_ok, "user_setup", "uid %d could not listen", NOBODY);
	CHECK_EQ("user_buffer_capped", first.r.kept, cap);
	tap_report(first.r.conns >= 1 && (first.r.err == ENOBUFS || first.r.err == ENOMEM),
		   "user_stopped_by_budget", "%d connections, then %s", first.r.conns,
		   strerror(first.r.err));
	held = stat_value("queue_pair_charged");
	if (held < 0)
		held = stat_value("queue_pair_bytes");
	tap_report(held >= 0 && held - baseline <= share, "user_within_share",
		   "user holds %lld bytes of queue pairs, its share is %lld",
		   held - baseline, share);
	printf("# uid %d: %d connections of %llu-byte queues, then %s\n", NOBODY,
	       first.r.conns, first.r.kept, strerror(first.r.err));
	check_root_connects();
	tap_report(!attacker_stop(&first), "user_exits", "child failed");
	tap_report(wait_stat("queue_pair_charged", baseline, 5000) ||
		   wait_stat("queue_pair_bytes", baseline, 100), "budget_returned",
		   "queue_pair_charged %lld, was %lld", stat_value("queue_pair_charged"),
		   baseline);

	/* A second full round gets exactly as far: nothing leaked. */
	if (attacker_start(&second)) {
		perror("fork");
		return 1;
	}
	tap_report(second.r.setup_ok && second.r.conns == first.r.conns &&
		   second.r.err == first.r.err, "user_second_round_same",
		   "%d connections then %s, first round %d", second.r.conns,
		   strerror(second.r.err), first.r.conns);
	attacker_stop(&second);

	check_churn_within_share();
	check_backlog_bounds_children();
	check_memcg();
	VMCISock_ReleaseAFValueFd(fd);
	return tap_exit_code();
}
