/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-file state of /dev/vmci and the ioctl handlers that act on it.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_HOST_FILE_H
#define VMCI_HOST_FILE_H

#include <linux/compiler.h>
#include <linux/mutex.h>
#include <linux/types.h>

struct vmci_ctx;

/*
 * One per open file; a VMX process holds one for its whole life.
 * @lock serialises the ioctls that change the file's state (INIT_CONTEXT,
 * SET_NOTIFY). @ctx is published once, fully built, with release
 * semantics and never changes until release(), which the VFS runs only
 * after every ioctl on the file has returned; so other ioctls read it with
 * acquire semantics and no lock.
 */
struct vmci_host_file {
	struct mutex lock;	/* see above */
	u32 negotiated_version;	/* dialect pinned by VERSION2, 0 until then */
	struct vmci_ctx *ctx;	/* NULL until INIT_CONTEXT */
};

static inline struct vmci_ctx *vmci_host_file_ctx(struct vmci_host_file *hf)
{
	/* Pairs with the release in INIT_CONTEXT: a seen context is fully built. */
	return smp_load_acquire(&hf->ctx);
}

/* Each returns 0 or a negative errno; VMCI results go in the user's struct. */
long vmci_host_init_context(struct vmci_host_file *hf, void __user *uarg);
long vmci_host_set_notify(struct vmci_host_file *hf, void __user *uarg);
long vmci_host_ctx_notification(struct vmci_ctx *ctx, void __user *uarg, bool add);
long vmci_host_datagram_send(struct vmci_ctx *ctx, void __user *uarg);
long vmci_host_datagram_receive(struct vmci_ctx *ctx, void __user *uarg);
long vmci_host_notify_resource(struct vmci_ctx *ctx, void __user *uarg);
long vmci_host_notifications_receive(struct vmci_ctx *ctx, void __user *uarg);
long vmci_host_qp_alloc(struct vmci_host_file *hf, struct vmci_ctx *ctx, void __user *uarg);
long vmci_host_qp_set_va(struct vmci_host_file *hf, struct vmci_ctx *ctx, void __user *uarg);
long vmci_host_qp_set_page_file(struct vmci_host_file *hf, void __user *uarg);
long vmci_host_qp_detach(struct vmci_host_file *hf, struct vmci_ctx *ctx, void __user *uarg);
long vmci_host_get_cpt_state(struct vmci_ctx *ctx, void __user *uarg);
long vmci_host_set_cpt_state(struct vmci_ctx *ctx, void __user *uarg);

#endif /* VMCI_HOST_FILE_H */
