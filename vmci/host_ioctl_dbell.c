// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vmci ioctls for doorbells: NOTIFY_RESOURCE (a VMX registers,
 * unregisters or rings a doorbell) and NOTIFICATIONS_RECEIVE (it fetches
 * the doorbells of its context that were rung).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <vmci/vmci_abi.h>

#include "context.h"
#include "doorbell.h"
#include "fuzz_plant.h"
#include "host_file.h"

static int host_doorbell_action(struct vmci_ctx *ctx, struct vmci_dbell_notify_resource_info *info)
{
	switch (info->action) {
	case VMCI_NOTIFY_RESOURCE_ACTION_NOTIFY:
		return vmci_doorbell_ctx_ring(ctx, info->handle);
	case VMCI_NOTIFY_RESOURCE_ACTION_CREATE:
		/* The VMX chose the guest's handle; no dynamic IDs on its behalf. */
		if (info->handle.resource == VMCI_INVALID_ID)
			return VMCI_ERROR_INVALID_ARGS;
		return vmci_doorbell_ctx_register(ctx, &info->handle);
	case VMCI_NOTIFY_RESOURCE_ACTION_DESTROY:
		return vmci_doorbell_ctx_unregister(ctx, info->handle);
	default:
		return VMCI_ERROR_INVALID_ARGS;
	}
}

long vmci_host_notify_resource(struct vmci_ctx *ctx, void __user *uarg)
{
	struct vmci_dbell_notify_resource_info __user *uinfo = uarg;
	struct vmci_dbell_notify_resource_info info;
	int result;

	if (copy_from_user(&info, uinfo, sizeof(info)))
		return -EFAULT;
	switch (info.resource) {
	case VMCI_NOTIFY_RESOURCE_DOOR_BELL:
		result = host_doorbell_action(ctx, &info);
		break;
	case VMCI_NOTIFY_RESOURCE_QUEUE_PAIR:
		/* Queue-pair notifications go through the queue pair's own doorbells. */
		vmci_fuzz_plant(&info);
		result = VMCI_ERROR_UNAVAILABLE;
		break;
	default:
		result = VMCI_ERROR_INVALID_ARGS;
		break;
	}
	return put_user(result, &uinfo->result) ? -EFAULT : 0;
}

/*
 * Hands the pending doorbells to the VMX. If they do not all fit the
 * result is VMCI_ERROR_MORE_DATA, the sizes are left alone and nothing is
 * taken; a VMX that cannot be told (faulting buffer) gets them again on
 * the next call.
 */
long vmci_host_notifications_receive(struct vmci_ctx *ctx, void __user *uarg)
{
	struct vmci_ctx_notify_recv_info __user *uinfo = uarg;
	struct vmci_ctx_notify_recv_info info;
	struct vmci_handle *handles = NULL;
	size_t max, bytes;
	long err = 0;
	int n;

	if (copy_from_user(&info, uinfo, sizeof(info)))
		return -EFAULT;
	if ((info.db_handle_buf_size && !info.db_handle_buf_uva) ||
	    (info.qp_handle_buf_size && !info.qp_handle_buf_uva))
		return -EINVAL;

	/* More than a context can ever have pending is never needed. */
	max = min_t(u64, info.db_handle_buf_size / sizeof(*handles), VMCI_CTX_MAX_DOORBELLS);
	if (max) {
		handles = kvmalloc_array(max, sizeof(*handles), GFP_KERNEL);
		if (!handles)
			return -ENOMEM;
	}
	n = vmci_doorbell_ctx_take_pending(ctx, handles, max);
	if (n < 0) {
		err = put_user(VMCI_ERROR_MORE_DATA, &uinfo->result) ? -EFAULT : 0;
		goto out;
	}
	bytes = n * sizeof(*handles);
	if (copy_to_user(u64_to_user_ptr(info.db_handle_buf_uva), handles, bytes)) {
		err = -EFAULT;
		goto restore;
	}
	/* Queue pairs have no notifications of their own here. */
	info.db_handle_buf_size = bytes;
	info.qp_handle_buf_size = 0;
	info.result = VMCI_SUCCESS;
	if (copy_to_user(uinfo, &info, sizeof(info))) {
		err = -EFAULT;
		goto restore;
	}
	goto out;

restore:
	vmci_doorbell_ctx_restore_pending(ctx, handles, n);
out:
	kvfree(handles);
	return err;
}
