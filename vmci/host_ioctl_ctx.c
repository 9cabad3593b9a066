// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vmci ioctls that set up and describe a VMM's context:
 * INIT_CONTEXT, SET_NOTIFY, CTX_ADD_NOTIFICATION, CTX_REMOVE_NOTIFICATION.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/errno.h>
#include <linux/moduleparam.h>
#include <linux/uaccess.h>
#include <vmci/vmci_abi.h>

#include "context.h"
#include "host_file.h"

/*
 * A VMM may ask to be RESTRICTED; TRUSTED is for in-kernel services only,
 * so a process can never grant it to itself.
 */
#define VMCI_HOST_CTX_FLAGS	VMCI_PRIVILEGE_FLAG_RESTRICTED

/*
 * Each context costs kernel memory its process is not charged for (its
 * datagram queue, doorbells, subscriptions), so one process may only hold
 * a few; a VMX needs one. Read at each INIT_CONTEXT; lowering it leaves
 * existing contexts alone.
 */
static unsigned int max_contexts_per_process = 8;
module_param(max_contexts_per_process, uint, 0644);
MODULE_PARM_DESC(max_contexts_per_process,
		 "VMM contexts (INIT_CONTEXT on /dev/vmci) one process may hold at once; beyond it INIT_CONTEXT fails with EMFILE (default 8)");

/* Errno of INIT_CONTEXT for a VMCI result of context creation. */
static long init_context_errno(int result)
{
	switch (result) {
	case VMCI_ERROR_NO_MEM:
		return -ENOMEM;
	case VMCI_ERROR_NO_RESOURCES:
		return -EMFILE;	/* this process holds max_contexts_per_process */
	default:
		return -EINVAL;
	}
}

long vmci_host_init_context(struct vmci_host_file *hf, void __user *uarg)
{
	struct vmci_init_blk blk;
	struct vmci_ctx *ctx;
	long err = 0;
	int result;

	if (copy_from_user(&blk, uarg, sizeof(blk)))
		return -EFAULT;
	if (blk.flags & ~VMCI_HOST_CTX_FLAGS)
		return -EINVAL;

	mutex_lock(&hf->lock);
	if (hf->ctx) {
		err = -EINVAL;	/* one context per file */
		goto out;
	}
	result = vmci_ctx_create_for_process(blk.cid, blk.flags,
					     READ_ONCE(max_contexts_per_process), &ctx);
	if (result != VMCI_SUCCESS) {
		err = init_context_errno(result);
		goto out;
	}
	blk.cid = ctx->cid;
	if (copy_to_user(uarg, &blk, sizeof(blk))) {
		/* The VMM cannot learn its CID, so it cannot use the context. */
		vmci_ctx_destroy(ctx);
		err = -EFAULT;
		goto out;
	}
	/* Lock-free readers (vmci_host_file_ctx()) must see a finished context. */
	smp_store_release(&hf->ctx, ctx);
out:
	mutex_unlock(&hf->lock);
	return err;
}

long vmci_host_set_notify(struct vmci_host_file *hf, void __user *uarg)
{
	struct vmci_set_notify_info __user *uinfo = uarg;
	struct vmci_set_notify_info info;
	long err;

	if (copy_from_user(&info, uinfo, sizeof(info)))
		return -EFAULT;
	mutex_lock(&hf->lock);
	err = vmci_ctx_set_notify_uva(hf->ctx, info.notify_uva);
	mutex_unlock(&hf->lock);
	if (err)
		return err;
	return put_user(VMCI_SUCCESS, &uinfo->result) ? -EFAULT : 0;
}

long vmci_host_ctx_notification(struct vmci_ctx *ctx, void __user *uarg, bool add)
{
	struct vmci_ctx_info __user *uinfo = uarg;
	struct vmci_ctx_info info;
	int result;

	if (copy_from_user(&info, uinfo, sizeof(info)))
		return -EFAULT;
	if (add)
		result = vmci_ctx_add_notification(ctx, info.remote_cid);
	else
		result = vmci_ctx_remove_notification(ctx, info.remote_cid);
	return put_user(result, &uinfo->result) ? -EFAULT : 0;
}
