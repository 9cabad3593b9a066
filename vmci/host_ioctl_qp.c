// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vmci ioctls for queue pairs: QUEUEPAIR_ALLOC, QUEUEPAIR_SETVA,
 * QUEUEPAIR_SETPAGEFILE and QUEUEPAIR_DETACH, all served by the broker
 * (qpair_broker.c).
 *
 * Only the current dialect (VMCI_VERSION_NOVMVM) is spoken: its VMX hands
 * us the guest's memory by address with SETVA. Older VMXs described
 * memory with page files (SETPAGEFILE and the _vmvm ALLOC layout), which
 * this driver cannot back, so a file that negotiated an older version gets
 * -EINVAL for every queue-pair ioctl, as for an ioctl it may not use.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/errno.h>
#include <linux/uaccess.h>
#include <vmci/vmci_abi.h>

#include "context.h"
#include "host_file.h"
#include "qpair_broker.h"

/* VERSION2 pins an old dialect only below HOSTQP; 0 means "never asked". */
static bool speaks_novmvm(const struct vmci_host_file *hf)
{
	return !hf->negotiated_version || hf->negotiated_version >= VMCI_VERSION_NOVMVM;
}

/*
 * The PPN list at ppn_va is for hypervisors that map guest memory by
 * frame number; here the memory arrives with SETVA, so only the count is
 * checked, and only when given.
 */
long vmci_host_qp_alloc(struct vmci_host_file *hf, struct vmci_ctx *ctx, void __user *uarg)
{
	struct vmci_qp_alloc_info __user *uinfo = uarg;
	struct vmci_qp_alloc_info info;
	int result;

	if (!speaks_novmvm(hf))
		return -EINVAL;
	if (copy_from_user(&info, uinfo, sizeof(info)))
		return -EFAULT;
	/* Absurd sizes may wrap the count, but the broker refuses those anyway. */
	if (info.num_ppns &&
	    info.num_ppns != vmci_qp_broker_pair_pages(info.produce_size, info.consume_size))
		result = VMCI_ERROR_INVALID_SIZE;
	else
		result = vmci_qp_broker_vmm_alloc(ctx, info.handle, info.peer, info.flags,
						  info.produce_size, info.consume_size);
	if (put_user(result, &uinfo->result)) {
		/* The VMX cannot know it holds the pair, so it must not. */
		if (result == VMCI_SUCCESS)
			vmci_qp_broker_vmm_detach(ctx, info.handle);
		return -EFAULT;
	}
	return 0;
}

/*
 * The pages SETVA pins are charged to the caller's RLIMIT_MEMLOCK
 * (pin_account.h). Beyond it the ioctl fails with ENOMEM, as mlock()
 * would, and the result is VMCI_ERROR_NO_RESOURCES for a VMX that only
 * reads that; every other outcome is in the result alone.
 */
long vmci_host_qp_set_va(struct vmci_host_file *hf, struct vmci_ctx *ctx, void __user *uarg)
{
	struct vmci_qp_set_va_info __user *uinfo = uarg;
	struct vmci_qp_set_va_info info;
	int result;

	if (!speaks_novmvm(hf))
		return -EINVAL;
	if (copy_from_user(&info, uinfo, sizeof(info)))
		return -EFAULT;
	result = vmci_qp_broker_vmm_set_va(ctx, info.handle, info.va, info.num_ppns);
	if (put_user(result, &uinfo->result))
		return -EFAULT;
	return result == VMCI_ERROR_NO_RESOURCES ? -ENOMEM : 0;
}

/*
 * Page files belong to dialects from HOSTQP up to, not including, NOVMVM,
 * and version negotiation never settles on one of those (it answers
 * either below HOSTQP or NOVMVM), so no file here may use this.
 */
long vmci_host_qp_set_page_file(struct vmci_host_file *hf, void __user *uarg)
{
	return -EINVAL;
}

long vmci_host_qp_detach(struct vmci_host_file *hf, struct vmci_ctx *ctx, void __user *uarg)
{
	struct vmci_qp_dtch_info __user *uinfo = uarg;
	struct vmci_qp_dtch_info info;
	int result;

	if (!speaks_novmvm(hf))
		return -EINVAL;
	if (copy_from_user(&info, uinfo, sizeof(info)))
		return -EFAULT;
	result = vmci_qp_broker_vmm_detach(ctx, info.handle);
	return put_user(result, &uinfo->result) ? -EFAULT : 0;
}
