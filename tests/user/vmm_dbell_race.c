// SPDX-License-Identifier: GPL-2.0
/*
 * Threads of one VMM race NOTIFY_RESOURCE CREATE and DESTROY of the same
 * two doorbell handles, with CTX_GET_CPT_STATE snapshots in between, for
 * a few seconds. Every ioctl must give one of the results the ABI allows,
 * a snapshot may only hold our own handles, and afterwards the driver's
 * state must match the successes counted: a handle is registered exactly
 * when it was created once more than destroyed. A doorbell freed by a
 * destroy while its create still linked it shows up as a KASAN report,
 * or as a handle the snapshot lists that nobody holds.
 *
 * Usage: vmm_dbell_race [vmci-device [seconds]]
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "vmci_stats.h"
#include "vmm_dev.h"

#define RES_DOOR_BELL		1
#define ACT_CREATE		1
#define ACT_DESTROY		2
#define CPT_DOORBELL		6
#define MAX_DOORBELLS		4096u	/* VMCI_CTX_MAX_DOORBELLS on 4 KiB pages */

#define N_THREADS		6
#define N_HANDLES		2
#define FIRST_RID		0x5000u

struct cpt_info {
	uint64_t cpt_buf;
	uint32_t cpt_type;
	uint32_t buf_size;
	int32_t result;
	uint32_t pad;
};

struct dbell_rec {
	struct handle handle;
	uint64_t bitmap_idx;
};

/* Shared by the racing threads; counters only with atomic builtins. */
static int vmm_fd;
static uint32_t vmm_cid;
static volatile int stop;
static long created[N_HANDLES], destroyed[N_HANDLES], snapshots;
static long bad_create, bad_destroy, bad_snapshot;
static int32_t last_bad_create, last_bad_destroy;
static char bad_snapshot_why[128];

static struct handle handle_of(unsigned int i)
{
	return (struct handle){ .context = vmm_cid, .resource = FIRST_RID + i };
}

/* VMCI result of a NOTIFY_RESOURCE on a doorbell, or -1000 - errno. */
static int32_t dbell(uint16_t action, struct handle h)
{
	struct notify_resource_info info = {
		.handle = h, .resource = RES_DOOR_BELL, .action = action, .result = 12345,
	};

	if (ioctl(vmm_fd, IOC_NOTIFY_RESOURCE, &info))
		return -1000 - errno;
	return info.result;
}

/*
 * Snapshot of the registered doorbells into @recs (room for MAX_DOORBELLS);
 * returns how many, or -1 with @why filled in if the answer is not one the
 * ABI allows or names a handle that is not ours.
 */
static int snapshot(struct dbell_rec *recs, char *why, size_t why_len)
{
	struct cpt_info info = {
		.cpt_buf = (uintptr_t)recs, .cpt_type = CPT_DOORBELL,
		.buf_size = MAX_DOORBELLS * sizeof(*recs), .result = 12345,
	};
	unsigned int n, i, j;

	if (ioctl(vmm_fd, IOC_GET_CPT, &info)) {
		snprintf(why, why_len, "ioctl: %s", strerror(errno));
		return -1;
	}
	if (info.result != VMCI_SUCCESS || info.buf_size % sizeof(*recs)) {
		snprintf(why, why_len, "result %d size %u", info.result, info.buf_size);
		return -1;
	}
	n = info.buf_size / sizeof(*recs);
	if (n > N_HANDLES) {
		snprintf(why, why_len, "%u records", n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (recs[i].handle.context != vmm_cid ||
		    recs[i].handle.resource - FIRST_RID >= N_HANDLES || recs[i].bitmap_idx) {
			snprintf(why, why_len, "record %u: %#x:%#x idx %llu", i,
				 recs[i].handle.context, recs[i].handle.resource,
				 (unsigned long long)recs[i].bitmap_idx);
			return -1;
		}
		for (j = 0; j < i; j++) {
			if (recs[j].handle.resource == recs[i].handle.resource) {
				snprintf(why, why_len, "%#x listed twice", recs[i].handle.resource);
				return -1;
			}
		}
	}
	return (int)n;
}

static void *racer(void *arg)
{
	static __thread struct dbell_rec recs[MAX_DOORBELLS];
	unsigned int seed = (unsigned int)(uintptr_t)arg * 2654435761u;
	char why[128];
	unsigned int i, op;
	int32_t r;

	while (!stop) {
		op = rand_r(&seed) % 10;
		i = rand_r(&seed) % N_HANDLES;
		if (op < 4) {
			r = dbell(ACT_CREATE, handle_of(i));
			if (r == VMCI_SUCCESS) {
				__atomic_fetch_add(&created[i], 1, __ATOMIC_RELAXED);
			} else if (r != VMCI_ERROR_ALREADY_EXISTS) {
				__atomic_fetch_add(&bad_create, 1, __ATOMIC_RELAXED);
				last_bad_create = r;
			}
		} else if (op < 8) {
			r = dbell(ACT_DESTROY, handle_of(i));
			if (r == VMCI_SUCCESS) {
				__atomic_fetch_add(&destroyed[i], 1, __ATOMIC_RELAXED);
			} else if (r != VMCI_ERROR_NOT_FOUND) {
				__atomic_fetch_add(&bad_destroy, 1, __ATOMIC_RELAXED);
				last_bad_destroy = r;
			}
		} else {
			if (snapshot(recs, why, sizeof(why)) < 0) {
				if (__atomic_fetch_add(&bad_snapshot, 1, __ATOMIC_RELAXED) == 0)
					memcpy(bad_snapshot_why, why, sizeof(why));
			} else {
				__atomic_fetch_add(&snapshots, 1, __ATOMIC_RELAXED);
			}
		}
	}
	return NULL;
}

/* After the race: what the driver lists must be what the counts say. */
static void check_final_state(void)
{
	static struct dbell_rec recs[MAX_DOORBELLS];
	int listed[N_HANDLES] = { 0 };
	long live[N_HANDLES];
	char why[128] = "";
	int n, i, consistent = 1;

	for (i = 0; i < N_HANDLES; i++) {
		live[i] = created[i] - destroyed[i];
		if (live[i] != 0 && live[i] != 1)
			consistent = 0;
	}
	tap_report(consistent, "counts_alternate", "h0 %ld-%ld h1 %ld-%ld",
		   created[0], destroyed[0], created[1], destroyed[1]);

	n = snapshot(recs, why, sizeof(why));
	for (i = 0; i < n; i++)
		listed[recs[i].handle.resource - FIRST_RID] = 1;
	tap_report(n >= 0 && listed[0] == (live[0] == 1) && listed[1] == (live[1] == 1),
		   "snapshot_matches_counts", "n %d (%s) listed %d %d live %ld %ld", n, why,
		   listed[0], listed[1], live[0], live[1]);

	/* Destroying what is left works once, then the handle is gone. */
	consistent = 1;
	for (i = 0; i < N_HANDLES; i++) {
		if (dbell(ACT_DESTROY, handle_of(i)) != (live[i] == 1 ? VMCI_SUCCESS :
							  VMCI_ERROR_NOT_FOUND))
			consistent = 0;
		if (dbell(ACT_DESTROY, handle_of(i)) != VMCI_ERROR_NOT_FOUND)
			consistent = 0;
	}
	tap_report(consistent, "destroy_after_race", "a destroy gave the wrong result");
	tap_check_int("destroy_never_created",
		      dbell(ACT_DESTROY, (struct handle){ vmm_cid, FIRST_RID + 99 }),
		      VMCI_ERROR_NOT_FOUND);
	tap_check_int("snapshot_empty_at_end", snapshot(recs, why, sizeof(why)), 0);
	tap_check_int("create_after_race", dbell(ACT_CREATE, handle_of(0)), VMCI_SUCCESS);
}

int main(int argc, char **argv)
{
	pthread_t threads[N_THREADS];
	long long base_dbells;
	int seconds = 3, i, started = 0;

	if (argc > 1)
		dev_path = argv[1];
	if (argc > 2)
		seconds = atoi(argv[2]);
	tap_plan(14);

	base_dbells = stat_value("vmm_doorbells");
	tap_report(base_dbells >= 0, "stats_readable", "no %s", STATS_PATH);
	vmm_fd = vmm_open_ctx(0, &vmm_cid);
	tap_report(vmm_fd >= 0, "open_context", "%s", strerror(errno));
	if (vmm_fd < 0)
		return tap_exit_code();

	for (i = 0; i < N_THREADS; i++)
		started += !pthread_create(&threads[i], NULL, racer, (void *)(uintptr_t)(i + 1));
	tap_check_int("threads_started", started, N_THREADS);
	sleep(seconds);
	stop = 1;
	for (i = 0; i < started; i++)
		pthread_join(threads[i], NULL);

	tap_report(!bad_create, "create_results_allowed", "%ld bad, last %d", bad_create,
		   last_bad_create);
	tap_report(!bad_destroy, "destroy_results_allowed", "%ld bad, last %d", bad_destroy,
		   last_bad_destroy);
	tap_report(!bad_snapshot, "snapshots_only_our_handles", "%ld bad, first: %s",
		   bad_snapshot, bad_snapshot_why);
	tap_report(created[0] + created[1] > 0 && destroyed[0] + destroyed[1] > 0 && snapshots > 0,
		   "race_did_all_three", "created %ld destroyed %ld snapshots %ld",
		   created[0] + created[1], destroyed[0] + destroyed[1], snapshots);
	printf("# %ld creates, %ld destroys, %ld snapshots in %d s\n",
	       created[0] + created[1], destroyed[0] + destroyed[1], snapshots, seconds);
	check_final_state();

	/* Closing with one doorbell left frees it. */
	close(vmm_fd);
	tap_report(wait_stat("vmm_doorbells", base_dbells, 5000), "close_frees_doorbells",
		   "vmm_doorbells %lld, want %lld", stat_value("vmm_doorbells"), base_dbells);
	return tap_exit_code();
}
