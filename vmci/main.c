// SPDX-License-Identifier: GPL-2.0
/*
 * vmci.ko: VMware VMCI driver. Starts whichever personalities apply.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <vmci/version_info.h>

#include "host_dev.h"

static int __init vmci_init(void)
{
	int err;

	err = vmci_host_dev_init();
	if (err)
		return err;
	pr_info("version %s loaded\n", VMCI_VMSOCK_VERSION_STRING);
	return 0;
}

static void __exit vmci_exit(void)
{
	vmci_host_dev_exit();
}

module_init(vmci_init);
module_exit(vmci_exit);

MODULE_DESCRIPTION("VMware VMCI driver (out-of-tree, coexists with vmw_vmci)");
MODULE_AUTHOR("The vmci-vmsock authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(VMCI_VMSOCK_VERSION_STRING);
