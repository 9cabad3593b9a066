/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Seeing what vmsock holds: every socket on one list, sock_diag for
 * "ss --vsock", /proc/net/vmsock and /proc/net/vmsock_stat (diag.c), and
 * the counters and tracepoints the protocol code reports to (observe.c).
 * docs/observing.md describes the interfaces.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMSOCK_DIAG_H
#define VMSOCK_DIAG_H

#include <linux/types.h>

struct sock;
struct vmsock_packet;

/* Module load and unload: the /proc/net files of every namespace. */
int vmsock_diag_init(void);
void vmsock_diag_exit(void);

/*
 * sock_diag for AF_VSOCK, only while vmsock holds family 40 (the caller
 * holds the family lock). Registering fails quietly when the in-tree
 * vsock_diag has the slot; unregistering undoes only our own success.
 */
void vmsock_diag_register(void);
void vmsock_diag_unregister(void);

/* A new socket joins the list; its destructor (any context) leaves it. */
void vmsock_diag_track(struct sock *sk);
void vmsock_diag_untrack(struct sock *sk);

/* Why a control packet went nowhere; names in observe.c and the trace. */
enum vmsock_drop_reason {
	VMSOCK_DROP_MALFORMED,		/* failed vmsock_packet_check() */
	VMSOCK_DROP_UNKNOWN_TYPE,	/* answered with INVALID */
	VMSOCK_DROP_NO_MEMORY,		/* no room to queue it for the worker */
	VMSOCK_DROP_QUEUE_FULL,		/* the worker's queue is at its bound */
	VMSOCK_DROP_NO_SOCKET,		/* nobody has the port: RST unless RST */
	VMSOCK_DROP_STRAY,		/* not from the socket's peer, or late */
	VMSOCK_DROP_SEND_FAILED,	/* ours: VMCI would not deliver it */
	VMSOCK_DROP_MAX,
};

/*
 * Counters (atomic, any context) and tracepoints in one call per event.
 * A packet is noted as sent before it goes, and as dropped
 * (VMSOCK_DROP_SEND_FAILED) if VMCI refused it.
 */
void vmsock_note_ctl_send(const struct vmsock_packet *pkt);
void vmsock_note_ctl_recv(const struct vmsock_packet *pkt);
/* @pkt is NULL when the datagram was too short to read as a packet. */
void vmsock_note_ctl_drop(u32 src_cid, const struct vmsock_packet *pkt,
			  enum vmsock_drop_reason reason);
/* Every sk_state change of a stream socket goes through here (locked). */
void vmsock_stream_set_state(struct sock *sk, int state);
void vmsock_note_dgram(bool sent, bool dropped);
/* A stream connect done without packets (stream_local.c). */
void vmsock_note_local_connect(void);

/* "ESTABLISHED", "LISTEN"...: the name ss uses for an sk_state. */
const char *vmsock_state_name(int state);

/* Writes the counters to @m (/proc/net/vmsock_stat). */
struct seq_file;
void vmsock_counters_show(struct seq_file *m);

#endif /* VMSOCK_DIAG_H */
