/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Doorbells of the host personality: a doorbell is a handle that carries
 * no data, only "you were rung". Two kinds share the resource table as
 * VMCI_RESOURCE_TYPE_DOORBELL:
 * - host doorbells, owned by in-kernel clients of our own context, whose
 *   callback fires when they are rung;
 * - VMM doorbells, registered by a VMX for its context through /dev/vmci
 *   NOTIFY_RESOURCE; ringing one marks it pending in that context, which
 *   the VMX learns from its notify byte and poll() and fetches with
 *   NOTIFICATIONS_RECEIVE.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_DOORBELL_H
#define VMCI_DOORBELL_H

#include <linux/types.h>
#include <vmci/vmci_abi.h>
#include <vmci/vmcix.h>

struct vmci_ctx;

/*
 * Doorbells one VMM context may register: the guest's notification bitmap
 * has one byte per doorbell index and one page of them.
 */
#define VMCI_CTX_MAX_DOORBELLS	PAGE_SIZE

int vmci_doorbell_init(void);
void vmci_doorbell_exit(void);

/* Host doorbells; process context. See vmcix.h for the contract. */
int vmci_doorbell_create(struct vmci_handle *handle, u32 flags, u32 priv_flags,
			 vmcix_doorbell_cb cb, void *client_data);
int vmci_doorbell_destroy(struct vmci_handle handle);

/*
 * Rings @handle for an in-kernel sender with privileges @src_priv_flags.
 * Any context, never sleeps. VMCI_SUCCESS, VMCI_ERROR_INVALID_ARGS,
 * VMCI_ERROR_NOT_FOUND (no such doorbell) or VMCI_ERROR_NO_ACCESS.
 */
int vmci_doorbell_notify(struct vmci_handle handle, u32 src_priv_flags);

/*
 * For /dev/vmci, on behalf of VMM context @ctx. Process context.
 * - register: @handle.context must be @ctx's CID; a VMCI_INVALID_ID
 *   resource gets a dynamic one, written back to *@handle.
 * - unregister: only @ctx's own doorbells.
 * - ring: a VMM may only ring doorbells of the host (like datagrams, no
 *   VM-to-VM); the privilege rule uses @ctx's flags.
 */
int vmci_doorbell_ctx_register(struct vmci_ctx *ctx, struct vmci_handle *handle);
int vmci_doorbell_ctx_unregister(struct vmci_ctx *ctx, struct vmci_handle handle);
int vmci_doorbell_ctx_ring(struct vmci_ctx *ctx, struct vmci_handle handle);

/*
 * Moves up to @max pending doorbell handles of @ctx to @out, oldest first,
 * and returns how many; if more than @max are pending, returns -EMSGSIZE
 * and takes none. Any context.
 */
int vmci_doorbell_ctx_take_pending(struct vmci_ctx *ctx, struct vmci_handle *out, u32 max);

/* Marks @handles pending again after the VMX could not be told about them. */
void vmci_doorbell_ctx_restore_pending(struct vmci_ctx *ctx, const struct vmci_handle *handles,
				       u32 count);

/* Copies up to @max of @ctx's registered handles; returns how many there are. */
u32 vmci_doorbell_ctx_handles(struct vmci_ctx *ctx, struct vmci_handle *out, u32 max);

/* Context teardown (process context): unregisters all of @ctx's doorbells. */
void vmci_doorbell_ctx_shutdown(struct vmci_ctx *ctx);

/*
 * The guest personality's part of host doorbells, registered while its
 * device works: link tells the hypervisor about a new doorbell (process
 * context, may sleep; a VMCI error fails the create), unlink forgets it
 * (process context), notify rings a doorbell that is not ours (any
 * context, never sleeps). Unregister returns once no call is running.
 */
struct vmci_doorbell_guest_ops {
	int (*link)(struct vmci_handle handle);
	void (*unlink)(struct vmci_handle handle);
	int (*notify)(struct vmci_handle handle);
};

int vmci_doorbell_register_guest(const struct vmci_doorbell_guest_ops *ops);
void vmci_doorbell_unregister_guest(const struct vmci_doorbell_guest_ops *ops);

/* Counters for tests (debugfs). */
u32 vmci_doorbell_host_count(void);
u32 vmci_doorbell_vmm_count(void);
u32 vmci_doorbell_pending_count(void);

#endif /* VMCI_DOORBELL_H */
