// SPDX-License-Identifier: GPL-2.0
/*
 * Exported kernel API of vmci.ko (VMCIX namespace).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/export.h>
#include <vmci/vmci_abi.h>
#include <vmci/vmcix.h>

#include "context.h"
#include "route.h"

/*
 * Without a guest personality bound to a device we are the host, and
 * peers reach the host at the fixed host context ID; the router knows
 * which applies.
 */
u32 vmcix_get_context_id(void)
{
	return vmci_route_local_cid();
}
EXPORT_SYMBOL_GPL(vmcix_get_context_id);

bool vmcix_is_local_cid(u32 cid)
{
	return vmci_route_is_local_cid(cid);
}
EXPORT_SYMBOL_GPL(vmcix_is_local_cid);

u32 vmcix_context_priv_flags(u32 cid)
{
	struct vmci_ctx *ctx = vmci_ctx_get(cid);
	u32 flags;

	if (!ctx)
		return VMCI_NO_PRIVILEGE_FLAGS;
	/* Fixed at creation: no lock needed. */
	flags = ctx->priv_flags;
	vmci_ctx_put(ctx);
	return flags;
}
EXPORT_SYMBOL_GPL(vmcix_context_priv_flags);

int vmcix_personality_watch(struct notifier_block *nb)
{
	return vmci_route_watch_personality(nb);
}
EXPORT_SYMBOL_GPL(vmcix_personality_watch);

int vmcix_personality_unwatch(struct notifier_block *nb)
{
	return vmci_route_unwatch_personality(nb);
}
EXPORT_SYMBOL_GPL(vmcix_personality_unwatch);
