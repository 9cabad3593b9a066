// SPDX-License-Identifier: GPL-2.0
/*
 * One stuck stream socket must not stall anyone else's (issue 12, item 1).
 *
 * An unprivileged user (uid 65534) blocks one of its own sockets in recv(),
 * send() or setsockopt(SO_LINGER) on a buffer in a userfaultfd page that
 * nobody serves, and makes a control packet go to that socket (its peer
 * shuts down). The core copies SO_LINGER's value under the socket lock,
 * so that case holds the lock for as long as the fault lasts. While
 * it is stuck, root must still connect, accept, echo and close on another
 * port, and see a reset on another connection, each within BOUND_MS.
 * Then the fault is served and the stuck call must finish with the right
 * bytes, and the stuck socket must see the packet it was sent. The time
 * root's connect() took is printed: with the old locking it lasts until
 * the fault is served (SERVE_MS). tests/bench/stall_bench.c measures it.
 *
 * Usage: vsock_stall   (vmsock loaded, run as root; needs userfaultfd)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "uffd_page.h"
#include "vsock_conn.h"
#include "nobody.h"
#include "tap.h"

/* What root's operations may take while another user's socket is stuck. */
#define BOUND_MS	5000
/* When the fault is served at the latest: root's ops end by then or fail. */
#define SERVE_MS	(2 * BOUND_MS)
#define MSG_LEN		64
#define CHECKS_PER_CASE	4

static long page_size;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void fill_pattern(unsigned char *buf, size_t len, unsigned char seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(seed + i * 7);
}

/* --- The unprivileged side: a socket stuck in a copy --------------------- */

enum stuck_op { STUCK_RECV, STUCK_SEND, STUCK_SOCKOPT };

static const char *const op_name[] = { "recv", "send", "sockopt" };

struct stuck_io {
	int fd;
	enum stuck_op op;
	void *buf;
	ssize_t ret;
	int err;
};

static void *stuck_io_thread(void *arg)
{
	struct stuck_io *io = arg;

	switch (io->op) {
	case STUCK_RECV:
		io->ret = recv(io->fd, io->buf, MSG_LEN, MSG_WAITALL);
		break;
	case STUCK_SEND:
		io->ret = send(io->fd, io->buf, MSG_LEN, 0);
		break;
	case STUCK_SOCKOPT:
		io->ret = setsockopt(io->fd, SOL_SOCKET, SO_LINGER, io->buf,
				     sizeof(struct linger));
		break;
	}
	io->err = errno;
	return NULL;
}

static int uffd_serve(int uffd, void *page, unsigned char seed)
{
	unsigned char *src = malloc(page_size);
	int ret;

	if (!src)
		return -1;
	fill_pattern(src, page_size, seed);
	ret = uffd_page_fill(uffd, page, src);
	free(src);
	return ret;
}

/* The child's reason for failing, as one line to the parent. */
static void say(int fd, const char *fmt, ...)
{
	char line[200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0 && write(fd, line, strlen(line)) < 0)
		_exit(3);
}

/*
 * uid 65534: sends "S" once a thread is stuck in the copy and a control
 * packet is on its way to that socket, then waits for "G", serves the
 * fault and says "OK" or why not.
 */
static void __attribute__((noreturn)) attacker(enum stuck_op op, int to_parent, int from_parent)
{
	unsigned char want[MSG_LEN], got[MSG_LEN];
	struct stuck_io io = { .op = op };
	struct pollfd pfd = { .events = POLLIN };
	unsigned char *page;
	pthread_t thread;
	int uffd, a, b;
	char go;

	if (drop_to_nobody()) {
		say(to_parent, "cannot become uid %d: %s", NOBODY, strerror(errno));
		_exit(1);
	}
	page = uffd_page(&uffd);
	/*
	 * The core reads an option's first int before it locks the socket:
	 * SO_LINGER's value straddles the pages so that the part it copies
	 * under the lock is the part that faults.
	 */
	io.buf = op == STUCK_SOCKOPT ? page - sizeof(int) : page;
	if (!page) {
		say(to_parent, "userfaultfd as uid %d: %s", NOBODY, strerror(errno));
		_exit(1);
	}
	if (make_pair(&a, &b)) {
		say(to_parent, "own connection: %s", strerror(errno));
		_exit(1);
	}
	fill_pattern(want, MSG_LEN, 0x5a);
	/* A receiver only copies once there is data. */
	if (op == STUCK_RECV && send(b, want, MSG_LEN, 0) != MSG_LEN) {
		say(to_parent, "send to own socket: %s", strerror(errno));
		_exit(1);
	}
	io.fd = a;
	if (pthread_create(&thread, NULL, stuck_io_thread, &io)) {
		say(to_parent, "pthread_create failed");
		_exit(1);
	}
	if (uffd_page_wait_fault(uffd, BOUND_MS)) {
		say(to_parent, "%s() never faulted on the page", op_name[op]);
		_exit(1);
	}
	/* A SHUTDOWN packet for the stuck socket goes to the control worker. */
	if (shutdown(b, SHUT_WR)) {
		say(to_parent, "shutdown: %s", strerror(errno));
		_exit(1);
	}
	say(to_parent, "S");
	if (read(from_parent, &go, 1) != 1)
		_exit(1);
	if (uffd_serve(uffd, page, 0x5a)) {
		say(to_parent, "UFFDIO_COPY: %s", strerror(errno));
		_exit(1);
	}
	pthread_join(thread, NULL);
	if (op == STUCK_SOCKOPT) {
		/* The SHUTDOWN that came meanwhile must reach the socket now. */
		pfd.fd = a;
		if (io.ret || poll(&pfd, 1, BOUND_MS) != 1 ||
		    recv(a, got, 1, MSG_DONTWAIT) != 0) {
			say(to_parent, "setsockopt returned %zd (%s); no end of file after it",
			    io.ret, strerror(io.err));
			_exit(1);
		}
		say(to_parent, "OK");
		_exit(0);
	}
	if (io.ret != MSG_LEN) {
		say(to_parent, "stuck %s() returned %zd (%s) once served, want %d",
		    op_name[op], io.ret, strerror(io.err), MSG_LEN);
		_exit(1);
	}
	if (op == STUCK_SEND) {
		/* The served page holds the pattern: the peer must read it. */
		if (recv(b, got, MSG_LEN, MSG_WAITALL) != MSG_LEN || memcmp(got, want, MSG_LEN)) {
			say(to_parent, "peer read the wrong bytes after the stuck send");
			_exit(1);
		}
	} else if (memcmp(page, want, MSG_LEN)) {
		say(to_parent, "stuck recv() delivered the wrong bytes");
		_exit(1);
	}
	say(to_parent, "OK");
	_exit(0);
}

/* --- Root's side: other connections while the socket is stuck ------------ */

struct root_ops {
	int reset_a, reset_b;	/* a connection made before the stall */
	long long start, connected, echoed, reset_seen;	/* ms, 0 = not yet */
	const char *failed;
	int done_pipe;
};

/* connect, accept, echo and close on a fresh port; then a reset elsewhere. */
static void *root_ops_thread(void *arg)
{
	struct root_ops *ops = arg;
	struct pollfd pfd = { .events = POLLIN | POLLRDHUP };
	char buf[4] = "ping", back[4];
	unsigned int port;
	int lfd, c, s;

	ops->start = now_ms();
	lfd = listener(&port, 8);
	c = lfd < 0 ? -1 : connect_to(port);
	ops->connected = c < 0 ? 0 : now_ms();
	s = c < 0 ? -1 : accept(lfd, NULL, NULL);
	if (s < 0 || send(c, buf, 4, 0) != 4 || recv(s, back, 4, MSG_WAITALL) != 4 ||
	    send(s, back, 4, 0) != 4 || recv(c, back, 4, MSG_WAITALL) != 4 ||
	    memcmp(buf, back, 4))
		ops->failed = "connect/accept/echo failed";
	else
		ops->echoed = now_ms();
	if (s >= 0)
		close(s);
	if (c >= 0)
		close(c);
	if (lfd >= 0)
		close(lfd);

	/* The peer's close reaches reset_a through the control worker. */
	close(ops->reset_b);
	pfd.fd = ops->reset_a;
	if (poll(&pfd, 1, -1) == 1 && recv(ops->reset_a, back, 1, 0) == 0)
		ops->reset_seen = now_ms();
	else if (!ops->failed)
		ops->failed = "no end of file after the peer closed";
	close(ops->reset_a);
	if (write(ops->done_pipe, "D", 1) != 1)
		ops->failed = "write to done pipe";
	return NULL;
}

/*
 * @early: root's thread said it was done before the fault was served, so
 * @t and @served may fall in the same millisecond.
 */
static void check_bounded(const char *name, long long t, long long start, long long served,
			  int early, const char *failed)
{
	long long took = t - start;

	if (!t)
		tap_report(0, name, "did not complete (%s)", failed ? failed : "?");
	else
		tap_report(took <= BOUND_MS && (early || t < served), name,
			   "took %lld ms (bound %d ms); the fault was served at %lld ms",
			   took, BOUND_MS, served - start);
}

/* Reads the child's line ("S", "OK" or a reason) within @ms. */
static int read_line(int fd, char *buf, size_t size, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, ms) != 1)
		return snprintf(buf, size, "no answer within %d ms", ms), -1;
	n = read(fd, buf, size - 1);
	if (n <= 0)
		return snprintf(buf, size, "child gone"), -1;
	buf[n] = 0;
	return 0;
}

static void run_case(enum stuck_op op)
{
	const char *tag = op_name[op];
	int to_child[2], from_child[2], done[2];
	struct root_ops ops = { 0 };
	struct pollfd pfd;
	char line[200], name[64];
	long long served;
	pthread_t thread;
	int status, early;
	pid_t pid;

	if (pipe(to_child) || pipe(from_child) || pipe(done) ||
	    make_pair(&ops.reset_a, &ops.reset_b)) {
		for (int i = 0; i < CHECKS_PER_CASE; i++)
			tap_report(0, tag, "setup: %s", strerror(errno));
		return;
	}
	ops.done_pipe = done[1];
	pid = fork();
	if (!pid) {
		/* Root's fds stay root's: a copy here would keep its sockets open. */
		close(to_child[1]);
		close(from_child[0]);
		close(done[0]);
		close(done[1]);
		close(ops.reset_a);
		close(ops.reset_b);
		attacker(op, from_child[1], to_child[0]);
	}
	close(to_child[0]);
	close(from_child[1]);

	snprintf(name, sizeof(name), "%s_stuck_as_nobody", tag);
	if (read_line(from_child[0], line, sizeof(line), BOUND_MS) || strcmp(line, "S")) {
		tap_report(0, name, "%s", line);
		ops.reset_seen = ops.echoed = 0;
	} else {
		tap_report(1, name, "");
	}

	/* Root's work; the fault is served when it is done, or at SERVE_MS. */
	pthread_create(&thread, NULL, root_ops_thread, &ops);
	pfd.fd = done[0];
	pfd.events = POLLIN;
	early = poll(&pfd, 1, SERVE_MS) == 1;
	served = now_ms();
	if (write(to_child[1], "G", 1) != 1)
		perror("write to child");
	pthread_join(thread, NULL);

	printf("# %s: root's connect() took %lld ms while uid %d's socket was stuck in %s()\n",
	       tag, ops.connected ? ops.connected - ops.start : -1, NOBODY,
	       op == STUCK_SOCKOPT ? "setsockopt" : tag);
	snprintf(name, sizeof(name), "%s_root_connect_accept_echo", tag);
	check_bounded(name, ops.echoed, ops.start, served, early, ops.failed);
	snprintf(name, sizeof(name), "%s_root_reset_elsewhere", tag);
	check_bounded(name, ops.reset_seen, ops.start, served, early, ops.failed);

	snprintf(name, sizeof(name), "%s_stuck_io_completes", tag);
	if (read_line(from_child[0], line, sizeof(line), BOUND_MS))
		tap_report(0, name, "%s", line);
	else
		tap_report(!strcmp(line, "OK"), name, "%s", line);
	waitpid(pid, &status, 0);
	close(to_child[1]);
	close(from_child[0]);
	close(done[0]);
	close(done[1]);
}

int main(void)
{
	int afd = -1, old_sysctl;

	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Each case ends by SERVE_MS plus a few bounds; a hang kills the test. */
	alarm(120);
	page_size = sysconf(_SC_PAGESIZE);
	tap_plan(2 + 3 * CHECKS_PER_CASE);
	af = VMCISock_GetAFValueFd(&afd);
	local_cid = VMCISock_GetLocalCID();
	tap_report(af >= 0 && local_cid != VMADDR_CID_ANY, "setup", "af %d cid %u", af,
		   local_cid);
	old_sysctl = uffd_sysctl_set(1);
	tap_report(old_sysctl >= 0, "unprivileged_userfaultfd", "%s: %s", UFFD_SYSCTL,
		   strerror(errno));
	if (af < 0 || old_sysctl < 0) {
		for (int i = 0; i < 3 * CHECKS_PER_CASE; i++)
			printf("skip case_%d # no vSockets or no userfaultfd\n", i);
		return tap_exit_code();
	}
	run_case(STUCK_RECV);
	run_case(STUCK_SEND);
	run_case(STUCK_SOCKOPT);
	uffd_sysctl_set(old_sysctl);
	return tap_exit_code();
}
