// SPDX-License-Identifier: GPL-2.0
/*
 * vmci.ko: VMware VMCI driver. Starts whichever personalities apply.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <vmci/version_info.h>

#include "context.h"
#include "datagram.h"
#include "doorbell.h"
#include "event.h"
#include "guest_pci.h"
#include "host_dev.h"
#include "qpair.h"
#include "resource.h"
#include "stats.h"

static int __init vmci_init(void)
{
	int err;

	err = vmci_resource_init();
	if (err)
		return err;
	err = vmci_event_init();
	if (err)
		goto err_resource;
	err = vmci_datagram_init();
	if (err)
		goto err_event;
	err = vmci_doorbell_init();
	if (err)
		goto err_datagram;
	err = vmci_ctx_init();
	if (err)
		goto err_doorbell;
	vmci_stats_init();
	err = vmci_host_dev_init();
	if (err)
		goto err_ctx;
	/* Last: a device found now starts delivering into the core at once. */
	err = vmci_guest_init();
	if (err)
		goto err_host_dev;
	pr_info("version %s loaded\n", VMCI_VMSOCK_VERSION_STRING);
	return 0;

err_host_dev:
	vmci_host_dev_exit();
err_ctx:
	vmci_stats_exit();
	vmci_ctx_exit();
err_doorbell:
	vmci_doorbell_exit();
err_datagram:
	vmci_datagram_exit();
err_event:
	vmci_event_exit();
err_resource:
	vmci_resource_exit();
	return err;
}

static void __exit vmci_exit(void)
{
	vmci_guest_exit();
	vmci_qpair_local_exit();
	vmci_host_dev_exit();
	vmci_stats_exit();
	vmci_ctx_exit();
	vmci_doorbell_exit();
	vmci_datagram_exit();
	vmci_event_exit();
	vmci_resource_exit();
}

#ifdef VMCI_KCOV_REMOTE
/* include/vmci/fuzz_kcov.h: the fuzzer's KCOV common handle, 0 for none. */
unsigned int vmci_fuzz_kcov_id;
module_param_named(kcov_id, vmci_fuzz_kcov_id, uint, 0600);
MODULE_PARM_DESC(kcov_id, "KCOV remote coverage of work items (fuzzer builds only)");
#endif

module_init(vmci_init);
module_exit(vmci_exit);

MODULE_DESCRIPTION("VMware VMCI driver (out-of-tree, coexists with vmw_vmci)");
MODULE_AUTHOR("The vmci-vmsock authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(VMCI_VMSOCK_VERSION_STRING);
