// SPDX-License-Identifier: GPL-2.0
/*
 * What one VMM process may take from the machine through /dev/vmci:
 * - pages it pins (QUEUEPAIR_SETVA, SET_NOTIFY) count in its VmPin and
 *   against its RLIMIT_MEMLOCK: as an unprivileged process with a 64 KiB
 *   limit, a small pair maps and a pair bigger than the limit fails with
 *   ENOMEM (result VMCI_ERROR_NO_RESOURCES), and VmPin goes back to where
 *   it was after unmap, detach and close;
 * - a pin made by a process that exited before the pages were unpinned
 *   is given back when the file is closed, by whoever closes it;
 * - it may hold at most max_contexts_per_process contexts (a vmci
 *   module parameter): one more fails INIT_CONTEXT with EMFILE, and
 *   works again once one is closed.
 * Reads /sys/kernel/debug/vmci/stats.
 *
 * Usage: vmm_limits [vmci-device]
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nobody.h"
#include "tap.h"
#include "vmci_stats.h"
#include "vmm_dev.h"

#define PAGE			4096u
#define MEMLOCK_LIMIT		(16u * PAGE)
#define LIMIT_PARAM		"/sys/module/vmci/parameters/max_contexts_per_process"
#define MAX_CTX_TRIED		64
/* max_contexts_per_process's default (vmci/host_ioctl_ctx.c). */
#define DEFAULT_CTX_LIMIT	8

/* Checks the unprivileged child reports; the parent adds its own. */
#define CHILD_CHECKS		18

/* VmPin of this process in KiB, -1 if it cannot be read. */
static long vm_pin_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static int32_t qp_alloc(int fd, struct handle h, uint64_t psize, uint64_t csize)
{
	struct qp_alloc_info info = {
		.handle = h, .peer = INVALID_ID, .produce_size = psize,
		.consume_size = csize, .result = 12345,
	};

	if (ioctl(fd, IOC_QP_ALLOC, &info))
		return -1000 - errno;
	return info.result;
}

/* ioctl return value; *@result gets the VMCI result. */
static int qp_set_va(int fd, struct handle h, void *va, int32_t *result)
{
	struct qp_set_va_info info = { .handle = h, .va = (uintptr_t)va, .result = 12345 };
	int ret = ioctl(fd, IOC_QP_SETVA, &info);

	*result = info.result;
	return ret;
}

static int32_t qp_detach(int fd, struct handle h)
{
	struct qp_dtch_info info = { .handle = h, .result = 12345 };

	if (ioctl(fd, IOC_QP_DETACH, &info))
		return -1000 - errno;
	return info.result;
}

/* Pages a pair of @psize + @csize spans: a header page per queue. */
static size_t pair_pages(uint64_t psize, uint64_t csize)
{
	return (psize + PAGE - 1) / PAGE + (csize + PAGE - 1) / PAGE + 2;
}

/* Waits for @pid; true if it exited with status 0. *@status is what wait gave. */
static int child_ok(pid_t pid, int *status)
{
	*status = -1;
	return pid > 0 && waitpid(pid, status, 0) == pid && WIFEXITED(*status) &&
	       WEXITSTATUS(*status) == 0;
}

static void *map_pages(size_t n)
{
	void *p = mmap(NULL, n * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* As root: a small RLIMIT_MEMLOCK, then nobody with no capabilities. */
static int become_limited_nobody(void)
{
	struct rlimit rl = { .rlim_cur = MEMLOCK_LIMIT, .rlim_max = MEMLOCK_LIMIT };

	if (setrlimit(RLIMIT_MEMLOCK, &rl))
		return -1;
	if (drop_to_nobody())
		return -1;
	/* Changing uid made us undumpable: /proc/self/status would be root's. */
	if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0))
		return -1;
	return geteuid() == NOBODY ? 0 : -1;
}

/*
 * The unprivileged VMM. @fd was opened as root (the device is root's);
 * everything after is done as nobody. Reports CHILD_CHECKS checks.
 */
static int limited_vmm(int fd)
{
	struct set_notify_info sn = { 0 };
	uint32_t cid = 0;
	struct handle small, big;
	size_t small_pages = pair_pages(PAGE, PAGE);		/* 4 pages */
	size_t big_pages = pair_pages(8 * PAGE, 8 * PAGE);	/* 18 pages > 16 */
	void *small_mem = map_pages(small_pages), *big_mem = map_pages(big_pages);
	long base;
	int32_t result;
	int ret;

	tap_report(!become_limited_nobody(), "child_unprivileged", "%s", strerror(errno));
	tap_check_int("child_init", vmm_init_ctx(fd, 0, 0, &cid), 0);
	base = vm_pin_kib();
	tap_report(base >= 0 && small_mem && big_mem, "child_setup", "VmPin %ld", base);
	small = (struct handle){ cid, 0x700 };
	big = (struct handle){ cid, 0x701 };
	tap_check_int("alloc_small", qp_alloc(fd, small, PAGE, PAGE), VMCI_SUCCESS);
	tap_check_int("alloc_big", qp_alloc(fd, big, 8 * PAGE, 8 * PAGE), VMCI_SUCCESS);

	ret = qp_set_va(fd, small, small_mem, &result);
	tap_report(!ret && result == VMCI_SUCCESS, "setva_small_within_limit",
		   "ret %d errno %d result %d", ret, errno, result);
	tap_check_int("vmpin_counts_small_pair", vm_pin_kib(), base + (long)small_pages * 4);

	ret = qp_set_va(fd, big, big_mem, &result);
	tap_report(ret == -1 && errno == ENOMEM, "setva_big_enomem", "ret %d errno %d", ret,
		   errno);
	tap_check_int("setva_big_result_no_resources", result, VMCI_ERROR_NO_RESOURCES);
	tap_check_int("vmpin_unchanged_after_refusal", vm_pin_kib(),
		      base + (long)small_pages * 4);

	/* Unmapping gives the pages back; mapping again charges them again. */
	ret = qp_set_va(fd, small, NULL, &result);
	tap_report(!ret && result == VMCI_SUCCESS && vm_pin_kib() == base,
		   "unmap_uncharges", "ret %d result %d VmPin %ld", ret, result, vm_pin_kib());
	ret = qp_set_va(fd, small, small_mem, &result);
	tap_report(!ret && result == VMCI_SUCCESS && vm_pin_kib() == base + (long)small_pages * 4,
		   "remap_charges", "ret %d result %d VmPin %ld", ret, result, vm_pin_kib());
	tap_check_int("detach_small", qp_detach(fd, small), VMCI_SUCCESS);
	tap_check_int("detach_uncharges", vm_pin_kib(), base);

	/* The notify page is a pin too; closing the file gives it and a live pair back. */
	sn.notify_uva = (uintptr_t)small_mem;
	ret = ioctl(fd, IOC_SET_NOTIFY, &sn);
	tap_report(!ret && vm_pin_kib() == base + 4, "notify_page_charged",
		   "ret %d VmPin %ld", ret, vm_pin_kib());
	tap_check_int("alloc_small_again", qp_alloc(fd, small, PAGE, PAGE), VMCI_SUCCESS);
	ret = qp_set_va(fd, small, small_mem, &result);
	tap_report(!ret && result == VMCI_SUCCESS, "setva_small_again",
		   "ret %d result %d", ret, result);
	close(fd);
	tap_check_int("close_uncharges", vm_pin_kib(), base);
	return tap_exit_code();
}

static void test_memlock(void)
{
	long long base_pinned = stat_value("broker_pinned_pages");
	int fd = open(dev_path, O_RDWR | O_CLOEXEC), status, ok, started, go[2];
	char byte = 0;
	pid_t pid;

	tap_report(fd >= 0 && base_pinned >= 0, "memlock_open", "%s", strerror(errno));
	if (fd < 0)
		return;
	/*
	 * The child's close() must drop the file's last reference, so it
	 * starts only once the parent has closed its copy: on a slow VM the
	 * child could otherwise get to close_uncharges first.
	 */
	if (pipe(go)) {
		tap_report(0, "memlock_child_passed", "pipe: %s", strerror(errno));
		close(fd);
		return;
	}
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &byte, 1) != 1)
			_exit(2);
		_exit(limited_vmm(fd));
	}
	close(fd);
	close(go[0]);
	/* If the write fails the child reads EOF and exits 2: a failure below. */
	started = write(go[1], &byte, 1) == 1;
	close(go[1]);
	ok = child_ok(pid, &status) && started;
	tap_report(ok, "memlock_child_passed", "status %#x", status);
	tap_check_int("memlock_pins_released", stat_value("broker_pinned_pages"), base_pinned);
}

/*
 * A child pins pages into a context its parent also holds, and exits; the
 * pin outlives it until the parent closes the file, and is then given
 * back to the child's (dead) mm, never to the parent's.
 */
static void test_pinner_exits(void)
{
	long long base_pinned = stat_value("broker_pinned_pages");
	long my_pin = vm_pin_kib();
	uint32_t cid = 0;
	int fd = vmm_open_ctx(0, &cid), status, ok;
	struct handle h = { cid, 0x702 };
	int32_t result;
	pid_t pid;

	tap_report(fd >= 0, "pinner_open", "%s", strerror(errno));
	if (fd < 0)
		return;
	tap_check_int("pinner_alloc", qp_alloc(fd, h, PAGE, PAGE), VMCI_SUCCESS);
	pid = fork();
	if (pid == 0) {
		void *mem = map_pages(4);

		_exit(mem && !qp_set_va(fd, h, mem, &result) && result == VMCI_SUCCESS ? 0 : 1);
	}
	ok = child_ok(pid, &status);
	tap_report(ok, "pinner_child_mapped", "status %#x", status);
	tap_check_int("pinner_pages_outlive_child", stat_value("broker_pinned_pages"),
		      base_pinned + 4);
	tap_check_int("pinner_not_charged_to_parent", vm_pin_kib(), my_pin);
	close(fd);
	tap_check_int("pinner_pages_released", stat_value("broker_pinned_pages"), base_pinned);
	tap_check_int("pinner_parent_vmpin_unchanged", vm_pin_kib(), my_pin);
}

static long read_limit(void)
{
	FILE *f = fopen(LIMIT_PARAM, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* In a child, so that the parent's own contexts do not count. */
static int child_opens_one(void)
{
	int fd = vmm_open_ctx(0, NULL);

	return fd >= 0 ? 0 : 1;
}

static void test_context_limit(void)
{
	int fds[MAX_CTX_TRIED], extra, i, opened = 0, status, ok;
	long limit = read_limit();
	pid_t pid;

	tap_report(limit >= 1 && limit < MAX_CTX_TRIED, "ctx_limit_param", "%ld", limit);
	/* Without a readable limit, the default must still hold. */
	if (limit < 1 || limit >= MAX_CTX_TRIED)
		limit = DEFAULT_CTX_LIMIT;
	for (i = 0; i < limit; i++) {
		fds[i] = vmm_open_ctx(0, NULL);
		opened += fds[i] >= 0;
	}
	tap_check_int("ctx_up_to_limit", opened, limit);
	tap_check_int("ctx_stats_at_limit", stat_value("vmm_contexts"), limit);
	extra = open(dev_path, O_RDWR | O_CLOEXEC);
	tap_check_errno("ctx_over_limit_emfile", vmm_init_ctx(extra, 0, 0, NULL), EMFILE);
	tap_check_int("ctx_refused_not_counted", stat_value("vmm_contexts"), limit);

	/* The bound is per process: a child has its own. */
	pid = fork();
	if (pid == 0)
		_exit(child_opens_one());
	ok = child_ok(pid, &status);
	tap_report(ok, "ctx_child_has_own_limit", "status %#x", status);

	/* Closing one makes room; the refused file can try again. */
	close(fds[0]);
	tap_check_int("ctx_room_after_close", vmm_init_ctx(extra, 0, 0, NULL), 0);
	close(extra);
	for (i = 1; i < limit; i++)
		close(fds[i]);
	tap_report(wait_stat("vmm_contexts", 0, 5000), "ctx_all_closed", "vmm_contexts %lld",
		   stat_value("vmm_contexts"));
}

int main(int argc, char **argv)
{
	if (argc > 1)
		dev_path = argv[1];
	tap_plan(CHILD_CHECKS + 3 + 7 + 8);
	test_memlock();
	test_pinner_exits();
	test_context_limit();
	return tap_exit_code();
}
