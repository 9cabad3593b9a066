/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Found only when the kernel has no <linux/math.h> (before 5.12): the
 * rounding and division helpers then live in <linux/kernel.h>.
 * include/kbuild-common.mk adds this directory with -idirafter.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_COMPAT_FALLBACK_MATH_H
#define VMCI_COMPAT_FALLBACK_MATH_H
#include <linux/kernel.h>
#endif
