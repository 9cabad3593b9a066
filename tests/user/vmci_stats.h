/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading vmci.ko's debugfs counters, which tests use to prove that
 * closing a VMM's file tore down everything it owned.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_TESTS_STATS_H
#define VMCI_TESTS_STATS_H

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define STATS_PATH	"/sys/kernel/debug/vmci/stats"

/* Reads one counter of the stats file; -1 if it cannot. */
static inline long long stat_value(const char *name)
{
	char key[64];
	long long value, found = -1;
	FILE *f = fopen(STATS_PATH, "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", key, &value) == 2)
		if (!strcmp(key, name))
			found = value;
	fclose(f);
	return found;
}

/* Teardown may finish in a worker: give it up to @timeout_ms. */
static inline int wait_stat(const char *name, long long want, int timeout_ms)
{
	int waited;

	for (waited = 0; waited < timeout_ms; waited += 10) {
		if (stat_value(name) == want)
			return 1;
		usleep(10000);
	}
	return stat_value(name) == want;
}

#endif
