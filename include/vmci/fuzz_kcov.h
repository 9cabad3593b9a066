/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a work item does for the fuzzer (tests/fuzz), as KCOV coverage.
 * KCOV follows only the task that enabled it: a control packet or a
 * delayed datagram handled by a worker is invisible to it. In a build
 * with VMCI_KCOV=y, a worker between vmci_fuzz_work_start() and
 * vmci_fuzz_work_stop() reports to KCOV's remote coverage under the
 * common handle the module parameter kcov_id names (the fuzzer enables
 * it and writes the ID there; 0, the default, reports nothing). Every
 * other build compiles this to nothing.
 *
 * Only a work function may call these: KCOV warns when a task that has
 * coverage of its own starts remote coverage.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_FUZZ_KCOV_H
#define VMCI_FUZZ_KCOV_H

#include <linux/compiler.h>
#include <linux/kcov.h>
#include <linux/types.h>

#ifdef VMCI_KCOV_REMOTE
/* Defined once per module, beside its module parameter kcov_id. */
extern unsigned int vmci_fuzz_kcov_id;

static inline bool vmci_fuzz_work_start(void)
{
	unsigned int id = READ_ONCE(vmci_fuzz_kcov_id);

	/*
	 * The common handle spelled out: kcov_remote_start_common() took a
	 * u64 until 7.x, which made it take a struct; the handle it builds
	 * is the same in every kernel since 5.5.
	 */
	if (id)
		kcov_remote_start(kcov_remote_handle(KCOV_SUBSYSTEM_COMMON, id));
	return id;
}

static inline void vmci_fuzz_work_stop(bool started)
{
	if (started)
		kcov_remote_stop();
}
#else
static inline bool vmci_fuzz_work_start(void)
{
	return false;
}

static inline void vmci_fuzz_work_stop(bool started)
{
}
#endif

#endif
