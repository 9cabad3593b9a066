// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/slab.h>
#include <vmci/vmci_abi.h>
#include <vmci/vmcix.h>

#include "context.h"
#include "datagram.h"
#include "privilege.h"
#include "route.h"

#define BASE_CID	0x7d000000U
#define FIXED_RID	0x7d0000U
#define FAKE_GUEST_CID	0x7d00ffffU
#define FAKE_HV_RESULT	4242

/* A stand-in for the guest personality's device path. */
static struct {
	int sends;
	struct vmci_datagram last;
} fake_hv;

static int fake_hv_send(struct vmci_datagram *dg)
{
	fake_hv.sends++;
	fake_hv.last = *dg;
	return FAKE_HV_RESULT;
}

static u32 fake_hv_context_id(void)
{
	return FAKE_GUEST_CID;
}

static const struct vmci_hypervisor_ops fake_hv_ops = {
	.send = fake_hv_send,
	.context_id = fake_hv_context_id,
};

static void unregister_fake_hv(void *unused)
{
	vmci_route_unregister_hypervisor(&fake_hv_ops);
}

static void register_fake_hv(struct kunit *test)
{
	memset(&fake_hv, 0, sizeof(fake_hv));
	KUNIT_ASSERT_EQ(test, vmci_route_register_hypervisor(&fake_hv_ops), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, unregister_fake_hv, NULL), 0);
}

static void destroy_ctx_action(void *data)
{
	vmci_ctx_destroy(data);
}

static struct vmci_ctx *new_ctx(struct kunit *test, u32 wanted, u32 flags)
{
	struct vmci_ctx *ctx = NULL;

	KUNIT_ASSERT_EQ(test, vmci_ctx_create(wanted, flags, &ctx), VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, destroy_ctx_action, ctx), 0);
	return ctx;
}

struct recorder {
	int calls;
	struct vmci_handle src;
};

static int record_cb(void *client_data, struct vmci_datagram *dg)
{
	struct recorder *r = client_data;

	r->calls++;
	r->src = dg->src;
	return VMCI_SUCCESS;
}

struct handle_action {
	struct vmci_handle h;
};

static void destroy_handle_action(void *data)
{
	struct handle_action *a = data;

	vmci_datagram_destroy_handle(a->h);
}

static struct recorder *new_handle(struct kunit *test, u32 rid, u32 priv_flags)
{
	struct recorder *r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	struct handle_action *a = kunit_kzalloc(test, sizeof(*a), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, r);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_EQ(test, vmci_datagram_create_handle(rid, 0, priv_flags, record_cb, r, &a->h),
			VMCI_SUCCESS);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, destroy_handle_action, a), 0);
	return r;
}

static struct vmci_datagram *new_dg(struct kunit *test, u32 dst_cid, u32 dst_rid,
				    u32 src_cid, u32 src_rid, size_t payload)
{
	struct vmci_datagram *dg = kunit_kzalloc(test, VMCI_DG_HEADERSIZE + payload, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, dg);
	dg->dst = vmci_make_handle(dst_cid, dst_rid);
	dg->src = vmci_make_handle(src_cid, src_rid);
	dg->payload_size = payload;
	return dg;
}

static int decide(u32 src_cid, u32 dst_cid, enum vmci_route *route)
{
	return vmci_route_decide(src_cid, vmci_make_handle(dst_cid, 1), route);
}

static void privilege_rule(struct kunit *test)
{
	const u32 r = VMCI_PRIVILEGE_FLAG_RESTRICTED, t = VMCI_PRIVILEGE_FLAG_TRUSTED;

	KUNIT_EXPECT_TRUE(test, vmci_privileges_allow(0, 0));
	KUNIT_EXPECT_TRUE(test, vmci_privileges_allow(0, t));
	KUNIT_EXPECT_TRUE(test, vmci_privileges_allow(t, t));
	KUNIT_EXPECT_TRUE(test, vmci_privileges_allow(r, t));
	KUNIT_EXPECT_TRUE(test, vmci_privileges_allow(t, r));
	KUNIT_EXPECT_FALSE(test, vmci_privileges_allow(r, 0));
	KUNIT_EXPECT_FALSE(test, vmci_privileges_allow(0, r));
	KUNIT_EXPECT_FALSE(test, vmci_privileges_allow(r, r));
	KUNIT_EXPECT_TRUE(test, vmci_privileges_allow(r | t, r | t));
	KUNIT_EXPECT_FALSE(test, vmci_priv_flags_valid(0x4));
	KUNIT_EXPECT_TRUE(test, vmci_priv_flags_valid(VMCI_PRIVILEGE_ALL_FLAGS));
}

static void malformed_datagrams_are_refused(struct kunit *test)
{
	struct vmci_datagram *dg = new_dg(test, VMCI_HOST_CONTEXT_ID, 1, 2, 2, 16);
	size_t size = VMCI_DG_SIZE(dg);

	KUNIT_EXPECT_EQ(test, vmci_datagram_validate(dg, size), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_validate(NULL, size), VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_validate(dg, VMCI_DG_HEADERSIZE - 1),
			VMCI_ERROR_INVALID_ARGS);
	/* The header claims more than the caller's buffer holds. */
	KUNIT_EXPECT_EQ(test, vmci_datagram_validate(dg, size - 1), VMCI_ERROR_INVALID_ARGS);

	dg->payload_size = VMCI_MAX_DG_PAYLOAD_SIZE + 1;
	KUNIT_EXPECT_EQ(test, vmci_datagram_validate(dg, SIZE_MAX), VMCI_ERROR_INVALID_ARGS);
	/* Would wrap VMCI_DG_SIZE() to a small number if added first. */
	dg->payload_size = U64_MAX - VMCI_DG_HEADERSIZE + 1;
	KUNIT_EXPECT_EQ(test, vmci_datagram_validate(dg, size), VMCI_ERROR_INVALID_ARGS);
	dg->payload_size = 16;

	dg->dst.context = VMCI_INVALID_ID;
	KUNIT_EXPECT_EQ(test, vmci_datagram_validate(dg, size), VMCI_ERROR_INVALID_ARGS);
	dg->dst = vmci_make_handle(VMCI_HOST_CONTEXT_ID, VMCI_INVALID_ID);
	KUNIT_EXPECT_EQ(test, vmci_datagram_validate(dg, size), VMCI_ERROR_INVALID_ARGS);

	/* dispatch applies the same checks, whoever sends. */
	dg->dst = VMCI_INVALID_HANDLE;
	KUNIT_EXPECT_EQ(test, vmci_datagram_dispatch(VMCI_ROUTE_KERNEL_SENDER, dg, size,
						     GFP_KERNEL), VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmci_datagram_dispatch(BASE_CID, dg, size, GFP_KERNEL),
			VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, vmcix_datagram_send(NULL), VMCI_ERROR_INVALID_ARGS);
	dg->dst = vmci_make_handle(VMCI_HOST_CONTEXT_ID, 1);
	dg->payload_size = U64_MAX;
	KUNIT_EXPECT_EQ(test, vmcix_datagram_send(dg), VMCI_ERROR_INVALID_ARGS);
}

static void kernel_routes_without_hypervisor(struct kunit *test)
{
	struct vmci_ctx *vmm = new_ctx(test, BASE_CID, 0);
	enum vmci_route route;

	KUNIT_EXPECT_EQ(test, vmci_route_local_cid(), VMCI_HOST_CONTEXT_ID);
	KUNIT_EXPECT_EQ(test, vmcix_get_context_id(), VMCI_HOST_CONTEXT_ID);
	KUNIT_EXPECT_EQ(test, decide(VMCI_ROUTE_KERNEL_SENDER, VMCI_HYPERVISOR_CONTEXT_ID, &route),
			VMCI_ERROR_DST_UNREACHABLE);
	KUNIT_ASSERT_EQ(test, decide(VMCI_ROUTE_KERNEL_SENDER, VMCI_HOST_CONTEXT_ID, &route),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, route, VMCI_ROUTE_LOCAL);
	KUNIT_ASSERT_EQ(test, decide(VMCI_ROUTE_KERNEL_SENDER, vmm->cid, &route), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, route, VMCI_ROUTE_VMM);
	KUNIT_EXPECT_EQ(test, decide(VMCI_ROUTE_KERNEL_SENDER, BASE_CID + 0x1000, &route),
			VMCI_ERROR_DST_UNREACHABLE);
	KUNIT_EXPECT_EQ(test, decide(VMCI_ROUTE_KERNEL_SENDER, VMCI_WELL_KNOWN_CONTEXT_ID, &route),
			VMCI_ERROR_DST_UNREACHABLE);
}

static void kernel_routes_with_hypervisor(struct kunit *test)
{
	struct vmci_ctx *vmm = new_ctx(test, BASE_CID + 1, 0);
	enum vmci_route route;

	register_fake_hv(test);
	KUNIT_EXPECT_EQ(test, vmci_route_register_hypervisor(&fake_hv_ops), -EBUSY);
	KUNIT_EXPECT_EQ(test, vmci_route_local_cid(), FAKE_GUEST_CID);

	KUNIT_ASSERT_EQ(test, decide(VMCI_ROUTE_KERNEL_SENDER, VMCI_HYPERVISOR_CONTEXT_ID, &route),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, route, VMCI_ROUTE_HYPERVISOR);
	/* In a guest, CID 2 is the real host behind the device. */
	KUNIT_ASSERT_EQ(test, decide(VMCI_ROUTE_KERNEL_SENDER, VMCI_HOST_CONTEXT_ID, &route),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, route, VMCI_ROUTE_HYPERVISOR);
	KUNIT_ASSERT_EQ(test, decide(VMCI_ROUTE_KERNEL_SENDER, FAKE_GUEST_CID, &route),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, route, VMCI_ROUTE_LOCAL);
	KUNIT_ASSERT_EQ(test, decide(VMCI_ROUTE_KERNEL_SENDER, vmm->cid, &route), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, route, VMCI_ROUTE_VMM);
	KUNIT_ASSERT_EQ(test, decide(VMCI_ROUTE_KERNEL_SENDER, BASE_CID + 0x1000, &route),
			VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, route, VMCI_ROUTE_HYPERVISOR);

	/* A VMM never gets to the hypervisor, registered or not. */
	KUNIT_EXPECT_EQ(test, decide(vmm->cid, VMCI_HYPERVISOR_CONTEXT_ID, &route),
			VMCI_ERROR_DST_UNREACHABLE);
	KUNIT_ASSERT_EQ(test, decide(vmm->cid, VMCI_HOST_CONTEXT_ID, &route), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, route, VMCI_ROUTE_LOCAL);

	unregister_fake_hv(NULL);
	KUNIT_EXPECT_EQ(test, vmci_route_local_cid(), VMCI_HOST_CONTEXT_ID);
	KUNIT_EXPECT_EQ(test, decide(VMCI_ROUTE_KERNEL_SENDER, VMCI_HYPERVISOR_CONTEXT_ID, &route),
			VMCI_ERROR_DST_UNREACHABLE);
}

static void vmm_reaches_only_the_host(struct kunit *test)
{
	struct vmci_ctx *a = new_ctx(test, BASE_CID + 2, 0);
	struct vmci_ctx *b = new_ctx(test, BASE_CID + 3, 0);
	enum vmci_route route;

	KUNIT_ASSERT_EQ(test, decide(a->cid, VMCI_HOST_CONTEXT_ID, &route), VMCI_SUCCESS);
	KUNIT_EXPECT_EQ(test, route, VMCI_ROUTE_LOCAL);
	KUNIT_EXPECT_EQ(test, decide(a->cid, b->cid, &route), VMCI_ERROR_DST_UNREACHABLE);
	KUNIT_EXPECT_EQ(test, decide(a->cid, a->cid, &route), VMCI_ERROR_DST_UNREACHABLE);
	KUNIT_EXPECT_EQ(test, decide(a->cid, VMCI_HYPERVISOR_CONTEXT_ID, &route),
			VMCI_ERROR_DST_UNREACHABLE);
	KUNIT_EXPECT_EQ(test, decide(a->cid, BASE_CID + 0x1000, &route),
			VMCI_ERROR_DST_UNREACHABLE);

	/* Through dispatch, nothing lands in the other VM's queue. */
	KUNIT_EXPECT_EQ(test, vmci_datagram_dispatch(a->cid, new_dg(test, b->cid, 1, a->cid, 1, 8),
						     VMCI_DG_HEADERSIZE + 8, GFP_KERNEL),
			VMCI_ERROR_DST_UNREACHABLE);
	KUNIT_EXPECT_FALSE(test, vmci_ctx_has_pending(b));
}

static void dispatch_to_hypervisor(struct kunit *test)
{
	struct vmci_datagram *dg;

	dg = new_dg(test, VMCI_HYPERVISOR_CONTEXT_ID, 1, VMCI_INVALID_ID, VMCI_INVALID_ID, 0);
	KUNIT_EXPECT_EQ(test, vmcix_datagram_send(dg), VMCI_ERROR_DST_UNREACHABLE);

	register_fake_hv(test);
	KUNIT_EXPECT_EQ(test, vmcix_datagram_send(dg), FAKE_HV_RESULT);
	KUNIT_EXPECT_EQ(test, fake_hv.sends, 1);
	/* Hypercalls stay anonymous. */
	KUNIT_EXPECT_TRUE(test, vmci_handle_is_invalid(fake_hv.last.src));

	dg = new_dg(test, VMCI_HOST_CONTEXT_ID, 7, VMCI_INVALID_ID, 77, 4);
	KUNIT_EXPECT_EQ(test, vmcix_datagram_send(dg), FAKE_HV_RESULT);
	KUNIT_EXPECT_EQ(test, fake_hv.last.src.context, FAKE_GUEST_CID);
	KUNIT_EXPECT_EQ(test, fake_hv.last.src.resource, 77U);
	KUNIT_EXPECT_EQ(test, fake_hv.last.payload_size, 4ULL);
}

static void dispatch_to_local_handle(struct kunit *test)
{
	struct recorder *r = new_handle(test, FIXED_RID, 0);
	struct vmci_datagram *dg;

	dg = new_dg(test, VMCI_HOST_CONTEXT_ID, FIXED_RID, VMCI_INVALID_ID, 5, 100);
	KUNIT_EXPECT_EQ(test, vmcix_datagram_send(dg), (int)VMCI_DG_HEADERSIZE + 100);
	KUNIT_EXPECT_EQ(test, r->calls, 1);
	KUNIT_EXPECT_TRUE(test, vmci_handle_equal(r->src,
						  vmci_make_handle(VMCI_HOST_CONTEXT_ID, 5)));

	dg = new_dg(test, VMCI_HOST_CONTEXT_ID, FIXED_RID + 1, VMCI_HOST_CONTEXT_ID, 5, 0);
	KUNIT_EXPECT_EQ(test, vmcix_datagram_send(dg), VMCI_ERROR_INVALID_RESOURCE);
	/* Only hypercalls may be anonymous. */
	dg = new_dg(test, VMCI_HOST_CONTEXT_ID, FIXED_RID, VMCI_INVALID_ID, VMCI_INVALID_ID, 0);
	KUNIT_EXPECT_EQ(test, vmcix_datagram_send(dg), VMCI_ERROR_INVALID_ARGS);
	KUNIT_EXPECT_EQ(test, r->calls, 1);
}

static void vmm_source_is_stamped(struct kunit *test)
{
	struct vmci_ctx *vmm = new_ctx(test, BASE_CID + 4, 0);
	struct recorder *r = new_handle(test, FIXED_RID + 2, 0);
	struct vmci_datagram *dg;

	/* A VMM claiming to be the host, or another VM, is still itself. */
	dg = new_dg(test, VMCI_HOST_CONTEXT_ID, FIXED_RID + 2, VMCI_HOST_CONTEXT_ID, 9, 3);
	KUNIT_EXPECT_EQ(test, vmci_datagram_dispatch(vmm->cid, dg, VMCI_DG_SIZE(dg), GFP_KERNEL),
			(int)VMCI_DG_SIZE(dg));
	KUNIT_EXPECT_TRUE(test, vmci_handle_equal(r->src, vmci_make_handle(vmm->cid, 9)));

	dg = new_dg(test, VMCI_HOST_CONTEXT_ID, FIXED_RID + 3, 1, 1, 0);
	KUNIT_EXPECT_EQ(test, vmci_datagram_dispatch(vmm->cid, dg, VMCI_DG_SIZE(dg), GFP_KERNEL),
			VMCI_ERROR_INVALID_RESOURCE);
}

static void kernel_to_vmm_queue_and_privileges(struct kunit *test)
{
	struct vmci_ctx *plain = new_ctx(test, BASE_CID + 5, 0);
	struct vmci_ctx *restricted = new_ctx(test, BASE_CID + 6, VMCI_PRIVILEGE_FLAG_RESTRICTED);
	struct vmci_ctx_dg *e = NULL;
	struct vmci_datagram *dg;

	new_handle(test, FIXED_RID + 4, 0);
	new_handle(test, FIXED_RID + 5, VMCI_PRIVILEGE_FLAG_TRUSTED);

	dg = new_dg(test, plain->cid, 3, VMCI_INVALID_ID, FIXED_RID + 4, 10);
	KUNIT_EXPECT_EQ(test, vmcix_datagram_send(dg), (int)VMCI_DG_SIZE(dg));
	KUNIT_ASSERT_EQ(test, vmci_ctx_dequeue_datagram(plain, 4096, &e), VMCI_SUCCESS);
	/* The VMM sees us as the host. */
	KUNIT_EXPECT_EQ(test, ((struct vmci_datagram *)e->data)->src.context,
			VMCI_HOST_CONTEXT_ID);
	vmci_ctx_free_datagram(e);

	dg = new_dg(test, restricted->cid, 3, VMCI_HOST_CONTEXT_ID, FIXED_RID + 4, 0);
	KUNIT_EXPECT_EQ(test, vmcix_datagram_send(dg), VMCI_ERROR_NO_ACCESS);
	KUNIT_EXPECT_FALSE(test, vmci_ctx_has_pending(restricted));
	dg = new_dg(test, restricted->cid, 3, VMCI_HOST_CONTEXT_ID, FIXED_RID + 5, 0);
	KUNIT_EXPECT_EQ(test, vmcix_datagram_send(dg), (int)VMCI_DG_HEADERSIZE);
	KUNIT_EXPECT_TRUE(test, vmci_ctx_has_pending(restricted));

	/* And the other way round. */
	dg = new_dg(test, VMCI_HOST_CONTEXT_ID, FIXED_RID + 4, 0, 1, 0);
	KUNIT_EXPECT_EQ(test, vmci_datagram_dispatch(restricted->cid, dg, VMCI_DG_HEADERSIZE,
						     GFP_KERNEL), VMCI_ERROR_NO_ACCESS);
	dg = new_dg(test, VMCI_HOST_CONTEXT_ID, FIXED_RID + 5, 0, 1, 0);
	KUNIT_EXPECT_EQ(test, vmci_datagram_dispatch(restricted->cid, dg, VMCI_DG_HEADERSIZE,
						     GFP_KERNEL), (int)VMCI_DG_HEADERSIZE);
}

static void destroyed_vmm_is_unreachable(struct kunit *test)
{
	struct vmci_ctx *vmm = NULL;
	struct vmci_datagram *dg;
	u32 cid;

	KUNIT_ASSERT_EQ(test, vmci_ctx_create(BASE_CID + 7, 0, &vmm), VMCI_SUCCESS);
	cid = vmm->cid;
	vmci_ctx_destroy(vmm);
	dg = new_dg(test, cid, 1, VMCI_HOST_CONTEXT_ID, 1, 0);
	KUNIT_EXPECT_EQ(test, vmcix_datagram_send(dg), VMCI_ERROR_DST_UNREACHABLE);
}

struct watcher {
	struct notifier_block nb;
	int ups, downs;
	bool hv_seen_at_up;	/* the path was usable when UP arrived */
	bool hv_gone_at_down;	/* and gone when DOWN arrived */
};

static int watcher_cb(struct notifier_block *nb, unsigned long event, void *data)
{
	struct watcher *w = container_of(nb, struct watcher, nb);

	if (event == VMCIX_GUEST_UP) {
		w->ups++;
		w->hv_seen_at_up = vmci_route_local_cid() == FAKE_GUEST_CID;
	} else if (event == VMCIX_GUEST_DOWN) {
		w->downs++;
		w->hv_gone_at_down = vmci_route_local_cid() == VMCI_HOST_CONTEXT_ID;
	}
	return NOTIFY_OK;
}

static void unwatch_action(void *nb)
{
	vmci_route_unwatch_personality(nb);
}

static struct watcher *new_watcher(struct kunit *test)
{
	struct watcher *w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, w);
	w->nb.notifier_call = watcher_cb;
	KUNIT_ASSERT_EQ(test, vmci_route_watch_personality(&w->nb), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, unwatch_action, &w->nb), 0);
	return w;
}

static void personality_watchers_see_guest_come_and_go(struct kunit *test)
{
	struct watcher *early = new_watcher(test), *late;
	struct notifier_block empty = {};

	KUNIT_EXPECT_EQ(test, vmci_route_watch_personality(NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, vmci_route_watch_personality(&empty), -EINVAL);
	KUNIT_EXPECT_EQ(test, early->ups + early->downs, 0);
	KUNIT_EXPECT_TRUE(test, vmci_route_is_local_cid(VMCI_HOST_CONTEXT_ID));
	KUNIT_EXPECT_FALSE(test, vmci_route_is_local_cid(FAKE_GUEST_CID));
	KUNIT_EXPECT_FALSE(test, vmci_route_is_local_cid(VMCI_INVALID_ID));

	register_fake_hv(test);
	KUNIT_EXPECT_EQ(test, early->ups, 1);
	KUNIT_EXPECT_TRUE(test, early->hv_seen_at_up);
	KUNIT_EXPECT_TRUE(test, vmci_route_is_local_cid(FAKE_GUEST_CID));
	KUNIT_EXPECT_FALSE(test, vmci_route_is_local_cid(VMCI_HOST_CONTEXT_ID));
	/* A refused second path changes nothing. */
	KUNIT_EXPECT_EQ(test, vmci_route_register_hypervisor(&fake_hv_ops), -EBUSY);
	KUNIT_EXPECT_EQ(test, early->ups, 1);

	late = new_watcher(test);
	KUNIT_EXPECT_EQ(test, late->ups, 1);

	unregister_fake_hv(NULL);
	KUNIT_EXPECT_EQ(test, early->downs, 1);
	KUNIT_EXPECT_EQ(test, late->downs, 1);
	KUNIT_EXPECT_TRUE(test, early->hv_gone_at_down);
	/* Unregistering a path that is not there says nothing. */
	unregister_fake_hv(NULL);
	KUNIT_EXPECT_EQ(test, early->downs, 1);

	KUNIT_EXPECT_EQ(test, vmci_route_unwatch_personality(&late->nb), 0);
	register_fake_hv(test);
	KUNIT_EXPECT_EQ(test, late->ups, 1);
	KUNIT_EXPECT_EQ(test, early->ups, 2);
	unregister_fake_hv(NULL);
	KUNIT_EXPECT_EQ(test, early->downs, 2);
}

static struct kunit_case vmci_route_cases[] = {
	KUNIT_CASE(privilege_rule),
	KUNIT_CASE(malformed_datagrams_are_refused),
	KUNIT_CASE(kernel_routes_without_hypervisor),
	KUNIT_CASE(kernel_routes_with_hypervisor),
	KUNIT_CASE(vmm_reaches_only_the_host),
	KUNIT_CASE(dispatch_to_hypervisor),
	KUNIT_CASE(dispatch_to_local_handle),
	KUNIT_CASE(vmm_source_is_stamped),
	KUNIT_CASE(kernel_to_vmm_queue_and_privileges),
	KUNIT_CASE(destroyed_vmm_is_unreachable),
	KUNIT_CASE(personality_watchers_see_guest_come_and_go),
	{}
};

static struct kunit_suite vmci_route_suite = {
	.name = "vmci_route",
	.test_cases = vmci_route_cases,
};

kunit_test_suite(vmci_route_suite);
