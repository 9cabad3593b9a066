/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Found only when the kernel has no <linux/align.h> (before 5.11): its
 * ALIGN() family then lives in <linux/kernel.h>. include/kbuild-common.mk
 * adds this directory with -idirafter, after every kernel directory.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_COMPAT_FALLBACK_ALIGN_H
#define VMCI_COMPAT_FALLBACK_ALIGN_H
#include <linux/kernel.h>
#endif
