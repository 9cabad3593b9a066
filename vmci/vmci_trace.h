/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of vmci.ko, system "vmci" (the in-tree vmw_vmci has none):
 * queue pairs created, attached and detached, by kernel clients (party
 * is this machine's context ID) and by VMMs through /dev/vmci (party is
 * the VMM's context). Fired from qpair.c and qpair_broker.c; defined in
 * trace.c.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vmci

#if !defined(VMCI_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define VMCI_TRACE_H

#include <linux/tracepoint.h>
#include <vmci/vmci_abi.h>

DECLARE_EVENT_CLASS(vmci_qp_join,
		    TP_PROTO(u32 party, struct vmci_handle handle, u32 peer, u64 produce_size,
			     u64 consume_size, int result),
		    TP_ARGS(party, handle, peer, produce_size, consume_size, result),
		    TP_STRUCT__entry(__field(u32, party)
				     __field(u32, context)
				     __field(u32, resource)
				     __field(u32, peer)
				     __field(u64, produce_size)
				     __field(u64, consume_size)
				     __field(int, result)),
		    TP_fast_assign(__entry->party = party;
				   __entry->context = handle.context;
				   __entry->resource = handle.resource;
				   __entry->peer = peer;
				   __entry->produce_size = produce_size;
				   __entry->consume_size = consume_size;
				   __entry->result = result;),
		    TP_printk("party %u pair %u:%u peer %u produce %llu consume %llu result %d",
			      __entry->party, __entry->context, __entry->resource, __entry->peer,
			      __entry->produce_size, __entry->consume_size, __entry->result)
);

/* A pair that did not exist before (or a failed try: result < 0). */
DEFINE_EVENT(vmci_qp_join, vmci_qp_alloc,
	     TP_PROTO(u32 party, struct vmci_handle handle, u32 peer, u64 produce_size,
		      u64 consume_size, int result),
	     TP_ARGS(party, handle, peer, produce_size, consume_size, result)
);

/* The second party joins a pair the first one created. */
DEFINE_EVENT(vmci_qp_join, vmci_qp_attach,
	     TP_PROTO(u32 party, struct vmci_handle handle, u32 peer, u64 produce_size,
		      u64 consume_size, int result),
	     TP_ARGS(party, handle, peer, produce_size, consume_size, result)
);

TRACE_EVENT(vmci_qp_detach,
	    TP_PROTO(u32 party, struct vmci_handle handle),
	    TP_ARGS(party, handle),
	    TP_STRUCT__entry(__field(u32, party)
			     __field(u32, context)
			     __field(u32, resource)),
	    TP_fast_assign(__entry->party = party;
			   __entry->context = handle.context;
			   __entry->resource = handle.resource;),
	    TP_printk("party %u pair %u:%u", __entry->party, __entry->context,
		      __entry->resource)
);

#endif /* VMCI_TRACE_H */

/* Out of tree: define_trace.h finds this file through -I$(src). */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vmci_trace
#include <trace/define_trace.h>
