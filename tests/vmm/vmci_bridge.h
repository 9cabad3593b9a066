/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host context (CID 2) as Unix sockets in one directory, so programs
 * on the machine running the emulator talk to guest vSockets.
 *
 * Datagrams: the device owns <dir>/vmci-dgram. A guest datagram to
 * {2, P} goes to <dir>/dgram-P (a socket some host program bound), from
 * <dir>/vmci-dgram; a datagram a host program sends to <dir>/vmci-dgram
 * goes to the guest. Both directions carry an 8-byte header before the
 * payload: u32 guest port, u32 host port, little-endian.
 *
 * Streams: a guest connection to {2, P} is bridged to the Unix stream
 * socket <dir>/stream-P (connected when the guest's REQUEST arrives; no
 * listener there means RST). Bytes are moved between that socket and the
 * queue pair the guest offers; no framing is added.
 *
 * Streams to the hypervisor: a guest connection to {0, P} (its control
 * packets go to {0, 15}) is bridged to <dir>/hv-stream-P in the same way,
 * except that the device first writes one line, "VSOCK <guest cid> <guest
 * port>\n", because the hypervisor's endpoints judge the caller by its
 * source port (below 1024 is privileged; tests/vmm/host/tools_host.py).
 *
 * A host program opens a stream to guest port G by connecting to
 * <dir>/vmci-stream and writing "CONNECT G\n"; once the guest accepted,
 * the device answers "OK <host port>\n" and the socket carries the
 * stream. A refused connection is closed without an answer.
 *
 * Faults and lifecycle: <dir>/vmci-control takes one text command per
 * datagram and answers "OK" or "ERR <why>" to a bound sender:
 *   cid N          change the guest's context ID (raises CTX_ID_UPDATE);
 *                  every open stream's host end detaches first
 *   event E        raise event E without payload; before 2 (QP_RESUMED)
 *                  the model forgets every queue pair, as a restore does
 *   fail RID ERR   the next hypercall to RID returns ERR instead
 *   reset          device reset, as if the guest wrote CONTROL_RESET
 *   ring C R       ring doorbell {C, R}, which the guest linked: its
 *                  bitmap byte is set and NOTIFICATION raised
 *   qpdetach G H   the host end of stream (guest port G, host port H)
 *                  detaches from its pair (QP_PEER_DETACH to the guest)
 *   junk KIND      one malformed datagram to the guest (vmci_model_junk.c)
 *   junk qhead G H garbage offsets in the queue header the host writes
 *                  for stream (G, H); the stream moves no more data
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_BRIDGE_H
#define VMCI_BRIDGE_H

#include "vmci_model.h"

#define VMM_BRIDGE_HDR		8u
#define VMM_BRIDGE_DGRAM_NAME	"vmci-dgram"
#define VMM_BRIDGE_CONTROL_NAME	"vmci-control"
#define VMM_BRIDGE_STREAM_NAME	"vmci-stream"

#define VMM_BRIDGE_MAX_STREAMS	128
#define VMM_STREAM_BUF		65536
/* vmm_stream_tick()'s period; a closed host end waits 250 ticks at most. */
#define VMM_STREAM_TICK_MS	2
#define VMM_STREAM_LINGER_TICKS	250

struct vmm_stream {
	struct vmm_bridge *bridge;
	bool used;
	bool attached;
	uint32_t peer;		/* VMM_HOST_CID, or VMM_HYPERVISOR_CID */
	/* Host-initiated: reading the CONNECT line, or waiting for the guest. */
	enum { ST_OPEN, ST_LINE, ST_REQUESTED, ST_OFFERED } state;
	char line[32];
	size_t line_len;
	uint32_t qp_context;
	bool host_eof;		/* the Unix peer shut its sending side */
	bool guest_shut;	/* the guest will send no more */
	bool poisoned;		/* garbage offsets written: no more data moves */
	bool draining;		/* the guest left; sending what it wrote, then close */
	bool host_gone;		/* the Unix peer closed; detach once the guest read */
	unsigned int linger;	/* vmm_stream_tick() calls since host_gone */
	int fd;
	uint32_t guest_port;
	uint32_t host_port;
	uint32_t qp_resource;
	/* Bytes taken from the queue pair, not yet accepted by the socket. */
	uint8_t *out;
	size_t out_len, out_off;
};

struct vmm_bridge {
	struct vmci_model *model;
	int dgram_fd;
	int control_fd;
	int listen_fd;
	uint32_t next_port, next_rid;
	char dir[80];
	uint8_t *buf;
	uint64_t to_host, to_guest, dropped;
	struct vmm_stream streams[VMM_BRIDGE_MAX_STREAMS];
	/* Set by the embedding: watch FD for reading and/or writing. */
	void (*watch)(struct vmm_stream *st, bool read, bool write);
	/* Set by the embedding: call vmm_stream_tick() in VMM_STREAM_TICK_MS. */
	void (*want_tick)(struct vmm_bridge *b);
};

/* Returns 0, or -errno; on error the bridge is closed. */
int vmm_bridge_open(struct vmm_bridge *b, struct vmci_model *m, const char *dir);
void vmm_bridge_close(struct vmm_bridge *b);

/* The model's host_datagram hook. */
int64_t vmm_bridge_from_guest(struct vmm_bridge *b, const uint8_t *dg, size_t len);
/* Call when dgram_fd is readable: forwards what host programs sent. */
void vmm_bridge_dgram_readable(struct vmm_bridge *b);
/* A vSockets control packet from the guest to the host context. */
int64_t vmm_stream_packet(struct vmm_bridge *b, const uint8_t *dg, size_t len);
/* Call when a stream's socket is readable or writable. */
void vmm_stream_io(struct vmm_stream *st);
void vmm_stream_qp_gone(struct vmm_bridge *b, uint32_t context, uint32_t resource);
/* Detaches closed host ends whose guest has read; true while some still wait. */
bool vmm_stream_tick(struct vmm_bridge *b);
/* Call when listen_fd is readable: a host program connects to a guest. */
void vmm_stream_accept(struct vmm_bridge *b);
void vmm_stream_close_all(struct vmm_bridge *b);
/* Control commands on streams; 0, or -ENOENT without such an open stream. */
int vmm_stream_host_detach(struct vmm_bridge *b, uint32_t gport, uint32_t hport);
int vmm_stream_garble(struct vmm_bridge *b, uint32_t gport, uint32_t hport);
/* Every stream's host end leaves (attached: QP_PEER_DETACH, else RST). */
void vmm_stream_detach_all(struct vmm_bridge *b);

/* Call when control_fd is readable. */
void vmm_bridge_control_readable(struct vmm_bridge *b);
/* One control command; returns 0 or a negative errno. */
int vmm_bridge_command(struct vmm_bridge *b, const char *cmd);

#endif
