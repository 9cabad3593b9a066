// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vsock: how programs built with vmci_sockets.h find the family.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/uaccess.h>
#include <vmci/misc_name.h>
#include <vmci/vmci_abi.h>
#include <vmci/vmcix.h>

#include "af_vmsock.h"
#include "version.h"
#include "vsock_dev.h"

/*
 * private_data is the fd's hold on the address-family number: NULL until
 * GET_AF_VALUE, dropped when the fd is closed.
 */
static int vmsock_dev_open(struct inode *inode, struct file *filp)
{
	filp->private_data = NULL;
	return nonseekable_open(inode, filp);
}

static int vmsock_dev_release(struct inode *inode, struct file *filp)
{
	vmsock_af_put_fd(&filp->private_data);
	return 0;
}

static long vmsock_dev_get_af_value(struct file *filp, int __user *uarg)
{
	int af;

	/* A bad pointer must not leave a number registered behind it. */
	if (put_user(-1, uarg))
		return -EFAULT;
	af = vmsock_af_hold_fd(&filp->private_data);
	if (af < 0)
		return af;
	/* Only a racing munmap fails here; the fd keeps its hold until close. */
	return put_user(af, uarg) ? -EFAULT : 0;
}

static long vmsock_dev_ioctl(struct file *filp, unsigned int cmd,
			     unsigned long arg)
{
	u32 __user *uarg = (u32 __user *)arg;

	switch (cmd) {
	case IOCTL_VMCI_SOCKETS_VERSION:
		return put_user(vmsock_driver_version(), uarg) ? -EFAULT : 0;
	case IOCTL_VMCI_SOCKETS_GET_AF_VALUE:
		return vmsock_dev_get_af_value(filp, (int __user *)arg);
	case IOCTL_VMCI_SOCKETS_GET_LOCAL_CID:
		return put_user(vmcix_get_context_id(), uarg) ? -EFAULT : 0;
	default:
		/* Silently: probing programs must not flood the log. */
		return -ENOTTY;
	}
}

static const struct file_operations vmsock_dev_fops = {
	.owner = THIS_MODULE,
	.open = vmsock_dev_open,
	.release = vmsock_dev_release,
	.unlocked_ioctl = vmsock_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice vmsock_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vsock",
	.fops = &vmsock_dev_fops,
};

int vmsock_dev_init(void)
{
	int err;

	/*
	 * With the in-tree vsock loaded first, /dev/vsock is its device; our
	 * vmci_sockets.h falls back to /dev/vmsock, so programs built with it
	 * still reach us.
	 */
	if (vmci_misc_name_taken(vmsock_miscdev.name)) {
		pr_info("/dev/vsock belongs to another driver (in-tree vsock?); using /dev/vmsock\n");
		vmsock_miscdev.name = "vmsock";
	}
	err = misc_register(&vmsock_miscdev);
	if (err)
		pr_err("cannot register /dev/%s: %d\n", vmsock_miscdev.name, err);
	return err;
}

void vmsock_dev_exit(void)
{
	misc_deregister(&vmsock_miscdev);
	vmsock_miscdev.name = "vsock";
}
