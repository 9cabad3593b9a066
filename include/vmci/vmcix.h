/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API of vmci.ko for vmsock.ko and other in-kernel users.
 * Exported in the VMCIX symbol namespace with the vmcix_ prefix, so it
 * never collides with the in-tree vmw_vmci exports.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCIX_H
#define VMCIX_H

#include <linux/types.h>

/* Context ID of this machine as peers address it. */
u32 vmcix_get_context_id(void);

struct vmci_event_data;

/*
 * Event subscriptions (VMCI_EVENT_*; results are VMCI codes). The callback
 * runs in process context and may sleep; @ed points at a zeroed struct
 * vmci_event_data_max, so the event's payload follows it in bounds. Once
 * unsubscribe returns, the callback is not running and never runs again,
 * unless unsubscribe was called from that callback itself, in which case
 * it returns at once and the callback is simply not called again.
 */
typedef void (*vmcix_event_cb)(u32 sub_id, const struct vmci_event_data *ed, void *client_data);
int vmcix_event_subscribe(u32 event, vmcix_event_cb cb, void *client_data, u32 *sub_id);
int vmcix_event_unsubscribe(u32 sub_id);

/*
 * Datagrams (results are VMCI codes). A handle is {our CID, resource ID},
 * or {VMCI_INVALID_ID, resource ID} with VMCI_FLAG_ANYCID_DG_HND so that
 * it receives whatever CID the sender used; resource_id VMCI_INVALID_ID
 * asks for a dynamic ID (> VMCI_RESERVED_RESOURCE_ID_MAX). priv_flags are
 * VMCI_PRIVILEGE_FLAG_*: a RESTRICTED peer reaches only TRUSTED handles.
 *
 * The callback runs directly from the delivering context, which may be
 * atomic (the guest receive path): it must not sleep, unless the handle
 * was created with VMCI_FLAG_DG_DELAYED_CB, which runs it from a workqueue
 * in process context. @dg is read-only and valid only during the call.
 * create and destroy sleep; destroy returns once the callback is not
 * running and never will again, so never call it from that callback.
 *
 * vmcix_datagram_send() never sleeps and may be called from callbacks.
 * dg->src is our handle (a VMCI_INVALID_ID context is filled in); it
 * returns VMCI_DG_SIZE(dg) on success or a VMCI error.
 */
struct vmci_datagram;
struct vmci_handle;
typedef int (*vmcix_datagram_recv_cb)(void *client_data, struct vmci_datagram *dg);
int vmcix_datagram_create_handle(u32 resource_id, u32 flags, u32 priv_flags,
				 vmcix_datagram_recv_cb cb, void *client_data,
				 struct vmci_handle *out_handle);
int vmcix_datagram_destroy_handle(struct vmci_handle handle);
int vmcix_datagram_send(struct vmci_datagram *dg);

#endif /* VMCIX_H */
