// SPDX-License-Identifier: GPL-2.0
/*
 * vmsock.ko: the vSockets socket family over vmci.ko.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <vmci/version_info.h>
#include <vmci/vmcix.h>

#include "af_vmsock.h"
#include "diag.h"
#include "vsock_dev.h"

static int __init vmsock_init(void)
{
	int err;

	/* /proc/net/vmsock before any socket, the family before /dev/vsock. */
	err = vmsock_diag_init();
	if (err)
		return err;
	err = vmsock_af_init();
	if (err) {
		vmsock_diag_exit();
		return err;
	}
	err = vmsock_dev_init();
	if (err) {
		vmsock_af_exit();
		vmsock_diag_exit();
		return err;
	}
	pr_info("version %s loaded\n", VMCI_VMSOCK_VERSION_STRING);
	return 0;
}

static void __exit vmsock_exit(void)
{
	vmsock_dev_exit();
	vmsock_af_exit();
	vmsock_diag_exit();
	/* Closed datagram sockets may still have a release to run in our code. */
	vmcix_datagram_barrier();
}

module_init(vmsock_init);
module_exit(vmsock_exit);

#ifdef VMCI_KCOV_REMOTE
/* include/vmci/fuzz_kcov.h: the fuzzer's KCOV common handle, 0 for none. */
unsigned int vmci_fuzz_kcov_id;
module_param_named(kcov_id, vmci_fuzz_kcov_id, uint, 0600);
MODULE_PARM_DESC(kcov_id, "KCOV remote coverage of work items (fuzzer builds only)");
#endif

MODULE_DESCRIPTION("vSockets over VMCI (out-of-tree, coexists with vsock)");
MODULE_AUTHOR("The vmci-vmsock authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(VMCI_VMSOCK_VERSION_STRING);
VMCIX_IMPORT_NS();
