/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of vmsock.ko, system "vmsock" (the in-tree family's are
 * "vsock"): control packets sent, received and dropped, and stream state
 * changes, enough to follow one connection with ftrace or perf. Only
 * observe.c fires them, through the vmsock_note_*() helpers.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vmsock

#if !defined(VMSOCK_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define VMSOCK_TRACE_H

#include <linux/tracepoint.h>
#include <net/tcp_states.h>

#include "diag.h"
#include "packet.h"

/* User space (perf, trace-cmd) reads these tables with the numbers filled in. */
TRACE_DEFINE_ENUM(TCP_ESTABLISHED);
TRACE_DEFINE_ENUM(TCP_SYN_SENT);
TRACE_DEFINE_ENUM(TCP_SYN_RECV);
TRACE_DEFINE_ENUM(TCP_CLOSE);
TRACE_DEFINE_ENUM(TCP_LISTEN);
TRACE_DEFINE_ENUM(VMSOCK_PKT_INVALID);
TRACE_DEFINE_ENUM(VMSOCK_PKT_REQUEST);
TRACE_DEFINE_ENUM(VMSOCK_PKT_NEGOTIATE);
TRACE_DEFINE_ENUM(VMSOCK_PKT_OFFER);
TRACE_DEFINE_ENUM(VMSOCK_PKT_ATTACH);
TRACE_DEFINE_ENUM(VMSOCK_PKT_WROTE);
TRACE_DEFINE_ENUM(VMSOCK_PKT_READ);
TRACE_DEFINE_ENUM(VMSOCK_PKT_RST);
TRACE_DEFINE_ENUM(VMSOCK_PKT_SHUTDOWN);
TRACE_DEFINE_ENUM(VMSOCK_PKT_WAITING_WRITE);
TRACE_DEFINE_ENUM(VMSOCK_PKT_WAITING_READ);
TRACE_DEFINE_ENUM(VMSOCK_PKT_REQUEST2);
TRACE_DEFINE_ENUM(VMSOCK_PKT_NEGOTIATE2);
TRACE_DEFINE_ENUM(VMSOCK_DROP_MALFORMED);
TRACE_DEFINE_ENUM(VMSOCK_DROP_UNKNOWN_TYPE);
TRACE_DEFINE_ENUM(VMSOCK_DROP_NO_MEMORY);
TRACE_DEFINE_ENUM(VMSOCK_DROP_QUEUE_FULL);
TRACE_DEFINE_ENUM(VMSOCK_DROP_NO_SOCKET);
TRACE_DEFINE_ENUM(VMSOCK_DROP_STRAY);
TRACE_DEFINE_ENUM(VMSOCK_DROP_SEND_FAILED);

#define vmsock_trace_pkt_type(type)					\
	__print_symbolic(type,						\
			 { VMSOCK_PKT_INVALID, "INVALID" },		\
			 { VMSOCK_PKT_REQUEST, "REQUEST" },		\
			 { VMSOCK_PKT_NEGOTIATE, "NEGOTIATE" },		\
			 { VMSOCK_PKT_OFFER, "OFFER" },			\
			 { VMSOCK_PKT_ATTACH, "ATTACH" },		\
			 { VMSOCK_PKT_WROTE, "WROTE" },			\
			 { VMSOCK_PKT_READ, "READ" },			\
			 { VMSOCK_PKT_RST, "RST" },			\
			 { VMSOCK_PKT_SHUTDOWN, "SHUTDOWN" },		\
			 { VMSOCK_PKT_WAITING_WRITE, "WAITING_WRITE" },	\
			 { VMSOCK_PKT_WAITING_READ, "WAITING_READ" },	\
			 { VMSOCK_PKT_REQUEST2, "REQUEST2" },		\
			 { VMSOCK_PKT_NEGOTIATE2, "NEGOTIATE2" })

#define vmsock_trace_state(state)					\
	__print_symbolic(state,						\
			 { TCP_ESTABLISHED, "ESTABLISHED" },		\
			 { TCP_SYN_SENT, "SYN_SENT" },			\
			 { TCP_SYN_RECV, "SYN_RECV" },			\
			 { TCP_CLOSE, "CLOSE" },			\
			 { TCP_LISTEN, "LISTEN" })

#define vmsock_trace_drop(reason)					\
	__print_symbolic(reason,					\
			 { VMSOCK_DROP_MALFORMED, "malformed" },	\
			 { VMSOCK_DROP_UNKNOWN_TYPE, "unknown_type" },	\
			 { VMSOCK_DROP_NO_MEMORY, "no_memory" },	\
			 { VMSOCK_DROP_QUEUE_FULL, "queue_full" },	\
			 { VMSOCK_DROP_NO_SOCKET, "no_socket" },	\
			 { VMSOCK_DROP_STRAY, "stray" },		\
			 { VMSOCK_DROP_SEND_FAILED, "send_failed" })

TRACE_EVENT(vmsock_ctl_send,
	    TP_PROTO(const struct vmsock_packet *pkt),
	    TP_ARGS(pkt),
	    TP_STRUCT__entry(__field(u32, src_port)
			     __field(u32, dst_cid)
			     __field(u32, dst_port)
			     __field(u8, type)),
	    TP_fast_assign(__entry->src_port = pkt->src_port;
			   __entry->dst_cid = pkt->dg.dst.context;
			   __entry->dst_port = pkt->dst_port;
			   __entry->type = pkt->type;),
	    TP_printk("%s port %u -> %u:%u", vmsock_trace_pkt_type(__entry->type),
		      __entry->src_port, __entry->dst_cid, __entry->dst_port)
);

TRACE_EVENT(vmsock_ctl_recv,
	    TP_PROTO(const struct vmsock_packet *pkt),
	    TP_ARGS(pkt),
	    TP_STRUCT__entry(__field(u32, src_cid)
			     __field(u32, src_port)
			     __field(u32, dst_port)
			     __field(u8, type)),
	    TP_fast_assign(__entry->src_cid = pkt->dg.src.context;
			   __entry->src_port = pkt->src_port;
			   __entry->dst_port = pkt->dst_port;
			   __entry->type = pkt->type;),
	    TP_printk("%s %u:%u -> port %u", vmsock_trace_pkt_type(__entry->type),
		      __entry->src_cid, __entry->src_port, __entry->dst_port)
);

/* A malformed datagram has only its sender: type and ports read 0. */
TRACE_EVENT(vmsock_ctl_drop,
	    TP_PROTO(u32 src_cid, const struct vmsock_packet *pkt, int reason),
	    TP_ARGS(src_cid, pkt, reason),
	    TP_STRUCT__entry(__field(u32, src_cid)
			     __field(u32, src_port)
			     __field(u32, dst_port)
			     __field(u8, type)
			     __field(int, reason)),
	    TP_fast_assign(__entry->src_cid = src_cid;
			   __entry->src_port = pkt ? pkt->src_port : 0;
			   __entry->dst_port = pkt ? pkt->dst_port : 0;
			   __entry->type = pkt ? pkt->type : 0;
			   __entry->reason = reason;),
	    TP_printk("type %u from %u:%u to port %u: %s", __entry->type,
		      __entry->src_cid, __entry->src_port, __entry->dst_port,
		      vmsock_trace_drop(__entry->reason))
);

TRACE_EVENT(vmsock_state,
	    TP_PROTO(u32 local_port, u32 peer_cid, u32 peer_port, int old_state, int new_state),
	    TP_ARGS(local_port, peer_cid, peer_port, old_state, new_state),
	    TP_STRUCT__entry(__field(u32, local_port)
			     __field(u32, peer_cid)
			     __field(u32, peer_port)
			     __field(int, old_state)
			     __field(int, new_state)),
	    TP_fast_assign(__entry->local_port = local_port;
			   __entry->peer_cid = peer_cid;
			   __entry->peer_port = peer_port;
			   __entry->old_state = old_state;
			   __entry->new_state = new_state;),
	    TP_printk("port %u peer %u:%u %s -> %s", __entry->local_port,
		      __entry->peer_cid, __entry->peer_port,
		      vmsock_trace_state(__entry->old_state),
		      vmsock_trace_state(__entry->new_state))
);

#endif /* VMSOCK_TRACE_H */

/* Out of tree: define_trace.h finds this file through -I$(src). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vmsock_trace
#include <trace/define_trace.h>
