/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CRC-32 that tests/vmm/host/stream_bulk.py reports (zlib's), and
 * reading its "<count> <crc>\n" summary, for model_bulk and the
 * guest-stack benchmark. Sockets have their own timeouts: a read that
 * fails ends the summary.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef BULK_CRC_H
#define BULK_CRC_H

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

static uint32_t bulk_crc_table[256];

static inline void crc_init(void)
{
	uint32_t c, n, k;

	for (n = 0; n < 256; n++) {
		c = n;
		for (k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		bulk_crc_table[n] = c;
	}
}

static inline uint32_t crc_update(uint32_t crc, const unsigned char *p, size_t len)
{
	crc = ~crc;
	while (len--)
		crc = bulk_crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* @read_byte returns 1 when it read one byte into its argument. */
static inline int read_summary_with(int s, unsigned long long *count, unsigned int *crc,
				    ssize_t (*read_byte)(int s, char *c))
{
	char line[64];
	size_t n = 0;

	while (n < sizeof(line) - 1) {
		if (read_byte(s, line + n) != 1)
			return -1;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = 0;
	return sscanf(line, "%llu %x", count, crc) == 2 ? 0 : -1;
}

#endif
