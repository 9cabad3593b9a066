/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Whether the running kernel lets a long-term page pin wait in a
 * userfaultfd fault, for the tests that hold a VMM inside SETVA
 * (pin_user_pages_fast() with FOLL_LONGTERM) on a missing page.
 *
 * Before 6.3, when the lockless walk of such a pin met a missing page,
 * the slow path took the mmap lock itself and faulted without
 * FAULT_FLAG_ALLOW_RETRY (mm/gup.c: "FOLL_LONGTERM does not work with
 * get_user_pages_unlocked()"). A userfaultfd cannot wait in a fault it
 * may not drop the lock for: handle_userfault() fails it at once, the
 * pin gets -EFAULT, and a CONFIG_DEBUG_VM kernel prints "FAULT_FLAG_
 * ALLOW_RETRY missing" with a stack dump. 6.3's GUP rework (the
 * internal FOLL_UNLOCKABLE flag) lets that slow path drop the lock and
 * retry, so from 6.3 on the pin waits for the fault to be served.
 *
 * Decided by version, not by a probe: the only probe is that very
 * fault, whose stack dump the harness's kernel-log check counts as a
 * kernel complaint, rightly, since it cannot tell ours from any other.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_TESTS_UFFD_PIN_H
#define VMCI_TESTS_UFFD_PIN_H

#include "kernel_release.h"

#define UFFD_PIN_NO_WAIT_WHY \
	"before 6.3 a long-term pin cannot wait in a userfaultfd fault (no FAULT_FLAG_ALLOW_RETRY)"

/* 1 when a long-term pin of a missing userfaultfd page waits for it. */
static inline int uffd_longterm_pin_waits(void)
{
	/* A release we cannot read is taken as new: the check then runs. */
	return kernel_release_at_least(6, 3, 1);
}

#endif
