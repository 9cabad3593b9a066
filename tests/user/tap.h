/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Minimal result reporting for the userspace tests run inside the test VM.
 * Each check prints "ok <name>" or "not ok <name> # <why>"; the guest
 * script turns those into RESULT lines for the host.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_TESTS_TAP_H
#define VMCI_TESTS_TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_failures;

/*
 * Declares, before the first check, how many checks the program reports
 * ("1..N"). The runner fails a program whose count differs, so one that
 * returns early cannot lose checks silently.
 */
static inline void tap_plan(int n)
{
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline void tap_report(int passed, const char *name, const char *fmt, ...)
{
	va_list ap;

	if (passed) {
		printf("ok %s\n", name);
	} else {
		tap_failures++;
		printf("not ok %s # ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

/* A check that cannot apply here; it still counts towards the plan. */
static inline void tap_skip(const char *name, const char *why)
{
	printf("skip %s # %s\n", name, why);
	fflush(stdout);
}

/*
 * Each argument is evaluated exactly once (it is often an ioctl), and
 * errno is captured right after, before anything can change it.
 */
static inline void tap_check_errno(const char *name, long ret, int want)
{
	int err = errno;

	tap_report(ret == -1 && err == want, name,
		   "ret %ld errno %d (%s), want errno %d", ret, err,
		   strerror(err), want);
}

static inline void tap_check_eq(const char *name, unsigned long long got,
			 unsigned long long want)
{
	tap_report(got == want, name, "got %#llx, want %#llx", got, want);
}

static inline void tap_check_int(const char *name, long long got, long long want)
{
	tap_report(got == want, name, "got %lld, want %lld", got, want);
}

/* Checks that a syscall failed with exactly the errno the ABI promises. */
#define CHECK_ERRNO(name, ret, want) tap_check_errno(name, (long)(ret), want)
#define CHECK_EQ(name, got, want) \
	tap_check_eq(name, (unsigned long long)(got), (unsigned long long)(want))

static inline int tap_exit_code(void)
{
	return tap_failures ? 1 : 0;
}

#endif
