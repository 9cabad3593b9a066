// SPDX-License-Identifier: GPL-2.0
/*
 * KCOV coverage of our modules. Only objects built with KCOV_INSTRUMENT
 * (our modules in the debug build) report PCs; each PC is put in the
 * module whose memory holds it, from /proc/modules.
 *
 * The parent opens one kcov descriptor per executor thread and maps its
 * buffer shared; the forked executor's threads enable them (KCOV_ENABLE
 * binds a descriptor to the calling thread) and the parent reads the PCs
 * after the executor has exited.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

#include "fuzz.h"

/* <linux/kcov.h>, restated. */
#define KCOV_INIT_TRACE	_IOR('c', 1, unsigned long)

enum { MOD_VMCI, MOD_VMSOCK, MOD_OTHER, MOD_COUNT };
static const char *const mod_names[] = { "vmci", "vmsock" };
static uint64_t mod_lo[2], mod_hi[2];

/* Open addressing set of PCs; 0 is the empty slot (no PC is 0). */
#define SET_BITS	20
static uint64_t *set;
static unsigned long counts[MOD_COUNT];

int cover_open(int *fds, uint64_t **areas, int n)
{
	int i;

	if (!set)
		set = calloc(1ul << SET_BITS, sizeof(*set));
	if (!set)
		return -1;
	for (i = 0; i < n; i++) {
		fds[i] = open("/sys/kernel/debug/kcov", O_RDWR | O_CLOEXEC);
		if (fds[i] < 0 || ioctl(fds[i], KCOV_INIT_TRACE, KCOV_WORDS))
			return -1;
		areas[i] = mmap(NULL, KCOV_WORDS * sizeof(uint64_t), PROT_READ | PROT_WRITE,
				MAP_SHARED, fds[i], 0);
		if (areas[i] == MAP_FAILED)
			return -1;
	}
	return 0;
}

/* Our modules' [base, base + size) from /proc/modules; 0 when both found. */
int cover_ranges(void)
{
	FILE *f = fopen("/proc/modules", "r");
	char line[512], name[64];
	int found = 0, m;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long size, base;
		char *addr = strstr(line, " 0x");

		if (sscanf(line, "%63s %llu", name, &size) != 2 || !addr)
			continue;
		base = strtoull(addr + 1, NULL, 16);
		for (m = 0; m < 2; m++) {
			if (strcmp(name, mod_names[m]))
				continue;
			mod_lo[m] = base;
			mod_hi[m] = base + size;
			found |= 1 << m;
		}
	}
	fclose(f);
	return found == 3 && mod_lo[0] && mod_lo[1] ? 0 : -1;
}

static int module_of(uint64_t pc)
{
	int m;

	for (m = 0; m < 2; m++)
		if (pc >= mod_lo[m] && pc < mod_hi[m])
			return m;
	return MOD_OTHER;
}

/* 1 when @pc was new. */
static int set_add(uint64_t pc)
{
	uint64_t mask = (1ul << SET_BITS) - 1;
	uint64_t i = (pc * 0x9e3779b97f4a7c15ull) >> (64 - SET_BITS);

	while (set[i]) {
		if (set[i] == pc)
			return 0;
		i = (i + 1) & mask;
	}
	set[i] = pc;
	return 1;
}

/* Adds every thread's PCs; returns how many were new. */
int cover_merge(uint64_t *const *areas, int n)
{
	int fresh = 0, t;

	for (t = 0; t < n; t++) {
		uint64_t count = __atomic_load_n(&areas[t][0], __ATOMIC_RELAXED), i;

		if (count >= KCOV_WORDS)
			count = KCOV_WORDS - 1;
		for (i = 1; i <= count; i++) {
			uint64_t pc = areas[t][i];

			/* The set is nearly full: stop counting, keep fuzzing. */
			if (counts[0] + counts[1] + counts[2] > (3ul << SET_BITS) / 4)
				break;
			if (set_add(pc)) {
				counts[module_of(pc)]++;
				fresh++;
			}
		}
		areas[t][0] = 0;
	}
	return fresh;
}

void cover_counts(unsigned long *vmci, unsigned long *vmsock, unsigned long *other)
{
	*vmci = counts[MOD_VMCI];
	*vmsock = counts[MOD_VMSOCK];
	*other = counts[MOD_OTHER];
}

struct func {
	uint64_t addr;
	char name[80];
	int mod;
	unsigned long hits;
};

static int func_cmp(const void *a, const void *b)
{
	const struct func *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/*
 * Reached blocks per function of our modules, one line each ("vmci NAME
 * N"), from /proc/kallsyms: which code the fuzzer never gets to.
 */
void cover_functions(FILE *out)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	struct func *fn = NULL;
	size_t n = 0, cap = 0, i;
	char line[512];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long addr;
		char type, name[80], mod[64];
		int m;

		if (sscanf(line, "%llx %c %79s [%63[^]]]", &addr, &type, name, mod) != 4)
			continue;
		if (type != 't' && type != 'T')
			continue;
		for (m = 0; m < 2 && strcmp(mod, mod_names[m]); m++)
			;
		if (m == 2 || !addr)
			continue;
		if (n == cap) {
			struct func *bigger = realloc(fn, (cap = cap ? cap * 2 : 1024) * sizeof(*fn));

			if (!bigger)
				break;
			fn = bigger;
		}
		fn[n].addr = addr;
		snprintf(fn[n].name, sizeof(fn[n].name), "%s", name);
		fn[n].mod = m;
		fn[n].hits = 0;
		n++;
	}
	fclose(f);
	if (!n) {
		free(fn);
		return;
	}
	qsort(fn, n, sizeof(*fn), func_cmp);
	for (i = 0; i < 1ul << SET_BITS; i++) {
		uint64_t pc = set[i];
		size_t lo = 0, hi = n;

		if (!pc || module_of(pc) == MOD_OTHER)
			continue;
		/* The last function starting at or before the PC. */
		while (hi - lo > 1) {
			size_t mid = (lo + hi) / 2;

			if (fn[mid].addr <= pc)
				lo = mid;
			else
				hi = mid;
		}
		if (fn[lo].addr <= pc)
			fn[lo].hits++;
	}
	for (i = 0; i < n; i++)
		if (fn[i].hits)
			fprintf(out, "%s %s %lu\n", mod_names[fn[i].mod], fn[i].name, fn[i].hits);
	free(fn);
}

/* <linux/kcov.h>, restated: remote coverage under a common handle. */
struct kcov_remote_arg {
	uint32_t trace_mode;
	uint32_t area_size;
	uint32_t num_handles;
	uint32_t pad;
	uint64_t common_handle;
};

#define KCOV_REMOTE_ENABLE	_IOW('c', 102, struct kcov_remote_arg)

static int remote_fd = -1, remote_ok;
static pthread_barrier_t remote_ready;

/*
 * KCOV binds remote coverage to the task that enables it: this thread,
 * which only waits from then on (its own calls are not covered).
 */
static void *remote_thread(void *arg)
{
	struct kcov_remote_arg ra = { .trace_mode = 0, .area_size = KCOV_WORDS,
				      .common_handle = *(uint32_t *)arg };

	remote_ok = ioctl(remote_fd, KCOV_REMOTE_ENABLE, &ra) == 0;
	pthread_barrier_wait(&remote_ready);
	for (;;)
		pause();
	return NULL;
}

static int write_param(const char *path, unsigned int value)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fprintf(f, "%u\n", value) > 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/*
 * What our modules' work items do (include/vmci/fuzz_kcov.h): a KCOV
 * buffer under the common handle @id, which both modules are told. NULL
 * when the modules were built without it.
 */
uint64_t *cover_remote_open(uint32_t id)
{
	static uint32_t handle_id;
	uint64_t *area;
	pthread_t tid;

	handle_id = id;
	remote_fd = open("/sys/kernel/debug/kcov", O_RDWR | O_CLOEXEC);
	if (remote_fd < 0 || ioctl(remote_fd, KCOV_INIT_TRACE, KCOV_WORDS))
		return NULL;
	area = mmap(NULL, KCOV_WORDS * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED,
		    remote_fd, 0);
	if (area == MAP_FAILED)
		return NULL;
	pthread_barrier_init(&remote_ready, NULL, 2);
	if (pthread_create(&tid, NULL, remote_thread, &handle_id))
		return NULL;
	pthread_barrier_wait(&remote_ready);
	if (!remote_ok ||
	    write_param("/sys/module/vmci/parameters/kcov_id", id) ||
	    write_param("/sys/module/vmsock/parameters/kcov_id", id))
		return NULL;
	return area;
}
