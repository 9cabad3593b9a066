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
#include "guest_mem.h"

#define CID 300u

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

static void qp_gone(void *opaque, uint32_t context, uint32_t resource)
{
	(void)opaque;
	vmm_stream_qp_gone(&bridge, context, resource);
}

/* Event number of the newest queued datagram if it is an event, or -1. */
static int last_event(struct vmm_rx_entry *e)
{
	if (!e || e->len < 32 || vmm_get32(e->data + 8) != VMM_HYPERVISOR_CID ||
	    vmm_get32(e->data + 4) != VMM_EVENT_HANDLER)
		return -1;
	return vmm_get32(e->data + 24);
}

/* The entry queued just before the newest one. */
static struct vmm_rx_entry *before_last(struct vmci_model *m)
{
	struct vmm_rx_entry *e = m->rx_head;

	while (e && e->next && e->next != m->rx_tail)
		e = e->next;
	return e && e->next == m->rx_tail ? e : NULL;
}

static bool qp_event_is(struct vmm_rx_entry *e, int event, uint32_t ctx, uint32_t rid)
{
	return last_event(e) == event && e->len == 48 && vmm_get32(e->data + 32) == ctx &&
	       vmm_get32(e->data + 36) == rid && vmm_get32(e->data + 40) == VMM_HOST_CID;
}

static void test_junk(void)
{
	static const struct { const char *kind; size_t len; int event; } kinds[] = {
		{ "event-short", 26, -1 }, { "event-long", 56, VMM_EVENT_QP_PEER_DETACH },
		{ "event-unknown", 32, 200 }, { "event-bare", 32, VMM_EVENT_QP_PEER_DETACH },
		{ "detach-unknown", 48, VMM_EVENT_QP_PEER_DETACH },
		{ "detach-invalid", 48, VMM_EVENT_QP_PEER_DETACH },
		{ "dgram-unknown", 40, -1 }, { "vsock-short", 32, -1 },
		{ "vsock-garbage", 56, -1 }, { "oversize", VMM_MAX_DG_SIZE + 24, -1 },
		{ "dma-resize", 40, -1 },
	};
	struct vmci_model *m = bridge.model;
	char cmd[40], name[40];
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		vmm_reset(m);
		snprintf(cmd, sizeof(cmd), "junk %s", kinds[i].kind);
		snprintf(name, sizeof(name), "junk_%s", kinds[i].kind);
		tap_check_int(name, vmm_bridge_command(&bridge, cmd), 0);
		snprintf(name, sizeof(name), "junk_%s_shape", kinds[i].kind);
		tap_report(m->rx_head && m->rx_head == m->rx_tail &&
			   m->rx_head->len == kinds[i].len &&
			   vmm_get64(m->rx_head->data + 16) == kinds[i].len - 24 &&
			   (kinds[i].event < 0 || last_event(m->rx_head) == kinds[i].event),
			   name, "len %u", m->rx_head ? m->rx_head->len : 0);
	}
	vmm_reset(m);
	tap_check_int("junk_unknown_kind", vmm_bridge_command(&bridge, "junk bogus"), -EINVAL);
	tap_check_int("junk_no_kind", vmm_bridge_command(&bridge, "junk"), -EINVAL);
	tap_check_int("junk_extra_word", vmm_bridge_command(&bridge, "junk oversize 1"),
		      -EINVAL);
	tap_check_int("junk_qhead_no_ports", vmm_bridge_command(&bridge, "junk qhead"),
		      -EINVAL);
	tap_check_int("junk_qhead_bad_port", vmm_bridge_command(&bridge, "junk qhead 1 x"),
		      -EINVAL);
	tap_check_int("junk_qhead_no_stream", vmm_bridge_command(&bridge, "junk qhead 1 2"),
		      -ENOENT);
	tap_check_int("qpdetach_no_ports", vmm_bridge_command(&bridge, "qpdetach 1"), -EINVAL);
	tap_check_int("qpdetach_garbage", vmm_bridge_command(&bridge, "qpdetach 1 2x"), -EINVAL);
	tap_check_int("qpdetach_no_stream", vmm_bridge_command(&bridge, "qpdetach 1 2"), -ENOENT);
	CHECK_EQ("junk_refused_queue_nothing", m->rx_head == NULL, 1);
}

static int64_t hcall(uint32_t rid, const uint8_t *pl, size_t plen)
{
	static uint8_t dg[VMM_DG_HEADER_SIZE + 256];

	vmm_put_header(dg, VMM_HYPERVISOR_CID, rid, VMM_INVALID_ID, VMM_INVALID_ID, plen);
	memcpy(dg + VMM_DG_HEADER_SIZE, pl, plen);
	return vmm_handle_datagram(bridge.model, dg, VMM_DG_HEADER_SIZE + plen);
}

/*
 * A 4096/4096 pair {CID, RID} for PEER on 4 pages from PPN (32-bit list:
 * no PPN64).
 */
static int64_t alloc_pair_to(uint32_t rid, uint32_t ppn, uint32_t peer)
{
	uint8_t pl[56];

	vmm_put32(pl, bridge.model->cid);
	vmm_put32(pl + 4, rid);
	vmm_put32(pl + 8, peer);
	vmm_put32(pl + 12, 0);
	vmm_put64(pl + 16, 4096);
	vmm_put64(pl + 24, 4096);
	vmm_put64(pl + 32, 4);
	for (int i = 0; i < 4; i++)
		vmm_put32(pl + 40 + 4 * i, ppn + i);
	return hcall(VMM_RID_QUEUEPAIR_ALLOC, pl, sizeof(pl));
}

static int64_t alloc_pair(uint32_t rid, uint32_t ppn)
{
	return alloc_pair_to(rid, ppn, VMM_HOST_CID);
}

static struct vmm_stream *stream_of(uint32_t gport)
{
	for (int i = 0; i < VMM_BRIDGE_MAX_STREAMS; i++)
		if (bridge.streams[i].used && bridge.streams[i].guest_port == gport)
			return &bridge.streams[i];
	return NULL;
}

static void guest_detach(uint32_t rid)
{
	uint8_t pl[8];

	vmm_put32(pl, bridge.model->cid);
	vmm_put32(pl + 4, rid);
	hcall(VMM_RID_QUEUEPAIR_DETACH, pl, sizeof(pl));
}

/*
 * A guest connection from GPORT to host port 7100, attached to pair
 * {CID, RID}; returns the host program's end, or -1.
 */
static int open_attached(int lfd, uint32_t gport, uint32_t rid, uint32_t ppn)
{
	struct vmci_model *m = bridge.model;
	int fd;

	packet(1, 11, 1, gport, 7100, 4096, 56);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0 || last_reply(m) != 12 || alloc_pair(rid, ppn) != 0)
		return -1;
	packet(1, 3, 0, gport, 7100, (uint64_t)rid << 32 | m->cid, 56);
	return last_reply(m) == 4 ? fd : -1;
}

static int write_watched;

static void test_watch(struct vmm_stream *st, bool read, bool write)
{
	(void)st;
	(void)read;
	write_watched += write;
}

/*
 * The guest writes N pattern bytes into its produce queue (4096 bytes at
 * PPN + 1, header at PPN) from byte number *SENT on, without the model
 * being told.
 */
static void guest_produce(uint32_t ppn, size_t n, size_t *sent)
{
	uint64_t tail = vmm_get64(guest + ppn * 4096 + 8);

	for (size_t i = 0; i < n; i++)
		guest[(ppn + 1) * 4096 + (tail + i) % 4096] = (uint8_t)(*sent + i);
	vmm_put64(guest + ppn * 4096 + 8, (tail + n) % 4096);
	*sent += n;
}

/* Reads the host end to EOF, keeping the model's sending going. */
static long drain_host(int fd, struct vmm_stream *st, size_t *bad)
{
	uint8_t buf[4096];
	long total = 0;
	ssize_t r;

	for (int spins = 0; spins < 100000; spins++) {
		r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (r == 0)
			return total;
		if (r < 0) {
			if (st->used && st->draining)
				vmm_stream_io(st);
			continue;
		}
		for (ssize_t i = 0; i < r; i++)
			*bad += buf[i] != (uint8_t)(total + i);
		total += r;
	}
	return -1;
}

/* The guest closes with data the host has not taken: it still arrives. */
static void test_guest_close_delivers(int lfd)
{
	struct vmci_model *m = bridge.model;
	size_t sent = 0, bad = 0;
	struct vmm_stream *st;
	uint8_t pl[8];
	long got;
	int fd;

	fd = open_attached(lfd, 5105, 2105, 0x80);
	guest_produce(0x80, 3000, &sent);
	vmm_put32(pl, m->cid);
	vmm_put32(pl + 4, 2105);
	hcall(VMM_RID_QUEUEPAIR_DETACH, pl, 8);
	st = stream_of(5105);
	got = st ? -1 : drain_host(fd, &bridge.streams[0], &bad);
	tap_report(got == 3000 && !bad, "guest_close_queue_reaches_host", "got %ld, %zu bad",
		   got, bad);
	if (fd >= 0)
		close(fd);

	/* The same with the host socket full: the rest goes out as it drains. */
	bridge.watch = test_watch;
	write_watched = 0;
	sent = 0;
	bad = 0;
	fd = open_attached(lfd, 5106, 2106, 0x90);
	st = stream_of(5106);
	for (int i = 0; st && i < 20000; i++) {
		guest_produce(0x90, 1000, &sent);
		packet(1, 5, 0, 5106, 7100, 0, 56);
		/* The model stops taking data once the socket is full. */
		if (vmm_get64(guest + 0x92000 + 16) != vmm_get64(guest + 0x90000 + 8))
			break;
	}
	guest_produce(0x90, 1000, &sent);
	vmm_put32(pl, m->cid);
	vmm_put32(pl + 4, 2106);
	hcall(VMM_RID_QUEUEPAIR_DETACH, pl, 8);
	tap_report(st && st->used && st->draining && write_watched, "guest_close_full_socket_waits",
		   "stream %s", st && st->used ? "not draining" : "gone");
	/* An RST that crossed the detach (a notice to the closed socket). */
	packet(1, 7, 0, 5106, 7100, 0, 56);
	got = st ? drain_host(fd, st, &bad) : -1;
	tap_report(got == (long)sent && !bad && !stream_of(5106), "guest_close_full_socket_delivers",
		   "got %ld of %zu, %zu bad", got, sent, bad);
	if (fd >= 0)
		close(fd);
	bridge.watch = NULL;
}

/*
 * Linux's guest answers a notice for a socket it closed with RST, before
 * it detaches: what the host took and what is still queued both arrive.
 */
static void test_guest_rst_delivers(int lfd)
{
	size_t sent = 0, bad = 0;
	struct vmm_stream *st;
	long got = -1;
	int fd;

	fd = open_attached(lfd, 5107, 2107, 0xd0);
	st = stream_of(5107);
	guest_produce(0xd0, 3000, &sent);
	packet(1, 5, 0, 5107, 7100, 0, 56);
	guest_produce(0xd0, 500, &sent);
	packet(1, 7, 0, 5107, 7100, 0, 56);
	if (st && fd >= 0)
		got = drain_host(fd, st, &bad);
	tap_report(got == 3500 && !bad && !stream_of(5107), "guest_rst_queue_reaches_host",
		   "got %ld of 3500, %zu bad", got, bad);
	if (fd >= 0)
		close(fd);
	guest_detach(2107);
}

static int ticks_wanted;

static void count_tick(struct vmm_bridge *b)
{
	(void)b;
	ticks_wanted++;
}

/* The host program on a new stream sends ANSWER and closes at once. */
static struct vmm_stream *answer_and_close(int lfd, uint32_t gport, uint32_t rid,
					   uint32_t ppn, const char *answer)
{
	int fd = open_attached(lfd, gport, rid, ppn);
	struct vmm_stream *st = stream_of(gport);

	if (fd >= 0) {
		send(fd, answer, strlen(answer), 0);
		close(fd);
	}
	if (st)
		vmm_stream_io(st);
	return st;
}

/*
 * A host program that answers and closes at once: the guest is told of
 * the answer (WROTE) and the detach waits until it read it, or until a
 * guest that does not read has had VMM_STREAM_LINGER_TICKS ticks.
 */
static void test_host_close_lingers(int lfd)
{
	struct vmci_model *m = bridge.model;
	struct vmm_stream *st;
	bool waited;
	int ticks;

	bridge.want_tick = count_tick;
	ticks_wanted = 0;
	st = answer_and_close(lfd, 5108, 2108, 0xb0, "answer\n");
	tap_report(st && st->used && last_reply(m) == 5 &&
		   vmm_get64(guest + 0xb2000 + 8) == 7 &&
		   !memcmp(guest + 0xb3000, "answer\n", 7) && ticks_wanted == 1,
		   "host_close_wrote_before_detach", "last %d, %d ticks wanted",
		   last_reply(m), ticks_wanted);
	waited = vmm_stream_tick(&bridge) && stream_of(5108) && last_reply(m) == 5;
	tap_report(waited, "host_close_waits_for_guest_read", "detached unread");
	/* The guest reads the 7 bytes. */
	vmm_put64(guest + 0xb0000 + 16, 7);
	waited = vmm_stream_tick(&bridge);
	tap_report(!waited && !stream_of(5108) &&
		   qp_event_is(m->rx_tail, VMM_EVENT_QP_PEER_DETACH, m->cid, 2108),
		   "host_close_detaches_once_read", "still waiting: %d", waited);

	answer_and_close(lfd, 5109, 2109, 0xc0, "x");
	for (ticks = 1; ticks <= 2 * VMM_STREAM_LINGER_TICKS; ticks++)
		if (!vmm_stream_tick(&bridge))
			break;
	tap_report(ticks == VMM_STREAM_LINGER_TICKS && !stream_of(5109) &&
		   qp_event_is(m->rx_tail, VMM_EVENT_QP_PEER_DETACH, m->cid, 2109),
		   "host_close_unread_detaches_in_time", "after %d ticks", ticks);
	bridge.want_tick = NULL;
	guest_detach(2108);
	guest_detach(2109);
}

static void test_stream_lifecycle(const char *dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vmci_model *m = bridge.model;
	struct vmm_qpair *qp;
	struct vmm_stream *st;
	uint8_t pl[8], c;
	uint32_t old_cid;
	int lfd, fd;

	vmm_reset(m);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/stream-7100", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 8)) {
		tap_report(0, "lifecycle_listener", "%s", strerror(errno));
		return;
	}

	/* The host attaches: QP_PEER_ATTACH, then the ATTACH packet. */
	fd = open_attached(lfd, 5100, 2100, 0x30);
	tap_report(fd >= 0, "attach_stream_open", "no ATTACH");
	tap_report(qp_event_is(before_last(m), VMM_EVENT_QP_PEER_ATTACH, m->cid, 2100),
		   "peer_attach_event_before_attach", "no QP_PEER_ATTACH {handle, 2}");
	tap_check_int("qpdetach_cmd", vmm_bridge_command(&bridge, "qpdetach 5100 7100"), 0);
	tap_report(qp_event_is(m->rx_tail, VMM_EVENT_QP_PEER_DETACH, m->cid, 2100),
		   "qpdetach_peer_detach_event", "no QP_PEER_DETACH {handle, 2}");
	qp = vmm_qp_find(m, m->cid, 2100);
	tap_report(qp && qp->host_detached && vmm_qp_host_free(m, qp) ==
		   VMM_ERROR_QUEUEPAIR_NOTATTACHED, "qpdetach_pair_kept_unused", "state");
	tap_report(fd >= 0 && recv(fd, &c, 1, 0) == 0, "qpdetach_host_sees_eof", "no EOF");
	tap_check_int("qpdetach_again", vmm_bridge_command(&bridge, "qpdetach 5100 7100"),
		      -ENOENT);
	vmm_put32(pl, m->cid);
	vmm_put32(pl + 4, 2100);
	tap_check_int("guest_detach_after_host", hcall(VMM_RID_QUEUEPAIR_DETACH, pl, 8),
		      VMM_SUCCESS_LAST_DETACH);
	if (fd >= 0)
		close(fd);

	/* The host program closes: QP_PEER_DETACH, no SHUTDOWN packet. */
	fd = open_attached(lfd, 5101, 2101, 0x40);
	if (fd >= 0)
		close(fd);
	st = stream_of(5101);
	if (st)
		vmm_stream_io(st);
	tap_report(qp_event_is(m->rx_tail, VMM_EVENT_QP_PEER_DETACH, m->cid, 2101) &&
		   !stream_of(5101), "host_close_detaches", "last %d", last_reply(m));

	/* Half-close first: SHUTDOWN {SEND}; the close after it detaches. */
	fd = open_attached(lfd, 5102, 2102, 0x50);
	shutdown(fd, SHUT_WR);
	st = stream_of(5102);
	if (st)
		vmm_stream_io(st);
	tap_report(last_reply(m) == 8 && vmm_get64(m->rx_tail->data + 40) == 2,
		   "host_shutdown_sends_shutdown", "last %d", last_reply(m));
	if (fd >= 0)
		close(fd);
	packet(1, 6, 0, 5102, 7100, 0, 56);
	tap_report(qp_event_is(m->rx_tail, VMM_EVENT_QP_PEER_DETACH, m->cid, 2102),
		   "host_close_after_shutdown_detaches", "last %d", last_reply(m));

	/* Garbage offsets in the host-written header; the stream goes quiet. */
	fd = open_attached(lfd, 5103, 2103, 0x60);
	tap_check_int("junk_qhead", vmm_bridge_command(&bridge, "junk qhead 5103 7100"), 0);
	tap_report(vmm_get64(guest + 0x62000 + 8) >= 4096 &&
		   vmm_get64(guest + 0x62000 + 16) >= 4096, "junk_qhead_offsets_garbage",
		   "tail %llu head %llu", (unsigned long long)vmm_get64(guest + 0x62000 + 8),
		   (unsigned long long)vmm_get64(guest + 0x62000 + 16));
	tap_report(last_reply(m) == 6 && before_last(m) && before_last(m)->data[25] == 5,
		   "junk_qhead_wakes_guest", "last %d", last_reply(m));
	packet(1, 5, 0, 5103, 7100, 0, 56);
	tap_report(last_reply(m) == 6 && stream_of(5103), "junk_qhead_stream_quiet",
		   "last %d", last_reply(m));
	tap_check_int("junk_qhead_again", vmm_bridge_command(&bridge, "junk qhead 5103 7100"),
		      -ENOENT);
	vmm_put32(pl, m->cid);
	vmm_put32(pl + 4, 2103);
	hcall(VMM_RID_QUEUEPAIR_DETACH, pl, 8);
	tap_report(!stream_of(5103) && fd >= 0 && recv(fd, &c, 1, 0) == 0,
		   "junk_qhead_guest_detach_closes", "stream left");
	if (fd >= 0)
		close(fd);

	test_guest_close_delivers(lfd);
	test_guest_rst_delivers(lfd);
	test_host_close_lingers(lfd);

	/* A new context ID ends the host's connections to the old one. */
	fd = open_attached(lfd, 5104, 2104, 0x70);
	old_cid = m->cid;
	tap_check_int("cid_with_open_stream", vmm_bridge_command(&bridge, "cid 4001"), 0);
	tap_report(qp_event_is(before_last(m), VMM_EVENT_QP_PEER_DETACH, old_cid, 2104) &&
		   last_event(m->rx_tail) == VMM_EVENT_CTX_ID_UPDATE && !stream_of(5104),
		   "cid_change_detaches_first", "events wrong");
	if (fd >= 0)
		close(fd);

	/*
	 * QP_RESUMED: the guest frees its pairs' pages without a detach, so
	 * the model must have forgotten them, or the host end (and junk
	 * qhead) would write into pages the guest reuses.
	 */
	fd = open_attached(lfd, 5105, 2105, 0x80);
	tap_report(fd >= 0 && vmm_qp_find(m, m->cid, 2105), "resume_stream_open", "no pair");
	tap_check_int("cmd_event_qp_resumed", vmm_bridge_command(&bridge, "event 2"), 0);
	tap_report(!vmm_qp_find(m, m->cid, 2105) &&
		   last_event(m->rx_tail) == VMM_EVENT_QP_RESUMED,
		   "qp_resumed_forgets_pairs", "pair kept or no event");
	tap_check_int("qp_resumed_no_qhead_write",
		      vmm_bridge_command(&bridge, "junk qhead 5105 7100"), -ENOENT);
	if (fd >= 0)
		close(fd);
	close(lfd);
	unlink(sa.sun_path);
	vmm_reset(m);
	m->cid = CID;
}

/* A control packet from the guest {CID, 1} to the hypervisor {0, 15}. */
static int64_t hv_packet(uint8_t type, uint32_t gport, uint32_t hport, uint64_t u0)
{
	uint8_t dg[56] = { 0 };

	vmm_put_header(dg, VMM_HYPERVISOR_CID, VMM_RID_HV_VSOCK_PACKET, VMM_INVALID_ID, 1, 32);
	dg[24] = 1;
	dg[25] = type;
	dg[26] = type == 11;	/* REQUEST2 offers the queue-state protocol */
	vmm_put32(dg + 28, gport);
	vmm_put32(dg + 32, hport);
	vmm_put64(dg + 40, u0);
	return vmm_handle_datagram(bridge.model, dg, sizeof(dg));
}

/* Type of the newest packet if the hypervisor {0, 15} sent it to {CID, 1}, or -1. */
static int last_hv_reply(struct vmci_model *m)
{
	struct vmm_rx_entry *e = m->rx_tail;

	if (!e || e->len != 56 || vmm_get32(e->data + 4) != 1 ||
	    vmm_get32(e->data + 8) != VMM_HYPERVISOR_CID ||
	    vmm_get32(e->data + 12) != VMM_RID_HV_VSOCK_PACKET)
		return -1;
	return e->data[25];
}

/* An accepted hypervisor connection's first line, or "" on EOF. */
static void read_preamble(int fd, char *line, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap && recv(fd, line + n, 1, 0) == 1 && line[n] != '\n')
		n++;
	line[n] = 0;
}

static bool hv_event_is(struct vmm_rx_entry *e, int event, uint32_t rid)
{
	return last_event(e) == event && e->len == 48 &&
	       vmm_get32(e->data + 36) == rid && vmm_get32(e->data + 40) == VMM_HYPERVISOR_CID;
}

/*
 * Streams to the hypervisor (CID 0), VMware Tools' path: control packets
 * to and from {0, 15}, the caller line, pairs made for peer 0, data both
 * ways, and the host end closing.
 */
static void test_hypervisor_stream(const char *dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vmci_model *m = bridge.model;
	uint8_t dg[VMM_DG_HEADER_SIZE], pl[8], buf[16];
	struct vmm_stream *st;
	char line[64], want[64];
	int lfd, fd, fd2;
	size_t sent = 0;

	vmm_reset(m);
	hv_packet(11, 1023, 976, 4096);
	tap_check_int("hv_no_listener_rst", last_hv_reply(m), 7);
	vmm_put_header(dg, VMM_HYPERVISOR_CID, 16, VMM_INVALID_ID, 1, 0);
	tap_check_int("hv_other_resource_is_a_call", vmm_handle_datagram(m, dg, sizeof(dg)),
		      VMM_ERROR_INVALID_RESOURCE);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/hv-stream-976", dir);
	/* Non-blocking: a model that never connects must fail, not hang. */
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 8)) {
		tap_report(0, "hv_listener", "%s", strerror(errno));
		return;
	}
	tap_check_int("hv_request_routed", hv_packet(11, 1023, 976, 4096), 56);
	tap_check_int("hv_negotiate2_from_rid_15", last_hv_reply(m), 12);
	fd = accept(lfd, NULL, NULL);
	read_preamble(fd, line, sizeof(line));
	snprintf(want, sizeof(want), "VSOCK %u 1023", m->cid);
	tap_report(fd >= 0 && !strcmp(line, want), "hv_caller_line", "got \"%s\"", line);
	/* The same ports toward the host context are another connection. */
	packet(1, 3, 0, 1023, 976, (uint64_t)2200 << 32 | m->cid, 56);
	tap_report(last_reply(m) == 7 && stream_of(1023), "hv_stream_not_the_hosts",
		   "last %d", last_reply(m));
	/* A pair made for the host is not one for the hypervisor. */
	tap_check_int("hv_host_pair_alloc", alloc_pair_to(2200, 0x90, VMM_HOST_CID), 0);
	hv_packet(3, 1023, 976, (uint64_t)2200 << 32 | m->cid);
	tap_report(last_hv_reply(m) == 7 && !stream_of(1023) && fd >= 0 &&
		   recv(fd, buf, 1, MSG_DONTWAIT) == 0, "hv_offer_of_host_pair_rst", "last %d",
		   last_hv_reply(m));
	vmm_put32(pl, m->cid);
	vmm_put32(pl + 4, 2200);
	hcall(VMM_RID_QUEUEPAIR_DETACH, pl, 8);
	if (fd >= 0)
		close(fd);

	hv_packet(11, 1022, 976, 4096);
	fd2 = accept(lfd, NULL, NULL);
	read_preamble(fd2, line, sizeof(line));
	tap_check_int("hv_pair_alloc", alloc_pair_to(2201, 0xa0, VMM_HYPERVISOR_CID), 0);
	hv_packet(3, 1022, 976, (uint64_t)2201 << 32 | m->cid);
	tap_check_int("hv_attach", last_hv_reply(m), 4);
	tap_report(hv_event_is(before_last(m), VMM_EVENT_QP_PEER_ATTACH, 2201),
		   "hv_peer_attach_names_hypervisor", "no QP_PEER_ATTACH {handle, 0}");
	guest_produce(0xa0, 5, &sent);
	hv_packet(5, 1022, 976, 0);
	tap_report(fd2 >= 0 && recv(fd2, buf, sizeof(buf), MSG_DONTWAIT) == 5 &&
		   buf[0] == 0 && buf[4] == 4 && last_hv_reply(m) == 6, "hv_guest_to_host",
		   "last %d", last_hv_reply(m));
	st = stream_of(1022);
	if (fd2 >= 0 && st && send(fd2, "pong", 4, 0) == 4)
		vmm_stream_io(st);
	tap_report(vmm_get64(guest + 0xa2 * 4096 + 8) == 4 &&
		   !memcmp(guest + 0xa3 * 4096, "pong", 4) && last_hv_reply(m) == 5,
		   "hv_host_to_guest", "tail %llu last %d",
		   (unsigned long long)vmm_get64(guest + 0xa2 * 4096 + 8), last_hv_reply(m));
	/* The guest reads "pong"; a closed host end waits for that. */
	vmm_put64(guest + 0xa0 * 4096 + 16, 4);
	if (fd2 >= 0)
		close(fd2);
	if (st)
		vmm_stream_io(st);
	tap_report(hv_event_is(m->rx_tail, VMM_EVENT_QP_PEER_DETACH, 2201) &&
		   !stream_of(1022), "hv_host_close_detaches", "last %d", last_hv_reply(m));
	vmm_put32(pl + 4, 2201);
	hcall(VMM_RID_QUEUEPAIR_DETACH, pl, 8);
	close(lfd);
	unlink(sa.sun_path);
	vmm_reset(m);
}

int main(void)
{
	struct vmm_env env = { .mem_read = mem_read, .mem_write = mem_write,
			       .host_datagram = to_host, .qp_gone = qp_gone };
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
	test_junk();
	test_stream_lifecycle(dir);
	test_hypervisor_stream(dir);

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
