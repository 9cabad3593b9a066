// SPDX-License-Identifier: GPL-2.0
/*
 * Exported datagram API (VMCIX namespace) for vmsock.ko and other
 * in-kernel endpoints.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/export.h>
#include <vmci/vmci_abi.h>
#include <vmci/vmcix.h>

#include "datagram.h"
#include "resource.h"
#include "route.h"

int vmcix_datagram_create_handle(u32 resource_id, u32 flags, u32 priv_flags,
				 vmcix_datagram_recv_cb cb, void *client_data,
				 struct vmci_handle *out_handle)
{
	return vmci_datagram_create_handle(resource_id, flags, priv_flags, cb, client_data,
					   out_handle);
}
EXPORT_SYMBOL_GPL(vmcix_datagram_create_handle);

int vmcix_datagram_destroy_handle(struct vmci_handle handle)
{
	return vmci_datagram_destroy_handle(handle);
}
EXPORT_SYMBOL_GPL(vmcix_datagram_destroy_handle);

int vmcix_datagram_destroy_handle_async(struct vmci_handle handle,
					void (*gone)(void *client_data))
{
	return vmci_datagram_destroy_handle_async(handle, gone);
}
EXPORT_SYMBOL_GPL(vmcix_datagram_destroy_handle_async);

void vmcix_datagram_barrier(void)
{
	might_sleep();
	vmci_resource_barrier();
}
EXPORT_SYMBOL_GPL(vmcix_datagram_barrier);

/*
 * Kernel callers are trusted to own VMCI_DG_SIZE(dg) bytes at @dg, once
 * the payload size itself is sane (the router checks that first).
 */
int vmcix_datagram_send(struct vmci_datagram *dg)
{
	size_t size = VMCI_DG_HEADERSIZE;

	if (dg && dg->payload_size <= VMCI_MAX_DG_PAYLOAD_SIZE)
		size = VMCI_DG_SIZE(dg);
	return vmci_datagram_dispatch(VMCI_ROUTE_KERNEL_SENDER, dg, size,
				      GFP_ATOMIC);
}
EXPORT_SYMBOL_GPL(vmcix_datagram_send);
