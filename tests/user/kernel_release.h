/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whether the running kernel is at least MAJOR.MINOR, for the tests that
 * must decide by version because the only probe would be the fault or
 * report they avoid (uffd_pin.h, stress_mem.h). A release uname() cannot
 * give, or that does not start "N.N", is answered with @if_unknown: each
 * caller says which way is safe for it.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_TESTS_KERNEL_RELEASE_H
#define VMCI_TESTS_KERNEL_RELEASE_H

#include <stdio.h>
#include <sys/utsname.h>

static inline int kernel_release_at_least(int major, int minor, int if_unknown)
{
	int have_major, have_minor;
	struct utsname u;

	if (uname(&u) || sscanf(u.release, "%d.%d", &have_major, &have_minor) != 2)
		return if_unknown;
	return have_major > major || (have_major == major && have_minor >= minor);
}

#endif
