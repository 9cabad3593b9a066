// SPDX-License-Identifier: GPL-2.0
/*
 * In the guest-model VM (tests/vm/guest-model-init), where AF_VSOCK is
 * our vmsock over our vmci PCI driver: many connections at once, module
 * unload with live sockets, and faults the device model injects.
 *
 *  many PORT N BYTES     N connections to the echo program, all open at
 *                        once, then each moves BYTES both ways (checked)
 *  unload PORT LPORT N   N connections and a listener: unloading vmsock or
 *                        vmci is refused; once they are closed both unload
 *  faults PORT CTL BDF REGS
 *                        a refused QUEUEPAIR_ALLOC, QP_RESUMED, unbinding
 *                        the PCI device BDF, a device reset (REGS, mmio or
 *                        io, names what notices it), a suspend/resume cycle
 *                        of the devices, and connections to our own CID
 *  ring CTL RID          the device rings our doorbell RID (made by
 *                        vmci_test_endpoint, which counts the rings) and
 *                        refuses one nobody linked
 *  share PORT PERCENT    an unprivileged user fills its share (PERCENT of
 *                        the guest queue-pair budget), closes everything
 *                        and gets it all back within seconds, no more
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE		/* setresuid() and setresgid(), in nobody.h */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "../../user/nobody.h"
#include "model_net.h"

#define DRV_DIR	"/sys/bus/pci/drivers/vmci"

static unsigned char pattern(size_t i, unsigned int seed)
{
	return (unsigned char)(i * 131 + (i >> 9) + seed * 17);
}

/* One echo round trip proves the connection is live. */
static int echo_ok(int s)
{
	char buf[8];

	return !model_write_all(s, "ping", 4) && model_read(s, buf, 4, 20) == 4 &&
	       !memcmp(buf, "ping", 4);
}

/* BYTES out, then the same bytes back, then EOF: 0 or -1. */
static int move_checked(int s, size_t bytes, unsigned int seed)
{
	unsigned char buf[4096];
	size_t i, n, got = 0;
	ssize_t r;

	/* Small enough for both queues: writing all first cannot deadlock. */
	for (i = 0; i < bytes; i += n) {
		n = bytes - i < sizeof(buf) ? bytes - i : sizeof(buf);
		for (size_t k = 0; k < n; k++)
			buf[k] = pattern(i + k, seed);
		if (model_write_all(s, buf, n))
			return -1;
	}
	shutdown(s, SHUT_WR);
	while ((r = model_read(s, buf, sizeof(buf), 60)) > 0) {
		for (i = 0; i < (size_t)r; i++)
			if (buf[i] != pattern(got + i, seed))
				return -1;
		got += r;
	}
	return r == 0 && got == bytes ? 0 : -1;
}

static void many(unsigned int port, unsigned int n, size_t bytes)
{
	int ready[2], go[2], status, connected = 0, moved = 0;
	unsigned int i, forked;
	char c;

	if (pipe(ready) || pipe(go)) {
		tap_report(0, "many_setup", "%s", strerror(errno));
		return;
	}
	tap_report(1, "many_setup", "");
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			break;
		if (pid)
			continue;
		close(ready[0]);
		close(go[1]);
		int s = model_connect(port);

		c = s >= 0 ? 'c' : 'f';
		if (s < 0)
			printf("# connection %u: %s\n", i, strerror(errno));
		fflush(stdout);
		if (write(ready[1], &c, 1) != 1 || s < 0)
			_exit(2);
		close(ready[1]);
		/* Hold the connection until every other one is open too. */
		if (read(go[0], &c, 1) != 0)
			_exit(3);
		_exit(move_checked(s, bytes, i) ? 1 : 0);
	}
	forked = i;
	close(ready[1]);
	close(go[0]);
	alarm(180);
	for (i = 0; i < forked && read(ready[0], &c, 1) == 1; i++)
		connected += c == 'c';
	alarm(0);
	/* Every connection is open now: let them all move data at once. */
	close(go[1]);
	while (wait(&status) > 0)
		moved += WIFEXITED(status) && WEXITSTATUS(status) == 0;
	close(ready[0]);
	tap_check_int("many_open_at_once", connected, n);
	tap_check_int("many_echoed", moved, n);
}

static long delete_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK);
}

/* The number in a sysfs file, or -1. */
static long read_sysfs_long(const char *path)
{
	char buf[32] = "";
	int fd = open(path, O_RDONLY);
	ssize_t r = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	return r > 0 ? strtol(buf, NULL, 10) : -1;
}

static long module_refcnt(const char *name)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	return read_sysfs_long(path);
}

/* The kernel refuses a module in use with EWOULDBLOCK (busybox: EBUSY text). */
static void expect_refused(const char *name, const char *test)
{
	long r = delete_module(name);
	int err = errno;

	tap_report(r == -1 && (err == EWOULDBLOCK || err == EBUSY), test,
		   "delete_module(%s) = %ld (%s)", name, r, r ? strerror(err) : "unloaded");
}

static void unload(unsigned int port, unsigned int lport, unsigned int n)
{
	struct sockaddr_vm a = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = lport,
	};
	int s[16], l, live = 0, i, tries;
	long r, refs;

	if (n > 16)
		n = 16;
	for (i = 0; i < (int)n; i++) {
		s[i] = model_connect(port);
		live += s[i] >= 0 && echo_ok(s[i]);
	}
	tap_check_int("unload_connections_live", live, n);
	l = socket(AF_VSOCK, SOCK_STREAM, 0);
	tap_report(l >= 0 && !bind(l, (struct sockaddr *)&a, sizeof(a)) && !listen(l, 4),
		   "unload_listener", "%s", strerror(errno));
	refs = module_refcnt("vmsock");
	printf("# vmsock refcnt with %u connections and a listener: %ld\n", n, refs);
	tap_report(refs >= (long)n + 1, "unload_refcnt_held", "refcnt %ld", refs);
	expect_refused("vmsock", "unload_vmsock_refused");
	expect_refused("vmci", "unload_vmci_refused");
	live = 0;
	for (i = 0; i < (int)n; i++)
		live += s[i] >= 0 && echo_ok(s[i]);
	tap_check_int("unload_refused_connections_live", live, n);
	for (i = 0; i < (int)n; i++)
		if (s[i] >= 0)
			close(s[i]);
	if (l >= 0)
		close(l);
	/* Teardown work may hold the last socket references briefly. */
	for (tries = 0; (r = delete_module("vmsock")) && tries < 100; tries++)
		usleep(100000);
	tap_report(!r, "unload_vmsock_after_close", "%s (refcnt %ld)", strerror(errno),
		   module_refcnt("vmsock"));
	r = delete_module("vmci");
	tap_report(!r, "unload_vmci_after_close", "%s", strerror(errno));
}

/* Writes TEXT into a sysfs file; 0 or -1. */
static int sysfs_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY), ret = -1;

	if (fd >= 0) {
		ret = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
		close(fd);
	}
	return ret;
}

static int bound(const char *bdf)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), DRV_DIR "/%s", bdf);
	return !lstat(path, &st);
}

/* A fresh connection echoes; retried while a rebound device settles. */
static int new_connection_ok(unsigned int port)
{
	int i, s, ok = 0;

	for (i = 0; i < 20 && !ok; i++) {
		if (i)
			sleep(1);
		s = model_connect(port);
		if (s < 0) {
			printf("# new connection: %s\n", strerror(errno));
			continue;
		}
		ok = echo_ok(s);
		close(s);
	}
	return ok;
}

/* The connection was reset under us: EOF or ECONNRESET, then EPIPE. */
static void expect_reset(int s, const char *prefix)
{
	char buf[16], name[64];
	ssize_t r;
	int err;

	r = model_read(s, buf, sizeof(buf), 20);
	err = errno;
	snprintf(name, sizeof(name), "%s_read_ends", prefix);
	tap_report(r == 0 || (r < 0 && err == ECONNRESET), name, "read %zd (%s)", r,
		   strerror(err));
	r = send(s, "x", 1, MSG_NOSIGNAL);
	snprintf(name, sizeof(name), "%s_write_epipe", prefix);
	CHECK_ERRNO(name, r, EPIPE);
}

static void fail_alloc(unsigned int port, unsigned int ctl)
{
	int s, err;

	/* VMCI_ERROR_NO_RESOURCES for the next QUEUEPAIR_ALLOC (RID 10). */
	tap_report(!model_control(ctl, "fail 10 -19"), "qp_alloc_fail_accepted",
		   "device said no");
	alarm(30);
	s = model_connect(port);
	err = errno;
	alarm(0);
	printf("# connect with QUEUEPAIR_ALLOC failing: %d (%s)\n", s, s < 0 ? strerror(err) : "");
	tap_report(s < 0 && err != EINTR, "qp_alloc_fail_connect_fails", "connect %d (%s)", s,
		   strerror(err));
	if (s >= 0)
		close(s);
	tap_report(new_connection_ok(port), "qp_alloc_fail_next_connects", "no echo");
}

static void qp_resumed(unsigned int port, unsigned int ctl)
{
	int a = model_connect(port), b = model_connect(port);

	tap_report(a >= 0 && b >= 0 && echo_ok(a) && echo_ok(b), "qp_resumed_live", "%s",
		   strerror(errno));
	tap_report(!model_control(ctl, "event 2"), "qp_resumed_accepted", "device said no");
	if (a >= 0)
		expect_reset(a, "qp_resumed_first");
	if (b >= 0)
		expect_reset(b, "qp_resumed_second");
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	tap_report(new_connection_ok(port), "qp_resumed_new_connection", "no echo");
}

/* Unbinds BDF under an open connection, binds it again. */
static void unbind_rebind(unsigned int port, const char *bdf, const char *prefix)
{
	char name[64];
	int s = model_connect(port);

	snprintf(name, sizeof(name), "%s_live", prefix);
	tap_report(s >= 0 && echo_ok(s), name, "%s", strerror(errno));
	snprintf(name, sizeof(name), "%s_unbind", prefix);
	tap_report(!sysfs_write(DRV_DIR "/unbind", bdf) && !bound(bdf), name, "%s",
		   strerror(errno));
	if (s >= 0) {
		expect_reset(s, prefix);
		close(s);
	}
	snprintf(name, sizeof(name), "%s_bind", prefix);
	tap_report(!sysfs_write(DRV_DIR "/bind", bdf) && bound(bdf), name, "%s",
		   strerror(errno));
	snprintf(name, sizeof(name), "%s_new_connection", prefix);
	tap_report(new_connection_ok(port), name, "no echo");
}

/*
 * A device reset behind the driver's back. With DMA datagrams the first
 * send after it stays busy and the driver finds STATUS.INT_ON gone; with
 * port I/O sends still succeed and the driver's once-a-second look at
 * STATUS finds it. Either way the driver sets the device up again and the
 * personality goes down and up, so the open connection ends within a few
 * seconds instead of hanging, and a new one works without an unbind.
 */
static void reset_recovers(unsigned int port, unsigned int ctl)
{
	struct sockaddr_vm to = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = ctl,
	};
	int s = model_connect(port), d;
	time_t start;

	tap_report(s >= 0 && echo_ok(s), "reset_live", "%s", strerror(errno));
	/* No answer expected: the reset drops it. */
	d = socket(AF_VSOCK, SOCK_DGRAM, 0);
	tap_report(d >= 0 && sendto(d, "reset", 5, 0, (struct sockaddr *)&to, sizeof(to)) == 5,
		   "reset_sent", "%s", strerror(errno));
	if (d >= 0)
		close(d);
	sleep(1);
	if (s >= 0) {
		start = time(NULL);
		/* With DMA the write is the send that finds the device reset. */
		model_write_all(s, "ping", 4);
		expect_reset(s, "reset");
		printf("# connection ended %ld s after the reset\n", (long)(time(NULL) - start));
		close(s);
	}
	tap_report(new_connection_ok(port), "reset_new_connection", "no echo");
}

static unsigned int local_cid(void)
{
	unsigned int cid = VMADDR_CID_ANY;
	int dev = open("/dev/vsock", O_RDONLY);

	if (dev >= 0) {
		if (ioctl(dev, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid))
			cid = VMADDR_CID_ANY;
		close(dev);
	}
	return cid;
}

/*
 * The system suspend and resume hooks, run for real by the PM core's test
 * mode: devices suspend, wait a second and resume, without the platform
 * sleeping. The device keeps its state, so a connection lives on.
 */
static void suspend_resume(unsigned int port)
{
	int s = model_connect(port), cycled;

	tap_report(s >= 0 && echo_ok(s), "suspend_live", "%s", strerror(errno));
	sysfs_write("/sys/module/suspend/parameters/pm_test_delay", "1");
	cycled = !sysfs_write("/sys/power/pm_test", "devices") &&
		 !sysfs_write("/sys/power/state", "freeze");
	tap_report(cycled, "suspend_resume_cycle", "%s", strerror(errno));
	sysfs_write("/sys/power/pm_test", "none");
	tap_report(s >= 0 && echo_ok(s), "suspend_connection_lives", "%s", strerror(errno));
	if (s >= 0)
		close(s);
	tap_report(new_connection_ok(port), "suspend_new_connection", "no echo");
}

/* Accepts one connection on L and echoes what comes until EOF, in a child. */
static pid_t local_echo(int l)
{
	pid_t pid = fork();
	char buf[4096];
	ssize_t r;
	int c;

	if (pid)
		return pid;
	c = accept(l, NULL, NULL);
	while (c >= 0 && (r = read(c, buf, sizeof(buf))) > 0)
		if (model_write_all(c, buf, r))
			_exit(1);
	_exit(c < 0);
}

/*
 * Streams and datagrams to our own CID while the device is ours: the
 * address the device gave us, not a loopback CID. Bytes are checked.
 */
static void own_cid(unsigned int lport)
{
	struct sockaddr_vm a = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = lport,
	};
	unsigned int cid = local_cid();
	socklen_t alen = sizeof(a);
	int l, s, d, status = -1;
	bool connected;
	char buf[16];
	pid_t pid;

	tap_report(cid > VMADDR_CID_HOST && cid != VMADDR_CID_ANY, "own_cid_from_device",
		   "cid %u (%s)", cid, strerror(errno));
	s = socket(AF_VSOCK, SOCK_STREAM, 0);
	l = socket(AF_VSOCK, SOCK_STREAM, 0);
	tap_report(l >= 0 && !bind(l, (struct sockaddr *)&a, sizeof(a)) && !listen(l, 1),
		   "own_cid_listen", "%s", strerror(errno));
	pid = l >= 0 ? local_echo(l) : -1;
	a.svm_cid = cid;
	connected = s >= 0 && !connect(s, (struct sockaddr *)&a, sizeof(a));
	tap_report(connected, "own_cid_connect", "%s", strerror(errno));
	tap_report(connected && !move_checked(s, 200 << 10, 7), "own_cid_stream_checked",
		   "%s", strerror(errno));
	/* After a good echo the child is gone; after a bad one this ends it. */
	if (s >= 0)
		close(s);
	/* Nothing connected: the child would wait in accept() for ever. */
	if (pid > 0 && !connected)
		kill(pid, SIGKILL);
	if (pid > 0)
		waitpid(pid, &status, 0);
	tap_report(connected && WIFEXITED(status) && !WEXITSTATUS(status), "own_cid_echo_exit",
		   "status %d", status);
	if (l >= 0)
		close(l);

	d = socket(AF_VSOCK, SOCK_DGRAM, 0);
	a.svm_cid = VMADDR_CID_ANY;
	a.svm_port = lport + 1;
	tap_report(d >= 0 && !bind(d, (struct sockaddr *)&a, sizeof(a)) &&
		   !getsockname(d, (struct sockaddr *)&a, &alen), "own_cid_dgram_bind",
		   "%s", strerror(errno));
	a.svm_cid = cid;
	tap_report(d >= 0 && sendto(d, "self", 4, 0, (struct sockaddr *)&a, sizeof(a)) == 4 &&
		   model_read(d, buf, sizeof(buf), 10) == 4 && !memcmp(buf, "self", 4),
		   "own_cid_dgram_to_self", "%s", strerror(errno));
	if (d >= 0)
		close(d);
}

/*
 * A doorbell rung through the device: the model sets the bitmap byte the
 * LINK hypercall gave it and raises NOTIFICATION; our driver scans the
 * bitmap and runs the doorbell's callback.
 */
static void ring(unsigned int ctl, unsigned int rid)
{
	static const char rings[] = "/sys/module/vmci_test_endpoint/parameters/dbell_rings";
	long before = read_sysfs_long(rings), now = before;
	int i;
	unsigned int cid = local_cid();
	char cmd[64];

	tap_report(before >= 0 && cid != VMADDR_CID_ANY, "doorbell_ready",
		   "counter %ld, cid %u", before, cid);
	snprintf(cmd, sizeof(cmd), "ring %u %u", cid, rid);
	tap_report(!model_control(ctl, cmd), "doorbell_ring_accepted", "device said no");
	for (i = 0; i < 50 && now <= before; i++) {
		usleep(100000);
		now = read_sysfs_long(rings);
	}
	tap_report(now == before + 1, "doorbell_rung_once", "counter %ld -> %ld", before, now);
	snprintf(cmd, sizeof(cmd), "ring %u %u", cid, rid + 1000);
	tap_report(model_control(ctl, cmd), "doorbell_unlinked_refused", "device rang it");
}

#define SHARE_PARAM	"/sys/module/vmci/parameters/qp_user_percent"
#define SHARE_MAX_CONNS	200
/* How long closed pairs may take to give their charge back. */
#define SHARE_SETTLE_MS	5000

/* Connects until refused or @max; the count, and errno of the refusal. */
static unsigned int connect_until_refused(unsigned int port, int *fds, unsigned int max,
					  int *err)
{
	unsigned int n = 0;

	*err = 0;
	while (n < max) {
		fds[n] = model_connect(port);
		if (fds[n] < 0) {
			*err = errno;
			break;
		}
		n++;
	}
	return n;
}

static void close_all(int *fds, unsigned int n)
{
	while (n)
		close(fds[--n]);
}

/* Connects, retrying a refusal for up to @ms: -1 with errno if never. */
static int connect_within(unsigned int port, int ms, unsigned int *retries)
{
	int s;

	while ((s = model_connect(port)) < 0 && errno == ENOBUFS && ms > 0) {
		usleep(10000);
		ms -= 10;
		++*retries;
	}
	return s;
}

/*
 * The child, as nobody: 3 checks. A closed pair's pages, and its charge
 * with them, go a grace period after the close (guest_qpair.c): until then
 * a user at its share may be refused, after that it must get it all back.
 */
static void share_as_nobody(unsigned int port)
{
	int fds[SHARE_MAX_CONNS], err;
	unsigned int n, again, retries = 0;

	n = connect_until_refused(port, fds, SHARE_MAX_CONNS, &err);
	tap_report(n > 0 && n < SHARE_MAX_CONNS && err == ENOBUFS, "share_refused_at_limit",
		   "%u connections, then %s", n, strerror(err));
	close_all(fds, n);
	for (again = 0, err = 0; again < n; again++) {
		fds[again] = connect_within(port, SHARE_SETTLE_MS, &retries);
		if (fds[again] < 0) {
			err = errno;
			break;
		}
	}
	printf("# %u connections again, %u refusals retried while closed pairs settled\n",
	       again, retries);
	tap_report(again == n, "share_back_after_close", "%u of %u connected again (%s)",
		   again, n, strerror(err));
	tap_report(again == n && model_connect(port) < 0 && errno == ENOBUFS,
		   "share_still_bounded", "one more than the share: %s", strerror(errno));
	close_all(fds, again);
}

static void share(unsigned int port, const char *percent)
{
	char old[16] = "";
	int fd, status;
	ssize_t r;
	pid_t pid;

	fd = open(SHARE_PARAM, O_RDWR);
	r = fd < 0 ? -1 : read(fd, old, sizeof(old) - 1);
	if (r <= 0 || pwrite(fd, percent, strlen(percent), 0) != (ssize_t)strlen(percent)) {
		tap_report(0, "share_setup", "%s: %s", SHARE_PARAM, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	tap_report(1, "share_setup", "share %s%% (was %.*s)", percent, (int)strcspn(old, "\n"),
		   old);
	fflush(stdout);
	pid = fork();
	if (!pid) {
		if (drop_to_nobody()) {
			tap_report(0, "share_refused_at_limit", "setuid: %s", strerror(errno));
			_exit(1);
		}
		share_as_nobody(port);
		fflush(stdout);
		_exit(tap_exit_code());
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status)) {
		/* Its own lines say which check; the exit code must say it too. */
		tap_failures++;
		printf("# the unprivileged child failed\n");
	}
	if (pwrite(fd, old, strlen(old), 0) != (ssize_t)strlen(old))
		printf("# could not restore %s\n", SHARE_PARAM);
	close(fd);
}

int main(int argc, char **argv)
{
	unsigned int port;

	model_timeouts();
	if (argc == 5 && !strcmp(argv[1], "many")) {
		tap_plan(3);
		port = strtoul(argv[2], NULL, 0);
		many(port, strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0));
	} else if (argc == 5 && !strcmp(argv[1], "unload")) {
		tap_plan(8);
		port = strtoul(argv[2], NULL, 0);
		unload(port, strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0));
	} else if (argc == 4 && !strcmp(argv[1], "ring")) {
		tap_plan(4);
		ring(strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0));
	} else if (argc == 4 && !strcmp(argv[1], "share")) {
		/* share_setup, then the child's three */
		tap_plan(4);
		share(strtoul(argv[2], NULL, 0), argv[3]);
	} else if (argc == 6 && !strcmp(argv[1], "faults")) {
		unsigned int ctl = strtoul(argv[3], NULL, 0);

		/*
		 * reloaded_connects 1, own_cid 7, fail_alloc 3, qp_resumed 7,
		 * suspend_resume 4, unbind_rebind 6 twice, reset_recovers 5.
		 */
		tap_plan(39);
		port = strtoul(argv[2], NULL, 0);
		tap_report(new_connection_ok(port), "reloaded_connects", "no echo");
		own_cid(8200);
		fail_alloc(port, ctl);
		qp_resumed(port, ctl);
		suspend_resume(port);
		unbind_rebind(port, argv[4], "unbind");
		printf("# device reset, %s registers\n", argv[5]);
		reset_recovers(port, ctl);
		/* Recovery left no pair behind that unbind could trip on. */
		unbind_rebind(port, argv[4], "after_reset");
	} else {
		printf("usage: guest_faults many PORT N BYTES | unload PORT LPORT N |\n"
		       "       guest_faults faults PORT CONTROL_PORT BDF mmio|io |\n"
		       "       guest_faults ring CONTROL_PORT RID | share PORT PERCENT\n");
		return 2;
	}
	return tap_exit_code();
}
