/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Datagram handles: endpoints of this kernel that receive datagrams
 * through a callback. Each is a VMCI_RESOURCE_TYPE_DATAGRAM resource.
 *
 * Callback context: a handle created without VMCI_FLAG_DG_DELAYED_CB has
 * its callback called directly by whoever delivers the datagram, with no
 * lock of ours held. For datagrams sent on this host (kernel senders,
 * VMM processes through /dev/vmci) that is the sender's process context,
 * but the guest personality delivers from its receive path, so such a
 * callback must never sleep. With VMCI_FLAG_DG_DELAYED_CB the callback
 * runs from a workqueue, in process context, and may sleep. Either way the
 * datagram is only valid during the call and must not be modified.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_DATAGRAM_H
#define VMCI_DATAGRAM_H

#include <linux/gfp.h>
#include <linux/types.h>
#include <vmci/vmci_abi.h>
#include <vmci/vmcix.h>

/*
 * Delayed datagrams copied and waiting for the workqueue, all handles
 * together; more are refused with VMCI_ERROR_NO_RESOURCES.
 */
#define VMCI_MAX_DELAYED_DGS	256U

int vmci_datagram_init(void);
void vmci_datagram_exit(void);

/*
 * Process context (create allocates, destroy waits). Once destroy has
 * returned the callback is not running and never runs again; so it must
 * not be called from the handle's own callback.
 */
int vmci_datagram_create_handle(u32 resource_id, u32 flags, u32 priv_flags,
				vmcix_datagram_recv_cb cb, void *client_data,
				struct vmci_handle *out_handle);
int vmci_datagram_destroy_handle(struct vmci_handle handle);
/*
 * Never sleeps: the resource ID is free at once, @gone(client_data) runs
 * later in process context, after the last callback; vmci_resource_barrier()
 * waits for it.
 */
int vmci_datagram_destroy_handle_async(struct vmci_handle handle,
				       void (*gone)(void *client_data));

/*
 * Hands @dg (validated, VMCI_DG_SIZE(dg) bytes readable) to the handle
 * registered for dg->dst, exact or wildcard, if a sender with privileges
 * @src_priv_flags may talk to it. @dg must be memory nobody else writes
 * any more (a private copy, never a device or peer buffer): a direct
 * callback reads it in place. Any context; @gfp is used for the copy a
 * delayed handle needs. Returns VMCI_SUCCESS, the callback's own error,
 * VMCI_ERROR_INVALID_ARGS (a payload size no datagram has),
 * VMCI_ERROR_INVALID_RESOURCE (no such handle), VMCI_ERROR_NO_ACCESS,
 * VMCI_ERROR_NO_RESOURCES or VMCI_ERROR_NO_MEM.
 */
int vmci_datagram_deliver(struct vmci_datagram *dg, u32 src_priv_flags, gfp_t gfp);

/* Privileges of a local handle; an unknown handle has none. Any context. */
u32 vmci_datagram_priv_flags(struct vmci_handle handle);

/* Counters for tests (debugfs). */
u32 vmci_datagram_handle_count(void);
u32 vmci_datagram_delayed_count(void);

#endif /* VMCI_DATAGRAM_H */
