// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of the Unix-socket bridge: datagrams both ways through
 * real sockets in a temporary directory, and the control commands,
 * including malformed ones.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../vmci_bridge.h"
#include "../../user/tap.h"

#define CID 300u

static int no_mem(void *opaque, uint64_t gpa, void *buf, size_t len)
{
	(void)opaque; (void)gpa; (void)buf; (void)len;
	return -1;
}

static int no_mem_w(void *opaque, uint64_t gpa, const void *buf, size_t len)
{
	(void)opaque; (void)gpa; (void)buf; (void)len;
	return -1;
}

static struct vmm_bridge bridge;

static int64_t to_host(void *opaque, const uint8_t *dg, size_t len)
{
	(void)opaque;
	return vmm_bridge_from_guest(&bridge, dg, len);
}

static int bind_at(const char *dir, const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, name);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	return fd;
}

static void send_to(int fd, const char *dir, const char *name, const void *buf,
		    size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, name);
	sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa));
}

/* A vSockets control packet from the guest {CID, 1} to {2, 1}. */
static int64_t packet(uint8_t version, uint8_t type, uint16_t proto, uint32_t gport,
		      uint32_t hport, uint64_t u0, size_t len)
{
	uint8_t dg[64] = { 0 };

	vmm_put_header(dg, VMM_HOST_CID, 1, VMM_INVALID_ID, 1, len - VMM_DG_HEADER_SIZE);
	dg[24] = version;
	dg[25] = type;
	dg[26] = proto;
	vmm_put32(dg + 28, gport);
	vmm_put32(dg + 32, hport);
	vmm_put64(dg + 40, u0);
	return vmm_handle_datagram(bridge.model, dg, len);
}

/* Type of the newest packet queued for the guest, or -1. */
static int last_reply(struct vmci_model *m)
{
	struct vmm_rx_entry *e = m->rx_tail;

	if (!e || e->len != 56 || vmm_get32(e->data + 4) != 1)
		return -1;
	return e->data[25];
}

static void test_stream_packets(const char *dir)
{
	struct vmci_model *m = bridge.model;
	struct vmm_rx_entry *before;
	int lfd;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	vmm_reset(m);
	tap_check_int("pkt_short", packet(1, 11, 1, 5000, 7000, 4096, 48),
		      VMM_ERROR_INVALID_ARGS);
	tap_check_int("pkt_bad_version", packet(2, 11, 1, 5000, 7000, 4096, 56),
		      VMM_ERROR_INVALID_ARGS);
	CHECK_EQ("pkt_bad_nothing_sent", m->rx_head == NULL, 1);
	packet(1, 11, 1, 5000, 7000, 4096, 56);
	tap_check_int("request_no_listener_rst", last_reply(m), 7);
	packet(1, 13, 0, 5000, 7000, 0, 56);
	tap_check_int("unknown_type_invalid", last_reply(m), 0);
	packet(1, 3, 0, 5000, 7000, 0, 56);
	tap_check_int("offer_without_request_rst", last_reply(m), 7);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/stream-7000", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 4)) {
		tap_report(0, "stream_listener", "%s", strerror(errno));
		return;
	}
	packet(1, 11, 1, 5000, 7000, 0, 56);
	tap_check_int("request_size_zero_rst", last_reply(m), 7);
	packet(1, 11, 0, 5000, 7000, 4096, 56);
	tap_check_int("request2_no_proto_rst", last_reply(m), 7);
	packet(1, 11, 1, 5000, 7000, 4096, 56);
	tap_check_int("request2_negotiate2", last_reply(m), 12);
	CHECK_EQ("negotiate2_size", vmm_get64(m->rx_tail->data + 40), 4096);
	packet(1, 11, 1, 5000, 7000, 4096, 56);
	tap_check_int("duplicate_request_rst", last_reply(m), 7);
	packet(1, 1, 0, 5001, 7000, 1 << 30, 56);
	tap_check_int("request_huge_queue_rst", last_reply(m), 7);
	packet(1, 1, 0, 5002, 7000, 4096, 56);
	tap_check_int("request_negotiate", last_reply(m), 2);
	/* OFFER of a pair that was never allocated. */
	packet(1, 3, 0, 5002, 7000, (uint64_t)4321 << 32 | CID, 56);
	tap_check_int("offer_unknown_pair_rst", last_reply(m), 7);
	packet(1, 11, 1, 5003, 7000, 4096, 56);
	before = m->rx_tail;
	packet(1, 7, 0, 5003, 7000, 0, 56);
	tap_report(m->rx_tail == before, "rst_is_not_answered", "a reply was queued");
	close(lfd);
	unlink(sa.sun_path);
}

int main(void)
{
	struct vmm_env env = { .mem_read = no_mem, .mem_write = no_mem_w,
			       .host_datagram = to_host };
	char dir[] = "/tmp/vmci-bridge-test.XXXXXX";
	uint8_t dg[VMM_DG_HEADER_SIZE + 64], buf[128];
	struct vmci_model m;
	int host, ret;
	ssize_t n;

	if (!mkdtemp(dir) || vmm_init(&m, &env, CID, 0)) {
		printf("Bail out! setup\n");
		return 1;
	}
	ret = vmm_bridge_open(&bridge, &m, dir);
	tap_check_int("open", ret, 0);
	host = bind_at(dir, "dgram-6000");

	/* Guest {CID, 5000} -> host {2, 6000}. */
	vmm_put_header(dg, VMM_HOST_CID, 6000, VMM_INVALID_ID, 5000, 5);
	memcpy(dg + VMM_DG_HEADER_SIZE, "hello", 5);
	tap_check_int("guest_to_host_result", vmm_handle_datagram(&m, dg, 29), 29);
	n = recv(host, buf, sizeof(buf), MSG_DONTWAIT);
	tap_report(n == 13 && vmm_get32(buf) == 5000 && vmm_get32(buf + 4) == 6000 &&
		   !memcmp(buf + 8, "hello", 5), "host_receives_framed", "n=%zd", n);
	vmm_put_header(dg, VMM_HOST_CID, 6001, VMM_INVALID_ID, 5000, 5);
	tap_check_int("unbound_host_port", vmm_handle_datagram(&m, dg, 29),
		      VMM_ERROR_DST_UNREACHABLE);

	/* Host -> guest, and a runt that must be dropped. */
	vmm_put32(buf, 5000);
	vmm_put32(buf + 4, 6000);
	memcpy(buf + 8, "world", 5);
	send_to(host, dir, VMM_BRIDGE_DGRAM_NAME, buf, 13);
	send_to(host, dir, VMM_BRIDGE_DGRAM_NAME, buf, 3);
	usleep(10000);
	vmm_bridge_dgram_readable(&bridge);
	tap_report(m.rx_head && m.rx_head->len == 29 &&
		   vmm_get32(m.rx_head->data) == CID &&
		   vmm_get32(m.rx_head->data + 4) == 5000 &&
		   vmm_get32(m.rx_head->data + 8) == VMM_HOST_CID &&
		   vmm_get32(m.rx_head->data + 12) == 6000 &&
		   !memcmp(m.rx_head->data + 24, "world", 5) && !m.rx_head->next,
		   "host_to_guest_queued", "queue wrong");
	CHECK_EQ("runt_dropped", bridge.dropped, 2);

	/* Control commands. */
	tap_check_int("cmd_cid", vmm_bridge_command(&bridge, "cid 4000"), 0);
	CHECK_EQ("cid_changed", m.cid, 4000);
	CHECK_EQ("cid_event_queued",
		 m.rx_tail && vmm_get32(m.rx_tail->data + 24) == VMM_EVENT_CTX_ID_UPDATE &&
		 vmm_get32(m.rx_tail->data + 32) == 4000, 1);
	tap_check_int("cmd_cid_reserved", vmm_bridge_command(&bridge, "cid 2"), -EINVAL);
	tap_check_int("cmd_cid_garbage", vmm_bridge_command(&bridge, "cid 12x"), -EINVAL);
	tap_check_int("cmd_event", vmm_bridge_command(&bridge, "event 2"), 0);
	tap_check_int("cmd_event_vmx_only", vmm_bridge_command(&bridge, "event 5"), -EINVAL);
	tap_check_int("cmd_fail", vmm_bridge_command(&bridge, "fail 1 -20"), 0);
	vmm_put_header(dg, 0, VMM_RID_GET_CONTEXT_ID, VMM_INVALID_ID, VMM_INVALID_ID, 0);
	tap_check_int("fail_applies_once", vmm_handle_datagram(&m, dg, 24), -20);
	tap_check_int("fail_then_normal", vmm_handle_datagram(&m, dg, 24), 4000);
	tap_check_int("cmd_fail_positive", vmm_bridge_command(&bridge, "fail 1 5"), -EINVAL);
	tap_check_int("cmd_unknown", vmm_bridge_command(&bridge, "explode"), -EINVAL);
	tap_check_int("cmd_empty", vmm_bridge_command(&bridge, ""), -EINVAL);
	tap_check_int("cmd_reset", vmm_bridge_command(&bridge, "reset"), 0);
	CHECK_EQ("reset_empties_queue", m.rx_head == NULL, 1);

	test_stream_packets(dir);

	close(host);
	vmm_bridge_close(&bridge);
	vmm_destroy(&m);
	unlink(strcat(strcpy((char *)buf, dir), "/dgram-6000"));
	snprintf((char *)buf, sizeof(buf), "%s/%s", dir, VMM_BRIDGE_DGRAM_NAME);
	unlink((char *)buf);
	snprintf((char *)buf, sizeof(buf), "%s/%s", dir, VMM_BRIDGE_CONTROL_NAME);
	unlink((char *)buf);
	snprintf((char *)buf, sizeof(buf), "%s/%s", dir, VMM_BRIDGE_STREAM_NAME);
	unlink((char *)buf);
	rmdir(dir);
	return tap_exit_code();
}
