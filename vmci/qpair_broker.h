/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host's queue-pair broker: pairs between a VMM context (a VMX
 * process on /dev/vmci, standing for its guest) and the host context,
 * whose endpoint is an in-kernel client of vmcix_qpair_*.
 *
 * Rules the broker enforces:
 * - Exactly one VMM and the host per pair; VM-to-VM and host-to-host
 *   pairs are refused (the latter are local pairs).
 * - Sizes are kept from the VMM's viewpoint; the host sees them swapped.
 *   The second party must mirror the first: the same flags (ATTACH_ONLY
 *   aside) and sizes swapped relative to its own view.
 * - A pair takes one attach in its life; once either side detached, the
 *   other is alone until it detaches too.
 * - The queue memory is always the VMM's: after ALLOC it maps its pages
 *   with SETVA, which pins them for as long as the VMM is a party. The
 *   host endpoint gets VMCI_ERROR_QUEUEPAIR_NOTATTACHED from every data
 *   call while the pages are not mapped.
 * - QP_PEER_ATTACH / QP_PEER_DETACH go to the other party only: a
 *   datagram to the VMM's event handler, or a locally raised event for
 *   the host, payload peer_id being the CID of the side that acted.
 *
 * Every function here sleeps (process context only).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_QPAIR_BROKER_H
#define VMCI_QPAIR_BROKER_H

#include <linux/mm.h>
#include <linux/types.h>
#include <vmci/vmci_abi.h>

struct vmci_ctx;

/* Pairs one VMM context may hold: what one guest device may have. */
#define VMCI_QP_BROKER_MAX_PAIRS_PER_CTX \
	(VMCI_MAX_GUEST_QP_MEMORY / PAGE_SIZE / 2)

/* Pages a pair's memory spans: a header page and the ring of each queue. */
static inline u64 vmci_qp_broker_pair_pages(u64 produce_size, u64 consume_size)
{
	return DIV_ROUND_UP(produce_size, PAGE_SIZE) + DIV_ROUND_UP(consume_size, PAGE_SIZE) + 2;
}

/*
 * For /dev/vmci on behalf of VMM context @ctx; sizes are the VMM's view.
 * alloc creates (handle.context must be @ctx's CID, the resource chosen by
 * the VMM) or attaches to the host's pair @handle. set_va maps the pair's
 * memory from @va in the caller's address space (@va 0 unmaps);
 * @num_pages is 0 or vmci_qp_broker_pair_pages(). The pinned pages are
 * charged to the caller's mm (pin_account.h); set_va returns
 * VMCI_ERROR_NO_RESOURCES only when that charge exceeds RLIMIT_MEMLOCK.
 */
int vmci_qp_broker_vmm_alloc(struct vmci_ctx *ctx, struct vmci_handle handle, u32 peer,
			     u32 flags, u64 produce_size, u64 consume_size);
int vmci_qp_broker_vmm_set_va(struct vmci_ctx *ctx, struct vmci_handle handle, u64 va,
			      u64 num_pages);
int vmci_qp_broker_vmm_detach(struct vmci_ctx *ctx, struct vmci_handle handle);

/* Before @ctx is destroyed: detaches it from every pair it is part of. */
void vmci_qp_broker_ctx_shutdown(struct vmci_ctx *ctx);

/* Counters for debugfs: live broker pairs and pinned VMM pages. */
u32 vmci_qp_broker_count(void);
struct seq_file;
/* Every pair a VMM takes part in, one line each (/proc/driver/vmci/queue_pairs). */
void vmci_qp_broker_show_all(struct seq_file *m);
u64 vmci_qp_broker_pinned_pages(void);

/*
 * For the KUnit suite: ring bytes one VMM context may have in pairs
 * (VMCI_MAX_GUEST_QP_MEMORY unless changed). Returns the old value.
 */
u64 vmci_qp_broker_set_ctx_budget(u64 bytes);

#endif /* VMCI_QPAIR_BROKER_H */
