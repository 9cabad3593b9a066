// SPDX-License-Identifier: GPL-2.0
/*
 * Charging long-term page pins to the pinning mm (see pin_account.h).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/atomic.h>
#include <linux/capability.h>
#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/resource.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>

#include "pin_account.h"

int vmci_pin_charge(unsigned long npages, struct mm_struct **mm_out)
{
	struct mm_struct *mm = current->mm;
	unsigned long limit;
	s64 pinned;

	if (!mm)
		return -EFAULT;
	limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	/*
	 * Add first, then check: two racing charges can never both slip
	 * under the limit, since each sees the other's pages.
	 */
	pinned = atomic64_add_return(npages, &mm->pinned_vm);
	if ((u64)pinned > limit && !capable(CAP_IPC_LOCK)) {
		atomic64_sub(npages, &mm->pinned_vm);
		return -ENOMEM;
	}
	mmgrab(mm);
	*mm_out = mm;
	return 0;
}

void vmci_pin_uncharge(struct mm_struct *mm, unsigned long npages)
{
	if (!mm)
		return;
	atomic64_sub(npages, &mm->pinned_vm);
	mmdrop(mm);
}
