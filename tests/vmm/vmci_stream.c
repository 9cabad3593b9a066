// SPDX-License-Identifier: GPL-2.0
/*
 * The host side of vSockets streams (guest connects to CID 2): the
 * control-packet handshake, and bytes between the guest's queue pair and
 * a Unix stream socket. Uses the queue-state notification protocol
 * (REQUEST2/NEGOTIATE2, proto 1) or the packet protocol for an old
 * REQUEST; in both the device sends WROTE after filling the guest's
 * queue and READ after draining it, which wakes either kind of guest.
 *
 * The host end closing (the Unix peer gone, a send to it failing, the
 * qpdetach command, a context-ID change) detaches the host from the pair
 * and the guest gets QP_PEER_DETACH, as from a host whose socket closed;
 * a Unix peer that only shut its sending side gives the guest SHUTDOWN
 * {SEND} instead. A Unix peer that closed right after its last bytes
 * detaches only once the guest has read them (host_left()).
 *
 * The guest leaving (its detach, or an RST once the pair is attached)
 * still delivers what it wrote: the host program gets the rest of the
 * guest's queue before its socket closes.
 *
 * Guest connections to the hypervisor (CID 0, packets from and to RID
 * 15) work the same way on <dir>/hv-stream-P; that is the path VMware
 * Tools take. The hypervisor never connects to the guest.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vmci_bridge.h"

#define PKT_SIZE	56u
#define PKT_RID		1u
#define PKT_VERSION	1
#define T_INVALID	0
#define T_REQUEST	1
#define T_NEGOTIATE	2
#define T_OFFER		3
#define T_ATTACH	4
#define T_WROTE		5
#define T_READ		6
#define T_RST		7
#define T_SHUTDOWN	8
#define T_REQUEST2	11
#define T_NEGOTIATE2	12
#define T_MAX		13
#define PROTO_QSTATE	1
#define SHUT_SEND_MODE	2
#define MIN_QUEUE	128u
#define MAX_QUEUE	(64u << 20)

/* A control packet from PEER (the host, or the hypervisor) to the guest. */
static int send_pkt(struct vmm_bridge *b, uint32_t peer, uint32_t guest_port,
		    uint32_t host_port, uint8_t type, uint16_t proto, uint64_t u0,
		    uint64_t u1)
{
	uint8_t dg[PKT_SIZE];

	memset(dg, 0, sizeof(dg));
	vmm_put_header(dg, b->model->cid, PKT_RID, peer,
		       peer == VMM_HYPERVISOR_CID ? VMM_RID_HV_VSOCK_PACKET : PKT_RID,
		       PKT_SIZE - VMM_DG_HEADER_SIZE);
	dg[24] = PKT_VERSION;
	dg[25] = type;
	dg[26] = proto;
	dg[27] = proto >> 8;
	vmm_put32(dg + 28, host_port);
	vmm_put32(dg + 32, guest_port);
	vmm_put64(dg + 40, u0);
	vmm_put64(dg + 48, u1);
	return vmm_deliver(b->model, dg, sizeof(dg));
}

static struct vmm_stream *find(struct vmm_bridge *b, uint32_t peer, uint32_t gport,
			       uint32_t hport)
{
	for (int i = 0; i < VMM_BRIDGE_MAX_STREAMS; i++) {
		struct vmm_stream *st = &b->streams[i];

		if (st->used && st->peer == peer && st->guest_port == gport &&
		    st->host_port == hport)
			return st;
	}
	return NULL;
}

static void close_stream(struct vmm_stream *st)
{
	if (!st->used)
		return;
	if (st->bridge->watch)
		st->bridge->watch(st, false, false);
	close(st->fd);
	free(st->out);
	memset(st, 0, sizeof(*st));
	st->fd = -1;
}

static void reset_stream(struct vmm_stream *st)
{
	send_pkt(st->bridge, st->peer, st->guest_port, st->host_port, T_RST, 0, 0, 0);
	close_stream(st);
}

static struct vmm_qpair *stream_qp(struct vmm_stream *st)
{
	if (!st->attached)
		return NULL;
	return vmm_qp_find(st->bridge->model, st->qp_context, st->qp_resource);
}

/* The Unix peer closed (not just shut its sending side). */
static bool host_closed(struct vmm_stream *st)
{
	struct pollfd p = { .fd = st->fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

/* The host end goes away: the guest learns it from QP_PEER_DETACH. */
static void detach_stream(struct vmm_stream *st)
{
	struct vmm_qpair *qp = stream_qp(st);

	if (qp)
		vmm_qp_host_detach(st->bridge->model, qp);
	else if (!st->attached && st->state != ST_LINE && !st->draining)
		send_pkt(st->bridge, st->peer, st->guest_port, st->host_port, T_RST, 0, 0, 0);
	close_stream(st);
}

static void update_watch(struct vmm_stream *st)
{
	struct vmm_qpair *qp = stream_qp(st);
	bool room = qp && vmm_qp_host_free(st->bridge->model, qp) > 0;

	if (st->bridge->watch)
		st->bridge->watch(st, room && !st->host_eof, st->out_len > st->out_off);
}

/* Everything still in the guest's produce queue, appended to st->out. */
static void take_rest(struct vmm_stream *st)
{
	struct vmm_qpair *qp = stream_qp(st);
	int64_t ready = qp && !st->poisoned ? vmm_qp_host_ready(st->bridge->model, qp) : 0;
	size_t pending = st->out_len - st->out_off;
	uint8_t *grown;

	if (ready <= 0)
		return;
	grown = malloc(pending + ready);
	if (!grown)
		return;
	memcpy(grown, st->out + st->out_off, pending);
	if (vmm_qp_host_read(st->bridge->model, qp, grown + pending, ready) != ready) {
		free(grown);
		return;
	}
	free(st->out);
	st->out = grown;
	st->out_off = 0;
	st->out_len = pending + ready;
}

/* After the guest left: send the host program what is owed, then close. */
static void drain(struct vmm_stream *st)
{
	ssize_t n;

	while (st->out_off < st->out_len) {
		n = send(st->fd, st->out + st->out_off, st->out_len - st->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN && st->bridge->watch) {
			st->bridge->watch(st, false, true);
			return;
		}
		if (n <= 0)
			break;
		st->out_off += n;
	}
	close_stream(st);
}

/* The guest left: what it wrote still goes to the host program. */
static void guest_left(struct vmm_stream *st)
{
	take_rest(st);
	st->attached = false;
	st->host_gone = false;
	st->draining = true;
	drain(st);
}

/* Bytes in the guest's consume queue it has not read yet, or < 0. */
static int64_t guest_unread(struct vmm_stream *st, struct vmm_qpair *qp)
{
	int64_t room = vmm_qp_host_free(st->bridge->model, qp);

	return room < 0 ? room : (int64_t)qp->consume_size - 1 - room;
}

/*
 * The Unix peer is gone. A real host detaches some time after its last
 * write, never in the same instant, and a guest may depend on that:
 * Linux's in-tree transport takes a detach that lands between its check
 * for data and its check for the peer's shutdown as end of stream, and
 * loses what was just written (seen on 6.1 as the bulk test's answer
 * missing). So the host end detaches once the guest has read its queue,
 * or after VMM_STREAM_LINGER_TICKS ticks of a guest that does not read.
 */
static void host_left(struct vmm_stream *st)
{
	struct vmm_bridge *b = st->bridge;
	struct vmm_qpair *qp = stream_qp(st);

	if (!qp || st->poisoned || guest_unread(st, qp) <= 0 ||
	    st->linger >= VMM_STREAM_LINGER_TICKS) {
		detach_stream(st);
		return;
	}
	if (st->host_gone)
		return;
	st->host_gone = true;
	if (b->watch)
		b->watch(st, false, false);
	if (b->want_tick)
		b->want_tick(b);
}

bool vmm_stream_tick(struct vmm_bridge *b)
{
	bool lingering = false;

	for (int i = 0; i < VMM_BRIDGE_MAX_STREAMS; i++) {
		struct vmm_stream *st = &b->streams[i];

		if (!st->used || !st->host_gone)
			continue;
		st->linger++;
		host_left(st);
		lingering |= st->used && st->host_gone;
	}
	return lingering;
}

/* Guest to host: drain the guest's produce queue into the socket. */
static void to_host(struct vmm_stream *st)
{
	struct vmm_qpair *qp = stream_qp(st);
	bool drained = false;
	ssize_t n;
	int64_t got;

	while (qp) {
		if (st->out_off == st->out_len) {
			got = vmm_qp_host_read(st->bridge->model, qp, st->out,
					       VMM_STREAM_BUF);
			if (got == VMM_ERROR_QUEUEPAIR_NODATA)
				break;
			if (got < 0) {
				reset_stream(st);
				return;
			}
			st->out_len = got;
			st->out_off = 0;
			drained = true;
		}
		n = send(st->fd, st->out + st->out_off, st->out_len - st->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			/* The host program is gone: its end of the pair too. */
			host_left(st);
			return;
		}
		st->out_off += n;
	}
	if (drained)
		send_pkt(st->bridge, st->peer, st->guest_port, st->host_port, T_READ, 0, 0, 0);
	if (st->guest_shut && st->out_off == st->out_len &&
	    (!qp || vmm_qp_host_ready(st->bridge->model, qp) <= 0))
		shutdown(st->fd, SHUT_WR);
}

/* Host to guest: fill the guest's consume queue from the socket. */
static void to_guest(struct vmm_stream *st)
{
	static uint8_t buf[VMM_STREAM_BUF];
	struct vmm_qpair *qp = stream_qp(st);
	bool wrote = false;
	int64_t room;
	ssize_t n;

	while (qp && !st->host_eof) {
		room = vmm_qp_host_free(st->bridge->model, qp);
		if (room < 0) {
			reset_stream(st);
			return;
		}
		if (room == 0)
			break;
		if (room > (int64_t)sizeof(buf))
			room = sizeof(buf);
		n = recv(st->fd, buf, room, MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0 && host_closed(st)) {
			/* The guest hears of what was written before the detach. */
			if (wrote)
				send_pkt(st->bridge, st->peer, st->guest_port, st->host_port,
					 T_WROTE, 0, 0, 0);
			host_left(st);
			return;
		}
		if (n <= 0) {
			st->host_eof = true;
			send_pkt(st->bridge, st->peer, st->guest_port, st->host_port, T_SHUTDOWN,
				 0, SHUT_SEND_MODE, 0);
			break;
		}
		if (vmm_qp_host_write(st->bridge->model, qp, buf, n) != n) {
			reset_stream(st);
			return;
		}
		wrote = true;
	}
	if (wrote)
		send_pkt(st->bridge, st->peer, st->guest_port, st->host_port, T_WROTE, 0, 0, 0);
}

static struct vmm_stream *free_slot(struct vmm_bridge *b)
{
	for (int i = 0; i < VMM_BRIDGE_MAX_STREAMS; i++)
		if (!b->streams[i].used)
			return &b->streams[i];
	return NULL;
}

#define DEFAULT_QUEUE 262144u

/* "CONNECT <port>\n" from the host program, then REQUEST2 to the guest. */
static void read_connect_line(struct vmm_stream *st)
{
	unsigned int port;
	char extra;
	ssize_t n;

	while (st->line_len < sizeof(st->line) - 1) {
		n = recv(st->fd, st->line + st->line_len, 1, MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		if (st->line[st->line_len] == '\n') {
			st->line[st->line_len] = 0;
			if (sscanf(st->line, "CONNECT %u%c", &port, &extra) != 1)
				break;
			st->guest_port = port;
			st->host_port = st->bridge->next_port++;
			st->state = ST_REQUESTED;
			send_pkt(st->bridge, st->peer, port, st->host_port, T_REQUEST2,
				 PROTO_QSTATE, DEFAULT_QUEUE, 0);
			return;
		}
		st->line_len++;
	}
	close_stream(st);
}

void vmm_stream_accept(struct vmm_bridge *b)
{
	struct vmm_stream *st;
	int fd;

	fd = accept(b->listen_fd, NULL, NULL);
	if (fd < 0)
		return;
	st = free_slot(b);
	if (!st || !b->watch) {
		close(fd);
		return;
	}
	st->out = malloc(VMM_STREAM_BUF);
	if (!st->out) {
		close(fd);
		return;
	}
	st->bridge = b;
	st->used = true;
	st->fd = fd;
	st->peer = VMM_HOST_CID;
	st->state = ST_LINE;
	st->guest_port = VMM_INVALID_ID;
	st->host_port = VMM_INVALID_ID;
	b->watch(st, true, false);
}

/*
 * While the guest has not accepted yet, the host program may give up: a
 * closed socket withdraws the request. Early data waits for the accept.
 */
static void handshake_hangup(struct vmm_stream *st)
{
	char c;
	ssize_t n = recv(st->fd, &c, 1, MSG_DONTWAIT | MSG_PEEK);

	if (n == 0 || (n < 0 && errno != EAGAIN))
		reset_stream(st);
	else if (n > 0)
		st->bridge->watch(st, false, false);
}

/* The guest accepted and attached: tell the host program, start moving. */
static void host_stream_open(struct vmm_stream *st)
{
	char ok[32];
	int len = snprintf(ok, sizeof(ok), "OK %u\n", st->host_port);

	st->state = ST_OPEN;
	st->attached = true;
	if (send(st->fd, ok, len, MSG_DONTWAIT | MSG_NOSIGNAL) != len) {
		reset_stream(st);
		return;
	}
	vmm_stream_io(st);
}

void vmm_stream_io(struct vmm_stream *st)
{
	if (st->used && st->draining) {
		drain(st);
		return;
	}
	if (st->used && st->state == ST_LINE) {
		read_connect_line(st);
		return;
	}
	if (st->used && st->state != ST_OPEN) {
		handshake_hangup(st);
		return;
	}
	/* A poisoned pair is left alone until the guest gives it up. */
	if (!st->used || st->poisoned)
		return;
	if (st->host_gone || (st->host_eof && host_closed(st))) {
		host_left(st);
		return;
	}
	to_host(st);
	/* A host end that left waits in host_left(), unwatched. */
	if (st->used && !st->host_gone)
		to_guest(st);
	if (st->used && !st->host_gone)
		update_watch(st);
}

/*
 * The hypervisor's endpoints learn who is calling: they judge the guest's
 * source port (below 1024: privileged), which the bytes do not carry.
 */
static int hv_preamble(struct vmm_bridge *b, int fd, uint32_t gport)
{
	char line[40];
	int len = snprintf(line, sizeof(line), "VSOCK %u %u\n", b->model->cid, gport);

	return send(fd, line, len, MSG_DONTWAIT | MSG_NOSIGNAL) == len ? 0 : -1;
}

static struct vmm_stream *open_stream(struct vmm_bridge *b, uint32_t peer,
				      uint32_t gport, uint32_t hport)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct vmm_stream *st = NULL;
	int fd;

	for (int i = 0; i < VMM_BRIDGE_MAX_STREAMS && !st; i++)
		if (!b->streams[i].used)
			st = &b->streams[i];
	if (!st)
		return NULL;
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%sstream-%u",
			     b->dir, peer == VMM_HYPERVISOR_CID ? "hv-" : "",
			     hport) >= sizeof(sa.sun_path))
		return NULL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	/* A local listener accepts at once or not at all. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    (peer == VMM_HYPERVISOR_CID && hv_preamble(b, fd, gport))) {
		close(fd);
		return NULL;
	}
	st->out = malloc(VMM_STREAM_BUF);
	if (!st->out) {
		close(fd);
		return NULL;
	}
	st->bridge = b;
	st->used = true;
	st->fd = fd;
	st->peer = peer;
	st->guest_port = gport;
	st->host_port = hport;
	return st;
}

/* A pair the guest offers must name the endpoint it offers it to. */
static bool pair_for(const struct vmm_qpair *qp, uint32_t peer)
{
	if (peer == VMM_HYPERVISOR_CID)
		return qp->peer == VMM_HYPERVISOR_CID;
	return qp->peer == VMM_HOST_CID || qp->peer == VMM_INVALID_ID;
}

int64_t vmm_stream_packet(struct vmm_bridge *b, const uint8_t *dg, size_t len)
{
	/* The bridge sends only packets for {2, 1} and {0, 15} here. */
	uint32_t peer = vmm_get32(dg);
	uint32_t gport, hport, rid;
	struct vmm_stream *st;
	struct vmm_qpair *qp;
	uint64_t size;
	uint16_t proto;
	uint8_t type;

	if (len != PKT_SIZE || dg[24] != PKT_VERSION)
		return VMM_ERROR_INVALID_ARGS;
	type = dg[25];
	proto = dg[26] | dg[27] << 8;
	gport = vmm_get32(dg + 28);
	hport = vmm_get32(dg + 32);
	size = vmm_get64(dg + 40);
	st = find(b, peer, gport, hport);

	switch (type) {
	case T_REQUEST:
	case T_REQUEST2:
		if (st || size < MIN_QUEUE || size > MAX_QUEUE) {
			send_pkt(b, peer, gport, hport, T_RST, 0, 0, 0);
			break;
		}
		if (type == T_REQUEST2 && !(proto & PROTO_QSTATE)) {
			send_pkt(b, peer, gport, hport, T_RST, 0, 0, 0);
			break;
		}
		st = open_stream(b, peer, gport, hport);
		if (!st) {
			send_pkt(b, peer, gport, hport, T_RST, 0, 0, 0);
			break;
		}
		if (type == T_REQUEST2)
			send_pkt(b, peer, gport, hport, T_NEGOTIATE2, PROTO_QSTATE, size, 0);
		else
			send_pkt(b, peer, gport, hport, T_NEGOTIATE, 0, size, 0);
		break;
	case T_OFFER:
		rid = vmm_get32(dg + 44);
		qp = vmm_qp_find(b->model, b->model->cid, rid);
		if (!st || st->attached || st->draining || st->state != ST_OPEN ||
		    vmm_get32(dg + 40) != b->model->cid || !qp || !pair_for(qp, peer)) {
			if (st)
				reset_stream(st);
			else
				send_pkt(b, peer, gport, hport, T_RST, 0, 0, 0);
			break;
		}
		st->qp_context = b->model->cid;
		st->qp_resource = rid;
		st->attached = true;
		/* The host attaches before it says so, as a real peer does. */
		vmm_qp_host_attach(b->model, qp);
		send_pkt(b, peer, gport, hport, T_ATTACH, 0, vmm_get64(dg + 40), 0);
		vmm_stream_io(st);
		break;
	case T_NEGOTIATE:
	case T_NEGOTIATE2:
		if (!st || st->state != ST_REQUESTED || size < MIN_QUEUE ||
		    size > MAX_QUEUE) {
			if (st)
				reset_stream(st);
			else
				send_pkt(b, peer, gport, hport, T_RST, 0, 0, 0);
			break;
		}
		st->qp_context = VMM_HOST_CID;
		st->qp_resource = b->next_rid++;
		if (vmm_qp_host_offer(b->model, st->qp_resource, size, size)) {
			reset_stream(st);
			break;
		}
		st->state = ST_OFFERED;
		send_pkt(b, peer, gport, hport, T_OFFER, 0,
			 (uint64_t)st->qp_resource << 32 | VMM_HOST_CID, 0);
		break;
	case T_ATTACH:
		if (!st || st->state != ST_OFFERED ||
		    vmm_get32(dg + 40) != VMM_HOST_CID ||
		    vmm_get32(dg + 44) != st->qp_resource ||
		    !vmm_qp_find(b->model, VMM_HOST_CID, st->qp_resource)) {
			if (st)
				reset_stream(st);
			else
				send_pkt(b, peer, gport, hport, T_RST, 0, 0, 0);
			break;
		}
		host_stream_open(st);
		break;
	case T_WROTE:
	case T_READ:
		if (st)
			vmm_stream_io(st);
		break;
	case T_SHUTDOWN:
		if (st && (size & SHUT_SEND_MODE)) {
			st->guest_shut = true;
			vmm_stream_io(st);
		}
		break;
	case T_RST:
		/*
		 * Linux's guest answers a notice for a socket it already
		 * closed with RST, before or after it detaches: its last
		 * bytes are still owed to the host program.
		 */
		if (st && st->attached)
			guest_left(st);
		else if (st && !st->draining)
			close_stream(st);
		break;
	default:
		/* Waiting notices need no action here; unknown types get INVALID. */
		if (type >= T_MAX)
			send_pkt(b, peer, gport, hport, T_INVALID, 0, 0, 0);
		break;
	}
	return VMM_SUCCESS;
}

/*
 * The guest detached. What it wrote still reaches the host program (a
 * real host reads its queue after the peer left); what it had not read
 * is lost with the pages.
 */
void vmm_stream_qp_gone(struct vmm_bridge *b, uint32_t context, uint32_t resource)
{
	for (int i = 0; i < VMM_BRIDGE_MAX_STREAMS; i++) {
		struct vmm_stream *st = &b->streams[i];

		if (st->used && st->attached && st->qp_context == context &&
		    st->qp_resource == resource)
			guest_left(st);
	}
}

/* Control commands name streams of the host context (CID 2). */
static struct vmm_stream *find_open(struct vmm_bridge *b, uint32_t gport,
				    uint32_t hport)
{
	struct vmm_stream *st = find(b, VMM_HOST_CID, gport, hport);

	return st && st->state == ST_OPEN && stream_qp(st) && !st->poisoned ? st : NULL;
}

int vmm_stream_host_detach(struct vmm_bridge *b, uint32_t gport, uint32_t hport)
{
	struct vmm_stream *st = find_open(b, gport, hport);

	if (!st)
		return -ENOENT;
	detach_stream(st);
	return 0;
}

int vmm_stream_garble(struct vmm_bridge *b, uint32_t gport, uint32_t hport)
{
	struct vmm_stream *st = find_open(b, gport, hport);

	if (!st || vmm_qp_host_garble(b->model, stream_qp(st)))
		return -ENOENT;
	st->poisoned = true;
	if (b->watch)
		b->watch(st, false, false);
	/* Make the guest look at both queues. */
	send_pkt(b, st->peer, gport, hport, T_WROTE, 0, 0, 0);
	send_pkt(b, st->peer, gport, hport, T_READ, 0, 0, 0);
	return 0;
}

void vmm_stream_detach_all(struct vmm_bridge *b)
{
	/* Streams the guest already left finish on their own. */
	for (int i = 0; i < VMM_BRIDGE_MAX_STREAMS; i++)
		if (b->streams[i].used && !b->streams[i].draining)
			detach_stream(&b->streams[i]);
}

void vmm_stream_close_all(struct vmm_bridge *b)
{
	for (int i = 0; i < VMM_BRIDGE_MAX_STREAMS; i++)
		close_stream(&b->streams[i]);
}
