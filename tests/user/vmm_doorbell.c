// SPDX-License-Identifier: GPL-2.0
/*
 * Plays a VMM process on /dev/vmci with doorbells: registering them
 * (NOTIFY_RESOURCE CREATE/DESTROY), getting one rung by the host, seeing
 * it through poll() and the notify byte, fetching it with
 * NOTIFICATIONS_RECEIVE, ringing a host doorbell (NOTIFY), and hostile
 * input. Needs vmci_test_endpoint.ko: a datagram to host resource 1503
 * carrying one of our doorbell handles rings it and arms it, and ringing
 * host doorbell 1502 rings the armed handle again. Reads
 * /sys/kernel/debug/vmci/stats to prove that closing tears everything down.
 *
 * Usage: vmm_doorbell [vmci-device]
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tap.h"
#include "vmci_stats.h"
#include "vmm_dev.h"

/* ABI beyond vmm_dev.h that only this test uses. */

#define ENDPOINT_DBELL_RID	1502u
#define ENDPOINT_ARM_RID	1503u

#define RES_QUEUE_PAIR		0
#define RES_DOOR_BELL		1
#define ACT_NOTIFY		0
#define ACT_CREATE		1
#define ACT_DESTROY		2

struct notify_recv_info {
	uint64_t db_uva;
	uint64_t db_size;
	uint64_t qp_uva;
	uint64_t qp_size;
	int32_t result;
	uint32_t pad;
};

struct arm_dg {
	struct handle dst;
	struct handle src;
	uint64_t payload_size;
	struct handle target;
};

static void *unmapped;

/* VMCI result of a NOTIFY_RESOURCE, or -1000 - errno. */
static int32_t resource_op(int fd, uint16_t resource, uint16_t action, struct handle h)
{
	struct notify_resource_info info = {
		.handle = h, .resource = resource, .action = action, .result = 12345,
	};

	if (ioctl(fd, IOC_NOTIFY_RESOURCE, &info))
		return -1000 - errno;
	return info.result;
}

static int32_t dbell(int fd, uint16_t action, struct handle h)
{
	return resource_op(fd, RES_DOOR_BELL, action, h);
}

/* Asks the endpoint to ring @target (and arm it); the send's VMCI result. */
static int32_t arm(int fd, struct handle target)
{
	struct arm_dg dg = {
		.dst = { HOST_CID, ENDPOINT_ARM_RID },
		.src = { INVALID_ID, 1 },
		.payload_size = sizeof(target),
		.target = target,
	};
	struct snd_rcv_info info = { .addr = (uintptr_t)&dg, .len = sizeof(dg) };

	if (ioctl(fd, IOC_DG_SEND, &info))
		return -1000 - errno;
	return info.result;
}

/* NOTIFICATIONS_RECEIVE into @buf of @size bytes; ioctl return value. */
static int recv_notes(int fd, void *buf, uint64_t size, struct notify_recv_info *info)
{
	memset(info, 0, sizeof(*info));
	info->db_uva = (uintptr_t)buf;
	info->db_size = size;
	info->result = 12345;
	return ioctl(fd, IOC_NOTIFICATIONS_RECV, info);
}

static int readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

static void test_before_init(void)
{
	struct notify_resource_info nr = { .resource = RES_DOOR_BELL, .action = ACT_CREATE };
	struct notify_recv_info rv = { 0 };
	int fd = open(dev_path, O_RDWR | O_CLOEXEC);

	tap_report(fd >= 0, "open_before_init", "%s", strerror(errno));
	if (fd < 0)
		return;
	tap_check_errno("before_init_notify_resource", ioctl(fd, IOC_NOTIFY_RESOURCE, &nr), EINVAL);
	tap_check_errno("before_init_notifications_receive",
		     ioctl(fd, IOC_NOTIFICATIONS_RECV, &rv), EINVAL);
	close(fd);
}

static void test_bad_requests(int fd, uint32_t cid)
{
	struct handle h = { cid, 1000 };
	struct notify_recv_info info;
	uint64_t buf[4];

	tap_check_int("create_wrong_context", dbell(fd, ACT_CREATE, (struct handle){ cid + 1, 1001 }),
		  VMCI_ERROR_INVALID_ARGS);
	tap_check_int("create_host_context", dbell(fd, ACT_CREATE, (struct handle){ HOST_CID, 1001 }),
		  VMCI_ERROR_INVALID_ARGS);
	tap_check_int("create_invalid_rid", dbell(fd, ACT_CREATE, (struct handle){ cid, INVALID_ID }),
		  VMCI_ERROR_INVALID_ARGS);
	tap_check_int("unknown_action", dbell(fd, 7, h), VMCI_ERROR_INVALID_ARGS);
	tap_check_int("unknown_resource", resource_op(fd, 9, ACT_CREATE, h), VMCI_ERROR_INVALID_ARGS);
	tap_check_int("queue_pair_unavailable", resource_op(fd, RES_QUEUE_PAIR, ACT_CREATE, h),
		  VMCI_ERROR_UNAVAILABLE);
	tap_check_errno("notify_resource_null_efault", ioctl(fd, IOC_NOTIFY_RESOURCE, NULL), EFAULT);
	tap_check_errno("notifications_receive_null_efault",
		     ioctl(fd, IOC_NOTIFICATIONS_RECV, NULL), EFAULT);
	tap_check_errno("receive_null_db_buffer_einval", recv_notes(fd, NULL, 8, &info), EINVAL);
	memset(&info, 0, sizeof(info));
	info.db_uva = (uintptr_t)buf;
	info.db_size = sizeof(buf);
	info.qp_size = 8;
	tap_check_errno("receive_null_qp_buffer_einval", ioctl(fd, IOC_NOTIFICATIONS_RECV, &info),
		     EINVAL);
	tap_check_int("destroy_unknown", dbell(fd, ACT_DESTROY, (struct handle){ cid, 4242 }),
		  VMCI_ERROR_NOT_FOUND);
	tap_check_int("destroy_wrong_context", dbell(fd, ACT_DESTROY, (struct handle){ cid + 1, 1000 }),
		  VMCI_ERROR_INVALID_ARGS);
	tap_check_int("notify_unknown_host_doorbell",
		  dbell(fd, ACT_NOTIFY, (struct handle){ HOST_CID, 1504 }), VMCI_ERROR_NOT_FOUND);
	tap_check_int("notify_invalid_handle",
		  dbell(fd, ACT_NOTIFY, (struct handle){ INVALID_ID, INVALID_ID }),
		  VMCI_ERROR_INVALID_ARGS);
}

/* Fetches pending doorbells; true if exactly @want came back. */
static int fetch_one(int fd, struct handle want)
{
	struct handle got[4] = { 0 };
	struct notify_recv_info info;

	if (recv_notes(fd, got, sizeof(got), &info) || info.result != VMCI_SUCCESS)
		return 0;
	return info.db_size == sizeof(got[0]) && info.qp_size == 0 &&
	       got[0].context == want.context && got[0].resource == want.resource;
}

static void test_ring_and_fetch(int fd, uint32_t cid, volatile uint8_t *notify)
{
	struct handle h = { cid, 1000 };
	struct notify_recv_info info;
	struct handle small[1];

	tap_check_int("create", dbell(fd, ACT_CREATE, h), VMCI_SUCCESS);
	tap_check_int("create_twice", dbell(fd, ACT_CREATE, h), VMCI_ERROR_ALREADY_EXISTS);
	tap_check_int("stats_one_vmm_doorbell", stat_value("vmm_doorbells"), 1);
	tap_report(!readable(fd, 0) && *notify == 0, "idle_not_readable", "notify %u", *notify);

	tap_check_int("receive_nothing", recv_notes(fd, small, sizeof(small), &info), 0);
	tap_report(info.result == VMCI_SUCCESS && info.db_size == 0 && info.qp_size == 0,
		   "receive_nothing_sizes_zero", "result %d db %llu qp %llu", info.result,
		   (unsigned long long)info.db_size, (unsigned long long)info.qp_size);

	/* The endpoint rings us; two rings before we look are one notification. */
	tap_check_int("arm_endpoint", arm(fd, h), (long long)sizeof(struct arm_dg));
	tap_check_int("arm_endpoint_again", arm(fd, h), (long long)sizeof(struct arm_dg));
	tap_report(readable(fd, 1000), "rung_poll_readable", "no POLLIN");
	tap_check_int("rung_notify_byte_set", *notify, 1);
	tap_check_int("stats_one_pending", stat_value("pending_doorbells"), 1);

	tap_check_int("receive_too_small", recv_notes(fd, small, 4, &info), 0);
	tap_check_int("receive_too_small_more_data", info.result, VMCI_ERROR_MORE_DATA);
	tap_check_int("receive_zero_size_more_data",
		  recv_notes(fd, NULL, 0, &info) ? -1 : info.result, VMCI_ERROR_MORE_DATA);
	tap_report(readable(fd, 0) && *notify == 1, "too_small_kept_pending", "lost it");

	tap_report(fetch_one(fd, h), "receive_returns_handle", "wrong handles or sizes");
	tap_report(!readable(fd, 0) && *notify == 0, "fetched_not_readable",
		   "notify %u", *notify);
	tap_check_int("stats_none_pending", stat_value("pending_doorbells"), 0);

	/* We ring the endpoint's doorbell; it rings ours back. */
	tap_check_int("notify_host_doorbell", dbell(fd, ACT_NOTIFY,
						 (struct handle){ HOST_CID, ENDPOINT_DBELL_RID }),
		  VMCI_SUCCESS);
	tap_report(readable(fd, 1000) && *notify == 1, "rung_back_readable", "no ring back");

	/* A buffer the kernel cannot write loses nothing. */
	tap_check_errno("receive_unmapped_efault", recv_notes(fd, unmapped, 8, &info), EFAULT);
	tap_report(fetch_one(fd, h), "receive_after_efault_returns_handle", "lost it");

	tap_check_int("destroy", dbell(fd, ACT_DESTROY, h), VMCI_SUCCESS);
	tap_check_int("destroy_twice", dbell(fd, ACT_DESTROY, h), VMCI_ERROR_NOT_FOUND);
	tap_check_int("arm_destroyed_not_found", arm(fd, h), VMCI_ERROR_NOT_FOUND);
	tap_check_int("stats_no_vmm_doorbell", stat_value("vmm_doorbells"), 0);
}

static void test_no_vm_to_vm(int fd_a, uint32_t cid_a)
{
	struct handle own = { cid_a, 2000 };
	struct handle peer;
	uint32_t cid_b;
	int fd_b = vmm_open_ctx(0, &cid_b);

	tap_report(fd_b >= 0, "open_peer", "%s", strerror(errno));
	if (fd_b < 0)
		return;
	peer = (struct handle){ cid_b, 2000 };
	tap_check_int("peer_create", dbell(fd_b, ACT_CREATE, peer), VMCI_SUCCESS);
	tap_check_int("own_create", dbell(fd_a, ACT_CREATE, own), VMCI_SUCCESS);
	tap_check_int("notify_peer_unreachable", dbell(fd_a, ACT_NOTIFY, peer),
		  VMCI_ERROR_DST_UNREACHABLE);
	tap_check_int("notify_own_unreachable", dbell(fd_a, ACT_NOTIFY, own),
		  VMCI_ERROR_DST_UNREACHABLE);
	tap_report(!readable(fd_b, 0), "peer_not_rung", "peer was rung");
	tap_check_int("destroy_peer_from_a", dbell(fd_a, ACT_DESTROY, peer), VMCI_ERROR_INVALID_ARGS);

	/* Leave a registered and a pending doorbell behind for close to clean up. */
	tap_check_int("arm_peer", arm(fd_b, peer), (long long)sizeof(struct arm_dg));
	tap_check_int("stats_pending_before_close", stat_value("pending_doorbells"), 1);
	close(fd_b);
}

static void test_restricted(void)
{
	uint32_t cid;
	int fd = vmm_open_ctx(FLAG_RESTRICTED, &cid);

	tap_report(fd >= 0, "open_restricted", "%s", strerror(errno));
	if (fd < 0)
		return;
	tap_check_int("restricted_notify_unprivileged_no_access",
		  dbell(fd, ACT_NOTIFY, (struct handle){ HOST_CID, ENDPOINT_DBELL_RID }),
		  VMCI_ERROR_NO_ACCESS);
	tap_check_int("restricted_create", dbell(fd, ACT_CREATE, (struct handle){ cid, 1 }),
		  VMCI_SUCCESS);
	close(fd);
}

int main(int argc, char **argv)
{
	struct set_notify_info sn = { 0 };
	volatile uint8_t *notify;
	uint32_t cid;
	int fd;

	/*
	 * main 7, before_init 3, bad_requests 14, ring_and_fetch 26,
	 * no_vm_to_vm 9, restricted 3; "setup" only on failure.
	 */
	tap_plan(62);
	if (argc > 1)
		dev_path = argv[1];
	notify = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unmapped = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (notify == MAP_FAILED || unmapped == MAP_FAILED) {
		tap_report(0, "setup", "out of memory");
		return tap_exit_code();
	}
	munmap(unmapped, 4096);

	tap_report(stat_value("host_doorbells") >= 1, "stats_endpoint_doorbell",
		   "host_doorbells %lld", stat_value("host_doorbells"));
	tap_check_int("stats_no_vmm_doorbells_at_start", stat_value("vmm_doorbells"), 0);

	test_before_init();

	fd = vmm_open_ctx(0, &cid);
	tap_report(fd >= 0, "open_and_init", "%s", strerror(errno));
	if (fd < 0)
		return tap_exit_code();
	notify[64] = 0;
	sn.notify_uva = (uintptr_t)&notify[64];
	tap_check_int("set_notify", ioctl(fd, IOC_SET_NOTIFY, &sn), 0);

	test_bad_requests(fd, cid);
	test_ring_and_fetch(fd, cid, &notify[64]);
	test_no_vm_to_vm(fd, cid);
	test_restricted();

	close(fd);
	tap_report(wait_stat("vmm_doorbells", 0, 2000), "close_frees_doorbells",
		   "vmm_doorbells %lld", stat_value("vmm_doorbells"));
	tap_check_int("close_frees_pending", stat_value("pending_doorbells"), 0);
	tap_report(wait_stat("vmm_contexts", 0, 2000), "close_frees_contexts",
		   "vmm_contexts %lld", stat_value("vmm_contexts"));
	return tap_exit_code();
}
