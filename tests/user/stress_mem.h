/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Memory as the kernel itself reports it, for the stress tests that must
 * show it back at its baseline after a teardown: none of these figures
 * comes from our modules' own counters.
 * - MemAvailable and Slab (SReclaimable + SUnreclaim), /proc/meminfo;
 *   free pages parked on the per-CPU lists are not in MemFree, so they
 *   are added from /proc/zoneinfo ("count:" of each CPU's pageset): on
 *   stock 6.1 those lists alone moved MemAvailable by 28 MiB between two
 *   readings, and a CI run failed on 7.9 MiB missing with every kernel
 *   category (Slab, Vmalloc, Percpu, page tables, stacks) back;
 * - pins: nr_foll_pin_acquired - nr_foll_pin_released (/proc/vmstat),
 *   every FOLL_PIN page reference in the machine still held; VmPin and
 *   VmLck of a process; Mlocked, /proc/meminfo.
 *
 * Why the comparisons are fair under KASAN: freed slab objects wait in
 * KASAN's quarantine (up to 1/32 of RAM, 64 MiB in a 2 GiB VM, plus 1 MiB
 * per CPU) before their memory is really free, so a test's own frees
 * would still show as used; and SLUB keeps empty slabs on partial lists.
 * mem_settle() pushes more than the quarantine holds of throw-away slab
 * objects through it, then shrinks every slab cache, which takes each
 * cache's objects out of every CPU's quarantine and frees empty slabs.
 * Baseline and later readings are then taken alike. On a kernel without
 * KASAN it costs a second or two.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_TESTS_STRESS_MEM_H
#define VMCI_TESTS_STRESS_MEM_H

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "kernel_release.h"

#define SLAB_CACHES	640

struct mem_snap {
	long long avail_kib;
	long long slab_kib;
	long long mlocked_kib;
	long long total_kib;
	long long foll_pins;	/* pages, machine-wide */
	/* Per cache, from /proc/slabinfo: only to say where Slab went. */
	int caches;
	char cache_name[SLAB_CACHES][64];
	long long cache_kib[SLAB_CACHES];
};

static inline long long proc_field(const char *path, const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && sscanf(line + klen, " %lld", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* VmPin or VmLck ("VmPin:") of @pid (0: this process) in KiB; -1 if unreadable. */
static inline long long pid_vm_kib(pid_t pid, const char *key)
{
	char path[64];

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	return proc_field(path, key);
}

static inline double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Each cache's slabs in KiB (num_slabs * pagesperslab pages), by name. */
static inline void slab_caches_read(struct mem_snap *m)
{
	char line[512], name[64];
	long long slabs, pages;
	FILE *f = fopen("/proc/slabinfo", "r");

	m->caches = 0;
	if (!f)
		return;
	while (m->caches < SLAB_CACHES && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %*d %*d %*d %*d %lld : tunables %*d %*d %*d : slabdata %*d %lld",
			   name, &pages, &slabs) != 3)
			continue;
		strcpy(m->cache_name[m->caches], name);
		m->cache_kib[m->caches++] = slabs * pages * 4;
	}
	fclose(f);
}

/*
 * Names the caches that grew most from @base to @m, when Slab grew by
 * more than @min_kib: a failing or drifting figure then says where.
 */
static inline void mem_explain(const struct mem_snap *base, const struct mem_snap *m,
			       long long min_kib)
{
	long long grew[SLAB_CACHES], best;
	int i, j, k, shown;

	if (m->slab_kib - base->slab_kib <= min_kib)
		return;
	for (i = 0; i < m->caches; i++) {
		grew[i] = m->cache_kib[i];
		for (j = 0; j < base->caches; j++)
			if (!strcmp(base->cache_name[j], m->cache_name[i])) {
				grew[i] -= base->cache_kib[j];
				break;
			}
	}
	printf("# Slab grew %lld KiB; most:", m->slab_kib - base->slab_kib);
	for (shown = 0; shown < 6; shown++) {
		for (k = -1, best = 0, i = 0; i < m->caches; i++)
			if (grew[i] > best)
				best = grew[k = i];
		if (k < 0)
			break;
		printf(" %s +%lld", m->cache_name[k], best);
		grew[k] = 0;
	}
	printf("\n");
}

/*
 * Each CPU keeps a small difference of every vmstat counter until it
 * passes a threshold or the once-a-second vmstat worker folds it in, so
 * /proc/vmstat and /proc/meminfo may lag by a few dozen pages: enough to
 * miss pins counted exactly. Writing stat_refresh (root) folds them all
 * now.
 */
static inline void vmstat_fold(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			perror("stat_refresh");
		close(fd);
	}
}

/* KiB of free pages on the per-CPU lists of every zone; 0 if unreadable. */
static inline long long pcp_free_kib(void)
{
	FILE *f = fopen("/proc/zoneinfo", "r");
	long long pages = 0, n;
	char line[256];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " count: %lld", &n) == 1)
			pages += n;
	fclose(f);
	return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

static inline void mem_read(struct mem_snap *m)
{
	long long acq, rel, sr, su;

	vmstat_fold();
	acq = proc_field("/proc/vmstat", "nr_foll_pin_acquired");
	rel = proc_field("/proc/vmstat", "nr_foll_pin_released");
	sr = proc_field("/proc/meminfo", "SReclaimable:");
	su = proc_field("/proc/meminfo", "SUnreclaim:");
	m->avail_kib = proc_field("/proc/meminfo", "MemAvailable:");
	if (m->avail_kib >= 0)
		m->avail_kib += pcp_free_kib();
	m->total_kib = proc_field("/proc/meminfo", "MemTotal:");
	m->mlocked_kib = proc_field("/proc/meminfo", "Mlocked:");
	m->slab_kib = sr < 0 || su < 0 ? -1 : sr + su;
	m->foll_pins = acq < 0 || rel < 0 ? -1 : acq - rel;
	slab_caches_read(m);
}

static inline int mem_readable(const struct mem_snap *m)
{
	return m->avail_kib > 0 && m->slab_kib > 0 && m->mlocked_kib >= 0 &&
	       m->total_kib > 0 && m->foll_pins >= 0;
}

/*
 * Throw-away slab objects through KASAN's quarantine; see the top. The
 * quarantine holds at most 1/32 of RAM; pushing a quarter more than that
 * evicts everything older (its batches are far smaller than the margin).
 * Datagrams go FLUSH_BATCH at a time (sendmmsg/recvmmsg), which is what
 * keeps this to seconds under TCG; a socketpair queues at most
 * net.unix.max_dgram_qlen (10) before the sender blocks.
 */
#define FLUSH_BATCH	8

static inline void kasan_quarantine_flush(long long total_kib)
{
	static char buf[FLUSH_BATCH][4000];
	struct mmsghdr msgs[FLUSH_BATCH];
	struct iovec iov[FLUSH_BATCH];
	long long pushed = 0, want = total_kib * 1024 / 32 * 5 / 4;
	int sv[2], i;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv))
		return;
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < FLUSH_BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof(buf[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	/* Each datagram is a kmalloc-8k skb head and an skbuff, freed on receive. */
	while (pushed < want) {
		if (sendmmsg(sv[0], msgs, FLUSH_BATCH, 0) != FLUSH_BATCH ||
		    recvmmsg(sv[1], msgs, FLUSH_BATCH, 0, NULL) != FLUSH_BATCH)
			break;
		pushed += FLUSH_BATCH * 8192;
	}
	close(sv[0]);
	close(sv[1]);
}

static inline void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, "3", 1) != 1)
			perror("drop_caches");
		close(fd);
	}
}

/*
 * Shrinks every slab cache (/sys/kernel/slab/NAME/shrink; the aliases
 * are symlinks and skipped): its empty slabs, kept on per-CPU and node
 * partial lists for the next allocation, go back to the page allocator,
 * and under KASAN the cache's objects leave the quarantine, every CPU's
 * included. After the flush above the quarantine holds only filler, so
 * the walk each shrink makes over it stays short. Returns the number of
 * caches shrunk.
 */
static inline int slab_shrink_all(void)
{
	struct dirent *e;
	char path[512];
	int n = 0, fd;
	DIR *d;

	/*
	 * Before 6.0, kmem_cache_destroy() removed a cache's sysfs directory
	 * under slab_mutex inside cpu_hotplug_lock, while a write to "shrink"
	 * takes cpu_hotplug_lock inside the file's kernfs reference: once any
	 * cache has been destroyed (every module unload does it), the first
	 * shrink closes a lock cycle and lockdep reports it (5.10.223,
	 * 2026-12-04, in vsock_dgram's first settle). Linux 6.0 deletes the
	 * kobject outside those locks. Older kernels go without the shrink.
	 */
	if (!kernel_release_at_least(6, 0, 0))
		return 0;
	d = opendir("/sys/kernel/slab");
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", e->d_name);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (write(fd, "1", 1) == 1)
			n++;
		close(fd);
	}
	closedir(d);
	return n;
}

/*
 * Quarantine flushed, caches dropped, slab caches shrunk, a moment for
 * RCU; then read.
 */
static inline void mem_settle(struct mem_snap *m)
{
	struct mem_snap t;

	mem_read(&t);
	sleep(1);
	kasan_quarantine_flush(t.total_kib);
	drop_caches();
	slab_shrink_all();
	sleep(1);
	mem_read(m);
}

/*
 * Settles until @m is back within @tol_kib of @base (both MemAvailable
 * and Slab) or @max_s seconds have passed: teardown may finish in
 * workers and RCU callbacks after the last close() returned.
 */
static inline void mem_settle_to(struct mem_snap *m, const struct mem_snap *base,
				 long long tol_kib, int max_s)
{
	double t0 = mono_now(), last = t0;
	int readings = 0;

	do {
		last = mono_now();
		mem_settle(m);
		readings++;
		if (base->avail_kib - m->avail_kib <= tol_kib &&
		    m->slab_kib - base->slab_kib <= tol_kib && m->foll_pins == base->foll_pins)
			break;
	} while (mono_now() < t0 + max_s);
	printf("# settled after %d readings in %.1f s (the last took %.1f s)\n", readings,
	       mono_now() - t0, mono_now() - last);
}

static inline void mem_print(const char *tag, const struct mem_snap *m)
{
	/* Read now, for a reader who must say where MemAvailable went. */
	static const char *const more[] = { "MemFree:", "Cached:", "Shmem:", "AnonPages:",
					    "VmallocUsed:", "Percpu:", "PageTables:",
					    "KernelStack:" };
	unsigned int i;

	printf("# mem %-18s MemAvailable+pcp %lld KiB  Slab %lld KiB  Mlocked %lld KiB  FOLL_PIN pages %lld\n",
	       tag, m->avail_kib, m->slab_kib, m->mlocked_kib, m->foll_pins);
	printf("#    ");
	for (i = 0; i < sizeof(more) / sizeof(more[0]); i++)
		printf(" %s %lld", more[i], proc_field("/proc/meminfo", more[i]));
	printf(" (KiB)\n");
	fflush(stdout);
}

#endif
