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

static void tap_report(int passed, const char *name, const char *fmt, ...)
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

/* Checks that a syscall failed with exactly the errno the ABI promises. */
#define CHECK_ERRNO(name, ret, want)                                          \
	tap_report((ret) == -1 && errno == (want), name,                      \
		   "ret %ld errno %d (%s), want errno %d", (long)(ret), errno, \
		   strerror(errno), (want))

#define CHECK_EQ(name, got, want)                                             \
	tap_report((unsigned long long)(got) == (unsigned long long)(want),   \
		   name, "got %#llx, want %#llx", (unsigned long long)(got),  \
		   (unsigned long long)(want))

static int tap_exit_code(void)
{
	return tap_failures ? 1 : 0;
}

#endif
