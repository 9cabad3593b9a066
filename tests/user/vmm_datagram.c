// SPDX-License-Identifier: GPL-2.0
/*
 * Plays a VMM process on /dev/vmci: contexts, datagram send and receive,
 * the notify byte, poll(), context-removal notifications, and hostile
 * input. Needs vmci_test_endpoint.ko, which echoes datagrams sent to host
 * resources 1500 (unprivileged) and 1501 (TRUSTED, delayed callback), and
 * /sys/kernel/debug/vmci/stats to prove that closing tears everything down.
 *
 * Usage: vmm_datagram [vmci-device]
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "vmci_stats.h"
#include "vmm_dev.h"

/* ABI beyond vmm_dev.h that only this test uses. */

#define RESERVED_CID_LIMIT	16u
#define MAX_DG_SIZE		(17u * 4096u)
#define MAX_PAYLOAD		(MAX_DG_SIZE - DG_HEADER)
#define QUEUE_BYTES		(2u * MAX_DG_SIZE)
#define QUEUE_COUNT		1024u	/* VMCI_CTX_MAX_PENDING_DGS */
#define ECHO_RID		1500u
#define ECHO_TRUSTED_RID	1501u
#define EVENT_CTX_REMOVED	1u

#define KERNEL_PTR	((void *)0xffff888000000000ul)
#define LOW_PTR		((void *)16)

struct ctx_removed_event {
	struct dg_header hdr;
	uint32_t event;
	uint32_t event_pad;
	uint32_t context_id;
	uint32_t context_pad;
};

static uint8_t *big_tx;
static uint8_t *big_rx;
static void *unmapped;

static int open_dev(void)
{
	return open(dev_path, O_RDWR | O_CLOEXEC);
}

static uint8_t pattern(uint32_t seed, uint32_t i)
{
	return (uint8_t)(i * 31u + seed * 7u + (i >> 8));
}

/* Builds a datagram in big_tx; returns its size. */
static uint32_t build_dg(struct handle dst, uint32_t src_rid, uint32_t payload, uint32_t seed)
{
	struct dg_header *h = (struct dg_header *)big_tx;
	uint32_t i;

	h->dst = dst;
	h->src = (struct handle){ .context = INVALID_ID, .resource = src_rid };
	h->payload_size = payload;
	for (i = 0; i < payload; i++)
		big_tx[DG_HEADER + i] = pattern(seed, i);
	return DG_HEADER + payload;
}

/* ioctl return value; *result gets the VMCI result. */
static int send_raw(int fd, const void *addr, uint32_t len, int32_t *result)
{
	struct snd_rcv_info info = { .addr = (uintptr_t)addr, .len = len, .result = 12345 };
	int ret = ioctl(fd, IOC_DG_SEND, &info);

	*result = info.result;
	return ret;
}

/* VMCI result of sending a @payload-byte datagram to @dst, or -1000 - errno. */
static int32_t send_dg(int fd, struct handle dst, uint32_t src_rid, uint32_t payload,
		       uint32_t seed)
{
	uint32_t len = build_dg(dst, src_rid, payload, seed);
	int32_t result;

	if (send_raw(fd, big_tx, len, &result))
		return -1000 - errno;
	return result;
}

static int recv_raw(int fd, void *addr, uint32_t len, int32_t *result)
{
	struct snd_rcv_info info = { .addr = (uintptr_t)addr, .len = len, .result = 12345 };
	int ret = ioctl(fd, IOC_DG_RECEIVE, &info);

	*result = info.result;
	return ret;
}

static int32_t recv_dg(int fd)
{
	int32_t result;

	if (recv_raw(fd, big_rx, MAX_DG_SIZE, &result))
		return -1000 - errno;
	return result;
}

static int wait_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

static struct handle host_handle(uint32_t rid)
{
	return (struct handle){ .context = HOST_CID, .resource = rid };
}

/* Echoes the endpoint has taken but not yet sent back; -1 if unknown. */
static int echoes_outstanding(void)
{
	FILE *f = fopen("/sys/module/vmci_test_endpoint/parameters/echo_outstanding", "r");
	int n = -1;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/* Waits up to @timeout_ms for the endpoint's echo work to finish. */
static int echoes_settled(int timeout_ms)
{
	int waited;

	for (waited = 0; waited < timeout_ms; waited += 10) {
		if (echoes_outstanding() == 0)
			return 1;
		usleep(10000);
	}
	return echoes_outstanding() == 0;
}

static int count_pending(int fd)
{
	int n = 0;

	while (recv_dg(fd) == VMCI_SUCCESS)
		n++;
	return n;
}

static void test_before_init(void)
{
	static const struct {
		unsigned long cmd;
		const char *name;
	} cmds[] = {
		{ IOC_DG_SEND, "before_init_datagram_send" },
		{ IOC_DG_RECEIVE, "before_init_datagram_receive" },
		{ IOC_SET_NOTIFY, "before_init_set_notify" },
		{ IOC_CTX_ADD_NOTIFY, "before_init_ctx_add_notification" },
		{ IOC_CTX_REMOVE_NOTIFY, "before_init_ctx_remove_notification" },
		{ 1956, "before_init_qp_setva" },
		{ 1957, "before_init_notify_resource" },
		{ 1958, "before_init_notifications_receive" },
		{ 1960, "before_init_qp_alloc" },
		{ 1961, "before_init_qp_setpagefile" },
		{ 1962, "before_init_qp_detach" },
		{ 1969, "before_init_get_cpt_state" },
		{ 1970, "before_init_set_cpt_state" },
		{ 1953, "before_init_reserved_1953" },
		{ 1954, "before_init_reserved_1954" },
		{ 1955, "before_init_reserved_1955" },
	};
	uint64_t zeroes[16] = { 0 };
	int fd = open_dev();
	uint32_t cid, version = 0x000B0000;
	size_t i;

	tap_report(fd >= 0, "open", "%s: %s", dev_path, strerror(errno));
	if (fd < 0)
		return;
	tap_check_int("version2", ioctl(fd, IOC_VERSION2, &version), 0x000B0000);
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		tap_check_errno(cmds[i].name, ioctl(fd, cmds[i].cmd, zeroes), EINVAL);

	/* Bad INIT_CONTEXT input leaves the file without a context. */
	tap_check_errno("init_flags_trusted_einval", vmm_init_ctx(fd, 0, FLAG_TRUSTED, NULL), EINVAL);
	tap_check_errno("init_flags_unknown_einval", vmm_init_ctx(fd, 0, 0x10, NULL), EINVAL);
	tap_check_errno("init_null_efault", ioctl(fd, IOC_INIT_CONTEXT, NULL), EFAULT);
	tap_check_errno("init_low_pointer_efault", ioctl(fd, IOC_INIT_CONTEXT, LOW_PTR), EFAULT);
	tap_check_errno("init_unmapped_efault", ioctl(fd, IOC_INIT_CONTEXT, unmapped), EFAULT);
	tap_check_errno("init_kernel_pointer_efault", ioctl(fd, IOC_INIT_CONTEXT, KERNEL_PTR), EFAULT);
	tap_check_errno("still_uninitialised", ioctl(fd, IOC_DG_RECEIVE, zeroes), EINVAL);

	tap_check_int("init_context", vmm_init_ctx(fd, 0, 0, &cid), 0);
	tap_report(cid >= RESERVED_CID_LIMIT && cid != INVALID_ID, "init_cid_not_reserved",
		   "cid %u", cid);
	tap_check_errno("init_twice_einval", vmm_init_ctx(fd, 0, 0, NULL), EINVAL);
	cid = 0;
	tap_check_int("get_context_id_ret", ioctl(fd, IOC_GET_CONTEXT_ID, &cid), 0);
	tap_check_int("get_context_id_is_host", cid, HOST_CID);
	for (i = 1953; i <= 1955; i++) {
		char name[48];

		snprintf(name, sizeof(name), "after_init_reserved_%zu", i);
		tap_check_errno(name, ioctl(fd, i, zeroes), EINVAL);
	}
	tap_check_errno("unknown_ioctl_0x7ff", ioctl(fd, 0x7ff, zeroes), EINVAL);
	tap_check_errno("unknown_ioctl_1965", ioctl(fd, 1965, zeroes), EINVAL);
	tap_check_errno("unknown_ioctl_2001", ioctl(fd, 2001, zeroes), EINVAL);
	tap_check_errno("unknown_ioctl_0", ioctl(fd, 0, zeroes), EINVAL);
	close(fd);
}

/* Receives one echo into big_rx and checks it against what was sent. */
static int check_echo(int fd, uint32_t my_cid, uint32_t my_rid, uint32_t from_rid,
		      uint32_t payload, uint32_t seed, char *why, size_t why_len)
{
	struct dg_header *h = (struct dg_header *)big_rx;
	int32_t result;
	uint32_t i;

	memset(big_rx, 0xee, MAX_DG_SIZE);
	if (!wait_readable(fd, 5000))
		return snprintf(why, why_len, "no POLLIN within 5s"), 0;
	result = recv_dg(fd);
	if (result != VMCI_SUCCESS)
		return snprintf(why, why_len, "receive result %d", result), 0;
	if (h->dst.context != my_cid || h->dst.resource != my_rid)
		return snprintf(why, why_len, "dst %u:%u", h->dst.context, h->dst.resource), 0;
	if (h->src.context != HOST_CID || h->src.resource != from_rid)
		return snprintf(why, why_len, "src %u:%u", h->src.context, h->src.resource), 0;
	if (h->payload_size != payload)
		return snprintf(why, why_len, "payload_size %llu",
				(unsigned long long)h->payload_size), 0;
	for (i = 0; i < payload; i++)
		if (big_rx[DG_HEADER + i] != pattern(seed, i))
			return snprintf(why, why_len, "payload byte %u differs", i), 0;
	/* Nothing beyond the datagram was written into our buffer. */
	if (DG_HEADER + payload < MAX_DG_SIZE && big_rx[DG_HEADER + payload] != 0xee)
		return snprintf(why, why_len, "wrote past the datagram"), 0;
	return 1;
}

static void test_echo_sizes(int fd, uint32_t cid, volatile uint8_t *notify)
{
	static const uint32_t sizes[] = { 0, 1, 7, 8, 100, 4072, 4096, 4097, 65536,
					  MAX_PAYLOAD - 1, MAX_PAYLOAD };
	char name[64], why[128] = "";
	int all_ok = 1, notify_ok = 1, poll_ok = 1;
	size_t i;
	int32_t result;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(name, sizeof(name), "echo_payload_%u", sizes[i]);
		result = send_dg(fd, host_handle(ECHO_RID), 77, sizes[i], (uint32_t)i);
		if (result != (int32_t)(DG_HEADER + sizes[i])) {
			tap_report(0, name, "send result %d", result);
			all_ok = 0;
			continue;
		}
		if (!wait_readable(fd, 5000))
			poll_ok = 0;
		else if (*notify != 1)
			notify_ok = 0;
		if (!check_echo(fd, cid, 77, ECHO_RID, sizes[i], (uint32_t)i, why, sizeof(why)))
			all_ok = 0;
		tap_report(!why[0], name, "%s", why);
		why[0] = 0;
		if (*notify != 0)
			notify_ok = 0;
	}
	tap_report(all_ok, "echo_all_sizes", "see above");
	tap_report(poll_ok, "echo_poll_readable", "poll() did not report POLLIN");
	tap_report(notify_ok, "notify_byte_set_then_cleared", "notify byte out of step");
	tap_report(!wait_readable(fd, 0), "poll_not_readable_when_empty", "POLLIN on empty queue");
}

static void test_send_errors(int fd, uint32_t cid, uint32_t other_cid)
{
	struct dg_header *h = (struct dg_header *)big_tx;
	struct snd_rcv_info info;
	int32_t result;
	uint32_t len;

	len = build_dg(host_handle(ECHO_RID), 1, 16, 0);
	tap_check_errno("send_len_below_header_einval", send_raw(fd, big_tx, DG_HEADER - 1, &result),
		    EINVAL);
	tap_check_errno("send_len_zero_einval", send_raw(fd, big_tx, 0, &result), EINVAL);
	tap_check_errno("send_len_above_max_einval", send_raw(fd, big_tx, MAX_DG_SIZE + 1, &result),
		    EINVAL);
	tap_check_errno("send_len_huge_einval", send_raw(fd, big_tx, 0xffffffffu, &result), EINVAL);
	h->payload_size = 17;
	tap_check_errno("send_header_larger_than_len_einval", send_raw(fd, big_tx, len, &result),
		    EINVAL);
	h->payload_size = 15;
	tap_check_errno("send_header_smaller_than_len_einval", send_raw(fd, big_tx, len, &result),
		    EINVAL);
	h->payload_size = 0xfffffffffffffff0ull;
	tap_check_errno("send_payload_size_huge_einval", send_raw(fd, big_tx, len, &result), EINVAL);
	h->payload_size = 16;

	tap_check_errno("send_addr_null_efault", send_raw(fd, NULL, len, &result), EFAULT);
	tap_check_errno("send_addr_unmapped_efault", send_raw(fd, unmapped, len, &result), EFAULT);
	tap_check_errno("send_addr_kernel_efault", send_raw(fd, KERNEL_PTR, len, &result), EFAULT);
	/* The end of the buffer runs into an unmapped page. */
	tap_check_errno("send_addr_straddles_unmapped_efault",
		    send_raw(fd, (uint8_t *)unmapped - 8, len, &result), EFAULT);
	tap_check_errno("send_info_null_efault", ioctl(fd, IOC_DG_SEND, NULL), EFAULT);
	tap_check_errno("send_info_kernel_efault", ioctl(fd, IOC_DG_SEND, KERNEL_PTR), EFAULT);
	tap_check_errno("send_info_unmapped_efault", ioctl(fd, IOC_DG_SEND, unmapped), EFAULT);

	tap_check_int("send_unknown_resource", send_dg(fd, host_handle(0x7fff0000), 1, 4, 0),
		 VMCI_ERROR_INVALID_RESOURCE);
	tap_check_int("send_unknown_context",
		 send_dg(fd, (struct handle){ 0x7ffffff0, ECHO_RID }, 1, 4, 0),
		 VMCI_ERROR_DST_UNREACHABLE);
	tap_check_int("send_hypervisor_unreachable",
		 send_dg(fd, (struct handle){ HYPERVISOR_CID, 1 }, 1, 0, 0),
		 VMCI_ERROR_DST_UNREACHABLE);
	tap_check_int("send_other_vm_unreachable",
		 send_dg(fd, (struct handle){ other_cid, 1 }, 1, 4, 0), VMCI_ERROR_DST_UNREACHABLE);
	tap_check_int("send_self_unreachable", send_dg(fd, (struct handle){ cid, 1 }, 1, 4, 0),
		 VMCI_ERROR_DST_UNREACHABLE);
	tap_check_int("send_invalid_dst_handle",
		 send_dg(fd, (struct handle){ INVALID_ID, INVALID_ID }, 1, 4, 0),
		 VMCI_ERROR_INVALID_ARGS);
	tap_check_int("send_well_known_context_unreachable",
		 send_dg(fd, (struct handle){ 1, ECHO_RID }, 1, 4, 0), VMCI_ERROR_DST_UNREACHABLE);

	/* A faked source context is overwritten: the echo comes back to us. */
	len = build_dg(host_handle(ECHO_RID), 5, 8, 3);
	h->src.context = other_cid;
	memset(&info, 0, sizeof(info));
	info.addr = (uintptr_t)big_tx;
	info.len = len;
	tap_report(ioctl(fd, IOC_DG_SEND, &info) == 0 && info.result == (int32_t)len,
		   "send_spoofed_source", "result %d", info.result);
	{
		char why[128] = "";

		tap_report(check_echo(fd, cid, 5, ECHO_RID, 8, 3, why, sizeof(why)),
			   "spoofed_source_echo_comes_back_to_sender", "%s", why);
	}
}

static void test_receive_errors(int fd, uint32_t cid)
{
	char why[128] = "";
	int32_t result;

	tap_check_int("receive_empty_ret", recv_raw(fd, big_rx, MAX_DG_SIZE, &result), 0);
	tap_check_int("receive_empty_result", result, VMCI_ERROR_NO_MORE_DATAGRAMS);
	tap_check_errno("receive_info_null_efault", ioctl(fd, IOC_DG_RECEIVE, NULL), EFAULT);
	tap_check_errno("receive_info_kernel_efault", ioctl(fd, IOC_DG_RECEIVE, KERNEL_PTR), EFAULT);

	tap_check_int("receive_setup_send", send_dg(fd, host_handle(ECHO_RID), 9, 100, 42),
		 DG_HEADER + 100);
	tap_report(wait_readable(fd, 5000), "receive_setup_echo", "no echo");

	tap_check_int("receive_too_small_ret", recv_raw(fd, big_rx, DG_HEADER + 99, &result), 0);
	tap_check_int("receive_too_small_result", result, VMCI_ERROR_NO_MEM);
	tap_check_int("receive_len_zero_result", (recv_raw(fd, big_rx, 0, &result), result),
		 VMCI_ERROR_NO_MEM);
	tap_check_errno("receive_addr_null_efault", recv_raw(fd, NULL, MAX_DG_SIZE, &result), EFAULT);
	tap_check_errno("receive_addr_kernel_efault", recv_raw(fd, KERNEL_PTR, MAX_DG_SIZE, &result),
		    EFAULT);
	tap_check_errno("receive_addr_unmapped_efault", recv_raw(fd, unmapped, MAX_DG_SIZE, &result),
		    EFAULT);
	tap_report(wait_readable(fd, 0), "receive_failures_keep_datagram_queued",
		   "queue empty after failed receives");
	tap_report(check_echo(fd, cid, 9, ECHO_RID, 100, 42, why, sizeof(why)),
		   "receive_big_enough_succeeds", "%s", why);
}

static void test_set_notify_errors(int fd)
{
	struct set_notify_info info = { 0 };
	void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	tap_check_errno("set_notify_info_null_efault", ioctl(fd, IOC_SET_NOTIFY, NULL), EFAULT);
	tap_check_errno("set_notify_info_kernel_efault", ioctl(fd, IOC_SET_NOTIFY, KERNEL_PTR), EFAULT);
	info.notify_uva = (uintptr_t)unmapped;
	tap_check_errno("set_notify_uva_unmapped_efault", ioctl(fd, IOC_SET_NOTIFY, &info), EFAULT);
	info.notify_uva = (uintptr_t)KERNEL_PTR;
	tap_check_errno("set_notify_uva_kernel_efault", ioctl(fd, IOC_SET_NOTIFY, &info), EFAULT);
	info.notify_uva = ~0ull;
	tap_check_errno("set_notify_uva_top_efault", ioctl(fd, IOC_SET_NOTIFY, &info), EFAULT);
	if (ro != MAP_FAILED) {
		info.notify_uva = (uintptr_t)ro + 5;
		tap_check_errno("set_notify_uva_readonly_efault", ioctl(fd, IOC_SET_NOTIFY, &info),
			    EFAULT);
		munmap(ro, 4096);
	}
	info.notify_uva = 0;
	info.result = 12345;
	tap_check_int("set_notify_unset_ret", ioctl(fd, IOC_SET_NOTIFY, &info), 0);
	tap_check_int("set_notify_unset_result", info.result, VMCI_SUCCESS);
}

static int ctx_notify(int fd, unsigned long cmd, uint32_t remote)
{
	struct ctx_info info = { .remote_cid = remote, .result = 12345 };

	if (ioctl(fd, cmd, &info))
		return -1000 - errno;
	return info.result;
}

static void test_ctx_removal(int fd, uint32_t cid)
{
	struct ctx_removed_event *ev = (struct ctx_removed_event *)big_rx;
	uint32_t gone_cid;
	int gone = open_dev();
	int32_t result;

	if (gone < 0 || vmm_init_ctx(gone, 0, 0, &gone_cid)) {
		tap_report(0, "ctx_removal_setup", "%s", strerror(errno));
		return;
	}
	tap_check_int("ctx_add_notification", ctx_notify(fd, IOC_CTX_ADD_NOTIFY, gone_cid),
		 VMCI_SUCCESS);
	tap_check_int("ctx_add_notification_duplicate", ctx_notify(fd, IOC_CTX_ADD_NOTIFY, gone_cid),
		 VMCI_ERROR_ALREADY_EXISTS);
	tap_check_int("ctx_add_notification_self", ctx_notify(fd, IOC_CTX_ADD_NOTIFY, cid),
		 VMCI_ERROR_INVALID_ARGS);
	tap_check_int("ctx_add_notification_unknown", ctx_notify(fd, IOC_CTX_ADD_NOTIFY, 0x7ffffff0),
		 VMCI_ERROR_NOT_FOUND);
	tap_check_int("ctx_remove_notification", ctx_notify(fd, IOC_CTX_REMOVE_NOTIFY, gone_cid),
		 VMCI_SUCCESS);
	tap_check_int("ctx_remove_notification_again", ctx_notify(fd, IOC_CTX_REMOVE_NOTIFY, gone_cid),
		 VMCI_ERROR_NOT_FOUND);
	tap_check_errno("ctx_add_notification_null_efault", ioctl(fd, IOC_CTX_ADD_NOTIFY, NULL),
		    EFAULT);
	tap_check_errno("ctx_remove_notification_kernel_efault",
		    ioctl(fd, IOC_CTX_REMOVE_NOTIFY, KERNEL_PTR), EFAULT);
	tap_check_int("ctx_add_notification_rearm", ctx_notify(fd, IOC_CTX_ADD_NOTIFY, gone_cid),
		 VMCI_SUCCESS);

	close(gone);
	tap_report(wait_readable(fd, 5000), "ctx_removed_event_readable", "no event");
	memset(big_rx, 0xee, MAX_DG_SIZE);
	tap_check_int("ctx_removed_event_receive", recv_raw(fd, big_rx, MAX_DG_SIZE, &result), 0);
	tap_check_int("ctx_removed_event_result", result, VMCI_SUCCESS);
	tap_report(ev->hdr.dst.context == cid && ev->hdr.dst.resource == 0 &&
		   ev->hdr.src.context == HYPERVISOR_CID && ev->hdr.src.resource == 0 &&
		   ev->hdr.payload_size == 16, "ctx_removed_event_header",
		   "dst %u:%u src %u:%u size %llu", ev->hdr.dst.context, ev->hdr.dst.resource,
		   ev->hdr.src.context, ev->hdr.src.resource,
		   (unsigned long long)ev->hdr.payload_size);
	tap_report(ev->event == EVENT_CTX_REMOVED && ev->event_pad == 0 &&
		   ev->context_id == gone_cid && ev->context_pad == 0,
		   "ctx_removed_event_payload", "event %u cid %u (want %u) pads %u %u",
		   ev->event, ev->context_id, gone_cid, ev->event_pad, ev->context_pad);
	tap_report(big_rx[sizeof(*ev)] == 0xee, "ctx_removed_event_exact_size",
		   "wrote past 40 bytes");
	tap_check_int("ctx_removed_subscription_spent", ctx_notify(fd, IOC_CTX_REMOVE_NOTIFY, gone_cid),
		 VMCI_ERROR_NOT_FOUND);
}

static void test_restricted(void)
{
	char why[128] = "";
	uint32_t cid;
	int fd = open_dev();

	if (fd < 0 || vmm_init_ctx(fd, 0, FLAG_RESTRICTED, &cid)) {
		tap_report(0, "restricted_init", "%s", strerror(errno));
		return;
	}
	tap_check_int("restricted_to_plain_no_access", send_dg(fd, host_handle(ECHO_RID), 3, 8, 1),
		 VMCI_ERROR_NO_ACCESS);
	tap_check_int("restricted_to_trusted_ok", send_dg(fd, host_handle(ECHO_TRUSTED_RID), 3, 8, 1),
		 DG_HEADER + 8);
	tap_report(check_echo(fd, cid, 3, ECHO_TRUSTED_RID, 8, 1, why, sizeof(why)),
		   "restricted_trusted_echo", "%s", why);
	close(fd);
}

/* Sends @n datagrams to the echo endpoint, retrying while its backlog is full. */
static int flood(int fd, uint32_t n, uint32_t payload)
{
	uint32_t sent = 0, busy = 0;
	int32_t result;

	while (sent < n && busy < 100000) {
		result = send_dg(fd, host_handle(ECHO_RID), 11, payload, sent);
		if (result == (int32_t)(DG_HEADER + payload)) {
			sent++;
		} else if (result == VMCI_ERROR_NO_RESOURCES) {
			busy++;
			usleep(200);
		} else {
			return 0;
		}
	}
	return sent == n;
}

static void test_queue_bounds(int fd)
{
	long long pending;
	int n;

	tap_report(flood(fd, QUEUE_COUNT + 100, 0), "flood_small_sent", "sends failed");
	tap_report(wait_stat("pending_datagrams", QUEUE_COUNT, 20000),
		   "queue_count_reaches_cap", "pending %lld", stat_value("pending_datagrams"));
	/* Echoes still queued in the endpoint would land while we drain. */
	tap_report(echoes_settled(20000), "queue_count_echoes_settled", "%d outstanding",
		   echoes_outstanding());
	pending = stat_value("pending_datagrams");
	tap_check_int("queue_count_stays_capped", pending, QUEUE_COUNT);
	n = count_pending(fd);
	tap_check_int("queue_count_drained", n, QUEUE_COUNT);

	tap_report(flood(fd, 6, MAX_PAYLOAD), "flood_max_sent", "sends failed");
	tap_report(wait_stat("pending_bytes", QUEUE_BYTES, 20000), "queue_bytes_reach_cap",
		   "pending bytes %lld", stat_value("pending_bytes"));
	tap_report(echoes_settled(20000), "queue_bytes_echoes_settled", "%d outstanding",
		   echoes_outstanding());
	tap_check_int("queue_bytes_stay_capped", stat_value("pending_bytes"), QUEUE_BYTES);
	n = count_pending(fd);
	tap_check_int("queue_bytes_drained", n, QUEUE_BYTES / MAX_DG_SIZE);
	tap_check_int("queue_empty_after_drain", stat_value("pending_datagrams"), 0);
}

static void test_cid_collision(uint32_t taken)
{
	uint32_t cid = 0;
	int fd = open_dev();

	tap_check_int("collision_init", vmm_init_ctx(fd, taken, 0, &cid), 0);
	tap_report(cid != taken && cid >= RESERVED_CID_LIMIT, "collision_cid_bumped",
		   "wanted %u got %u", taken, cid);
	close(fd);
	fd = open_dev();
	tap_check_int("reserved_wanted_init", vmm_init_ctx(fd, 5, 0, &cid), 0);
	tap_report(cid >= RESERVED_CID_LIMIT, "reserved_cid_bumped", "got %u", cid);
	close(fd);
	fd = open_dev();
	tap_check_int("invalid_wanted_init", vmm_init_ctx(fd, INVALID_ID, 0, &cid), 0);
	tap_report(cid >= RESERVED_CID_LIMIT && cid != INVALID_ID, "invalid_cid_bumped",
		   "got %u", cid);
	close(fd);
}

/* Several processes sharing one file race INIT_CONTEXT: exactly one wins. */
static void test_init_race(void)
{
	int fd = open_dev(), i, status, wins = 0, losses = 0;
	pid_t pids[4];

	for (i = 0; i < 4; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(vmm_init_ctx(fd, 0, 0, NULL) == 0 ? 0 : errno == EINVAL ? 1 : 2);
	}
	for (i = 0; i < 4; i++) {
		if (pids[i] > 0 && waitpid(pids[i], &status, 0) == pids[i] && WIFEXITED(status)) {
			wins += WEXITSTATUS(status) == 0;
			losses += WEXITSTATUS(status) == 1;
		}
	}
	tap_check_int("init_race_one_winner", wins, 1);
	tap_check_int("init_race_others_einval", losses, 3);
	close(fd);
}

static int child_round_trips(int seed)
{
	char why[128];
	uint32_t cid, i, size;
	int fd = open_dev();

	if (fd < 0 || vmm_init_ctx(fd, 0, 0, &cid))
		return 1;
	for (i = 0; i < 20; i++) {
		size = (uint32_t)(seed * 977 + i * 3301) % 9000;
		if (send_dg(fd, host_handle(i % 2 ? ECHO_TRUSTED_RID : ECHO_RID), 100 + i, size,
			    i) != (int32_t)(DG_HEADER + size))
			return 2;
		if (!check_echo(fd, cid, 100 + i, i % 2 ? ECHO_TRUSTED_RID : ECHO_RID, size, i,
				why, sizeof(why))) {
			fprintf(stderr, "child %d: %s\n", seed, why);
			return 3;
		}
	}
	close(fd);
	return 0;
}

static void test_many_processes(void)
{
	int i, status, ok = 0;
	pid_t pids[8];

	for (i = 0; i < 8; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(child_round_trips(i + 1));
	}
	for (i = 0; i < 8; i++)
		if (pids[i] > 0 && waitpid(pids[i], &status, 0) == pids[i] &&
		    WIFEXITED(status) && WEXITSTATUS(status) == 0)
			ok++;
	tap_check_int("eight_processes_round_trip", ok, 8);
}

int main(int argc, char **argv)
{
	long long base_handles;
	volatile uint8_t *notify;
	struct set_notify_info sn = { 0 };
	uint32_t cid_a, cid_b;
	int fd_a, fd_b;

	/*
	 * main 17, before_init 37, echo_sizes 15, send_errors 23,
	 * receive_errors 14, ctx_removal 16, queue_bounds 11, restricted 3,
	 * cid_collision 6, init_race 2, many_processes 1, set_notify_errors 8;
	 * ctx_removal_setup, restricted_init and setup report only on failure.
	 */
	tap_plan(153);
	if (argc > 1)
		dev_path = argv[1];
	big_tx = malloc(MAX_DG_SIZE + 16);
	big_rx = malloc(MAX_DG_SIZE + 16);
	notify = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unmapped = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!big_tx || !big_rx || notify == MAP_FAILED || unmapped == MAP_FAILED) {
		tap_report(0, "setup", "out of memory");
		return tap_exit_code();
	}
	munmap(unmapped, 4096);

	base_handles = stat_value("datagram_handles");
	tap_report(base_handles >= 2, "stats_readable_and_endpoint_loaded",
		   "datagram_handles %lld", base_handles);
	tap_check_int("stats_no_vmm_contexts_at_start", stat_value("vmm_contexts"), 0);

	test_before_init();

	fd_a = open_dev();
	fd_b = open_dev();
	tap_report(fd_a >= 0 && fd_b >= 0, "open_two", "%s", strerror(errno));
	if (fd_a < 0 || fd_b < 0)
		return tap_exit_code();
	tap_check_int("init_a", vmm_init_ctx(fd_a, 0, 0, &cid_a), 0);
	tap_check_int("init_b", vmm_init_ctx(fd_b, 0, 0, &cid_b), 0);
	tap_report(cid_a != cid_b && cid_a >= RESERVED_CID_LIMIT && cid_b >= RESERVED_CID_LIMIT,
		   "two_contexts_distinct_cids", "%u %u", cid_a, cid_b);
	tap_check_int("stats_two_vmm_contexts", stat_value("vmm_contexts"), 2);

	notify[100] = 0;
	sn.notify_uva = (uintptr_t)&notify[100];
	sn.result = 12345;
	tap_check_int("set_notify_ret", ioctl(fd_a, IOC_SET_NOTIFY, &sn), 0);
	tap_check_int("set_notify_result", sn.result, VMCI_SUCCESS);

	test_echo_sizes(fd_a, cid_a, &notify[100]);
	tap_report(!wait_readable(fd_b, 0), "other_context_got_nothing", "fd b readable");
	test_send_errors(fd_a, cid_a, cid_b);
	test_receive_errors(fd_a, cid_a);
	test_ctx_removal(fd_a, cid_a);
	test_queue_bounds(fd_a);
	test_restricted();
	test_cid_collision(cid_a);
	test_init_race();
	test_many_processes();
	test_set_notify_errors(fd_b);

	/* Leave datagrams queued and the notify page pinned: close must free them. */
	tap_check_int("set_notify_again", ioctl(fd_a, IOC_SET_NOTIFY, &sn), 0);
	send_dg(fd_a, host_handle(ECHO_RID), 1, 1000, 1);
	send_dg(fd_a, host_handle(ECHO_TRUSTED_RID), 1, 2000, 2);
	tap_report(wait_stat("pending_datagrams", 2, 5000), "left_pending_before_close",
		   "pending %lld", stat_value("pending_datagrams"));
	close(fd_a);
	close(fd_b);

	tap_check_int("teardown_no_vmm_contexts", stat_value("vmm_contexts"), 0);
	tap_check_int("teardown_no_pending_datagrams", stat_value("pending_datagrams"), 0);
	tap_check_int("teardown_no_pending_bytes", stat_value("pending_bytes"), 0);
	tap_check_int("teardown_only_endpoint_handles", stat_value("datagram_handles"), base_handles);
	tap_report(wait_stat("delayed_datagrams", 0, 5000), "teardown_no_delayed_datagrams",
		   "delayed %lld", stat_value("delayed_datagrams"));
	return tap_exit_code();
}
