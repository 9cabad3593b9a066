// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vmci DATAGRAM_SEND and DATAGRAM_RECEIVE: a VMM's datagrams in and
 * out of its context.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <vmci/vmci_abi.h>

#include "context.h"
#include "host_file.h"
#include "route.h"

long vmci_host_datagram_send(struct vmci_ctx *ctx, void __user *uarg)
{
	struct vmci_datagram_snd_rcv_info __user *uinfo = uarg;
	struct vmci_datagram_snd_rcv_info info;
	struct vmci_datagram *dg;
	int result;

	if (copy_from_user(&info, uinfo, sizeof(info)))
		return -EFAULT;
	if (info.len < VMCI_DG_HEADERSIZE || info.len > VMCI_MAX_DG_SIZE)
		return -EINVAL;

	dg = vmemdup_user(u64_to_user_ptr(info.addr), info.len);
	if (IS_ERR(dg))
		return PTR_ERR(dg);
	/* The header must describe exactly the bytes we were given. */
	if (dg->payload_size != info.len - VMCI_DG_HEADERSIZE) {
		kvfree(dg);
		return -EINVAL;
	}
	/* The router stamps our CID as the source: user space cannot spoof it. */
	result = vmci_datagram_dispatch(ctx->cid, dg, info.len, GFP_KERNEL);
	kvfree(dg);
	return put_user(result, &uinfo->result) ? -EFAULT : 0;
}

long vmci_host_datagram_receive(struct vmci_ctx *ctx, void __user *uarg)
{
	struct vmci_datagram_snd_rcv_info __user *uinfo = uarg;
	struct vmci_datagram_snd_rcv_info info;
	struct vmci_ctx_dg *e;
	int result;

	if (copy_from_user(&info, uinfo, sizeof(info)))
		return -EFAULT;

	result = vmci_ctx_dequeue_datagram(ctx, info.len, &e);
	if (result == VMCI_SUCCESS) {
		/* Exactly the datagram's own bytes, all of them written by its sender. */
		if (copy_to_user(u64_to_user_ptr(info.addr), e->data, e->size)) {
			vmci_ctx_requeue_datagram(ctx, e);
			return -EFAULT;
		}
		vmci_ctx_free_datagram(e);
	}
	return put_user(result, &uinfo->result) ? -EFAULT : 0;
}
