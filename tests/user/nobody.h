/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The unprivileged user the tests play attackers and bystanders as.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_TESTS_NOBODY_H
#define VMCI_TESTS_NOBODY_H

#include <grp.h>
#include <unistd.h>

#define NOBODY		65534

/* Becomes uid and gid 65534 with no supplementary groups: 0, or -1 with errno. */
static inline int drop_to_nobody(void)
{
	return setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	       setresuid(NOBODY, NOBODY, NOBODY) ? -1 : 0;
}

#endif
