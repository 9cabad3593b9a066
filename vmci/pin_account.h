/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Charging long-term page pins to the address space they pin.
 *
 * Pages a VMM pins for as long as it likes (queue-pair memory through
 * QUEUEPAIR_SETVA, the notify byte's page through SET_NOTIFY) count in
 * the pinning process's mm->pinned_vm (VmPin in /proc/PID/status), and
 * the total may not exceed RLIMIT_MEMLOCK unless the process has
 * CAP_IPC_LOCK, as for mlock(). The charge holds a grab on the mm, so it
 * is given back to the right mm even when the pages are unpinned after
 * the process is gone (its file closed by the last holder of a reference,
 * perhaps in another process).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_PIN_ACCOUNT_H
#define VMCI_PIN_ACCOUNT_H

struct mm_struct;

/*
 * Charges @npages to current's mm. Returns 0 and the charged mm in
 * *@mm_out, which must later go to vmci_pin_uncharge() with the same
 * @npages; -ENOMEM when the limit would be exceeded; -EFAULT for a
 * caller without an address space. Process context.
 */
int vmci_pin_charge(unsigned long npages, struct mm_struct **mm_out);

/* Gives back a charge of vmci_pin_charge(); @mm NULL does nothing. */
void vmci_pin_uncharge(struct mm_struct *mm, unsigned long npages);

#endif /* VMCI_PIN_ACCOUNT_H */
