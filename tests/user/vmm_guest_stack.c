// SPDX-License-Identifier: GPL-2.0
/*
 * A VMM plays its guest's vSockets stack over /dev/vmci against host
 * vmsock sockets, in NCTX contexts at once (one child process each), so
 * that streams really cross the queue-pair broker. Per context:
 * - guest to host: REQUEST2 to a host listener, NEGOTIATE2, the pair
 *   allocated and mapped (ALLOC + SETVA) from the VMM's own pages, OFFER,
 *   ATTACH, then STREAM_BYTES each way through the rings with checksums,
 *   WROTE/READ sent as the queue-state protocol asks; the host closes and
 *   the VMM gets QP_PEER_DETACH;
 * - host to guest: a host client connects to the VMM's CID, the VMM
 *   answers as a guest listener (NEGOTIATE2, attaches to the host's pair
 *   from the OFFER, ATTACH), data both ways; then the VMM detaches while
 *   the host's send waits on a full ring: EPIPE for the sender, EOF for
 *   the reader;
 * - datagrams both ways between a host SOCK_DGRAM socket and the VMM;
 * - a last guest-to-host stream whose VMM closes /dev/vmci mid-transfer.
 * The host's side of each stream is two blocking threads with timeouts,
 * so a lost WROTE or READ from either side shows up as a stall.
 *
 * Usage: vmm_guest_stack [corrupt]   (corrupt: flips one byte of the
 * first context's outgoing stream after it was summed, to see a check fail)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "../../include/uapi/vmci_sockets.h"
#include "tap.h"
#include "vmci_stats.h"
#include "vmm_ring.h"

#define NCTX		8
#define STREAM_BYTES	(4u << 20)
#define QSIZE		262144u
#define CHUNK		65536u
#define HOST_PORT_BASE	7400u	/* host listener of context i: + i */
#define DG_PORT_BASE	7500u	/* host datagram socket of context i: + i */
#define VMM_PORT	7600u	/* the VMM's listener, in its own CID */
#define VMM_SRC_PORT	7700u	/* the VMM's client ports: + stream number */
#define VMM_DG_RID	7800u
#define QP_RID		0x5000u
#define WAIT_MS		2000	/* a VMM wait longer than this is a lost wakeup */
#define SOCK_TIMEOUT_S	10
#define DG_COUNT	32
#define DG_LEN		1000u

enum check {
	C_OPEN,
	C_G2H_HANDSHAKE, C_G2H_TO_HOST, C_G2H_TO_VMM, C_G2H_NO_STALL,
	C_G2H_PEER_DETACH, C_G2H_DETACH,
	C_H2G_REQUEST2, C_H2G_HANDSHAKE, C_H2G_TO_HOST, C_H2G_TO_VMM, C_H2G_NO_STALL,
	C_H2G_UNMAPPED_WAITS, C_H2G_REMAPPED_FLOWS,
	C_H2G_DETACH_EPIPE, C_H2G_DETACH_EOF,
	C_DG_TO_HOST, C_DG_TO_VMM,
	C_CLOSE_HANDSHAKE, C_CLOSE_SEND_ERR, C_CLOSE_RECV_EOF,
	NCHECKS
};

static const char *const check_name[NCHECKS] = {
	"vmm_contexts_open",
	"g2h_handshake", "g2h_vmm_to_host_checksum", "g2h_host_to_vmm_checksum",
	"g2h_no_lost_wakeup",
	"g2h_host_close_peer_detach_event", "g2h_vmm_detach",
	"h2g_request2_from_host", "h2g_handshake", "h2g_vmm_to_host_checksum",
	"h2g_host_to_vmm_checksum", "h2g_no_lost_wakeup",
	"h2g_vmm_unmapped_host_send_recv_wait", "h2g_vmm_remapped_data_flows",
	"h2g_vmm_detach_host_send_epipe", "h2g_vmm_detach_host_recv_eof",
	"dgram_vmm_to_host", "dgram_host_to_vmm",
	"close_handshake", "close_dev_host_send_reset", "close_dev_host_recv_eof",
};

#define PARENT_CHECKS	3
#define PLAN		(NCHECKS + PARENT_CHECKS)

/* What a child found, in memory shared with the parent. */
struct ctx_result {
	uint32_t cid;
	int8_t ok[NCHECKS];	/* -1: not reached */
	char why[NCHECKS][112];
};

static struct ctx_result *results;
static int af;
static int corrupt;

static void report(int idx, enum check c, int ok, const char *fmt, ...)
{
	struct ctx_result *r = &results[idx];
	va_list ap;

	r->ok[c] = !!ok;
	if (ok)
		return;
	va_start(ap, fmt);
	vsnprintf(r->why[c], sizeof(r->why[c]), fmt, ap);
	va_end(ap);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* The bytes of a stream, a function of their position and a seed. */
static void gen(uint8_t *buf, uint64_t pos, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(((uint32_t)(pos + i) * 2654435761u + seed) >> 13);
}

/* FNV-1a over a stream, chunk by chunk: catches lost, extra and moved bytes. */
static uint64_t sum_add(uint64_t h, const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ buf[i]) * 0x100000001b3ull;
	return h;
}

#define SUM_INIT	0xcbf29ce484222325ull

/* --- The VMM's context ---------------------------------------------------- */

struct vmm {
	int fd;
	int idx;
	uint32_t cid;
	/* The last QP_PEER_DETACH seen. */
	int detach_events;
	struct handle detach_handle;
	uint32_t detach_peer;
	/* Datagrams for VMM_DG_RID, kept until the datagram test reads them. */
	int dgrams;
	uint64_t dg_sum;
	uint64_t dg_bytes;
	int dg_bad;
};

static int vmm_send_ctl(struct vmm *v, uint8_t type, uint16_t proto, uint32_t sport,
			uint32_t dport, uint64_t u0)
{
	return vmm_ctl_send(v->fd, v->cid, type, proto, sport, dport, u0);
}

static struct handle u64_handle(uint64_t u)
{
	struct handle h;

	memcpy(&h, &u, sizeof(h));
	return h;
}

/*
 * Takes one datagram off the context's queue. Events and datagrams for
 * VMM_DG_RID are dealt with here; a control packet goes to @p and 1 is
 * returned. 0: something else or nothing; -1: the ioctl failed.
 */
static int vmm_take(struct vmm *v, struct ctl_packet *p)
{
	static uint8_t buf[DG_HEADER + 69632];
	struct dg_header *hdr = (struct dg_header *)buf;
	struct snd_rcv_info info = { .addr = (uintptr_t)buf, .len = sizeof(buf) };

	if (ioctl(v->fd, IOC_DG_RECEIVE, &info))
		return -1;
	if (info.result == VMCI_ERROR_NO_MORE_DATAGRAMS)
		return 0;
	if (info.result < 0)
		return -1;
	if (hdr->src.context == HYPERVISOR_CID && hdr->dst.resource == EVENT_HANDLER_RID) {
		struct qp_event *ev = (struct qp_event *)buf;

		if (hdr->payload_size == sizeof(*ev) - DG_HEADER &&
		    ev->event == EV_QP_PEER_DETACH) {
			v->detach_events++;
			v->detach_handle = ev->handle;
			v->detach_peer = ev->peer_id;
		}
		return 0;
	}
	if (hdr->dst.resource == VMM_DG_RID) {
		v->dgrams++;
		v->dg_bytes += hdr->payload_size;
		v->dg_sum = sum_add(v->dg_sum, buf + DG_HEADER, hdr->payload_size);
		if (hdr->src.context != HOST_CID || hdr->payload_size != DG_LEN)
			v->dg_bad++;
		return 0;
	}
	if (hdr->src.context == HOST_CID && hdr->src.resource == CTL_RID &&
	    hdr->payload_size == sizeof(*p) - DG_HEADER) {
		memcpy(p, buf, sizeof(*p));
		return 1;
	}
	return 0;
}

/* Waits up to @ms for a control packet of @type to port @port; 0 if it came. */
static int vmm_wait_ctl(struct vmm *v, uint8_t type, uint32_t port, struct ctl_packet *p, int ms)
{
	double end = now_s() + ms / 1000.0;

	while (now_s() < end) {
		struct pollfd pfd = { .fd = v->fd, .events = POLLIN };
		int r;

		poll(&pfd, 1, 20);
		while ((r = vmm_take(v, p)) == 1) {
			if (p->dst_port != port)
				continue;
			if (p->type == type)
				return 0;
			if (p->type == PKT_RST)
				return -2;
		}
		if (r < 0)
			return -1;
	}
	return -1;
}

/* Waits up to @ms until @n QP_PEER_DETACH events have come. */
static int vmm_wait_detach_event(struct vmm *v, int n, int ms)
{
	struct ctl_packet p;
	double end = now_s() + ms / 1000.0;

	while (v->detach_events < n && now_s() < end) {
		struct pollfd pfd = { .fd = v->fd, .events = POLLIN };

		poll(&pfd, 1, 20);
		while (vmm_take(v, &p) == 1)
			;
	}
	return v->detach_events >= n;
}

/* --- One stream between a host socket and the VMM ------------------------ */

struct stream {
	struct vmm *v;
	struct vmm_pair qp;
	uint32_t vport, hport;	/* the VMM's and the host's port */
	int sock;		/* the host's end */
	/* Host side, two blocking threads. */
	uint64_t h_to_send, h_sent, h_sent_sum;
	uint64_t h_to_recv, h_recv, h_recv_sum;
	int h_send_err, h_recv_err;	/* errno of the call that ended it, 0 if none */
	int h_recv_eof;
	double h_send_end, h_recv_end;
	/* VMM side. */
	uint64_t v_sent, v_sent_sum, v_recv, v_recv_sum;
	unsigned int wrote_rx, read_rx, wrote_tx, read_tx, stalls, bad_offsets;
	int unexpected;		/* type of an unexpected control packet, or 0 */
};

static void *host_sender(void *arg)
{
	static __thread uint8_t buf[CHUNK];
	struct stream *s = arg;

	while (s->h_sent < s->h_to_send) {
		size_t n = s->h_to_send - s->h_sent < CHUNK ? s->h_to_send - s->h_sent : CHUNK;
		ssize_t r;

		gen(buf, s->h_sent, n, 0x5eed0000u + s->v->idx);
		r = send(s->sock, buf, n, MSG_NOSIGNAL);
		if (r <= 0) {
			s->h_send_err = r < 0 ? errno : -1;
			break;
		}
		s->h_sent_sum = sum_add(s->h_sent_sum, buf, r);
		s->h_sent += r;
	}
	s->h_send_end = now_s();
	return NULL;
}

static void *host_receiver(void *arg)
{
	static __thread uint8_t buf[CHUNK];
	struct stream *s = arg;

	while (s->h_recv < s->h_to_recv) {
		ssize_t r = recv(s->sock, buf, CHUNK, 0);

		if (r < 0) {
			s->h_recv_err = errno;
			break;
		}
		if (r == 0) {
			s->h_recv_eof = 1;
			break;
		}
		s->h_recv_sum = sum_add(s->h_recv_sum, buf, r);
		s->h_recv += r;
	}
	s->h_recv_end = now_s();
	return NULL;
}

static void set_timeouts(int fd)
{
	struct timeval tv = { .tv_sec = SOCK_TIMEOUT_S };

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* Reacts to the host's control packets during a transfer; 1 if any came. */
static int vmm_drain(struct stream *s)
{
	struct ctl_packet p;
	int any = 0, r;

	while ((r = vmm_take(s->v, &p)) == 1) {
		any = 1;
		if (p.src_port != s->hport || p.dst_port != s->vport)
			continue;
		if (p.type == PKT_WROTE)
			s->wrote_rx++;
		else if (p.type == PKT_READ)
			s->read_rx++;
		else if (!s->unexpected)
			s->unexpected = p.type;
	}
	return any;
}

/*
 * The VMM's side of a transfer: send @to_send bytes, take @to_recv,
 * keeping the queue-state protocol (facts 7.6). Stops at a bad offset, an
 * unexpected packet, or after 5 waits in a row without progress. A wait
 * that ends by timeout although the rings changed meanwhile is a stall:
 * the host wrote or read without the WROTE or READ the protocol owes.
 * @corrupt_one: put one wrong byte into the ring (the sum keeps the right one).
 */
static int vmm_transfer(struct stream *s, uint64_t to_send, uint64_t to_recv, int corrupt_one)
{
	static uint8_t buf[CHUNK];
	int idle = 0, timed_out = 0;
	uint64_t aux;

	while ((s->v_sent < to_send || s->v_recv < to_recv) && !s->unexpected && idle < 5) {
		int progress = 0;
		long n;

		if (s->v_sent < to_send) {
			size_t len = to_send - s->v_sent < CHUNK ? to_send - s->v_sent : CHUNK;

			gen(buf, s->v_sent, len, 0xfeed0000u + s->v->idx);
			/* The wrong byte goes into the ring, the right one into the sum. */
			if (corrupt_one)
				buf[0] ^= 0x40;
			n = ring_put(&s->qp, buf, len, &aux);
			if (corrupt_one)
				buf[0] ^= 0x40;
			if (n < 0) {
				s->bad_offsets++;
				break;
			}
			if (n > 0) {
				progress = 1;
				corrupt_one = 0;
				s->v_sent_sum = sum_add(s->v_sent_sum, buf, n);
				s->v_sent += n;
				if (aux <= (uint64_t)n &&
				    !vmm_send_ctl(s->v, PKT_WROTE, 0, s->vport, s->hport, 0))
					s->wrote_tx++;
			}
		}
		if (s->v_recv < to_recv) {
			size_t want = to_recv - s->v_recv < CHUNK ? to_recv - s->v_recv : CHUNK;

			n = ring_get(&s->qp, buf, want, &aux);
			if (n < 0) {
				s->bad_offsets++;
				break;
			}
			if (n > 0) {
				progress = 1;
				s->v_recv_sum = sum_add(s->v_recv_sum, buf, n);
				s->v_recv += n;
				if (aux <= (uint64_t)n &&
				    !vmm_send_ctl(s->v, PKT_READ, 0, s->vport, s->hport, 0))
					s->read_tx++;
			}
		}
		/* The rings moved, though the wait before saw no packet. */
		if (progress && timed_out)
			s->stalls++;
		if (vmm_drain(s))
			progress = 1;
		if (progress) {
			timed_out = 0;
			idle = 0;
			continue;
		}
		{
			struct pollfd pfd = { .fd = s->v->fd, .events = POLLIN };

			if (poll(&pfd, 1, WAIT_MS) == 0) {
				timed_out = 1;
				idle++;
			}
		}
	}
	return s->v_sent == to_send && s->v_recv == to_recv ? 0 : -1;
}

static void stream_init(struct stream *s, struct vmm *v, uint32_t vport, uint32_t hport)
{
	memset(s, 0, sizeof(*s));
	s->v = v;
	s->vport = vport;
	s->hport = hport;
	s->sock = -1;
	s->h_sent_sum = s->h_recv_sum = s->v_sent_sum = s->v_recv_sum = SUM_INIT;
}

/* Runs a whole transfer, host threads and the VMM loop; reports three checks. */
static void stream_data(struct stream *s, enum check to_host, enum check to_vmm,
			enum check no_stall, int corrupt_one)
{
	pthread_t tx, rx;
	int txok, rxok;
	int idx = s->v->idx;

	s->h_to_send = STREAM_BYTES;
	s->h_to_recv = STREAM_BYTES;
	set_timeouts(s->sock);
	txok = !pthread_create(&tx, NULL, host_sender, s);
	rxok = !pthread_create(&rx, NULL, host_receiver, s);
	vmm_transfer(s, STREAM_BYTES, STREAM_BYTES, corrupt_one);
	if (txok)
		pthread_join(tx, NULL);
	if (rxok)
		pthread_join(rx, NULL);
	report(idx, to_host, txok && rxok && s->v_sent == STREAM_BYTES &&
	       s->h_recv == STREAM_BYTES && s->h_recv_sum == s->v_sent_sum && !s->bad_offsets,
	       "vmm sent %llu, host got %llu (err %d eof %d), sums %s, bad offsets %u",
	       (unsigned long long)s->v_sent, (unsigned long long)s->h_recv, s->h_recv_err,
	       s->h_recv_eof, s->h_recv_sum == s->v_sent_sum ? "equal" : "DIFFER",
	       s->bad_offsets);
	report(idx, to_vmm, s->h_sent == STREAM_BYTES && s->v_recv == STREAM_BYTES &&
	       s->v_recv_sum == s->h_sent_sum && !s->bad_offsets,
	       "host sent %llu (err %d), vmm got %llu, sums %s, unexpected packet %d",
	       (unsigned long long)s->h_sent, s->h_send_err, (unsigned long long)s->v_recv,
	       s->v_recv_sum == s->h_sent_sum ? "equal" : "DIFFER", s->unexpected);
	report(idx, no_stall, !s->stalls && s->wrote_rx && !s->unexpected,
	       "%u waits of %d ms ended by a ring change without a packet; WROTE got %u",
	       s->stalls, WAIT_MS, s->wrote_rx);
	printf("# ctx %d port %u: WROTE %u/%u READ %u/%u (received/sent), stalls %u\n", idx,
	       s->vport, s->wrote_rx, s->wrote_tx, s->read_rx, s->read_tx, s->stalls);
}

/* Waits until the host's sender fills our consume ring, then a little more. */
static int host_sender_blocked(struct stream *s)
{
	int i;

	for (i = 0; i < 500; i++) {
		uint64_t t = __atomic_load_n(&s->qp.ch->producer_tail, __ATOMIC_ACQUIRE);
		uint64_t h = __atomic_load_n(&s->qp.ph->consumer_head, __ATOMIC_ACQUIRE);

		if (t < s->qp.size && h < s->qp.size && !ring_free(t, h, s->qp.size)) {
			usleep(200000);
			return 1;
		}
		usleep(10000);
	}
	return 0;
}

/*
 * The VMM leaves (@close_dev: closes /dev/vmci, else detaches) while the
 * host's sender waits on a full ring and its reader waits for data. Both
 * must end within 5 s: the sender with EPIPE or ECONNRESET, the reader
 * with EOF (or ECONNRESET) after the bytes the VMM did send.
 */
static void teardown_mid_transfer(struct stream *s, int close_dev, enum check c_send,
				  enum check c_recv)
{
	const uint64_t vmm_sends = 128 * 1024;
	int idx = s->v->idx;
	pthread_t tx, rx;
	int txok, rxok, blocked, left;
	double t0;

	s->h_sent = s->h_recv = s->v_sent = s->v_recv = 0;
	s->h_sent_sum = s->h_recv_sum = s->v_sent_sum = s->v_recv_sum = SUM_INIT;
	s->h_send_err = s->h_recv_err = s->h_recv_eof = 0;
	s->h_to_send = 64u << 20;
	s->h_to_recv = 64u << 20;
	set_timeouts(s->sock);
	txok = !pthread_create(&tx, NULL, host_sender, s);
	rxok = !pthread_create(&rx, NULL, host_receiver, s);
	vmm_transfer(s, vmm_sends, 1u << 20, 0);
	blocked = host_sender_blocked(s);
	t0 = now_s();
	if (close_dev) {
		left = !close(s->v->fd);
		s->v->fd = -1;
	} else {
		left = vmm_qp_detach(s->v->fd, s->qp.handle) == VMCI_SUCCESS;
	}
	if (txok)
		pthread_join(tx, NULL);
	if (rxok)
		pthread_join(rx, NULL);
	report(idx, c_send, txok && blocked && left &&
	       (s->h_send_err == EPIPE || s->h_send_err == ECONNRESET) && s->h_send_end - t0 < 5,
	       "sender blocked %d, vmm left %d; send ended with errno %d (%s) after %.2f s",
	       blocked, left, s->h_send_err, strerror(s->h_send_err), s->h_send_end - t0);
	report(idx, c_recv, rxok && s->h_recv == vmm_sends && s->h_recv_sum == s->v_sent_sum &&
	       (s->h_recv_eof || s->h_recv_err == ECONNRESET) && s->h_recv_end - t0 < 5,
	       "host got %llu of %llu (sums %s), eof %d errno %d (%s) after %.2f s",
	       (unsigned long long)s->h_recv, (unsigned long long)vmm_sends,
	       s->h_recv_sum == s->v_sent_sum ? "equal" : "DIFFER", s->h_recv_eof,
	       s->h_recv_err, strerror(s->h_recv_err), s->h_recv_end - t0);
}

/*
 * One attempt of the VMM's connect as a guest's client to the host
 * listener @lfd (facts 7.4), its pair's pages already mapped in s->qp;
 * the host's accepted socket goes to s->sock. 0; -2 when the host reset
 * the handshake; -1 otherwise, with the reason in @why.
 */
static int g2h_try(struct stream *s, int lfd, char *why, size_t wl)
{
	struct vmm *v = s->v;
	struct handle h = s->qp.handle;
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	struct ctl_packet p;
	double t_neg;
	int32_t r;
	int w;

	if (vmm_send_ctl(v, PKT_REQUEST2, PROTO_QSTATE, s->vport, s->hport, QSIZE) ||
	    vmm_wait_ctl(v, PKT_NEGOTIATE2, s->vport, &p, 5000)) {
		snprintf(why, wl, "no NEGOTIATE2 for REQUEST2 to port %u", s->hport);
		return -1;
	}
	if (p.u0 != QSIZE || p.proto != PROTO_QSTATE || p.src_port != s->hport) {
		snprintf(why, wl, "NEGOTIATE2 size %llu proto %u from port %u",
			 (unsigned long long)p.u0, p.proto, p.src_port);
		return -1;
	}
	t_neg = now_s();
	r = vmm_qp_alloc(v->fd, h, HOST_CID, 0, QSIZE, QSIZE);
	if (r == VMCI_SUCCESS)
		r = vmm_qp_setva(v->fd, h, s->qp.mem);
	if (r != VMCI_SUCCESS) {
		snprintf(why, wl, "QUEUEPAIR_ALLOC or SETVA: %d", r);
		return -1;
	}
	if (vmm_send_ctl(v, PKT_OFFER, 0, s->vport, s->hport, handle_u64(h))) {
		snprintf(why, wl, "OFFER send failed");
		return -1;
	}
	w = vmm_wait_ctl(v, PKT_ATTACH, s->vport, &p, 5000);
	if (w || p.u0 != handle_u64(h)) {
		snprintf(why, wl, "no ATTACH for our handle (type %u u0 %#llx), %.2f s after %s",
			 p.type, (unsigned long long)p.u0, now_s() - t_neg, "NEGOTIATE2");
		/* Only the VMM is on the pair: leave it for the next attempt. */
		vmm_qp_detach(v->fd, h);
		return w == -2 ? -2 : -1;
	}
	if (poll(&pfd, 1, 5000) == 1)
		s->sock = accept(lfd, NULL, NULL);
	if (s->sock < 0) {
		snprintf(why, wl, "accept: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The listener drops a pending child that got no OFFER within a second
 * (facts 7.4): the handshake then ends in RST. Eight contexts moving
 * megabytes under TCG and KASAN can take that long between NEGOTIATE2
 * and OFFER, so a reset handshake is tried again, up to three times.
 */
static int g2h_connect(struct stream *s, int lfd, uint32_t rid, char *why, size_t wl)
{
	int i, r = -1;

	if (vmm_pair_map(&s->qp, (struct handle){ s->v->cid, rid }, QSIZE)) {
		snprintf(why, wl, "mmap: %s", strerror(errno));
		return -1;
	}
	for (i = 0; i < 3; i++) {
		r = g2h_try(s, lfd, why, wl);
		if (r != -2)
			break;
		printf("# ctx %d port %u: handshake reset (%s), again\n", s->v->idx, s->vport,
		       why);
	}
	return r ? -1 : 0;
}

static int host_listener(uint32_t port)
{
	struct sockaddr_vm a = { .svm_family = af, .svm_cid = VMADDR_CID_ANY, .svm_port = port };
	int fd = socket(af, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Guest to host, then the host closes and the VMM hears of it. */
static void test_g2h(struct vmm *v, int lfd)
{
	struct stream s;
	char why[112] = "";

	stream_init(&s, v, VMM_SRC_PORT, HOST_PORT_BASE + v->idx);
	if (g2h_connect(&s, lfd, QP_RID, why, sizeof(why))) {
		report(v->idx, C_G2H_HANDSHAKE, 0, "%s", why);
		return;
	}
	report(v->idx, C_G2H_HANDSHAKE, 1, "");
	stream_data(&s, C_G2H_TO_HOST, C_G2H_TO_VMM, C_G2H_NO_STALL, corrupt && v->idx == 0);
	close(s.sock);
	vmm_wait_detach_event(v, 1, 5000);
	report(v->idx, C_G2H_PEER_DETACH, v->detach_events == 1 &&
	       !memcmp(&v->detach_handle, &s.qp.handle, sizeof(s.qp.handle)) &&
	       v->detach_peer == HOST_CID, "%d events, last for %#x:%#x from peer %u",
	       v->detach_events, v->detach_handle.context, v->detach_handle.resource,
	       v->detach_peer);
	report(v->idx, C_G2H_DETACH, vmm_qp_detach(v->fd, s.qp.handle) == VMCI_SUCCESS,
	       "detach failed");
	vmm_pair_unmap(&s.qp);
}

/*
 * The VMM takes its pages away for a while (SETVA with 0, as a VMX may
 * around a checkpoint) and brings them back. Meanwhile the host's send
 * and receive find neither room nor data and wait: with 1 s timeouts
 * they end in EAGAIN. Once the pages are back, bytes flow both ways.
 */
static void unmap_remap(struct stream *s)
{
	struct timeval tv = { .tv_sec = 1 };
	uint8_t buf[DG_LEN], got[DG_LEN];
	int idx = s->v->idx, serr, rerr, i;
	ssize_t sr, rr;
	uint64_t aux;
	int32_t r;
	long n = 0;

	setsockopt(s->sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(s->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(buf, 0x5a, sizeof(buf));
	r = vmm_qp_setva(s->v->fd, s->qp.handle, NULL);
	sr = send(s->sock, buf, sizeof(buf), MSG_NOSIGNAL);
	serr = errno;
	rr = recv(s->sock, got, sizeof(got), 0);
	rerr = errno;
	report(idx, C_H2G_UNMAPPED_WAITS, r == VMCI_SUCCESS && sr == -1 && serr == EAGAIN &&
	       rr == -1 && rerr == EAGAIN,
	       "unmap %d; send %zd errno %d (%s), recv %zd errno %d (%s)", r, sr, serr,
	       strerror(serr), rr, rerr, strerror(rerr));

	set_timeouts(s->sock);
	r = vmm_qp_setva(s->v->fd, s->qp.handle, s->qp.mem);
	gen(buf, 0, sizeof(buf), 0xabc00000u + idx);
	if (r == VMCI_SUCCESS)
		n = ring_put(&s->qp, buf, sizeof(buf), &aux);
	if (n > 0 && aux <= (uint64_t)n)
		vmm_send_ctl(s->v, PKT_WROTE, 0, s->vport, s->hport, 0);
	rr = recv(s->sock, got, sizeof(got), MSG_WAITALL);
	sr = send(s->sock, buf, sizeof(buf), MSG_NOSIGNAL);
	memset(got + (rr > 0 ? rr : 0), 0, sizeof(got) - (rr > 0 ? rr : 0));
	i = rr == (ssize_t)sizeof(got) && !memcmp(got, buf, sizeof(buf));
	/* The VMM's side: the host's bytes come with a WROTE. */
	n = 0;
	if (sr == (ssize_t)sizeof(buf)) {
		double end = now_s() + 3;

		while (n < (long)sizeof(got) && now_s() < end) {
			struct pollfd pfd = { .fd = s->v->fd, .events = POLLIN };
			struct ctl_packet p;
			long k = ring_get(&s->qp, got + n, sizeof(got) - n, &aux);

			if (k < 0)
				break;
			n += k;
			if (n < (long)sizeof(got) && poll(&pfd, 1, 20) == 1)
				while (vmm_take(s->v, &p) == 1)
					;
		}
	}
	report(idx, C_H2G_REMAPPED_FLOWS, r == VMCI_SUCCESS && i && n == (long)sizeof(got) &&
	       !memcmp(got, buf, sizeof(buf)),
	       "remap %d; host got %zd (%s), host sent %zd, vmm got %ld", r, rr,
	       i ? "right" : "wrong", sr, n);
}

struct connector {
	int fd;
	struct sockaddr_vm to;
	int ret, err;
};

static void *host_connect(void *arg)
{
	struct connector *c = arg;

	c->ret = connect(c->fd, (struct sockaddr *)&c->to, sizeof(c->to));
	c->err = errno;
	return NULL;
}

/* Host to guest: the VMM answers as a guest's listener would (facts 7.4). */
static int h2g_accept(struct stream *s, struct connector *c, char *why, size_t wl)
{
	struct vmm *v = s->v;
	struct ctl_packet p;
	struct handle h;
	int32_t r;

	if (vmm_wait_ctl(v, PKT_REQUEST2, VMM_PORT, &p, 5000)) {
		snprintf(why, wl, "no REQUEST2 to port %u", VMM_PORT);
		report(v->idx, C_H2G_REQUEST2, 0, "%s", why);
		return -1;
	}
	report(v->idx, C_H2G_REQUEST2, p.src.context == HOST_CID && (p.proto & PROTO_QSTATE) &&
	       p.u0 == QSIZE && p.version == 1 && !p.reserved2,
	       "from %u, proto %#x size %llu version %u", p.src.context, p.proto,
	       (unsigned long long)p.u0, p.version);
	s->hport = p.src_port;
	if (vmm_send_ctl(v, PKT_NEGOTIATE2, PROTO_QSTATE, VMM_PORT, s->hport, p.u0) ||
	    vmm_wait_ctl(v, PKT_OFFER, VMM_PORT, &p, 5000)) {
		snprintf(why, wl, "no OFFER after NEGOTIATE2");
		return -1;
	}
	h = u64_handle(p.u0);
	if (h.context != HOST_CID || vmm_pair_map(&s->qp, h, QSIZE)) {
		snprintf(why, wl, "OFFER of %#x:%#x, or mmap failed", h.context, h.resource);
		return -1;
	}
	r = vmm_qp_alloc(v->fd, h, HOST_CID, QPFLAG_ATTACH_ONLY, QSIZE, QSIZE);
	if (r == VMCI_SUCCESS)
		r = vmm_qp_setva(v->fd, h, s->qp.mem);
	if (r != VMCI_SUCCESS) {
		snprintf(why, wl, "attach ALLOC or SETVA: %d", r);
		return -1;
	}
	if (vmm_send_ctl(v, PKT_ATTACH, 0, VMM_PORT, s->hport, p.u0)) {
		snprintf(why, wl, "ATTACH send failed");
		return -1;
	}
	(void)c;
	return 0;
}

static void test_h2g(struct vmm *v)
{
	struct connector c = { .to = { .svm_family = af, .svm_cid = v->cid,
				       .svm_port = VMM_PORT } };
	struct timeval tv = { .tv_sec = 10 };
	struct stream s;
	char why[112] = "";
	pthread_t t;
	int ok;

	stream_init(&s, v, VMM_PORT, 0);
	c.fd = socket(af, SOCK_STREAM, 0);
	setsockopt(c.fd, af, SO_VMCI_CONNECT_TIMEOUT, &tv, sizeof(tv));
	if (c.fd < 0 || pthread_create(&t, NULL, host_connect, &c)) {
		report(v->idx, C_H2G_REQUEST2, 0, "socket or thread: %s", strerror(errno));
		return;
	}
	ok = !h2g_accept(&s, &c, why, sizeof(why));
	pthread_join(t, NULL);
	report(v->idx, C_H2G_HANDSHAKE, ok && !c.ret, "%s; connect %d errno %d (%s)", why,
	       c.ret, c.err, strerror(c.err));
	if (!ok || c.ret) {
		close(c.fd);
		return;
	}
	s.sock = c.fd;
	stream_data(&s, C_H2G_TO_HOST, C_H2G_TO_VMM, C_H2G_NO_STALL, 0);
	unmap_remap(&s);
	teardown_mid_transfer(&s, 0, C_H2G_DETACH_EPIPE, C_H2G_DETACH_EOF);
	close(s.sock);
	vmm_pair_unmap(&s.qp);
}

/* Datagrams both ways between a host SOCK_DGRAM socket and the VMM. */
static void test_dgram(struct vmm *v)
{
	struct sockaddr_vm me = { .svm_family = af, .svm_cid = VMADDR_CID_ANY,
				  .svm_port = DG_PORT_BASE + v->idx };
	struct sockaddr_vm to = { .svm_family = af, .svm_cid = v->cid, .svm_port = VMM_DG_RID };
	uint8_t dg[DG_HEADER + DG_LEN], buf[DG_LEN + 16];
	struct dg_header *hdr = (struct dg_header *)dg;
	uint64_t sent_sum = SUM_INIT, got_sum = SUM_INIT;
	int fd = socket(af, SOCK_DGRAM, 0), i, got = 0, bad = 0, sent = 0;
	double end;

	set_timeouts(fd);
	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me))) {
		report(v->idx, C_DG_TO_HOST, 0, "host socket: %s", strerror(errno));
		return;
	}
	for (i = 0; i < DG_COUNT; i++) {
		struct snd_rcv_info info = { .addr = (uintptr_t)dg, .len = sizeof(dg) };

		hdr->dst = (struct handle){ HOST_CID, DG_PORT_BASE + v->idx };
		hdr->src = (struct handle){ v->cid, VMM_DG_RID };
		hdr->payload_size = DG_LEN;
		gen(dg + DG_HEADER, i * DG_LEN, DG_LEN, 0xd6000000u + v->idx);
		if (!ioctl(v->fd, IOC_DG_SEND, &info) && info.result >= 0) {
			sent++;
			sent_sum = sum_add(sent_sum, dg + DG_HEADER, DG_LEN);
		}
	}
	for (i = 0; i < sent; i++) {
		struct sockaddr_vm from;
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (r < 0)
			break;
		got++;
		got_sum = sum_add(got_sum, buf, r);
		if (r != DG_LEN || from.svm_cid != v->cid || from.svm_port != VMM_DG_RID)
			bad++;
	}
	report(v->idx, C_DG_TO_HOST, sent == DG_COUNT && got == DG_COUNT && !bad &&
	       got_sum == sent_sum, "sent %d, host got %d (%d wrong size or source), sums %s",
	       sent, got, bad, got_sum == sent_sum ? "equal" : "DIFFER");

	sent_sum = SUM_INIT;
	sent = 0;
	for (i = 0; i < DG_COUNT; i++) {
		gen(buf, i * DG_LEN, DG_LEN, 0xd7000000u + v->idx);
		if (sendto(fd, buf, DG_LEN, 0, (struct sockaddr *)&to, sizeof(to)) == DG_LEN) {
			sent++;
			sent_sum = sum_add(sent_sum, buf, DG_LEN);
		}
	}
	end = now_s() + 5;
	while (v->dgrams < sent && now_s() < end) {
		struct pollfd pfd = { .fd = v->fd, .events = POLLIN };
		struct ctl_packet p;

		poll(&pfd, 1, 20);
		while (vmm_take(v, &p) == 1)
			;
	}
	report(v->idx, C_DG_TO_VMM, sent == DG_COUNT && v->dgrams == DG_COUNT && !v->dg_bad &&
	       v->dg_sum == sent_sum && v->dg_bytes == DG_COUNT * DG_LEN,
	       "host sent %d, vmm got %d (%d wrong), sums %s", sent, v->dgrams, v->dg_bad,
	       v->dg_sum == sent_sum ? "equal" : "DIFFER");
	close(fd);
}

/* A last guest-to-host stream; its VMM closes /dev/vmci in the middle. */
static void test_close(struct vmm *v, int lfd)
{
	struct stream s;
	char why[112] = "";

	stream_init(&s, v, VMM_SRC_PORT + 1, HOST_PORT_BASE + v->idx);
	if (g2h_connect(&s, lfd, QP_RID + 1, why, sizeof(why))) {
		report(v->idx, C_CLOSE_HANDSHAKE, 0, "%s", why);
		return;
	}
	report(v->idx, C_CLOSE_HANDSHAKE, 1, "");
	teardown_mid_transfer(&s, 1, C_CLOSE_SEND_ERR, C_CLOSE_RECV_EOF);
	close(s.sock);
	vmm_pair_unmap(&s.qp);
}

static void child(int idx)
{
	struct vmm v = { .idx = idx, .dg_sum = SUM_INIT };
	int lfd;

	alarm(240);
	v.fd = vmm_open_ctx(0, &v.cid);
	results[idx].cid = v.cid;
	lfd = host_listener(HOST_PORT_BASE + idx);
	report(idx, C_OPEN, v.fd >= 0 && lfd >= 0, "context %d, listener %d: %s", v.fd, lfd,
	       strerror(errno));
	if (v.fd < 0 || lfd < 0)
		_exit(1);
	test_g2h(&v, lfd);
	test_h2g(&v);
	test_dgram(&v);
	test_close(&v, lfd);
	close(lfd);
	if (v.fd >= 0)
		close(v.fd);
	_exit(0);
}

/* A check holds when it held in every context; else the first reason. */
static void report_aggregate(enum check c)
{
	int i, bad = 0, first = -1;

	for (i = 0; i < NCTX; i++)
		if (results[i].ok[c] != 1) {
			bad++;
			if (first < 0)
				first = i;
		}
	if (!bad) {
		tap_report(1, check_name[c], "");
		return;
	}
	tap_report(0, check_name[c], "%d of %d contexts; context %d (cid %u): %s", bad, NCTX,
		   first, results[first].cid,
		   results[first].ok[c] < 0 ? "not reached" : results[first].why[c]);
}

int main(int argc, char **argv)
{
	pid_t pids[NCTX];
	int i, j, status, clean = 1, distinct = 1, afd = -1;
	double end;

	setvbuf(stdout, NULL, _IOLBF, 0);
	corrupt = argc > 1 && !strcmp(argv[1], "corrupt");
	tap_plan(PLAN);
	signal(SIGPIPE, SIG_IGN);
	results = mmap(NULL, NCTX * sizeof(*results), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	af = VMCISock_GetAFValueFd(&afd);
	if (results == MAP_FAILED || af < 0) {
		printf("# setup failed: %s\n", strerror(errno));
		return 1;
	}
	memset(results, 0xff, NCTX * sizeof(*results));
	for (i = 0; i < NCTX; i++) {
		memset(results[i].why, 0, sizeof(results[i].why));
		pids[i] = fork();
		if (pids[i] == 0)
			child(i);
	}
	end = now_s() + 280;
	for (i = 0; i < NCTX; i++) {
		pid_t r = 0;

		while (pids[i] > 0 && (r = waitpid(pids[i], &status, WNOHANG)) == 0 &&
		       now_s() < end)
			usleep(50000);
		if (r <= 0) {
			if (pids[i] > 0) {
				kill(pids[i], SIGKILL);
				waitpid(pids[i], &status, 0);
			}
			clean = 0;
			printf("# context %d did not finish\n", i);
		} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			clean = 0;
			printf("# context %d ended with status %#x\n", i, status);
		}
	}
	for (i = 0; i < NCHECKS; i++)
		report_aggregate(i);
	tap_report(clean, "contexts_exit_cleanly", "see the lines above");
	for (i = 0; i < NCTX; i++)
		for (j = 0; j < i; j++)
			if (results[i].cid == results[j].cid || results[i].cid < 16)
				distinct = 0;
	tap_report(distinct, "contexts_distinct_cids", "cids %u %u %u %u %u %u %u %u",
		   results[0].cid, results[1].cid, results[2].cid, results[3].cid,
		   results[4].cid, results[5].cid, results[6].cid, results[7].cid);
	tap_report(wait_stat("broker_queue_pairs", 0, 5000) &&
		   wait_stat("broker_pinned_pages", 0, 5000), "broker_empty_after",
		   "pairs %lld pinned pages %lld", stat_value("broker_queue_pairs"),
		   stat_value("broker_pinned_pages"));
	VMCISock_ReleaseAFValueFd(afd);
	return tap_exit_code();
}
