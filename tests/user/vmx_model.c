// SPDX-License-Identifier: GPL-2.0
/*
 * The device model in VMX mode (issue 16 item 1), without a nested guest:
 * this program links the model's plain C files and tests/vmm/vmci_vmx.c,
 * gives the model a memfd as guest RAM, and plays the guest driver on the
 * model's registers (DATA_OUT datagrams and hypercalls, the DATA_IN page
 * stream, ICR, the notification bitmap), while the model's host side is
 * /dev/vmci of this kernel (vmci.ko in host personality, vmsock.ko):
 * - datagrams both ways between the "guest" and a host vSockets socket;
 * - doorbells: the guest links one (NOTIFY_RESOURCE CREATE), the host
 *   rings it (vmci_test_endpoint.ko) and the bitmap byte is set; the guest
 *   rings the endpoint's host doorbell (NOTIFY), which rings back;
 * - a guest connect to a host vmsock listener: REQUEST2, NEGOTIATE2,
 *   QUEUEPAIR_ALLOC with scattered guest pages (the model maps them into
 *   one window and SETVAs it), OFFER, QP_PEER_ATTACH and ATTACH, 1 MiB
 *   each way through the rings with checksums, the host's close as a
 *   QP_PEER_DETACH event, the guest's detach releasing every pin;
 * - a host connect to a guest listener: the guest attaches to the host's
 *   pair (ATTACH_ONLY), bytes both ways, its detach gives the host EOF;
 * - a device reset and the model's close detach what is left.
 *
 * The model's files are compiled into this one program (tests/user
 * programs are built from a single source).
 *
 * Usage: vmx_model [vmci-device]
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>

#include "../vmm/vmci_model_regs.c"
#include "../vmm/vmci_model_rx.c"
#include "../vmm/vmci_model_hcall.c"
#undef HDR
#include "../vmm/vmci_model_qp.c"
#include "../vmm/vmci_vmx.c"

#include "../../include/uapi/vmci_sockets.h"
#include "tap.h"
#include "vmci_stats.h"

#define RAM_SIZE	(8u << 20)
#define WANT_CID	300u
#define PG		VMM_PAGE_SIZE
#define QSIZE		65536u
#define QPAGES		(QSIZE / PG)
#define QP_PAGES	(2 * QPAGES + 2)
#define XFER		(1u << 20)
#define GUEST_DG_RID	0x6000u
#define HOST_DG_PORT	6100u
#define HOST_LISTEN	6200u
#define GUEST_SPORT	6300u
#define GUEST_LISTEN	6400u
#define QP_RID		0x7000u
#define DB_RID		0x900u
#define DB_INDEX	5u
#define ENDPOINT_DBELL	1502u
#define ENDPOINT_ARM	1503u
#define BITMAP_GPA	0x10000u
#define POOL_GPA	0x100000u	/* queue pages come from here on */
#define WAIT_MS		5000

/* vSockets control packets (facts 7.1, 7.2). */
#define CTL_RID		1u
#define PKT_OFFER	3
#define PKT_ATTACH	4
#define PKT_WROTE	5
#define PKT_READ	6
#define PKT_RST		7
#define PKT_REQUEST2	11
#define PKT_NEGOTIATE2	12
#define CTL_LEN		56u
#define EV_QP_PEER_ATTACH 3u
#define EV_QP_PEER_DETACH 4u

enum check {
	C_RAM, C_MODEL, C_OPEN, C_CID,
	C_DG_TO_HOST, C_DG_TO_GUEST,
	C_DB_LINK, C_DB_HOST_RINGS, C_DB_GUEST_RINGS,
	C_G2H_NEGOTIATE, C_G2H_ALLOC, C_G2H_PEER_ATTACH, C_G2H_ATTACH,
	C_G2H_TO_HOST, C_G2H_TO_GUEST, C_G2H_PEER_DETACH, C_G2H_DETACH,
	C_H2G_REQUEST, C_H2G_ALLOC, C_H2G_CONNECTED, C_H2G_DATA, C_H2G_EOF,
	C_DB_UNLINK, C_RESET, C_CLOSE,
	NCHECKS
};

static const char *const names[NCHECKS] = {
	"memfd_guest_ram", "model_init", "vmx_init_context", "guest_context_id",
	"dgram_guest_to_host", "dgram_host_to_guest",
	"doorbell_link_registers_host_side", "doorbell_host_rings_guest_bitmap",
	"doorbell_guest_notify_rings_host",
	"g2h_request2_negotiate2", "g2h_qp_alloc_scattered_pages_pinned",
	"g2h_qp_peer_attach_event", "g2h_attach_packet_and_accept",
	"g2h_guest_to_host_1mib_checksum", "g2h_host_to_guest_1mib_checksum",
	"g2h_host_close_qp_peer_detach_event", "g2h_guest_detach_unpins",
	"h2g_request2_to_guest_listener", "h2g_attach_only_alloc",
	"h2g_host_connect_completes", "h2g_data_both_ways", "h2g_guest_detach_host_eof",
	"doorbell_unlink_unregisters", "device_reset_detaches_pairs",
	"vmx_close_ends_context",
};

static int8_t result[NCHECKS];
static char why[NCHECKS][160];

static void set(enum check c, int ok, const char *fmt, ...)
{
	va_list ap;

	result[c] = ok ? 1 : 0;
	va_start(ap, fmt);
	vsnprintf(why[c], sizeof(why[c]), fmt, ap);
	va_end(ap);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* --- The embedding: guest RAM, interrupts, the host hooks ----------------- */

static int ram_fd = -1;
static uint8_t *ram;
static uint32_t causes_seen;
static struct vmci_model model;
static struct vmm_vmx vmx;
static int af;

static int mem_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
	(void)opaque;
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return -1;
	memcpy(buf, ram + gpa, len);
	return 0;
}

static int mem_write(void *opaque, uint64_t gpa, const void *buf, size_t len)
{
	(void)opaque;
	if (gpa > RAM_SIZE || len > RAM_SIZE - gpa)
		return -1;
	memcpy(ram + gpa, buf, len);
	return 0;
}

static void irq(void *opaque, uint32_t causes, bool level)
{
	(void)opaque;
	(void)level;
	causes_seen |= causes;
}

static int ram_lookup(void *opaque, uint64_t gpa, int *fd, uint64_t *offset)
{
	(void)opaque;
	if (gpa >= RAM_SIZE)
		return -1;
	*fd = ram_fd;
	*offset = gpa & ~(uint64_t)(PG - 1);
	return 0;
}

static int64_t host_dg(void *opaque, const uint8_t *dg, size_t len)
{
	(void)opaque;
	return vmm_vmx_from_guest(&vmx, dg, len);
}

static int64_t dbell(void *opaque, uint32_t rid, uint32_t ctx, uint32_t res)
{
	(void)opaque;
	return vmm_vmx_doorbell(&vmx, rid, ctx, res);
}

static int64_t qp_alloc(void *opaque, const struct vmm_qpair *qp)
{
	(void)opaque;
	return vmm_vmx_qp_alloc(&vmx, qp);
}

static int64_t qp_detach(void *opaque, const struct vmm_qpair *qp)
{
	(void)opaque;
	return vmm_vmx_qp_detach(&vmx, qp);
}

static const struct vmm_env env = {
	.mem_read = mem_read, .mem_write = mem_write, .irq = irq,
	.host_datagram = host_dg, .doorbell = dbell, .qp_alloc = qp_alloc,
	.qp_detach = qp_detach,
};

/* --- The guest driver ------------------------------------------------------ */

/* Port-I/O send: the datagram through DATA_OUT, then RESULT_LOW. */
static int32_t g_send(const uint8_t *dg, size_t len)
{
	size_t i;

	for (i = 0; i + 4 <= len; i += 4)
		vmm_write(&model, VMM_REG_DATA_OUT, vmm_get32(dg + i), 4);
	for (; i < len; i++)
		vmm_write(&model, VMM_REG_DATA_OUT, dg[i], 1);
	return (int32_t)vmm_read(&model, VMM_REG_RESULT_LOW, 4);
}

static int32_t g_hypercall(uint32_t rid, const void *payload, size_t plen)
{
	uint8_t dg[VMM_DG_HEADER_SIZE + 64 + QP_PAGES * 8];

	vmm_put_header(dg, VMM_HYPERVISOR_CID, rid, VMM_INVALID_ID, VMM_INVALID_ID, plen);
	memcpy(dg + VMM_DG_HEADER_SIZE, payload, plen);
	return g_send(dg, VMM_DG_HEADER_SIZE + plen);
}

/* Datagrams the guest received, in order; tests take what they wait for. */
#define INBOX 256
static struct {
	uint32_t len;
	uint8_t *data;
} inbox[INBOX];
static unsigned int inbox_n;

static void inbox_put(const uint8_t *dg, uint32_t len)
{
	if (inbox_n == INBOX) {
		free(inbox[0].data);
		memmove(inbox, inbox + 1, (INBOX - 1) * sizeof(inbox[0]));
		inbox_n--;
	}
	inbox[inbox_n].data = malloc(len);
	if (!inbox[inbox_n].data)
		return;
	memcpy(inbox[inbox_n].data, dg, len);
	inbox[inbox_n++].len = len;
}

/*
 * The receive loop of a port-I/O guest: while ICR says datagrams wait,
 * read a page of DATA_IN and take the datagrams packed on it; one longer
 * than the rest of the page starts a run of whole pages.
 */
static void g_receive(void)
{
	static uint8_t page[VMM_MAX_DG_SIZE + 2 * PG];
	uint32_t icr;
	size_t off, len, have, i;

	while ((icr = vmm_read(&model, VMM_REG_ICR, 4)) & VMM_ICR_DATAGRAM) {
		causes_seen |= icr;
		for (i = 0; i < PG; i += 4)
			vmm_put32(page + i, vmm_read(&model, VMM_REG_DATA_IN, 4));
		have = PG;
		for (off = 0; off + VMM_DG_HEADER_SIZE <= have; off = vmm_align8(off + len)) {
			if (vmm_get32(page + off + 4) == VMM_INVALID_ID)
				break;
			len = VMM_DG_HEADER_SIZE + vmm_get64(page + off + 16);
			if (len > VMM_MAX_DG_SIZE)
				return;
			while (off + len > have) {
				for (i = 0; i < PG; i += 4)
					vmm_put32(page + have + i,
						  vmm_read(&model, VMM_REG_DATA_IN, 4));
				have += PG;
			}
			inbox_put(page + off, (uint32_t)len);
		}
	}
	causes_seen |= icr;
}

/* The VMM's main loop turn: host side readable, then the guest's interrupt. */
static void pump(int ms)
{
	struct pollfd p = { .fd = vmx.fd, .events = POLLIN };

	if (poll(&p, 1, ms) > 0 || vmx.held_len)
		vmm_vmx_poll(&vmx);
	g_receive();
}

typedef int (*match_fn)(const uint8_t *dg, uint32_t len, const void *arg);

/* Takes the first received datagram MATCH accepts into OUT; 0 if in time. */
static int g_wait(match_fn match, const void *arg, uint8_t *out, size_t cap, int ms)
{
	double end = now_s() + ms / 1000.0;
	unsigned int i;

	do {
		pump(10);
		for (i = 0; i < inbox_n; i++) {
			if (!match(inbox[i].data, inbox[i].len, arg))
				continue;
			memcpy(out, inbox[i].data, inbox[i].len < cap ? inbox[i].len : cap);
			free(inbox[i].data);
			memmove(inbox + i, inbox + i + 1, (inbox_n - i - 1) * sizeof(inbox[0]));
			inbox_n--;
			return 0;
		}
	} while (now_s() < end);
	return -1;
}

static int match_rid(const uint8_t *dg, uint32_t len, const void *arg)
{
	(void)len;
	return vmm_get32(dg + 4) == *(const uint32_t *)arg && vmm_get32(dg + 8) != 0;
}

struct ev_want {
	uint32_t event, rid;
};

static int match_event(const uint8_t *dg, uint32_t len, const void *arg)
{
	const struct ev_want *w = arg;

	return len >= VMM_DG_HEADER_SIZE + 24 && vmm_get32(dg + 8) == VMM_HYPERVISOR_CID &&
	       vmm_get32(dg + 4) == VMM_EVENT_HANDLER &&
	       vmm_get32(dg + VMM_DG_HEADER_SIZE) == w->event &&
	       vmm_get32(dg + VMM_DG_HEADER_SIZE + 12) == w->rid;
}

struct ctl_want {
	uint8_t type;
	uint32_t port;
};

/* A control packet from the host to our port (or an RST there). */
static int match_ctl(const uint8_t *dg, uint32_t len, const void *arg)
{
	const struct ctl_want *w = arg;

	return len == CTL_LEN && vmm_get32(dg) == model.cid && vmm_get32(dg + 4) == CTL_RID &&
	       vmm_get32(dg + 8) == VMM_HOST_CID && vmm_get32(dg + 32) == w->port &&
	       (dg[25] == w->type || dg[25] == PKT_RST);
}

static int32_t g_ctl(uint8_t type, uint16_t proto, uint32_t sport, uint32_t dport, uint64_t u0)
{
	uint8_t p[CTL_LEN] = { 0 };

	vmm_put_header(p, VMM_HOST_CID, CTL_RID, model.cid, CTL_RID, CTL_LEN - VMM_DG_HEADER_SIZE);
	p[24] = 1;
	p[25] = type;
	p[26] = proto;
	vmm_put32(p + 28, sport);
	vmm_put32(p + 32, dport);
	vmm_put64(p + 40, u0);
	return g_send(p, sizeof(p));
}

/* Waits for control packet TYPE to PORT; 0, -2 for an RST, -1 for nothing. */
static int g_wait_ctl(uint8_t type, uint32_t port, uint8_t *pkt)
{
	struct ctl_want w = { type, port };

	if (g_wait(match_ctl, &w, pkt, CTL_LEN, WAIT_MS))
		return -1;
	return pkt[25] == type ? 0 : -2;
}

/* --- Queue pairs in guest memory ------------------------------------------- */

struct gpair {
	uint32_t context, resource;
	uint64_t ppns[QP_PAGES];
};

static uint64_t handle_u64(uint32_t context, uint32_t resource)
{
	return (uint64_t)resource << 32 | context;
}

/*
 * Picks the pair's pages from a 64-page pool, scattered: page i of the
 * list is pool page (i * 27 + 5) % 64 (27 is odd, so no page repeats),
 * so that no two neighbours in the list are neighbours in RAM.
 */
static void gpair_pages(struct gpair *g, unsigned int pool)
{
	unsigned int i;

	for (i = 0; i < QP_PAGES; i++)
		g->ppns[i] = (POOL_GPA + pool * 64 * PG) / PG + (i * 27 + 5) % 64;
}

static int32_t g_qp_alloc(struct gpair *g, uint32_t flags)
{
	uint8_t pl[40 + QP_PAGES * 8];
	unsigned int i;

	vmm_put32(pl, g->context);
	vmm_put32(pl + 4, g->resource);
	vmm_put32(pl + 8, VMM_HOST_CID);
	vmm_put32(pl + 12, flags);
	vmm_put64(pl + 16, QSIZE);
	vmm_put64(pl + 24, QSIZE);
	vmm_put64(pl + 32, QP_PAGES);
	for (i = 0; i < QP_PAGES; i++)
		vmm_put64(pl + 40 + 8 * i, g->ppns[i]);
	return g_hypercall(VMM_RID_QUEUEPAIR_ALLOC, pl, sizeof(pl));
}

static int32_t g_qp_detach(struct gpair *g)
{
	uint8_t pl[8];

	vmm_put32(pl, g->context);
	vmm_put32(pl + 4, g->resource);
	return g_hypercall(VMM_RID_QUEUEPAIR_DETACH, pl, sizeof(pl));
}

/* Header fields: producer_tail at 8, consumer_head at 16. */
static uint64_t *qh_field(struct gpair *g, int consume_hdr, unsigned int off)
{
	return (uint64_t *)(ram + g->ppns[consume_hdr ? 1 + QPAGES : 0] * PG + off);
}

/* The byte at queue offset OFF of the produce (0) or consume (1) queue. */
static uint8_t *q_byte(struct gpair *g, int consume, uint64_t off)
{
	unsigned int base = consume ? 2 + QPAGES : 1;

	return ram + g->ppns[base + off / PG] * PG + off % PG;
}

static uint64_t ring_free(uint64_t tail, uint64_t head)
{
	return tail >= head ? QSIZE - (tail - head) - 1 : head - tail - 1;
}

/* Writes up to LEN bytes into the produce queue; the count, -1 on bad offsets. */
static long g_put(struct gpair *g, const uint8_t *buf, size_t len)
{
	uint64_t tail = __atomic_load_n(qh_field(g, 0, 8), __ATOMIC_ACQUIRE);
	uint64_t head = __atomic_load_n(qh_field(g, 1, 16), __ATOMIC_ACQUIRE);
	size_t i;

	if (tail >= QSIZE || head >= QSIZE)
		return -1;
	if (len > ring_free(tail, head))
		len = ring_free(tail, head);
	for (i = 0; i < len; i++)
		*q_byte(g, 0, (tail + i) % QSIZE) = buf[i];
	__atomic_store_n(qh_field(g, 0, 8), (tail + len) % QSIZE, __ATOMIC_RELEASE);
	return (long)len;
}

static long g_get(struct gpair *g, uint8_t *buf, size_t len)
{
	uint64_t tail = __atomic_load_n(qh_field(g, 1, 8), __ATOMIC_ACQUIRE);
	uint64_t head = __atomic_load_n(qh_field(g, 0, 16), __ATOMIC_ACQUIRE);
	uint64_t ready;
	size_t i;

	if (tail >= QSIZE || head >= QSIZE)
		return -1;
	ready = QSIZE - 1 - ring_free(tail, head);
	if (len > ready)
		len = ready;
	for (i = 0; i < len; i++)
		buf[i] = *q_byte(g, 1, (head + i) % QSIZE);
	__atomic_store_n(qh_field(g, 0, 16), (head + len) % QSIZE, __ATOMIC_RELEASE);
	return (long)len;
}

static void gen(uint8_t *buf, uint64_t pos, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(((uint32_t)(pos + i) * 2654435761u + seed) >> 13);
}

#define SUM_INIT 0xcbf29ce484222325ull

static uint64_t sum_add(uint64_t h, const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ buf[i]) * 0x100000001b3ull;
	return h;
}

struct xfer {
	uint64_t g_sent, g_sum, h_got, h_sum;	/* guest to host */
	uint64_t h_sent, h_sent_sum, g_got, g_got_sum;	/* host to guest */
	int bad;
};

/*
 * Moves TOTAL bytes each way between the guest's rings and the host's
 * socket SOCK (non-blocking), the guest sending WROTE / READ after each
 * step as the queue-state protocol allows; 0 when all arrived in time.
 */
static int transfer(struct gpair *g, int sock, uint32_t gport, uint32_t hport,
		    uint64_t total, struct xfer *t)
{
	static uint8_t buf[16384];
	double end = now_s() + 60;
	long n;
	ssize_t r;

	memset(t, 0, sizeof(*t));
	t->g_sum = t->h_sum = t->h_sent_sum = t->g_got_sum = SUM_INIT;
	while ((t->h_got < total || t->g_got < total) && now_s() < end && !t->bad) {
		if (t->g_sent < total) {
			size_t len = total - t->g_sent < sizeof(buf) ? total - t->g_sent : sizeof(buf);

			gen(buf, t->g_sent, len, 0x11);
			n = g_put(g, buf, len);
			if (n < 0)
				t->bad = 1;
			if (n > 0) {
				t->g_sum = sum_add(t->g_sum, buf, n);
				t->g_sent += n;
				g_ctl(PKT_WROTE, 0, gport, hport, 0);
			}
		}
		if (t->h_sent < total) {
			size_t len = total - t->h_sent < sizeof(buf) ? total - t->h_sent : sizeof(buf);

			gen(buf, t->h_sent, len, 0x22);
			r = send(sock, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (r > 0) {
				t->h_sent_sum = sum_add(t->h_sent_sum, buf, r);
				t->h_sent += r;
			}
		}
		r = recv(sock, buf, sizeof(buf), MSG_DONTWAIT);
		if (r > 0) {
			t->h_sum = sum_add(t->h_sum, buf, r);
			t->h_got += r;
		}
		n = g_get(g, buf, sizeof(buf));
		if (n < 0)
			t->bad = 1;
		if (n > 0) {
			t->g_got_sum = sum_add(t->g_got_sum, buf, n);
			t->g_got += n;
			g_ctl(PKT_READ, 0, gport, hport, 0);
		}
		/* Keeps the guest's inbox from filling with WROTE/READ. */
		pump(1);
		while (inbox_n > INBOX / 2) {
			free(inbox[0].data);
			memmove(inbox, inbox + 1, (inbox_n - 1) * sizeof(inbox[0]));
			inbox_n--;
		}
	}
	return t->h_got == total && t->g_got == total ? 0 : -1;
}

/* --- The tests ------------------------------------------------------------- */

static void test_datagrams(void)
{
	struct sockaddr_vm a = { .svm_family = af, .svm_cid = VMADDR_CID_ANY,
				 .svm_port = HOST_DG_PORT };
	struct sockaddr_vm from;
	socklen_t fl = sizeof(from);
	struct timeval tv = { .tv_sec = 5 };
	uint8_t dg[VMM_DG_HEADER_SIZE + 100], got[200];
	uint32_t rid = GUEST_DG_RID;
	int s = socket(af, SOCK_DGRAM, 0);
	int32_t r;
	ssize_t n;

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a))) {
		set(C_DG_TO_HOST, 0, "host socket: %s", strerror(errno));
		return;
	}
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	vmm_put_header(dg, VMM_HOST_CID, HOST_DG_PORT, model.cid, GUEST_DG_RID, 100);
	memset(dg + VMM_DG_HEADER_SIZE, 0xa5, 100);
	r = g_send(dg, sizeof(dg));
	n = recvfrom(s, got, sizeof(got), 0, (struct sockaddr *)&from, &fl);
	set(C_DG_TO_HOST, r == (int32_t)sizeof(dg) && n == 100 &&
	    !memcmp(got, dg + VMM_DG_HEADER_SIZE, 100) && from.svm_cid == model.cid &&
	    from.svm_port == GUEST_DG_RID,
	    "send result %d; host got %zd bytes from %u:%u", r, n, from.svm_cid, from.svm_port);

	memset(got, 0x3c, 64);
	a.svm_cid = model.cid;
	a.svm_port = GUEST_DG_RID;
	n = sendto(s, got, 64, 0, (struct sockaddr *)&a, sizeof(a));
	memset(dg, 0, sizeof(dg));
	r = g_wait(match_rid, &rid, dg, sizeof(dg), WAIT_MS);
	set(C_DG_TO_GUEST, n == 64 && !r && vmm_get32(dg + 8) == VMM_HOST_CID &&
	    vmm_get32(dg + 12) == HOST_DG_PORT && vmm_get64(dg + 16) == 64 &&
	    dg[VMM_DG_HEADER_SIZE] == 0x3c && dg[VMM_DG_HEADER_SIZE + 63] == 0x3c,
	    "sendto %zd (%s); guest %s it, src %u:%u, %llu bytes", n, strerror(errno),
	    r ? "never got" : "got", vmm_get32(dg + 8), vmm_get32(dg + 12),
	    (unsigned long long)vmm_get64(dg + 16));
	close(s);
}

/* Waits up to MS for the guest's doorbell byte and the NOTIFICATION cause. */
static int bitmap_rung(int ms)
{
	double end = now_s() + ms / 1000.0;

	do {
		pump(10);
		if (ram[BITMAP_GPA + DB_INDEX] & 1 && causes_seen & VMM_ICR_NOTIFICATION)
			return 1;
	} while (now_s() < end);
	return 0;
}

static void test_doorbells(void)
{
	uint8_t pl[16], dg[VMM_DG_HEADER_SIZE + 8];
	long long before = stat_value("vmm_doorbells");
	int32_t r1, r2, r3;
	int rung;

	vmm_put64(pl, BITMAP_GPA / PG);
	r1 = g_hypercall(VMM_RID_SET_NOTIFY_BITMAP, pl, 8);
	vmm_put32(pl, model.cid);
	vmm_put32(pl + 4, DB_RID);
	vmm_put64(pl + 8, DB_INDEX);
	r2 = g_hypercall(VMM_RID_DOORBELL_LINK, pl, 16);
	set(C_DB_LINK, r1 == VMM_SUCCESS && r2 == VMM_SUCCESS &&
	    stat_value("vmm_doorbells") == before + 1,
	    "bitmap %d, link %d, vmm_doorbells %lld -> %lld", r1, r2, before,
	    stat_value("vmm_doorbells"));

	/* The endpoint rings the handle it is sent, and keeps it armed. */
	causes_seen = 0;
	vmm_put_header(dg, VMM_HOST_CID, ENDPOINT_ARM, model.cid, GUEST_DG_RID, 8);
	vmm_put32(dg + VMM_DG_HEADER_SIZE, model.cid);
	vmm_put32(dg + VMM_DG_HEADER_SIZE + 4, DB_RID);
	r1 = g_send(dg, sizeof(dg));
	rung = bitmap_rung(WAIT_MS);
	set(C_DB_HOST_RINGS, r1 == (int32_t)sizeof(dg) && rung,
	    "arm send %d, bitmap byte %#x, causes %#x, rings in %llu", r1,
	    ram[BITMAP_GPA + DB_INDEX], causes_seen, (unsigned long long)vmx.rings_in);

	/* The guest rings the host doorbell; the endpoint rings ours back. */
	ram[BITMAP_GPA + DB_INDEX] = 0;
	causes_seen = 0;
	vmm_put32(pl, VMM_HOST_CID);
	vmm_put32(pl + 4, ENDPOINT_DBELL);
	r3 = g_hypercall(VMM_RID_DOORBELL_NOTIFY, pl, 8);
	rung = bitmap_rung(WAIT_MS);
	set(C_DB_GUEST_RINGS, r3 == VMM_SUCCESS && rung,
	    "notify %d, rung back %d, rings out %llu in %llu", r3, rung,
	    (unsigned long long)vmx.rings_out, (unsigned long long)vmx.rings_in);
}

/* The host socket's queue size: the guest's pairs have QSIZE per queue. */
static int set_qsize(int fd)
{
	uint64_t size = QSIZE;

	return setsockopt(fd, af, SO_VMCI_BUFFER_SIZE, &size, sizeof(size));
}

static int host_listener(uint32_t port)
{
	struct sockaddr_vm a = { .svm_family = af, .svm_cid = VMADDR_CID_ANY, .svm_port = port };
	int fd = socket(af, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (set_qsize(fd) || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void test_g2h(void)
{
	struct gpair g = { .context = model.cid, .resource = QP_RID };
	struct ev_want ev = { EV_QP_PEER_ATTACH, QP_RID };
	long long pairs0 = stat_value("broker_queue_pairs");
	long long pins0 = stat_value("broker_pinned_pages");
	uint8_t pkt[CTL_LEN] = { 0 }, evdg[64] = { 0 };
	struct pollfd pfd;
	struct xfer t;
	int lfd = host_listener(HOST_LISTEN), sock = -1, w;
	int32_t r;

	w = lfd >= 0 ? 0 : -1;
	if (!w && g_ctl(PKT_REQUEST2, 1, GUEST_SPORT, HOST_LISTEN, QSIZE) < 0)
		w = -1;
	if (!w)
		w = g_wait_ctl(PKT_NEGOTIATE2, GUEST_SPORT, pkt);
	set(C_G2H_NEGOTIATE, !w && vmm_get64(pkt + 40) == QSIZE && (pkt[26] & 1),
	    "listener %d, wait %d, size %llu proto %u", lfd, w,
	    (unsigned long long)vmm_get64(pkt + 40), pkt[26]);
	if (w)
		goto out;

	gpair_pages(&g, 0);
	r = g_qp_alloc(&g, 0);
	set(C_G2H_ALLOC, r == VMM_SUCCESS && vmx.pair_count == 1 &&
	    stat_value("broker_queue_pairs") == pairs0 + 1 &&
	    stat_value("broker_pinned_pages") == pins0 + QP_PAGES,
	    "alloc %d; broker pairs %lld -> %lld, pinned %lld -> %lld (want +%u)", r, pairs0,
	    stat_value("broker_queue_pairs"), pins0, stat_value("broker_pinned_pages"),
	    QP_PAGES);
	if (r != VMM_SUCCESS)
		goto out;

	g_ctl(PKT_OFFER, 0, GUEST_SPORT, HOST_LISTEN, handle_u64(g.context, g.resource));
	w = g_wait_ctl(PKT_ATTACH, GUEST_SPORT, pkt);
	pfd = (struct pollfd){ .fd = lfd, .events = POLLIN };
	if (!w && poll(&pfd, 1, WAIT_MS) == 1)
		sock = accept(lfd, NULL, NULL);
	r = g_wait(match_event, &ev, evdg, sizeof(evdg), 1000);
	set(C_G2H_PEER_ATTACH, !r && vmm_get32(evdg + 32) == model.cid &&
	    vmm_get32(evdg + 40) == VMM_HOST_CID,
	    "event %s, handle %#x:%#x peer %u", r ? "missing" : "came", vmm_get32(evdg + 32),
	    vmm_get32(evdg + 36), vmm_get32(evdg + 40));
	set(C_G2H_ATTACH, !w && vmm_get64(pkt + 40) == handle_u64(g.context, g.resource) &&
	    sock >= 0, "ATTACH wait %d (handle %#llx), accept %d (%s)", w,
	    (unsigned long long)vmm_get64(pkt + 40), sock, strerror(errno));
	if (sock < 0)
		goto detach;

	transfer(&g, sock, GUEST_SPORT, HOST_LISTEN, XFER, &t);
	set(C_G2H_TO_HOST, t.h_got == XFER && t.h_sum == t.g_sum && !t.bad,
	    "guest sent %llu, host got %llu, sums %s, bad %d", (unsigned long long)t.g_sent,
	    (unsigned long long)t.h_got, t.h_sum == t.g_sum ? "equal" : "DIFFER", t.bad);
	set(C_G2H_TO_GUEST, t.g_got == XFER && t.g_got_sum == t.h_sent_sum && !t.bad,
	    "host sent %llu, guest got %llu, sums %s", (unsigned long long)t.h_sent,
	    (unsigned long long)t.g_got, t.g_got_sum == t.h_sent_sum ? "equal" : "DIFFER");

	close(sock);
	ev.event = EV_QP_PEER_DETACH;
	r = g_wait(match_event, &ev, evdg, sizeof(evdg), WAIT_MS);
	set(C_G2H_PEER_DETACH, !r && vmm_get32(evdg + 32) == model.cid &&
	    vmm_get32(evdg + 40) == VMM_HOST_CID,
	    "event %s, handle %#x:%#x peer %u", r ? "missing" : "came", vmm_get32(evdg + 32),
	    vmm_get32(evdg + 36), vmm_get32(evdg + 40));
detach:
	r = g_qp_detach(&g);
	set(C_G2H_DETACH, r >= VMM_SUCCESS && vmx.pair_count == 0 &&
	    wait_stat("broker_queue_pairs", pairs0, 2000) &&
	    wait_stat("broker_pinned_pages", pins0, 2000),
	    "detach %d; windows %u; broker pairs %lld (was %lld), pinned %lld (was %lld)", r,
	    vmx.pair_count, stat_value("broker_queue_pairs"), pairs0,
	    stat_value("broker_pinned_pages"), pins0);
out:
	if (lfd >= 0)
		close(lfd);
}

struct connector {
	int fd, ret, err;
	struct sockaddr_vm to;
};

static void *host_connect(void *arg)
{
	struct connector *c = arg;

	c->ret = connect(c->fd, (struct sockaddr *)&c->to, sizeof(c->to));
	c->err = errno;
	return NULL;
}

static void test_h2g(void)
{
	struct connector c = { .to = { .svm_family = af, .svm_cid = model.cid,
				       .svm_port = GUEST_LISTEN } };
	struct timeval tv = { .tv_sec = 10 };
	long long pins0 = stat_value("broker_pinned_pages");
	struct gpair g;
	uint8_t pkt[CTL_LEN] = { 0 }, buf[64];
	uint32_t hport;
	struct xfer t;
	pthread_t th;
	int w, joined = 0;
	int32_t r = -1;
	ssize_t n;

	c.fd = socket(af, SOCK_STREAM, 0);
	setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (c.fd < 0 || set_qsize(c.fd) || pthread_create(&th, NULL, host_connect, &c)) {
		set(C_H2G_REQUEST, 0, "socket or thread: %s", strerror(errno));
		return;
	}
	w = g_wait_ctl(PKT_REQUEST2, GUEST_LISTEN, pkt);
	hport = vmm_get32(pkt + 28);
	set(C_H2G_REQUEST, !w && (pkt[26] & 1) && vmm_get64(pkt + 40) == QSIZE,
	    "wait %d, proto %u size %llu", w, pkt[26],
	    (unsigned long long)vmm_get64(pkt + 40));
	if (w)
		goto join;
	g_ctl(PKT_NEGOTIATE2, 1, GUEST_LISTEN, hport, vmm_get64(pkt + 40));
	w = g_wait_ctl(PKT_OFFER, GUEST_LISTEN, pkt);
	g.context = (uint32_t)vmm_get64(pkt + 40);
	g.resource = (uint32_t)(vmm_get64(pkt + 40) >> 32);
	gpair_pages(&g, 1);
	if (!w && g.context == VMM_HOST_CID)
		r = g_qp_alloc(&g, 1 /* ATTACH_ONLY */);
	set(C_H2G_ALLOC, !w && r == VMM_SUCCESS &&
	    stat_value("broker_pinned_pages") == pins0 + QP_PAGES,
	    "offer wait %d of %#x:%#x; attach %d; pinned %lld -> %lld", w, g.context,
	    g.resource, r, pins0, stat_value("broker_pinned_pages"));
	if (r != VMM_SUCCESS)
		goto join;
	g_ctl(PKT_ATTACH, 0, GUEST_LISTEN, hport, handle_u64(g.context, g.resource));
	{
		double end = now_s() + WAIT_MS / 1000.0;

		while (!joined && now_s() < end) {
			pump(10);
			joined = !pthread_tryjoin_np(th, NULL);
		}
	}
	set(C_H2G_CONNECTED, joined && c.ret == 0, "joined %d, connect %d (%s)", joined, c.ret,
	    strerror(c.err));
	if (!joined || c.ret)
		goto detach;
	transfer(&g, c.fd, GUEST_LISTEN, hport, 65536 * 4, &t);
	set(C_H2G_DATA, t.h_got == 65536 * 4 && t.g_got == 65536 * 4 && t.h_sum == t.g_sum &&
	    t.g_got_sum == t.h_sent_sum && !t.bad,
	    "host got %llu (sums %s), guest got %llu (sums %s)", (unsigned long long)t.h_got,
	    t.h_sum == t.g_sum ? "equal" : "DIFFER", (unsigned long long)t.g_got,
	    t.g_got_sum == t.h_sent_sum ? "equal" : "DIFFER");
detach:
	r = g_qp_detach(&g);
	setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = joined && !c.ret ? recv(c.fd, buf, sizeof(buf), 0) : -2;
	set(C_H2G_EOF, r >= VMM_SUCCESS && n == 0 && wait_stat("broker_pinned_pages", pins0, 2000),
	    "detach %d; host recv %zd (%s); pinned %lld (was %lld)", r, n, strerror(errno),
	    stat_value("broker_pinned_pages"), pins0);
join:
	if (!joined) {
		shutdown(c.fd, SHUT_RDWR);
		pthread_join(th, NULL);
	}
	close(c.fd);
}

static void test_unlink_reset_close(const char *dev)
{
	long long dbs = stat_value("vmm_doorbells");
	long long pairs0 = stat_value("broker_queue_pairs");
	long long ctxs = stat_value("vmm_contexts");
	struct gpair g = { .context = model.cid, .resource = QP_RID + 1 };
	uint8_t pl[8];
	int32_t r, a;

	vmm_put32(pl, model.cid);
	vmm_put32(pl + 4, DB_RID);
	r = g_hypercall(VMM_RID_DOORBELL_UNLINK, pl, 8);
	set(C_DB_UNLINK, r == VMM_SUCCESS && stat_value("vmm_doorbells") == dbs - 1,
	    "unlink %d, vmm_doorbells %lld -> %lld", r, dbs, stat_value("vmm_doorbells"));

	/* A pair nobody on the host attached to: a reset must detach it. */
	gpair_pages(&g, 2);
	a = g_qp_alloc(&g, 0);
	r = (int32_t)stat_value("broker_queue_pairs");
	vmm_write(&model, VMM_REG_CONTROL, VMM_CONTROL_RESET, 4);
	set(C_RESET, a == VMM_SUCCESS && r == pairs0 + 1 && vmx.pair_count == 0 &&
	    wait_stat("broker_queue_pairs", pairs0, 2000),
	    "alloc %d, pairs %d, after reset windows %u, broker pairs %lld (was %lld)", a, r,
	    vmx.pair_count, stat_value("broker_queue_pairs"), pairs0);

	vmm_vmx_close(&vmx);
	set(C_CLOSE, wait_stat("vmm_contexts", ctxs - 1, 2000),
	    "vmm_contexts %lld, was %lld (%s)", stat_value("vmm_contexts"), ctxs, dev);
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/vmci";
	int afd = -1, i, r;
	uint8_t pl[8];

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	tap_plan(NCHECKS);
	memset(result, -1, sizeof(result));
	af = VMCISock_GetAFValueFd(&afd);

	ram_fd = memfd_create("guest-ram", MFD_CLOEXEC);
	if (ram_fd >= 0 && !ftruncate(ram_fd, RAM_SIZE))
		ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ram_fd, 0);
	set(C_RAM, ram && ram != MAP_FAILED && af >= 0, "memfd %d, af %d: %s", ram_fd, af,
	    strerror(errno));
	if (!result[C_RAM])
		goto report;

	r = vmm_init(&model, &env, WANT_CID, VMM_CAPS_NOTIFICATIONS | VMM_CAPS_PPN64);
	if (!r) {
		vmm_write(&model, VMM_REG_CAPS, VMM_CAPS_DATAGRAM | VMM_CAPS_NOTIFICATIONS |
			  VMM_CAPS_PPN64, 4);
		vmm_write(&model, VMM_REG_IMR, VMM_ICR_ALL, 4);
		vmm_write(&model, VMM_REG_CONTROL, VMM_CONTROL_INT_ENABLE, 4);
	}
	set(C_MODEL, !r, "vmm_init %d", r);
	if (r)
		goto report;

	r = vmm_vmx_open(&vmx, &model, dev, 0, ram_lookup, NULL);
	set(C_OPEN, !r && vmx.cid == model.cid && model.cid >= 16,
	    "open %d (%s), cid %u model %u", r, strerror(-r), vmx.cid, model.cid);
	if (r)
		goto report;
	printf("# guest context %u (asked for %u)\n", model.cid, WANT_CID);

	r = g_hypercall(VMM_RID_GET_CONTEXT_ID, pl, 0);
	set(C_CID, (uint32_t)r == vmx.cid, "GET_CONTEXT_ID %d, context %u", r, vmx.cid);

	test_datagrams();
	test_doorbells();
	test_g2h();
	test_h2g();
	test_unlink_reset_close(dev);
	printf("# vmx: %llu datagrams to host, %llu to guest, rings %llu in %llu out, held %llu\n",
	       (unsigned long long)vmx.to_host, (unsigned long long)vmx.to_guest,
	       (unsigned long long)vmx.rings_in, (unsigned long long)vmx.rings_out,
	       (unsigned long long)vmx.held);
	vmm_destroy(&model);

report:
	for (i = 0; i < NCHECKS; i++) {
		if (result[i] < 0)
			tap_report(0, names[i], "not reached");
		else
			tap_report(result[i], names[i], "%s", why[i]);
	}
	return tap_failures ? 1 : 0;
}
