// SPDX-License-Identifier: GPL-2.0
/*
 * Datagram routing. Who may reach whom:
 *
 *   sender         destination                         route
 *   VMM context    host (CID 2)                        local handle
 *   VMM context    anything else                       refused: VMware removed
 *                                                      VM-to-VM, and a VMM has no
 *                                                      business with our hypervisor
 *   kernel         hypervisor (CID 0)                  hypervisor, if registered
 *   kernel         our own CID                         local handle
 *   kernel         a live VMM context                  that context's queue
 *   kernel         anything else                       hypervisor, if registered
 *                                                      (in a guest, CID 2 is the
 *                                                      real host), else refused
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/errno.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/rcupdate.h>

#include "context.h"
#include "datagram.h"
#include "privilege.h"
#include "route.h"

static const struct vmci_hypervisor_ops __rcu *hv_ops;
/* Guards hv_ops changes and personality_chain, so watchers never miss one. */
static DEFINE_MUTEX(hv_ops_lock);
static RAW_NOTIFIER_HEAD(personality_chain);

int vmci_route_register_hypervisor(const struct vmci_hypervisor_ops *ops)
{
	int err = 0;

	if (!ops || !ops->send || !ops->context_id)
		return -EINVAL;
	mutex_lock(&hv_ops_lock);
	if (rcu_access_pointer(hv_ops)) {
		err = -EBUSY;
	} else {
		rcu_assign_pointer(hv_ops, ops);
		raw_notifier_call_chain(&personality_chain, VMCIX_GUEST_UP, NULL);
	}
	mutex_unlock(&hv_ops_lock);
	return err;
}

void vmci_route_unregister_hypervisor(const struct vmci_hypervisor_ops *ops)
{
	bool gone = false;

	mutex_lock(&hv_ops_lock);
	if (rcu_access_pointer(hv_ops) == ops) {
		RCU_INIT_POINTER(hv_ops, NULL);
		gone = true;
	}
	/* Sends run inside RCU read-side sections. */
	synchronize_rcu();
	/* Only now can a watcher trust that nothing leaves through the device. */
	if (gone)
		raw_notifier_call_chain(&personality_chain, VMCIX_GUEST_DOWN, NULL);
	mutex_unlock(&hv_ops_lock);
}

int vmci_route_watch_personality(struct notifier_block *nb)
{
	int err;

	if (!nb || !nb->notifier_call)
		return -EINVAL;
	mutex_lock(&hv_ops_lock);
	err = raw_notifier_chain_register(&personality_chain, nb);
	/* A watcher that arrives late learns the present state at once. */
	if (!err && rcu_access_pointer(hv_ops))
		nb->notifier_call(nb, VMCIX_GUEST_UP, NULL);
	mutex_unlock(&hv_ops_lock);
	return err;
}

int vmci_route_unwatch_personality(struct notifier_block *nb)
{
	int err;

	mutex_lock(&hv_ops_lock);
	err = raw_notifier_chain_unregister(&personality_chain, nb);
	mutex_unlock(&hv_ops_lock);
	return err;
}

bool vmci_route_is_local_cid(u32 cid)
{
	return cid != VMCI_INVALID_ID && cid == vmci_route_local_cid();
}

static bool hypervisor_registered(void)
{
	return rcu_access_pointer(hv_ops);
}

u32 vmci_route_local_cid(void)
{
	const struct vmci_hypervisor_ops *ops;
	u32 cid = VMCI_HOST_CONTEXT_ID;

	rcu_read_lock();
	ops = rcu_dereference(hv_ops);
	if (ops)
		cid = ops->context_id();
	rcu_read_unlock();
	return cid;
}

/* The host context is in the table too, but it is us, never a VMM. */
static bool is_vmm_context(u32 cid)
{
	struct vmci_ctx *ctx;

	if (cid < VMCI_RESERVED_CID_LIMIT || cid == VMCI_INVALID_ID)
		return false;
	ctx = vmci_ctx_get(cid);
	if (!ctx)
		return false;
	vmci_ctx_put(ctx);
	return true;
}

int vmci_route_decide(u32 src_cid, struct vmci_handle dst, enum vmci_route *route)
{
	if (dst.context == VMCI_INVALID_ID)
		return VMCI_ERROR_INVALID_ARGS;

	if (src_cid != VMCI_ROUTE_KERNEL_SENDER) {
		if (dst.context != VMCI_HOST_CONTEXT_ID)
			return VMCI_ERROR_DST_UNREACHABLE;
		*route = VMCI_ROUTE_LOCAL;
		return VMCI_SUCCESS;
	}

	if (dst.context == VMCI_HYPERVISOR_CONTEXT_ID) {
		if (!hypervisor_registered())
			return VMCI_ERROR_DST_UNREACHABLE;
		*route = VMCI_ROUTE_HYPERVISOR;
	} else if (dst.context == vmci_route_local_cid()) {
		*route = VMCI_ROUTE_LOCAL;
	} else if (is_vmm_context(dst.context)) {
		*route = VMCI_ROUTE_VMM;
	} else if (hypervisor_registered()) {
		*route = VMCI_ROUTE_HYPERVISOR;
	} else {
		return VMCI_ERROR_DST_UNREACHABLE;
	}
	return VMCI_SUCCESS;
}

int vmci_datagram_validate(const struct vmci_datagram *dg, size_t buf_size)
{
	if (!dg || buf_size < VMCI_DG_HEADERSIZE)
		return VMCI_ERROR_INVALID_ARGS;
	/* Checked before VMCI_DG_SIZE(), which would wrap on a huge payload_size. */
	if (dg->payload_size > VMCI_MAX_DG_PAYLOAD_SIZE || VMCI_DG_SIZE(dg) > buf_size)
		return VMCI_ERROR_INVALID_ARGS;
	if (dg->dst.context == VMCI_INVALID_ID || dg->dst.resource == VMCI_INVALID_ID)
		return VMCI_ERROR_INVALID_ARGS;
	return VMCI_SUCCESS;
}

static int send_to_hypervisor(struct vmci_datagram *dg)
{
	const struct vmci_hypervisor_ops *ops;
	int result = VMCI_ERROR_DST_UNREACHABLE;

	rcu_read_lock();
	ops = rcu_dereference(hv_ops);
	if (ops) {
		/* A hypercall keeps its anonymous source; anything else is from us. */
		if (dg->src.context == VMCI_INVALID_ID && !vmci_handle_is_invalid(dg->src))
			dg->src.context = ops->context_id();
		result = ops->send(dg);
	}
	rcu_read_unlock();
	return result;
}

static int send_to_vmm(struct vmci_datagram *dg, gfp_t gfp)
{
	struct vmci_ctx *ctx;
	int result;

	/* A VMM knows us as the host, whatever the hypervisor calls us. */
	if (dg->src.context == VMCI_INVALID_ID)
		dg->src.context = VMCI_HOST_CONTEXT_ID;
	ctx = vmci_ctx_get(dg->dst.context);
	if (!ctx)
		return VMCI_ERROR_DST_UNREACHABLE;
	if (vmci_privileges_allow(vmci_datagram_priv_flags(dg->src), ctx->priv_flags))
		result = vmci_ctx_enqueue_datagram(ctx, dg, gfp);
	else
		result = VMCI_ERROR_NO_ACCESS;
	vmci_ctx_put(ctx);
	return result;
}

/* VMM senders: everything about the source comes from the context, not the datagram. */
static int deliver_from_vmm(u32 src_cid, struct vmci_datagram *dg, gfp_t gfp)
{
	struct vmci_ctx *ctx;
	u32 priv_flags;

	ctx = vmci_ctx_get(src_cid);
	if (!ctx)
		return VMCI_ERROR_INVALID_ARGS;
	priv_flags = ctx->priv_flags;
	vmci_ctx_put(ctx);
	return vmci_datagram_deliver(dg, priv_flags, gfp);
}

int vmci_datagram_dispatch(u32 src_cid, struct vmci_datagram *dg, size_t buf_size, gfp_t gfp)
{
	bool from_kernel = src_cid == VMCI_ROUTE_KERNEL_SENDER;
	enum vmci_route route;
	int size, result;

	result = vmci_datagram_validate(dg, buf_size);
	if (result != VMCI_SUCCESS)
		return result;
	/* Before delivery: a misbehaving callback could rewrite the header. */
	size = VMCI_DG_SIZE(dg);

	if (!from_kernel)
		dg->src.context = src_cid;
	else if (vmci_handle_is_invalid(dg->src) &&
		 dg->dst.context != VMCI_HYPERVISOR_CONTEXT_ID)
		return VMCI_ERROR_INVALID_ARGS;	/* only hypercalls are anonymous */

	result = vmci_route_decide(src_cid, dg->dst, &route);
	if (result != VMCI_SUCCESS)
		return result;

	switch (route) {
	case VMCI_ROUTE_HYPERVISOR:
		return send_to_hypervisor(dg);
	case VMCI_ROUTE_VMM:
		result = send_to_vmm(dg, gfp);
		break;
	case VMCI_ROUTE_LOCAL:
		if (!from_kernel) {
			result = deliver_from_vmm(src_cid, dg, gfp);
			break;
		}
		if (dg->src.context == VMCI_INVALID_ID)
			dg->src.context = vmci_route_local_cid();
		result = vmci_datagram_deliver(dg, vmci_datagram_priv_flags(dg->src), gfp);
		break;
	}
	return result < VMCI_SUCCESS ? result : size;
}
