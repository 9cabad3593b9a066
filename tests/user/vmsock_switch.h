/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For the programs that test one of vmsock's run-time switches: read a
 * counter of /proc/net/vmsock_stat (vmsock_stat(); vmci_stats.h's
 * stat_value() reads vmci's), and read or write the boolean module
 * parameter the including program names as PARAM before including this.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMSOCK_SWITCH_H
#define VMSOCK_SWITCH_H

#include <stdio.h>
#include <string.h>

#ifndef PARAM
#error "define PARAM, the module parameter's path, before including vmsock_switch.h"
#endif

#define STAT	"/proc/net/vmsock_stat"

/* The counter @key, or -1 when the file or the counter is missing. */
static inline long vmsock_stat(const char *key)
{
	char name[64];
	unsigned long v;
	long found = -1;
	FILE *f = fopen(STAT, "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lu", name, &v) == 2)
		if (!strcmp(name, key))
			found = (long)v;
	fclose(f);
	return found;
}

static inline int param_write(const char *v)
{
	FILE *f = fopen(PARAM, "w");
	int ok;

	if (!f)
		return -1;
	ok = fputs(v, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* 'Y', 'N', or '?' when unreadable. */
static inline char param_read(void)
{
	char c = '?';
	FILE *f = fopen(PARAM, "r");

	if (f) {
		if (fread(&c, 1, 1, f) != 1)
			c = '?';
		fclose(f);
	}
	return c;
}

#endif
