// SPDX-License-Identifier: GPL-2.0
/*
 * Counters and tracepoints: the protocol code calls one vmsock_note_*()
 * per event, which bumps a counter (read in /proc/net/vmsock_stat) and
 * fires the matching tracepoint (vmsock_trace.h). Counters are atomic
 * and module-wide, so any context may bump them without a lock; they
 * start at zero when the module loads.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/atomic.h>
#include <linux/kernel.h>
#include <linux/seq_file.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include "diag.h"
#include "packet.h"
#include "sock.h"

#define CREATE_TRACE_POINTS
#include "vmsock_trace.h"

static atomic_long_t vmsock_ctl_sent[VMSOCK_PKT_MAX];
static atomic_long_t vmsock_ctl_recv[VMSOCK_PKT_MAX];
static atomic_long_t vmsock_ctl_dropped[VMSOCK_DROP_MAX];
static atomic_long_t vmsock_dgram_sent, vmsock_dgram_recv, vmsock_dgram_dropped;
static atomic_long_t vmsock_stream_opened, vmsock_stream_local_connects;

static const char *const vmsock_pkt_names[VMSOCK_PKT_MAX] = {
	[VMSOCK_PKT_INVALID] = "invalid",
	[VMSOCK_PKT_REQUEST] = "request",
	[VMSOCK_PKT_NEGOTIATE] = "negotiate",
	[VMSOCK_PKT_OFFER] = "offer",
	[VMSOCK_PKT_ATTACH] = "attach",
	[VMSOCK_PKT_WROTE] = "wrote",
	[VMSOCK_PKT_READ] = "read",
	[VMSOCK_PKT_RST] = "rst",
	[VMSOCK_PKT_SHUTDOWN] = "shutdown",
	[VMSOCK_PKT_WAITING_WRITE] = "waiting_write",
	[VMSOCK_PKT_WAITING_READ] = "waiting_read",
	[VMSOCK_PKT_REQUEST2] = "request2",
	[VMSOCK_PKT_NEGOTIATE2] = "negotiate2",
};

static const char *const vmsock_drop_names[VMSOCK_DROP_MAX] = {
	[VMSOCK_DROP_MALFORMED] = "malformed",
	[VMSOCK_DROP_UNKNOWN_TYPE] = "unknown_type",
	[VMSOCK_DROP_NO_MEMORY] = "no_memory",
	[VMSOCK_DROP_QUEUE_FULL] = "queue_full",
	[VMSOCK_DROP_NO_SOCKET] = "no_socket",
	[VMSOCK_DROP_STRAY] = "stray",
	[VMSOCK_DROP_SEND_FAILED] = "send_failed",
};

const char *vmsock_state_name(int state)
{
	switch (state) {
	case TCP_ESTABLISHED:
		return "ESTABLISHED";
	case TCP_SYN_SENT:
		return "SYN_SENT";
	case TCP_SYN_RECV:
		return "SYN_RECV";
	case TCP_LISTEN:
		return "LISTEN";
	case TCP_CLOSE:
		return "CLOSE";
	default:
		return "?";
	}
}

/* Packet types come from the wire: count only the ones we know. */
static void vmsock_count_type(atomic_long_t *table, u8 type)
{
	if (type < VMSOCK_PKT_MAX)
		atomic_long_inc(&table[type]);
}

void vmsock_note_ctl_send(const struct vmsock_packet *pkt)
{
	vmsock_count_type(vmsock_ctl_sent, pkt->type);
	trace_vmsock_ctl_send(pkt);
}

void vmsock_note_ctl_recv(const struct vmsock_packet *pkt)
{
	vmsock_count_type(vmsock_ctl_recv, pkt->type);
	trace_vmsock_ctl_recv(pkt);
}

void vmsock_note_ctl_drop(u32 src_cid, const struct vmsock_packet *pkt,
			  enum vmsock_drop_reason reason)
{
	atomic_long_inc(&vmsock_ctl_dropped[reason]);
	trace_vmsock_ctl_drop(src_cid, pkt, reason);
}

void vmsock_stream_set_state(struct sock *sk, int state)
{
	const struct vmsock_sock *vsk = vmsock_sk(sk);
	int old = sk->sk_state;

	if (old == state)
		return;
	if (state == TCP_ESTABLISHED)
		atomic_long_inc(&vmsock_stream_opened);
	trace_vmsock_state(vsk->local_addr.svm_port, vsk->remote_addr.svm_cid,
			   vsk->remote_addr.svm_port, old, state);
	/* Lockless readers (poll, sock_diag) see one value or the other. */
	WRITE_ONCE(sk->sk_state, state);
}

void vmsock_note_dgram(bool sent, bool dropped)
{
	if (dropped)
		atomic_long_inc(&vmsock_dgram_dropped);
	else if (sent)
		atomic_long_inc(&vmsock_dgram_sent);
	else
		atomic_long_inc(&vmsock_dgram_recv);
}

void vmsock_note_local_connect(void)
{
	atomic_long_inc(&vmsock_stream_local_connects);
}

static void vmsock_show_table(struct seq_file *m, const char *prefix,
			      const char *const *names, atomic_long_t *table,
			      unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		seq_printf(m, "%s_%s %lu\n", prefix, names[i],
			   (unsigned long)atomic_long_read(&table[i]));
}

void vmsock_counters_show(struct seq_file *m)
{
	vmsock_show_table(m, "ctl_sent", vmsock_pkt_names, vmsock_ctl_sent, VMSOCK_PKT_MAX);
	vmsock_show_table(m, "ctl_recv", vmsock_pkt_names, vmsock_ctl_recv, VMSOCK_PKT_MAX);
	vmsock_show_table(m, "ctl_dropped", vmsock_drop_names, vmsock_ctl_dropped,
			  VMSOCK_DROP_MAX);
	seq_printf(m, "dgram_sent %lu\n", (unsigned long)atomic_long_read(&vmsock_dgram_sent));
	seq_printf(m, "dgram_received %lu\n",
		   (unsigned long)atomic_long_read(&vmsock_dgram_recv));
	seq_printf(m, "dgram_dropped %lu\n",
		   (unsigned long)atomic_long_read(&vmsock_dgram_dropped));
	seq_printf(m, "stream_established %lu\n",
		   (unsigned long)atomic_long_read(&vmsock_stream_opened));
	seq_printf(m, "stream_local_connects %lu\n",
		   (unsigned long)atomic_long_read(&vmsock_stream_local_connects));
}
