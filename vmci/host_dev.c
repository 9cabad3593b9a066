// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vmci: the host personality's character device, used by VMX
 * processes through VMware's ioctl ABI.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <vmci/misc_name.h>
#include <vmci/vmci_abi.h>

#include "context.h"
#include "host_dev.h"
#include "host_file.h"
#include "qpair_broker.h"
#include "version.h"

static int vmci_host_open(struct inode *inode, struct file *filp)
{
	struct vmci_host_file *hf;

	hf = kzalloc(sizeof(*hf), GFP_KERNEL);
	if (!hf)
		return -ENOMEM;
	mutex_init(&hf->lock);
	filp->private_data = hf;
	return nonseekable_open(inode, filp);
}

/* Closing the file ends the VMM's context and everything queued for it. */
static int vmci_host_release(struct inode *inode, struct file *filp)
{
	struct vmci_host_file *hf = filp->private_data;

	if (hf->ctx) {
		/* Unpins the VMM's queue memory and tells host peers it left. */
		vmci_qp_broker_ctx_shutdown(hf->ctx);
		vmci_ctx_destroy(hf->ctx);
	}
	mutex_destroy(&hf->lock);
	kfree(hf);
	return 0;
}

/* Readable while datagrams or rung doorbells wait; never without a context. */
static __poll_t vmci_host_poll(struct file *filp, poll_table *wait)
{
	struct vmci_ctx *ctx = vmci_host_file_ctx(filp->private_data);

	if (!ctx)
		return 0;
	poll_wait(filp, &ctx->wait, wait);
	return vmci_ctx_has_pending(ctx) ? EPOLLIN | EPOLLRDNORM : 0;
}

static long vmci_host_version2(struct vmci_host_file *hf, int __user *uarg)
{
	int vmx_version;

	if (get_user(vmx_version, uarg))
		return -EFAULT;
	hf->negotiated_version = vmci_negotiate_version(vmx_version);
	return hf->negotiated_version;
}

/* VMware's driver answers with the host CID here, context or not. */
static long vmci_host_get_context_id(u32 __user *uarg)
{
	return put_user(VMCI_HOST_CONTEXT_ID, uarg) ? -EFAULT : 0;
}

/* Everything a VMM may do once it has a context. */
static long vmci_host_ctx_ioctl(struct vmci_host_file *hf, struct vmci_ctx *ctx,
				unsigned int cmd, void __user *uarg)
{
	switch (cmd) {
	case IOCTL_VMCI_DATAGRAM_SEND:
		return vmci_host_datagram_send(ctx, uarg);
	case IOCTL_VMCI_DATAGRAM_RECEIVE:
		return vmci_host_datagram_receive(ctx, uarg);
	case IOCTL_VMCI_SET_NOTIFY:
		return vmci_host_set_notify(hf, uarg);
	case IOCTL_VMCI_CTX_ADD_NOTIFICATION:
		return vmci_host_ctx_notification(ctx, uarg, true);
	case IOCTL_VMCI_CTX_REMOVE_NOTIFICATION:
		return vmci_host_ctx_notification(ctx, uarg, false);
	case IOCTL_VMCI_NOTIFY_RESOURCE:
		return vmci_host_notify_resource(ctx, uarg);
	case IOCTL_VMCI_NOTIFICATIONS_RECEIVE:
		return vmci_host_notifications_receive(ctx, uarg);
	case IOCTL_VMCI_QUEUEPAIR_ALLOC:
		return vmci_host_qp_alloc(hf, ctx, uarg);
	case IOCTL_VMCI_QUEUEPAIR_SETVA:
		return vmci_host_qp_set_va(hf, ctx, uarg);
	case IOCTL_VMCI_QUEUEPAIR_SETPAGEFILE:
		return vmci_host_qp_set_page_file(hf, uarg);
	case IOCTL_VMCI_QUEUEPAIR_DETACH:
		return vmci_host_qp_detach(hf, ctx, uarg);
	case IOCTL_VMCI_CTX_GET_CPT_STATE:
		return vmci_host_get_cpt_state(ctx, uarg);
	case IOCTL_VMCI_CTX_SET_CPT_STATE:
		return vmci_host_set_cpt_state(ctx, uarg);
	default:
		/* Reserved numbers 1953-1955 included: they must keep failing. */
		return -EINVAL;
	}
}

static long vmci_host_ioctl(struct file *filp, unsigned int cmd,
			    unsigned long arg)
{
	struct vmci_host_file *hf = filp->private_data;
	void __user *uarg = (void __user *)arg;
	struct vmci_ctx *ctx;

	switch (cmd) {
	case IOCTL_VMCI_VERSION:
		return vmci_reported_version(hf->negotiated_version);
	case IOCTL_VMCI_VERSION2:
		return vmci_host_version2(hf, uarg);
	case IOCTL_VMCI_GET_CONTEXT_ID:
		return vmci_host_get_context_id(uarg);
	case IOCTL_VMCI_INIT_CONTEXT:
		return vmci_host_init_context(hf, uarg);
	}

	/* VMware's VMX expects EINVAL, not ENOTTY, for anything it may not do yet. */
	ctx = vmci_host_file_ctx(hf);
	if (!ctx)
		return -EINVAL;
	return vmci_host_ctx_ioctl(hf, ctx, cmd, uarg);
}

static const struct file_operations vmci_host_fops = {
	.owner = THIS_MODULE,
	.open = vmci_host_open,
	.release = vmci_host_release,
	.poll = vmci_host_poll,
	.unlocked_ioctl = vmci_host_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice vmci_host_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vmci",
	.fops = &vmci_host_fops,
};

static bool vmci_host_dev_registered;

int vmci_host_dev_init(void)
{
	int err;

	if (vmci_misc_name_taken(vmci_host_miscdev.name)) {
		pr_info("/dev/%s belongs to another driver (in-tree vmw_vmci?); host device not created, kernel API still available\n",
			vmci_host_miscdev.name);
		return 0;
	}
	err = misc_register(&vmci_host_miscdev);
	if (err) {
		pr_err("cannot register /dev/%s: %d\n", vmci_host_miscdev.name, err);
		return err;
	}
	vmci_host_dev_registered = true;
	return 0;
}

void vmci_host_dev_exit(void)
{
	if (vmci_host_dev_registered)
		misc_deregister(&vmci_host_miscdev);
	vmci_host_dev_registered = false;
}
