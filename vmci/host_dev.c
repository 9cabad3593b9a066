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
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <vmci/misc_name.h>
#include <vmci/vmci_abi.h>
#include <vmci/vmcix.h>

#include "host_dev.h"
#include "version.h"

/* Per open file; a VMX process holds one for its whole life. */
struct vmci_host_file {
	/* Dialect pinned by IOCTL_VMCI_VERSION2, 0 until then. */
	u32 negotiated_version;
};

static int vmci_host_open(struct inode *inode, struct file *filp)
{
	struct vmci_host_file *hf;

	hf = kzalloc(sizeof(*hf), GFP_KERNEL);
	if (!hf)
		return -ENOMEM;
	filp->private_data = hf;
	return nonseekable_open(inode, filp);
}

static int vmci_host_release(struct inode *inode, struct file *filp)
{
	kfree(filp->private_data);
	return 0;
}

static long vmci_host_version2(struct vmci_host_file *hf, int __user *uarg)
{
	int vmx_version;

	if (get_user(vmx_version, uarg))
		return -EFAULT;
	hf->negotiated_version = vmci_negotiate_version(vmx_version);
	return hf->negotiated_version;
}

static long vmci_host_get_context_id(u32 __user *uarg)
{
	return put_user(vmcix_get_context_id(), uarg) ? -EFAULT : 0;
}

static long vmci_host_ioctl(struct file *filp, unsigned int cmd,
			    unsigned long arg)
{
	struct vmci_host_file *hf = filp->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case IOCTL_VMCI_VERSION:
		return vmci_reported_version(hf->negotiated_version);
	case IOCTL_VMCI_VERSION2:
		return vmci_host_version2(hf, uarg);
	case IOCTL_VMCI_GET_CONTEXT_ID:
		return vmci_host_get_context_id(uarg);
	default:
		/* VMware's VMX expects EINVAL, not ENOTTY, for what we lack. */
		return -EINVAL;
	}
}

static const struct file_operations vmci_host_fops = {
	.owner = THIS_MODULE,
	.open = vmci_host_open,
	.release = vmci_host_release,
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
