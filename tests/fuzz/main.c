// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's loop: make up or mutate a program, run it in a forked
 * executor, keep it when it reached new PCs of our modules, and save it
 * as a reproducer (then minimise it) when the kernel reported something.
 *
 *   fuzz [-d SECONDS] [-o OPS] [-e REPORTS] [-s SEED] [-c CORPUS_DIR] [-x CRASH_DIR]
 *        [-j EXECUTORS] [-t TIMEOUT_MS] [-f FUNCTIONS_FILE]
 *   fuzz -r PROGRAM [-n TIMES]      replay a saved program
 *
 * -f writes the blocks reached per function of our modules at the end.
 *
 * Prints a status line every 10 s and one FUZZ-SUMMARY line at the end.
 * Exit status: 0 no report, 1 a kernel report or hang, 2 setup failed.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

#define MAX_CORPUS	8192
#define REPORT_SIZE	16384
#define TRIES		3	/* replays before a program "does not reproduce" */
#define HISTORY		8	/* recent programs a late report may belong to */
#define MAX_EXECUTORS	4

/*
 * An executor process and what the fuzzer keeps of it: the pipes that
 * start a program and say it ended, the page the program goes in, its
 * threads' KCOV buffers. pid 0: none running (started on first use).
 */
struct executor {
	pid_t pid;
	int req, done;
	int busy, reaped, status;
	double started, deadline;
	struct exec_shared *sh;
	int kcov_fds[NTHREADS];
	uint64_t *areas[NTHREADS];
};

static struct executor executors[MAX_EXECUTORS];
static int nexec = 2;
static int have_kcov;
static struct prog *corpus;
static int corpus_n;
static const char *corpus_dir = "/tmp/fuzz/corpus";
static const char *crash_dir = "/tmp/fuzz/crashes";
static unsigned int timeout_ms = 5000, hang_secs = 60;
static char report[REPORT_SIZE];
static sigset_t sigchld;
static double exec_ns;
static uint64_t *remote_area;	/* work items' coverage, NULL: none */		/* wall time of every program, start to end */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

enum outcome { RUN_OK, RUN_TIMEOUT, RUN_CRASHED, RUN_HANG };

/*
 * Reaps whatever died: orphaned helpers (we are their subreaper) and
 * executors, whose status is kept for ex_collect.
 */
static void reap(void)
{
	pid_t pid;
	int st, i;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		for (i = 0; i < nexec; i++)
			if (executors[i].pid == pid) {
				executors[i].reaped = 1;
				executors[i].status = st;
			}
}

static void ex_stop(struct executor *ex)
{
	close(ex->req);
	close(ex->done);
	ex->pid = 0;
	ex->busy = 0;
}

static int ex_start(struct executor *ex)
{
	int req[2], done[2], i;
	pid_t pid;

	if (pipe(req))
		return -1;
	if (pipe(done)) {
		close(req[0]);
		close(req[1]);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		/* Only our own pipes: another executor's death must close its. */
		for (i = 0; i < nexec; i++)
			if (executors[i].pid) {
				close(executors[i].req);
				close(executors[i].done);
			}
		close(req[1]);
		close(done[0]);
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		exec_serve(req[0], done[1], ex->sh, have_kcov ? ex->kcov_fds : NULL);
	}
	close(req[0]);
	close(done[1]);
	if (pid < 0) {
		close(req[1]);
		close(done[0]);
		return -1;
	}
	setpgid(pid, pid);
	ex->pid = pid;
	ex->req = req[1];
	ex->done = done[0];
	ex->busy = 0;
	ex->reaped = 0;
	return 0;
}

static int ex_submit(struct executor *ex, const struct prog *p)
{
	char byte = 1;
	int i;

	if (!ex->pid && ex_start(ex))
		return -1;
	ex->sh->prog = *p;
	for (i = 0; have_kcov && i < NTHREADS; i++)
		__atomic_store_n(&ex->areas[i][0], 0, __ATOMIC_RELAXED);
	ex->started = now();
	ex->deadline = ex->started + timeout_ms / 1000.0;
	if (write(ex->req, &byte, 1) != 1) {
		/* It died between programs: its exit is reaped below. */
		ex->busy = 1;
		ex->deadline = ex->started;
		return 0;
	}
	ex->busy = 1;
	return 0;
}

/* Waits up to @secs for the executor to be reaped; 1 when it was. */
static int ex_wait_dead(struct executor *ex, double secs)
{
	double deadline = now() + secs;

	for (;;) {
		double left = deadline - now();
		struct timespec ts;

		reap();
		if (ex->reaped)
			return 1;
		if (left <= 0)
			return 0;
		ts.tv_sec = (time_t)(left > 1 ? 1 : left);
		ts.tv_nsec = left > 1 ? 0 : (long)((left - (time_t)left) * 1e9);
		sigtimedwait(&sigchld, NULL, &ts);
	}
}

/*
 * The end of the executor's program: done (RUN_OK), its process died
 * (RUN_CRASHED), or its time was up and it was killed (RUN_TIMEOUT), or
 * it would not die (RUN_HANG).
 */
static enum outcome ex_collect(struct executor *ex)
{
	char byte;
	ssize_t n = -1;		/* -1: its time is up */
	enum outcome o;

	if (now() < ex->deadline)
		n = read(ex->done, &byte, 1);
	exec_ns += (now() - ex->started) * 1e9;
	ex->busy = 0;
	if (n == 1)
		return RUN_OK;
	if (n == 0) {
		/* Its end of the pipe closed: it is gone or going. */
		kill(-ex->pid, SIGKILL);
		o = ex_wait_dead(ex, hang_secs) ? RUN_CRASHED : RUN_HANG;
		if (o == RUN_CRASHED && WIFSIGNALED(ex->status) &&
		    WTERMSIG(ex->status) == SIGKILL)
			o = RUN_TIMEOUT;	/* killed from outside (the OOM killer) */
	} else {
		kill(-ex->pid, SIGKILL);
		o = ex_wait_dead(ex, hang_secs) ? RUN_TIMEOUT : RUN_HANG;
	}
	if (o != RUN_HANG)
		ex_stop(ex);
	return o;
}

/* Waits until an executor's program ended or its time is up. */
static void wait_any(void)
{
	struct pollfd pfd[MAX_EXECUTORS];
	double first = now() + 1;
	int i, n = 0, ms;

	for (i = 0; i < nexec; i++) {
		if (!executors[i].busy)
			continue;
		pfd[n].fd = executors[i].done;
		pfd[n].events = POLLIN;
		n++;
		if (executors[i].deadline < first)
			first = executors[i].deadline;
	}
	ms = (int)((first - now()) * 1000) + 1;
	poll(pfd, n, ms < 0 ? 0 : ms);
}

/* Has the busy executor @ex finished or run out of time? */
static int ex_ready(struct executor *ex)
{
	struct pollfd pfd = { .fd = ex->done, .events = POLLIN };

	return ex->busy && (now() >= ex->deadline || poll(&pfd, 1, 0) == 1);
}

/* Runs @p once on executor 0, the others idle. */
static enum outcome run_once(const struct prog *p)
{
	struct executor *ex = &executors[0];

	if (ex_submit(ex, p))
		return RUN_CRASHED;
	while (!ex_ready(ex))
		wait_any();
	return ex_collect(ex);
}

/* Reads the kernel log a little later too: reports come in pieces. */
static int kernel_reported(void)
{
	struct timespec settle = { 0, 300 * 1000000 };

	if (!kmsg_poll(report, sizeof(report)) && !report[0])
		return 0;
	nanosleep(&settle, NULL);
	kmsg_poll(report, sizeof(report));
	return 1;
}

/* Does @p make the kernel report something again, within TRIES runs? */
static int reproduces(const struct prog *p)
{
	int i;

	for (i = 0; i < TRIES; i++) {
		struct timespec settle = { 0, 100 * 1000000 };
		enum outcome o = run_once(p);

		if (o == RUN_HANG)
			return 1;
		nanosleep(&settle, NULL);
		if (kernel_reported())
			return 1;
	}
	return 0;
}

/* Drops calls, last first, while the program still reproduces. */
static void minimise(struct prog *p)
{
	int i;

	for (i = p->n - 1; i >= 0 && p->n > 1; i--) {
		struct prog q = *p;

		prog_remove(&q, i);
		report[0] = 0;
		if (reproduces(&q))
			*p = q;
	}
	report[0] = 0;
}

static int save_prog(const char *path, const struct prog *p, const char *comment)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	if (comment)
		fprintf(f, "%s", comment);
	prog_write(f, p);
	return fclose(f);
}

/* The report's first line that names a report (the one before it may not). */
static void first_line(const char *text, char *out, size_t size)
{
	size_t n = strcspn(text, "\n");
	char line[512];

	snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) ? n : sizeof(line) - 1), text);
	if (text[n] && !is_report(line) && is_report(text + n + 1)) {
		text += n + 1;
		n = strcspn(text, "\n");
	}
	snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), text);
}

/*
 * A report: save the program that was running (or a recent one that
 * reproduces it), the report, and a minimised copy. Prints where they are.
 */
static void handle_report(int number, struct prog *history, int hist_n, uint64_t seed,
			  const char *kind)
{
	char path[512], head[256], comment[1024], text[REPORT_SIZE];
	struct prog found = history[0];
	int h, repro = 0;
	FILE *f;

	memcpy(text, report, sizeof(text));
	first_line(text, head, sizeof(head));
	printf("REPORT %d: %s %s\n", number, kind, head);
	fflush(stdout);
	snprintf(path, sizeof(path), "%s/crash-%d.report", crash_dir, number);
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	snprintf(comment, sizeof(comment),
		 "# fuzz run seed %llu; report: %s\n# replay: fuzz -r FILE\n",
		 (unsigned long long)seed, head);
	snprintf(path, sizeof(path), "%s/crash-%d.prog", crash_dir, number);
	save_prog(path, &history[0], comment);
	if (strcmp(kind, "hang") == 0) {
		printf("REPRO %d %s (not minimised: the executor is stuck)\n", number, path);
		return;
	}
	/* A report may surface after its program: try the recent ones. */
	for (h = 0; h < hist_n && !repro; h++) {
		report[0] = 0;
		if (reproduces(&history[h])) {
			found = history[h];
			repro = 1;
		}
	}
	if (!repro) {
		printf("REPRO %d %s (did not reproduce in %d runs)\n", number, path, TRIES);
		report[0] = 0;
		return;
	}
	minimise(&found);
	snprintf(path, sizeof(path), "%s/crash-%d.min.prog", crash_dir, number);
	save_prog(path, &found, comment);
	printf("REPRO %d %s (%d calls)\n", number, path, found.n);
	fflush(stdout);
}

static void load_corpus(void)
{
	DIR *d = opendir(corpus_dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)) && corpus_n < MAX_CORPUS) {
		char path[512];
		FILE *f;

		if (!strstr(e->d_name, ".prog"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", corpus_dir, e->d_name);
		f = fopen(path, "r");
		if (f && prog_read(f, &corpus[corpus_n]) == 0)
			corpus_n++;
		if (f)
			fclose(f);
	}
	closedir(d);
}

static int replay(const char *file, int times)
{
	struct prog p;
	FILE *f = fopen(file, "r");
	int i;

	if (!f || prog_read(f, &p)) {
		fprintf(stderr, "fuzz: cannot read a program from %s\n", file);
		return 2;
	}
	fclose(f);
	for (i = 0; i < times; i++) {
		if (run_once(&p) == RUN_HANG) {
			printf("replay: hang on run %d\n", i + 1);
			return 1;
		}
		usleep(100000);
		if (kernel_reported()) {
			printf("replay: kernel report on run %d:\n%s", i + 1, report);
			return 1;
		}
	}
	printf("replay: no report in %d runs\n", times);
	return 0;
}

/* The three operations that took longest in all, with their mean time. */
static void slowest(char *out, size_t size)
{
	uint64_t ns[OP_COUNT] = { 0 }, n[OP_COUNT] = { 0 };
	int i, e, k, len = 0;

	for (e = 0; e < nexec; e++)
		for (i = 0; i < OP_COUNT; i++) {
			ns[i] += executors[e].sh->op_ns[i];
			n[i] += executors[e].sh->op_n[i];
		}
	out[0] = 0;
	for (k = 0; k < 3; k++) {
		int best = -1;

		for (i = 0; i < OP_COUNT; i++)
			if (n[i] && (best < 0 || ns[i] > ns[best]))
				best = i;
		if (best < 0)
			break;
		len += snprintf(out + len, size - len, "%s%s:%.1fms", k ? "," : "",
				op_names[best], ns[best] / 1e6 / n[best]);
		ns[best] = 0;
		n[best] = 0;
	}
}

static void status(const char *tag, double start, unsigned long execs, unsigned long ops,
		   int reports, unsigned long timeouts, unsigned long crashes)
{
	unsigned long vmci, vmsock, other;
	double secs = now() - start;
	char slow[128];

	cover_counts(&vmci, &vmsock, &other);
	slowest(slow, sizeof(slow));
	printf("%s secs=%.0f execs=%lu ops=%lu ops_per_s=%.0f vmci_pcs=%lu vmsock_pcs=%lu "
	       "other_pcs=%lu corpus=%d reports=%d timeouts=%lu executor_crashes=%lu "
	       "executors=%d ms_per_exec=%.0f slowest=%s\n",
	       tag, secs, execs, ops, secs > 0 ? ops / secs : 0, vmci, vmsock, other, corpus_n,
	       reports, timeouts, crashes, nexec, execs ? exec_ns / 1e6 / execs : 0, slow);
	fflush(stdout);
}

/*
 * A new program one time in eight, else a mutated corpus program: half
 * the time one of the 16 newest, whose new code is the likeliest to lead
 * further (the planted bug's conditions are reached one after another).
 */
static void next_prog(struct prog *p)
{
	int pick;

	if (!corpus_n || rnd() % 8 == 0) {
		prog_generate(p);
		return;
	}
	pick = rnd() % corpus_n;
	if (corpus_n > 16 && rnd() % 2)
		pick = corpus_n - 1 - rnd() % 16;
	*p = corpus[pick];
	prog_mutate(p, &corpus[rnd() % corpus_n]);
}

static void keep_if_new(struct executor *ex)
{
	int fresh = cover_merge(ex->areas, NTHREADS);
	char path[512];

	/* The workers' PCs go to whichever program ends next. */
	if (remote_area)
		fresh += cover_merge(&remote_area, 1);
	if (!fresh || corpus_n >= MAX_CORPUS)
		return;
	corpus[corpus_n] = ex->sh->prog;
	snprintf(path, sizeof(path), "%s/%d.prog", corpus_dir, corpus_n);
	save_prog(path, &corpus[corpus_n], NULL);
	corpus_n++;
}

int main(int argc, char **argv)
{
	unsigned long max_ops = 0, max_reports = 0, execs = 0, ops = 0, timeouts = 0, crashes = 0;
	double secs = 60, start, last_status;
	struct prog history[HISTORY];
	uint64_t seed = 0;
	const char *replay_file = NULL, *cover_file = NULL;
	int opt, times = 10, reports = 0, hist_n = 0, fd, i, stop = 0;

	while ((opt = getopt(argc, argv, "d:o:e:s:c:x:r:n:t:j:f:")) != -1) {
		switch (opt) {
		case 'd': secs = atof(optarg); break;
		case 'o': max_ops = strtoul(optarg, NULL, 0); break;
		case 'e': max_reports = strtoul(optarg, NULL, 0); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'c': corpus_dir = optarg; break;
		case 'x': crash_dir = optarg; break;
		case 'r': replay_file = optarg; break;
		case 'n': times = atoi(optarg); break;
		case 't': timeout_ms = atoi(optarg); break;
		case 'j': nexec = atoi(optarg); break;
		case 'f': cover_file = optarg; break;
		default:
			fprintf(stderr, "usage: see tests/fuzz/main.c\n");
			return 2;
		}
	}
	if (nexec < 1 || nexec > MAX_EXECUTORS || replay_file)
		nexec = replay_file ? 1 : nexec < 1 ? 1 : MAX_EXECUTORS;
	/* The executor's own crashes are counted here, not logged as reports. */
	fd = open("/proc/sys/debug/exception-trace", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "0", 1) != 1)
			perror("exception-trace");
		close(fd);
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigemptyset(&sigchld);
	sigaddset(&sigchld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigchld, NULL);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	exec_setup();
	if (kmsg_open()) {
		perror("fuzz: /dev/kmsg");
		return 2;
	}
	for (i = 0; i < nexec; i++) {
		executors[i].sh = mmap(NULL, sizeof(struct exec_shared), PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (executors[i].sh == MAP_FAILED)
			return 2;
	}
	if (replay_file)
		return replay(replay_file, times);

	for (i = 0; i < nexec; i++)
		if (cover_open(executors[i].kcov_fds, executors[i].areas, NTHREADS))
			break;
	if (i < nexec || cover_ranges()) {
		fprintf(stderr, "fuzz: no KCOV or our modules are not loaded\n");
		return 2;
	}
	have_kcov = 1;
	remote_area = cover_remote_open(getpid());
	corpus = calloc(MAX_CORPUS, sizeof(*corpus));
	if (!corpus)
		return 2;
	mkdir("/tmp/fuzz", 0755);
	mkdir(corpus_dir, 0755);
	mkdir(crash_dir, 0755);
	load_corpus();
	if (!seed)
		seed = (uint64_t)time(NULL) * 2654435761u ^ getpid();
	rnd_seed(seed);
	printf("fuzz: seed %llu, %d corpus programs loaded, %d executors of %d threads, "
	       "work items' coverage %s\n", (unsigned long long)seed, corpus_n, nexec, NTHREADS,
	       remote_area ? "on" : "off");

	start = last_status = now();
	while (!stop) {
		int more = now() - start < secs && (!max_ops || ops < max_ops);
		int busy = 0;

		/* Every idle executor gets a new program while time and ops last. */
		for (i = 0; i < nexec && more; i++) {
			struct prog p;

			if (executors[i].busy)
				continue;
			next_prog(&p);
			memmove(&history[1], &history[0], (HISTORY - 1) * sizeof(history[0]));
			history[0] = p;
			if (hist_n < HISTORY)
				hist_n++;
			ex_submit(&executors[i], &p);
		}
		for (i = 0; i < nexec; i++)
			busy += executors[i].busy;
		if (!busy)
			break;
		wait_any();
		for (i = 0; i < nexec; i++) {
			struct executor *ex = &executors[i];
			enum outcome o;

			if (!ex_ready(ex))
				continue;
			o = ex_collect(ex);
			execs++;
			ops += ex->sh->prog.n;
			timeouts += o == RUN_TIMEOUT;
			crashes += o == RUN_CRASHED;
			if (o == RUN_HANG) {
				/* Its KCOV descriptors are stuck with it: the run ends. */
				history[0] = ex->sh->prog;
				snprintf(report, sizeof(report),
					 "hang: the executor did not exit %u s after SIGKILL\n",
					 hang_secs);
				handle_report(++reports, history, 1, seed, "hang");
				stop = 1;
				break;
			}
			keep_if_new(ex);
		}
		if (!stop && kernel_reported()) {
			/* The others finish first: replays run alone. */
			for (i = 0; i < nexec; i++) {
				while (executors[i].busy && !ex_ready(&executors[i]))
					wait_any();
				if (executors[i].busy && ex_collect(&executors[i]) == RUN_HANG)
					stop = 1;
			}
			if (stop)
				break;
			handle_report(++reports, history, hist_n, seed, "kernel");
			hist_n = 0;
			if (max_reports && (unsigned long)reports >= max_reports)
				stop = 1;
		}
		if (now() - last_status >= 10) {
			status("fuzz:", start, execs, ops, reports, timeouts, crashes);
			last_status = now();
		}
	}
	status("FUZZ-SUMMARY", start, execs, ops, reports, timeouts, crashes);
	if (cover_file) {
		FILE *f = fopen(cover_file, "w");

		if (f) {
			cover_functions(f);
			fclose(f);
		}
	}
	return reports ? 1 : 0;
}
