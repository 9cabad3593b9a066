// SPDX-License-Identifier: GPL-2.0
/*
 * The fuzzer's loop: make up or mutate a program, run it in a forked
 * executor, keep it when it reached new PCs of our modules, and save it
 * as a reproducer (then minimise it) when the kernel reported something.
 *
 *   fuzz [-d SECONDS] [-o OPS] [-e REPORTS] [-s SEED] [-c CORPUS_DIR] [-x CRASH_DIR]
 *   fuzz -r PROGRAM [-n TIMES]      replay a saved program
 *
 * Prints a status line every 10 s and one FUZZ-SUMMARY line at the end.
 * Exit status: 0 no report, 1 a kernel report or hang, 2 setup failed.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fuzz.h"

#define MAX_CORPUS	8192
#define REPORT_SIZE	16384
#define TRIES		3	/* replays before a program "does not reproduce" */
#define HISTORY		4	/* recent programs a late report may belong to */

static int kcov_fds[NTHREADS];
static uint64_t *kcov_areas[NTHREADS];
static int have_kcov;
static struct prog *corpus;
static int corpus_n;
static const char *corpus_dir = "/tmp/fuzz/corpus";
static const char *crash_dir = "/tmp/fuzz/crashes";
static unsigned int timeout_ms = 5000, hang_secs = 60;
static char report[REPORT_SIZE];
static sigset_t sigchld;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

enum outcome { RUN_OK, RUN_TIMEOUT, RUN_CRASHED, RUN_HANG };

/* Runs @p once in a fresh process. */
static enum outcome run_once(const struct prog *p)
{
	double deadline;
	pid_t pid = fork();
	int status, killed = 0;

	if (pid < 0)
		return RUN_CRASHED;
	if (pid == 0) {
		setpgid(0, 0);
		exec_prog(p, have_kcov ? kcov_fds : NULL, have_kcov ? kcov_areas : NULL);
	}
	setpgid(pid, pid);
	deadline = now() + timeout_ms / 1000.0;
	/* SIGCHLD is blocked: sleep until a child changes state or time is up. */
	while (waitpid(pid, &status, WNOHANG) != pid) {
		double left = deadline - now();
		struct timespec ts = { (time_t)left, (long)((left - (time_t)left) * 1e9) };

		if (left > 0) {
			sigtimedwait(&sigchld, NULL, &ts);
		} else if (!killed) {
			kill(-pid, SIGKILL);
			killed = 1;
			deadline = now() + hang_secs;
		} else {
			return RUN_HANG;
		}
	}
	/* Helpers the program forked are ours to reap (child subreaper). */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (killed)
		return RUN_TIMEOUT;
	if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL)
		return RUN_CRASHED;
	return RUN_OK;
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

static void first_line(const char *text, char *out, size_t size)
{
	size_t n = strcspn(text, "\n");

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

static void status(const char *tag, double start, unsigned long execs, unsigned long ops,
		   int reports, unsigned long timeouts, unsigned long crashes)
{
	unsigned long vmci, vmsock, other;
	double secs = now() - start;

	cover_counts(&vmci, &vmsock, &other);
	printf("%s secs=%.0f execs=%lu ops=%lu ops_per_s=%.0f vmci_pcs=%lu vmsock_pcs=%lu "
	       "other_pcs=%lu corpus=%d reports=%d timeouts=%lu executor_crashes=%lu\n",
	       tag, secs, execs, ops, secs > 0 ? ops / secs : 0, vmci, vmsock, other, corpus_n,
	       reports, timeouts, crashes);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	unsigned long max_ops = 0, max_reports = 0, execs = 0, ops = 0, timeouts = 0, crashes = 0;
	double secs = 60, start, last_status;
	struct prog history[HISTORY];
	uint64_t seed = 0;
	const char *replay_file = NULL;
	int opt, times = 10, reports = 0, hist_n = 0, fd;

	while ((opt = getopt(argc, argv, "d:o:e:s:c:x:r:n:t:")) != -1) {
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
		default:
			fprintf(stderr, "usage: see tests/fuzz/main.c\n");
			return 2;
		}
	}
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
	if (replay_file)
		return replay(replay_file, times);

	if (cover_open(kcov_fds, kcov_areas, NTHREADS) || cover_ranges()) {
		fprintf(stderr, "fuzz: no KCOV or our modules are not loaded\n");
		return 2;
	}
	have_kcov = 1;
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
	printf("fuzz: seed %llu, %d corpus programs loaded, %d threads\n",
	       (unsigned long long)seed, corpus_n, NTHREADS);

	start = last_status = now();
	while (now() - start < secs && (!max_ops || ops < max_ops)) {
		struct prog p;
		enum outcome o;

		if (!corpus_n || rnd() % 8 == 0) {
			prog_generate(&p);
		} else {
			p = corpus[rnd() % corpus_n];
			prog_mutate(&p, &corpus[rnd() % corpus_n]);
		}
		memmove(&history[1], &history[0], (HISTORY - 1) * sizeof(history[0]));
		history[0] = p;
		if (hist_n < HISTORY)
			hist_n++;
		o = run_once(&p);
		execs++;
		ops += p.n;
		timeouts += o == RUN_TIMEOUT;
		crashes += o == RUN_CRASHED;
		if (o == RUN_HANG) {
			snprintf(report, sizeof(report),
				 "hang: the executor did not exit %u s after SIGKILL\n", hang_secs);
			handle_report(++reports, history, hist_n, seed, "hang");
			break;	/* its KCOV descriptors are stuck with it */
		}
		if (cover_merge(kcov_areas, NTHREADS) && corpus_n < MAX_CORPUS) {
			char path[512];

			corpus[corpus_n] = p;
			snprintf(path, sizeof(path), "%s/%d.prog", corpus_dir, corpus_n);
			save_prog(path, &p, NULL);
			corpus_n++;
		}
		if (kernel_reported()) {
			handle_report(++reports, history, hist_n, seed, "kernel");
			hist_n = 0;
			if (max_reports && (unsigned long)reports >= max_reports)
				break;
		}
		if (now() - last_status >= 10) {
			status("fuzz:", start, execs, ops, reports, timeouts, crashes);
			last_status = now();
		}
	}
	status("FUZZ-SUMMARY", start, execs, ops, reports, timeouts, crashes);
	return reports ? 1 : 0;
}
