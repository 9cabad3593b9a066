// SPDX-License-Identifier: GPL-2.0
/*
 * One table, one run: vmsock next to AF_UNIX, TCP (and UDP) loopback and the
 * in-tree vsock_loopback transport, so every number has its reference
 * measured on the same machine at the same moment. Not a test: it prints
 * numbers and judges nothing.
 *
 * Every row: one warm-up pass per family (not counted), then several
 * passes with the families taking turns inside each, so a slow moment of
 * the host hits every column alike; each cell is the median, followed by
 * a line with the spread (lowest-highest pass) and a line with the CPU
 * time of the whole machine per unit of work (/proc/stat: it counts the
 * workers and softirqs a family runs on, which the process's own times
 * miss). "vmsock pkt" is vmsock with stream_local_wakeups=0 and
 * stream_local_connect=0: local streams then send the WROTE/READ datagrams
 * and connects the handshake packets a guest connection sends. The
 * datagram row reports loss beside the rate. The benchmark runs as root,
 * whose sockets vmsock trusts; the row "conn+accept+close uid 65534" runs
 * the connect row again as an unprivileged user, whose every queue pair is
 * charged to its share of vmci's budget (and without "vmsock pkt", whose
 * switches only root may flip).
 *
 * Usage: vsock_bench [scale [rows]]
 *   scale divides the transfer sizes (default 1); rows, when given, runs
 *   only the rows whose name contains that text (say "ping").
 *   BENCH_FAMILIES, when set, keeps only the columns it names, separated
 *   by commas (say "vmsock,AF_UNIX"); BENCH_PASSES=1 prints every pass's
 *   start and end (CLOCK_MONOTONIC seconds), units and family, so that a
 *   profiler's samples can be given to the family that ran
 *   (tests/bench/perf-init).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"

#define AF_VSOCK_INTREE	40
#define VSOCK_LOOPBACK_CID	1
#define NFAM		5
#define PKT		4	/* fams[PKT]: vmsock with the full packet protocol */
#define TIMEOUT_S	20

struct family {
	const char *name;
	int domain;
	unsigned int cid;	/* vSockets families */
	int usable;
	int packets;		/* local shortcuts off around its passes */
};

static struct family fams[NFAM];
static unsigned int scale = 1;
static unsigned int next_port = 20000;
static const char *only_rows;
/* Units of work the last drive did (MiB, round trips, connections, datagrams). */
static double units;
/* Whether to print each pass's times (BENCH_PASSES=1). */
static int log_passes;
/* The datagram row's share lost in its last pass, percent. */
static double dgram_lost;

#define LOCAL_WAKEUPS	"/sys/module/vmsock/parameters/stream_local_wakeups"
#define LOCAL_CONNECT	"/sys/module/vmsock/parameters/stream_local_connect"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Busy seconds of all CPUs so far (/proc/stat ticks), or -1. */
static double cpu_busy(void)
{
	unsigned long long user, nice, sys, idle, iowait, irq, softirq;
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys, &idle,
		   &iowait, &irq, &softirq);
	fclose(f);
	if (n != 7)
		return -1;
	return (double)(user + nice + sys + irq + softirq) / sysconf(_SC_CLK_TCK);
}

static int param_write(const char *path, int on)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fputs(on ? "1" : "0", f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* vmsock's two local shortcuts, on (the default) or off ("vmsock pkt"). */
static int local_shortcuts(int on)
{
	int ret = param_write(LOCAL_WAKEUPS, on);

	return param_write(LOCAL_CONNECT, on) || ret ? -1 : 0;
}

static socklen_t make_addr(const struct family *f, unsigned int port,
			   struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (f->domain == AF_UNIX) {
		struct sockaddr_un *un = (struct sockaddr_un *)ss;

		un->sun_family = AF_UNIX;
		/* Abstract names: nothing to clean up in the file system. */
		return offsetof(struct sockaddr_un, sun_path) + 1 +
		       snprintf(un->sun_path + 1, sizeof(un->sun_path) - 1, "vbench-%u", port);
	}
	if (f->domain == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*in);
	}
	{
		struct sockaddr_vm *vm = (struct sockaddr_vm *)ss;

		vm->svm_family = f->domain;
		vm->svm_cid = f->cid;
		vm->svm_port = port;
		return sizeof(*vm);
	}
}

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = TIMEOUT_S };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int listener(const struct family *f, int type, unsigned int port)
{
	struct family any = *f;
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd;

	/* vSockets servers bind to any CID, as the Programming Guide's do. */
	if (f->domain != AF_UNIX && f->domain != AF_INET)
		any.cid = VMADDR_CID_ANY;
	len = make_addr(&any, port, &ss);
	fd = socket(f->domain, type, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	set_timeouts(fd);
	if (bind(fd, (struct sockaddr *)&ss, len) ||
	    (type == SOCK_STREAM && listen(fd, 128))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connector(const struct family *f, int type, unsigned int port)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(f, port, &ss);
	int fd = socket(f->domain, type, 0);

	if (fd < 0)
		return -1;
	set_timeouts(fd);
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		close(fd);
		return -1;
	}
	if (f->domain == AF_INET && type == SOCK_STREAM) {
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	return fd;
}

static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * Runs @serve in a child on a fresh listener and @drive in this process;
 * the child says it is listening through a pipe. Returns @drive's value,
 * or a negative number when anything failed.
 */
typedef double (*drive_fn)(const struct family *f, int type, unsigned int port, long arg);
typedef int (*serve_fn)(int lfd, long arg);

static double run_pair(const struct family *f, int type, serve_fn serve, drive_fn drive,
		       long arg)
{
	unsigned int port = next_port++;
	int ready[2], status;
	double result = -1;
	char c = 0;
	pid_t pid;

	if (pipe(ready))
		return -1;
	if (f->packets && local_shortcuts(0)) {
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		int lfd = listener(f, type, port);

		close(ready[0]);
		c = lfd >= 0;
		if (write(ready[1], &c, 1) != 1 || lfd < 0)
			_exit(2);
		close(ready[1]);
		_exit(serve(lfd, arg) ? 1 : 0);
	}
	close(ready[1]);
	if (pid > 0 && read(ready[0], &c, 1) == 1 && c)
		result = drive(f, type, port, arg);
	close(ready[0]);
	if (pid > 0) {
		if (result < 0)
			kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			result = -1;
	}
	if (f->packets && local_shortcuts(1))
		result = -1;
	return result;
}

/* Throughput: the server counts bytes until EOF and sends the count back. */
static int serve_sink(int lfd, long arg)
{
	static char buf[1 << 20];
	uint64_t total = 0;
	ssize_t n;
	int fd = accept(lfd, NULL, NULL);

	(void)arg;
	if (fd < 0)
		return -1;
	set_timeouts(fd);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	if (n < 0 || write_full(fd, &total, sizeof(total)))
		return -1;
	close(fd);
	close(lfd);
	return 0;
}

static size_t stream_total(long wsize)
{
	return (wsize <= 4096 ? 32u << 20 : 128u << 20) / scale;
}

static double drive_stream(const struct family *f, int type, unsigned int port, long wsize)
{
	size_t total = stream_total(wsize), sent = 0;
	uint64_t got = 0;
	char *buf = calloc(1, wsize);
	double t0, t1;
	int fd;

	fd = buf ? connector(f, type, port) : -1;
	if (fd < 0) {
		free(buf);
		return -1;
	}
	t0 = now();
	while (sent < total) {
		if (write_full(fd, buf, wsize))
			break;
		sent += wsize;
	}
	shutdown(fd, SHUT_WR);
	if (sent < total || read_full(fd, &got, sizeof(got)) || got != sent) {
		close(fd);
		free(buf);
		return -1;
	}
	t1 = now();
	close(fd);
	free(buf);
	units = (double)sent / (1 << 20);
	return sent / (t1 - t0) / (1 << 20);	/* MiB/s */
}

/* Latency: one byte back and forth. */
static int serve_echo(int lfd, long arg)
{
	int fd = accept(lfd, NULL, NULL);
	char c;

	(void)arg;
	if (fd < 0)
		return -1;
	set_timeouts(fd);
	while (read(fd, &c, 1) == 1)
		if (write(fd, &c, 1) != 1)
			return -1;
	close(fd);
	close(lfd);
	return 0;
}

static double drive_pingpong(const struct family *f, int type, unsigned int port, long rounds)
{
	int fd = connector(f, type, port);
	double t0 = 0;
	char c = 'x';
	long i;

	if (fd < 0)
		return -1;
	for (i = -100; i < rounds; i++) {
		if (i == 0)
			t0 = now();
		if (write(fd, &c, 1) != 1 || read(fd, &c, 1) != 1) {
			close(fd);
			return -1;
		}
	}
	t0 = now() - t0;
	close(fd);
	units = rounds;
	return t0 / rounds * 1e6;	/* microseconds per round trip */
}

/* Connection rate: accept and close at once; the client waits for EOF. */
static int serve_accept(int lfd, long count)
{
	long i;

	for (i = 0; i < count; i++) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			return -1;
		close(fd);
	}
	close(lfd);
	return 0;
}

static double drive_connect(const struct family *f, int type, unsigned int port, long count)
{
	double t0 = now();
	long i;
	char c;

	for (i = 0; i < count; i++) {
		int fd = connector(f, type, port);

		if (fd < 0 || read(fd, &c, 1) != 0) {
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
	}
	units = count;
	return count / (now() - t0);	/* connections per second */
}

/* Datagram rate: what arrives, per second, of a burst of 1 KiB datagrams. */
#define DGRAM_SIZE	1024
#define DGRAM_ROW	"datagrams 1 KiB delivered"

static int serve_dgram(int lfd, long count)
{
	struct timeval tv = { .tv_usec = 500000 };
	double first = 0, last = 0, rate;
	char buf[DGRAM_SIZE];
	long got = 0;
	int fd;

	setsockopt(lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (got < count) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(lfd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);

		if (n < 0 && got)
			break;
		if (n < 0)
			return -1;
		if (!got)
			first = now();
		last = now();
		got++;
	}
	rate = got > 1 ? (got - 1) / (last - first) : 0;
	fd = dup(STDOUT_FILENO);
	dprintf(fd, "#dgram %ld %.0f\n", got, rate);
	close(fd);
	close(lfd);
	return 0;
}

static double drive_dgram(const struct family *f, int type, unsigned int port, long count)
{
	struct sockaddr_storage ss;
	socklen_t len = make_addr(f, port, &ss);
	char buf[DGRAM_SIZE] = { 0 };
	int fd = socket(f->domain, type, 0);
	long i, sent = 0;

	if (fd < 0)
		return -1;
	for (i = 0; i < count; i++)
		if (sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&ss, len) == DGRAM_SIZE)
			sent++;
	close(fd);
	return sent ? sent : -1;
}

/*
 * The server prints what arrived itself (it is a child): capture it. The
 * rate counts delivered datagrams only, so the loss (what sendto()
 * accepted and the receiver never saw) goes in dgram_lost beside it.
 */
static double measure_dgram(const struct family *f, long count)
{
	int p[2], saved = dup(STDOUT_FILENO);
	double rate = -1, sent;
	char line[128] = "";
	long got;
	ssize_t n;

	fflush(stdout);
	if (saved < 0 || pipe(p))
		return -1;
	dup2(p[1], STDOUT_FILENO);
	close(p[1]);
	sent = run_pair(f, SOCK_DGRAM, serve_dgram, drive_dgram, count);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	n = read(p[0], line, sizeof(line) - 1);
	close(p[0]);
	if (sent > 0 && n > 0 && sscanf(line, "#dgram %ld %lf", &got, &rate) == 2 && got > 1) {
		units = got;
		dgram_lost = got < sent ? (sent - got) * 100 / sent : 0;
		return rate;
	}
	return -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define MAX_REPS	9

/* One measured quantity of a row: every family's passes. */
struct cells {
	double pass[NFAM][MAX_REPS];
	int n[NFAM];
};

/* Sorts each family's passes; -1 marks a family with a failed pass. */
static void cells_sort(struct cells *c, int reps)
{
	int i;

	for (i = 0; i < NFAM; i++) {
		qsort(c->pass[i], c->n[i], sizeof(double), cmp_double);
		if (c->n[i] != reps)
			c->n[i] = 0;
	}
}

static double cells_median(const struct cells *c, int i)
{
	return c->n[i] ? c->pass[i][c->n[i] / 2] : -1;
}

static void print_values(const struct cells *c, int decimals)
{
	int i;

	for (i = 0; i < NFAM; i++) {
		if (!c->n[i])
			printf(" %14s", "n/a");
		else
			printf(" %14.*f", decimals, cells_median(c, i));
	}
}

static void print_ratio(const struct cells *c, int a, int b)
{
	double x = cells_median(c, a), y = cells_median(c, b);

	if (x > 0 && y > 0)
		printf(" %8.2fx", x / y);
	else
		printf(" %9s", "n/a");
}

static void print_row(const char *what, const char *unit, const struct cells *v,
		      const struct cells *cpu, const char *cpu_unit, int higher_better)
{
	char label[64];
	int i;

	printf("%-28s %-7s", what, unit);
	print_values(v, 1);
	for (i = 1; i < 4; i++)
		print_ratio(v, 0, i);
	print_ratio(v, PKT, 1);
	printf("   (%s is better)\n", higher_better ? "higher" : "lower");
	printf("%-28s %-7s", "  spread (low-high)", unit);
	for (i = 0; i < NFAM; i++) {
		if (!v->n[i]) {
			printf(" %14s", "n/a");
			continue;
		}
		snprintf(label, sizeof(label), "%.0f-%.0f", v->pass[i][0],
			 v->pass[i][v->n[i] - 1]);
		printf(" %14s", label);
	}
	printf("\n%-28s %-7s", "  machine CPU per unit", cpu_unit);
	print_values(cpu, 1);
	for (i = 1; i < 4; i++)
		print_ratio(cpu, 0, i);
	print_ratio(cpu, PKT, 1);
	printf("   (lower is better)\n");
	fflush(stdout);
}

/* Whether BENCH_FAMILIES names @name, or is not set. */
static int family_wanted(const char *name)
{
	const char *list = getenv("BENCH_FAMILIES");
	size_t len = strlen(name);
	const char *p;

	if (!list || !*list)
		return 1;
	for (p = list; (p = strstr(p, name)); p += len)
		if ((p == list || p[-1] == ',') && (p[len] == ',' || !p[len]))
			return 1;
	return 0;
}

static int row_wanted(const char *what)
{
	return !only_rows || strstr(what, only_rows);
}

/* One pass of a row for family @f: its value, and its CPU per unit in *cpu. */
static double one_pass(const struct family *f, int type, serve_fn serve, drive_fn drive,
		       long arg, double *cpu)
{
	double c0 = cpu_busy(), t0 = now(), v;

	units = 0;
	v = drive ? run_pair(f, type, serve, drive, arg) : measure_dgram(f, arg);
	*cpu = c0 >= 0 && units > 0 ? (cpu_busy() - c0) * 1e6 / units : -1;
	if (log_passes)
		printf("# pass %.6f %.6f %.0f %s\n", t0, now(), units, f->name);
	return v;
}

/*
 * A warm-up pass per family (page cache, slab caches, the first
 * connection's set-up), then @reps passes with the families interleaved
 * in each, so a slow moment of the host hits every column alike. A
 * NULL @drive means the datagram row (measure_dgram()).
 */
static void row(const char *what, const char *unit, const char *cpu_unit, int type,
		serve_fn serve, drive_fn drive, long arg, int higher_better, int reps)
{
	struct cells v = { 0 }, cpu = { 0 }, lost = { 0 };
	double value, c;
	int i, r;

	if (!row_wanted(what))
		return;
	for (r = -1; r < reps; r++)
		for (i = 0; i < NFAM; i++) {
			/* The switches change nothing for datagrams. */
			if (!fams[i].usable || (fams[i].packets && !drive))
				continue;
			value = one_pass(&fams[i], type, serve, drive, arg, &c);
			if (r < 0 || value < 0 || c < 0)
				continue;
			v.pass[i][v.n[i]++] = value;
			cpu.pass[i][cpu.n[i]++] = c;
			lost.pass[i][lost.n[i]++] = dgram_lost;
		}
	cells_sort(&v, reps);
	cells_sort(&cpu, reps);
	cells_sort(&lost, reps);
	print_row(what, unit, &v, &cpu, cpu_unit, higher_better);
	if (drive)
		return;
	printf("%-28s %-7s", "  lost (median)", "%");
	print_values(&lost, 2);
	printf("\n");
}

#define USER_ROW	"conn+accept+close uid 65534"
#define NOBODY		65534

/*
 * The connect row in a child that dropped to uid and gid NOBODY, so the
 * rest of the table stays root's. Its name does not contain "connect":
 * `tests/bench/run 1 connect` and its profile stay root's row alone.
 */
static void user_row(void)
{
	int status;
	pid_t pid;

	if (!row_wanted(USER_ROW))
		return;
	pid = fork();
	if (pid < 0)
		return;
	if (!pid) {
		if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY)) {
			printf("# %s: cannot become uid %d: %s\n", USER_ROW, NOBODY,
			       strerror(errno));
			_exit(1);
		}
		fams[PKT].usable = 0;
		row(USER_ROW, "conn/s", "us/conn", SOCK_STREAM, serve_accept, drive_connect,
		    250 / scale, 1, 5);
		_exit(0);
	}
	waitpid(pid, &status, 0);
}

int main(int argc, char **argv)
{
	int afd = -1, probe, i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1)
		scale = strtoul(argv[1], NULL, 0) ? strtoul(argv[1], NULL, 0) : 1;
	if (argc > 2 && argv[2][0])
		only_rows = argv[2];
	log_passes = getenv("BENCH_PASSES") && !strcmp(getenv("BENCH_PASSES"), "1");

	fams[0] = (struct family){ "vmsock", VMCISock_GetAFValueFd(&afd), VMCISock_GetLocalCID(),
				   1, 0 };
	fams[1] = (struct family){ "AF_UNIX", AF_UNIX, 0, 1, 0 };
	fams[2] = (struct family){ "TCP/UDP lo", AF_INET, 0, 1, 0 };
	fams[3] = (struct family){ "vsock_loopback", AF_VSOCK_INTREE, VSOCK_LOOPBACK_CID, 1, 0 };
	fams[PKT] = fams[0];
	fams[PKT].name = "vmsock pkt";
	fams[PKT].packets = 1;
	if (fams[0].domain < 0)
		fams[0].usable = fams[PKT].usable = 0;
	if (access(LOCAL_WAKEUPS, W_OK) || access(LOCAL_CONNECT, W_OK))
		fams[PKT].usable = 0;
	/* Both vSockets entries must be different families, or one is not there. */
	if (fams[0].domain == AF_VSOCK_INTREE)
		fams[3].usable = 0;
	for (i = 0; i < NFAM; i++)
		if (!family_wanted(fams[i].name))
			fams[i].usable = 0;
	probe = fams[3].usable ? socket(AF_VSOCK_INTREE, SOCK_STREAM, 0) : -1;
	if (probe < 0)
		fams[3].usable = 0;
	else
		close(probe);

	printf("# vmsock family %d, local CID %u; in-tree vsock_loopback %s; vmsock pkt %s\n",
	       fams[0].domain, fams[0].cid, fams[3].usable ? "present" : "absent",
	       fams[PKT].usable ? "present" : "absent (no " LOCAL_WAKEUPS " or " LOCAL_CONNECT ")");
	printf("# each cell: the median of the passes after a warm-up, families in turns\n");
	printf("# transfers: %zu MiB (4 KiB writes), %zu MiB (larger writes)\n",
	       stream_total(4096) >> 20, stream_total(65536) >> 20);
	printf("%-28s %-7s", "", "");
	for (i = 0; i < NFAM; i++)
		printf(" %14s", fams[i].name);
	printf("  vmsock/unix  /tcp  /vsock  pkt/unix\n");

	row("stream 4 KiB writes", "MiB/s", "us/MiB", SOCK_STREAM, serve_sink, drive_stream,
	    4096, 1, 5);
	row("stream 64 KiB writes", "MiB/s", "us/MiB", SOCK_STREAM, serve_sink, drive_stream,
	    65536, 1, 5);
	row("stream 1 MiB writes", "MiB/s", "us/MiB", SOCK_STREAM, serve_sink, drive_stream,
	    1 << 20, 1, 5);
	row("ping-pong round trip", "us", "us/rtt", SOCK_STREAM, serve_echo, drive_pingpong,
	    1000 / scale, 0, MAX_REPS);
	row("connect+accept+close", "conn/s", "us/conn", SOCK_STREAM, serve_accept,
	    drive_connect, 250 / scale, 1, 5);
	user_row();
	row(DGRAM_ROW, "dg/s", "us/dg", SOCK_DGRAM, NULL, NULL, 5000 / scale, 1, 5);

	if (afd >= 0)
		VMCISock_ReleaseAFValueFd(afd);
	return 0;
}
