/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMSOCK_VERSION_H
#define VMSOCK_VERSION_H

#include <linux/types.h>

u32 vmsock_version_word(u32 epoch, u32 major, u32 minor);
u32 vmsock_driver_version(void);

#endif
