/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The bytes the nested run's failure phases move (tests/nested): byte N of
 * a stream is a function of N alone, so a reader that sees only part of a
 * stream can still check every byte it got, in order, with no state but
 * its offset.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef NESTED_PATTERN_H
#define NESTED_PATTERN_H

#include <stddef.h>
#include <stdint.h>

static inline unsigned char pattern_byte(uint64_t off)
{
	return (unsigned char)((off >> 9) ^ (off * 167) ^ 0x5a);
}

static inline void pattern_fill(unsigned char *buf, uint64_t off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pattern_byte(off + i);
}

/* The offset (from OFF) of the first byte that breaks the pattern, or LEN. */
static inline size_t pattern_check(const unsigned char *buf, uint64_t off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != pattern_byte(off + i))
			return i;
	return len;
}

#endif
