// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vmci checkpoint ioctls: CTX_GET_CPT_STATE and CTX_SET_CPT_STATE,
 * with which a VMX saves and restores the context state that lives in the
 * driver when its VM is suspended or migrated.
 *
 * Kinds of state (cpt_type):
 * - NOTIFICATION: the CIDs whose removal the context watches, one u32
 *   each. Restoring subscribes again; a CID that no longer exists fails
 *   the restore at that point, the ones before it stay subscribed.
 * - WELLKNOWN: well-known datagram handles went with VM-to-VM traffic;
 *   there are never any to save, and restoring some is VMCI_ERROR_OBSOLETE.
 * - DOORBELL: the doorbells the VMX registered, as struct
 *   vmci_dbell_cpt_state. The bitmap index is the VMX's business (it
 *   raises the guest bitmap itself), so it is saved as 0 and ignored on
 *   restore, which registers each handle again.
 * - Anything else, including the datagram queue kinds, which VMware's
 *   hosted driver never served: VMCI_ERROR_INVALID_ARGS.
 *
 * A GET whose buffer is too small gets VMCI_ERROR_MORE_DATA with buf_size
 * set to what is needed; otherwise buf_size says how much was written.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <vmci/vmci_abi.h>

#include "context.h"
#include "doorbell.h"
#include "host_file.h"

/* Snapshot of one kind of state; *@data is kvfree()d by the caller. */
static int get_state(struct vmci_ctx *ctx, u32 type, void **data, size_t *size)
{
	struct vmci_dbell_cpt_state *recs;
	struct vmci_handle *handles;
	u32 *cids;
	u32 i, n;

	*data = NULL;
	*size = 0;
	switch (type) {
	case VMCI_NOTIFICATION_CPT_STATE:
		cids = kvcalloc(VMCI_CTX_MAX_SUBSCRIPTIONS, sizeof(*cids), GFP_KERNEL);
		if (!cids)
			return VMCI_ERROR_NO_MEM;
		/* The context's own bound makes this the whole list. */
		n = min(vmci_ctx_subscriptions(ctx, cids, VMCI_CTX_MAX_SUBSCRIPTIONS),
			VMCI_CTX_MAX_SUBSCRIPTIONS);
		*data = cids;
		*size = n * sizeof(*cids);
		return VMCI_SUCCESS;
	case VMCI_WELLKNOWN_CPT_STATE:
		return VMCI_SUCCESS;
	case VMCI_DOORBELL_CPT_STATE:
		handles = kvcalloc(VMCI_CTX_MAX_DOORBELLS, sizeof(*handles), GFP_KERNEL);
		recs = kvcalloc(VMCI_CTX_MAX_DOORBELLS, sizeof(*recs), GFP_KERNEL);
		if (!handles || !recs) {
			kvfree(handles);
			kvfree(recs);
			return VMCI_ERROR_NO_MEM;
		}
		n = min_t(u32, vmci_doorbell_ctx_handles(ctx, handles, VMCI_CTX_MAX_DOORBELLS),
			  VMCI_CTX_MAX_DOORBELLS);
		for (i = 0; i < n; i++)
			recs[i].handle = handles[i];
		kvfree(handles);
		*data = recs;
		*size = n * sizeof(*recs);
		return VMCI_SUCCESS;
	default:
		return VMCI_ERROR_INVALID_ARGS;
	}
}

long vmci_host_get_cpt_state(struct vmci_ctx *ctx, void __user *uarg)
{
	struct vmci_ctx_chkpt_buf_info __user *uinfo = uarg;
	struct vmci_ctx_chkpt_buf_info info;
	size_t size;
	void *data;
	int result;
	long err = 0;

	if (copy_from_user(&info, uinfo, sizeof(info)))
		return -EFAULT;
	result = get_state(ctx, info.cpt_type, &data, &size);
	if (result == VMCI_SUCCESS) {
		if (size > info.buf_size)
			result = VMCI_ERROR_MORE_DATA;
		else if (size && copy_to_user(u64_to_user_ptr(info.cpt_buf), data, size))
			err = -EFAULT;
		info.buf_size = size;
	}
	kvfree(data);
	if (err)
		return err;
	if (put_user(info.buf_size, &uinfo->buf_size) || put_user(result, &uinfo->result))
		return -EFAULT;
	return 0;
}

/* Subscribing again to a CID already watched is not a failure. */
static int restore_notifications(struct vmci_ctx *ctx, const u32 *cids, u32 n)
{
	int result;
	u32 i;

	for (i = 0; i < n; i++) {
		result = vmci_ctx_add_notification(ctx, cids[i]);
		if (result < VMCI_SUCCESS && result != VMCI_ERROR_ALREADY_EXISTS)
			return result;
	}
	return VMCI_SUCCESS;
}

static int restore_doorbells(struct vmci_ctx *ctx, struct vmci_dbell_cpt_state *recs, u32 n)
{
	int result;
	u32 i;

	for (i = 0; i < n; i++) {
		/* A saved doorbell always had a resource ID of its own. */
		if (recs[i].handle.resource == VMCI_INVALID_ID)
			return VMCI_ERROR_INVALID_ARGS;
		result = vmci_doorbell_ctx_register(ctx, &recs[i].handle);
		if (result < VMCI_SUCCESS && result != VMCI_ERROR_ALREADY_EXISTS)
			return result;
	}
	return VMCI_SUCCESS;
}

static int set_state(struct vmci_ctx *ctx, const struct vmci_ctx_chkpt_buf_info *info)
{
	size_t rec_size, max_recs;
	void *data;
	int result;

	switch (info->cpt_type) {
	case VMCI_NOTIFICATION_CPT_STATE:
		rec_size = sizeof(u32);
		max_recs = VMCI_CTX_MAX_SUBSCRIPTIONS;
		break;
	case VMCI_DOORBELL_CPT_STATE:
		rec_size = sizeof(struct vmci_dbell_cpt_state);
		max_recs = VMCI_CTX_MAX_DOORBELLS;
		break;
	case VMCI_WELLKNOWN_CPT_STATE:
		return info->buf_size ? VMCI_ERROR_OBSOLETE : VMCI_SUCCESS;
	default:
		return VMCI_ERROR_INVALID_ARGS;
	}
	/* More records than the context could ever hold is a lie; refuse before copying. */
	if (info->buf_size % rec_size || info->buf_size / rec_size > max_recs)
		return VMCI_ERROR_INVALID_ARGS;
	if (!info->buf_size)
		return VMCI_SUCCESS;

	data = vmemdup_user(u64_to_user_ptr(info->cpt_buf), info->buf_size);
	if (IS_ERR(data))
		return PTR_ERR(data) == -ENOMEM ? VMCI_ERROR_NO_MEM : VMCI_ERROR_INVALID_ARGS;
	if (info->cpt_type == VMCI_NOTIFICATION_CPT_STATE)
		result = restore_notifications(ctx, data, info->buf_size / rec_size);
	else
		result = restore_doorbells(ctx, data, info->buf_size / rec_size);
	kvfree(data);
	return result;
}

long vmci_host_set_cpt_state(struct vmci_ctx *ctx, void __user *uarg)
{
	struct vmci_ctx_chkpt_buf_info __user *uinfo = uarg;
	struct vmci_ctx_chkpt_buf_info info;
	int result;

	if (copy_from_user(&info, uinfo, sizeof(info)))
		return -EFAULT;
	result = set_state(ctx, &info);
	return put_user(result, &uinfo->result) ? -EFAULT : 0;
}
