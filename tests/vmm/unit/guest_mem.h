/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest RAM of the model's unit tests: a flat array, and the
 * struct vmm_env accessors that read and write it with the model's own
 * bounds rule (a range that leaves guest memory fails).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMM_UNIT_GUEST_MEM_H
#define VMM_UNIT_GUEST_MEM_H

#include <stdint.h>
#include <string.h>

#define GUEST_MEM (1u << 20)

static uint8_t guest[GUEST_MEM];

static int mem_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
	(void)opaque;
	if (gpa > GUEST_MEM || len > GUEST_MEM - gpa)
		return -1;
	memcpy(buf, guest + gpa, len);
	return 0;
}

static int mem_write(void *opaque, uint64_t gpa, const void *buf, size_t len)
{
	(void)opaque;
	if (gpa > GUEST_MEM || len > GUEST_MEM - gpa)
		return -1;
	memcpy(guest + gpa, buf, len);
	return 0;
}

#endif
