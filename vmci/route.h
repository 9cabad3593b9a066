/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Datagram routing: validation of every datagram sent through vmci.ko and
 * the choice between the hypervisor, a local datagram handle and a VMM
 * context's queue.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_ROUTE_H
#define VMCI_ROUTE_H

#include <linux/gfp.h>
#include <linux/notifier.h>
#include <linux/types.h>
#include <vmci/vmci_abi.h>
#include <vmci/vmcix.h>

/*
 * The way out to the hypervisor, registered by the guest personality once
 * its device is up. Both operations are called in any context, inside an
 * RCU read-side section, and must not sleep.
 * - send: hands one validated datagram (VMCI_DG_SIZE(dg) <=
 *   VMCI_MAX_DG_SIZE) to the device and returns the device's result.
 * - context_id: this VM's CID as the hypervisor knows it (VMCI_INVALID_ID
 *   while unknown).
 */
struct vmci_hypervisor_ops {
	int (*send)(struct vmci_datagram *dg);
	u32 (*context_id)(void);
};

/*
 * Process context. At most one path at a time (-EBUSY otherwise).
 * Unregister returns once no send through @ops is running any more.
 */
int vmci_route_register_hypervisor(const struct vmci_hypervisor_ops *ops);
void vmci_route_unregister_hypervisor(const struct vmci_hypervisor_ops *ops);

/* Our CID as peers address us: the guest CID when a guest, else the host CID. */
u32 vmci_route_local_cid(void);
bool vmci_route_is_local_cid(u32 cid);

/*
 * Personality watchers (see vmcix_personality_watch()). Callbacks run in
 * process context under the lock that orders register and unregister of
 * the hypervisor path: they may sleep, but must not register or
 * unregister a path or a watcher.
 */
int vmci_route_watch_personality(struct notifier_block *nb);
int vmci_route_unwatch_personality(struct notifier_block *nb);

enum vmci_route {
	VMCI_ROUTE_HYPERVISOR,	/* out through the guest device */
	VMCI_ROUTE_LOCAL,	/* a datagram handle of this kernel */
	VMCI_ROUTE_VMM,		/* the pending queue of a VMM context */
};

/*
 * Senders: VMCI_HOST_CONTEXT_ID stands for any in-kernel sender of this
 * machine (whatever CID peers know it by); any other @src_cid is the VMM
 * context a datagram came from (/dev/vmci).
 */
#define VMCI_ROUTE_KERNEL_SENDER	VMCI_HOST_CONTEXT_ID

/* Any context. VMCI_SUCCESS with *@route set, or a VMCI error. */
int vmci_route_decide(u32 src_cid, struct vmci_handle dst, enum vmci_route *route);

/*
 * Checks that @dg is a datagram the router may look at: it fits in the
 * @buf_size bytes the caller really has, is at most VMCI_MAX_DG_SIZE, and
 * has a real destination. VMCI_SUCCESS or VMCI_ERROR_INVALID_ARGS.
 */
int vmci_datagram_validate(const struct vmci_datagram *dg, size_t buf_size);

/*
 * Validates, routes and delivers @dg for sender @src_cid. A VMM's source
 * context is overwritten with its own CID; a kernel sender's
 * VMCI_INVALID_ID source context is filled in. Never sleeps unless @gfp
 * allows it. Returns VMCI_DG_SIZE(dg) on success (the hypervisor's own
 * result on the hypervisor route), else a VMCI error.
 */
int vmci_datagram_dispatch(u32 src_cid, struct vmci_datagram *dg, size_t buf_size, gfp_t gfp);

#endif /* VMCI_ROUTE_H */
