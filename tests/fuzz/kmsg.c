// SPDX-License-Identifier: GPL-2.0
/*
 * Kernel reports from /dev/kmsg: every record since the last look, and
 * whether one of them is a report the suite would fail on (the same
 * patterns as tests/lib/report.sh, plus hung tasks and lockups).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static const char *const patterns[] = {
	"WARNING:", "BUG:", "BUG ", "KASAN", "UBSAN", "general protection", "Oops",
	"Call Trace", "possible circular locking", "possible recursive locking",
	"inconsistent lock state", "suspicious RCU", "sleeping function called from invalid",
	"unreferenced object", "Kernel panic", "kernel BUG", "refcount_t:",
	"list_add corruption", "list_del corruption", "stack-protector",
	"blocked for more than", "soft lockup", "self-detected stall", "segfault at",
};

static int kmsg_fd = -1;

int kmsg_open(void)
{
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd < 0)
		return -1;
	/* Only what happens from now on is ours. */
	lseek(kmsg_fd, 0, SEEK_END);
	return 0;
}

int is_report(const char *msg)
{
	unsigned int i;

	/* kmemleak's own start-up line names no leak. */
	if (strstr(msg, "kmemleak: Kernel memory leak detector"))
		return 0;
	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
		if (strstr(msg, patterns[i]))
			return 1;
	return 0;
}

/*
 * Reads every new record. From the first report on, the records (text
 * only) are appended to @buf, which the caller keeps across calls: a
 * report's later lines come in later records. Returns 1 when this call
 * saw the start of a report.
 */
int kmsg_poll(char *buf, size_t size)
{
	/* The record before a report's first: WARN(cond, msg) prints msg first. */
	static char prev[2048];
	char rec[2048];
	int found = 0;

	for (;;) {
		ssize_t len = read(kmsg_fd, rec, sizeof(rec) - 1);
		char *text;
		size_t have;

		if (len < 0 && errno == EPIPE)
			continue;	/* records overwritten before we read them */
		if (len <= 0)
			break;
		rec[len] = 0;
		text = strchr(rec, ';');
		text = text ? text + 1 : rec;
		if (!found && !buf[0] && !is_report(text)) {
			snprintf(prev, sizeof(prev), "%s", text);
			continue;
		}
		if (!buf[0]) {
			found = 1;
			snprintf(buf, size, "%s", prev);
		}
		have = strlen(buf);
		if (have + 1 < size)
			snprintf(buf + have, size - have, "%s", text);
	}
	return found;
}
