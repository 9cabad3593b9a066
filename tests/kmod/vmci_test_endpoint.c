// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only echo service on the host context, for userspace tests that
 * play a VMM through /dev/vmci. Every datagram is sent back to its sender
 * with source and destination swapped and the payload unchanged.
 *
 *   {2, 1500}  no privilege flags, immediate callback: the echo is sent
 *              from a work item, since the callback may run in atomic
 *              context and must not sleep
 *   {2, 1501}  TRUSTED, delayed callback: echoes from the callback itself
 *              (process context), and lets RESTRICTED VMMs through
 *
 * At most ECHO_MAX_OUTSTANDING echoes wait for the work item; beyond that
 * the sender gets VMCI_ERROR_NO_RESOURCES, so a flood cannot grow memory.
 *
 * Doorbells, so a VMM test can get one of its own doorbells rung:
 *
 *   {2, 1503}  datagram handle, no privilege flags: a datagram whose
 *              payload is exactly one 8-byte handle (a doorbell the VMM
 *              registered) arms that handle as the target and rings it at
 *              once; the ring's result is the send's result if it failed
 *   {2, 1502}  host doorbell, no privilege flags, immediate callback: each
 *              ring rings the armed target again (nothing if none armed)
 *
 * Rings never sleep, so both ring straight from their callbacks.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <vmci/vmci_abi.h>
#include <vmci/vmcix.h>

#define ECHO_RID		1500
#define ECHO_TRUSTED_RID	1501
#define ECHO_MAX_OUTSTANDING	64
#define DBELL_RID		1502
#define DBELL_ARM_RID		1503

struct echo_work {
	struct work_struct work;
	u64 data[];
};

static struct workqueue_struct *echo_wq;
static atomic_t outstanding = ATOMIC_INIT(0);
static struct vmci_handle echo_handle = VMCI_INVALID_HANDLE;
static struct vmci_handle trusted_handle = VMCI_INVALID_HANDLE;
static struct vmci_handle dbell_handle = VMCI_INVALID_HANDLE;
static struct vmci_handle arm_handle = VMCI_INVALID_HANDLE;
static atomic64_t dbell_target = ATOMIC64_INIT(-1);	/* a struct vmci_handle, packed */

/* Turns @dg around in place and sends it; a full or vanished peer just loses it. */
static void echo_back(struct vmci_datagram *dg)
{
	struct vmci_handle peer = dg->src;
	int result;

	dg->src = dg->dst;
	dg->dst = peer;
	result = vmcix_datagram_send(dg);
	if (result < VMCI_SUCCESS)
		pr_debug("echo to %u:%u dropped: %d\n", peer.context, peer.resource, result);
}

static void echo_work_fn(struct work_struct *work)
{
	struct echo_work *w = container_of(work, struct echo_work, work);

	echo_back((struct vmci_datagram *)w->data);
	kfree(w);
	atomic_dec(&outstanding);
}

/* Immediate callback: possibly atomic, so copy and defer. */
static int echo_cb(void *client_data, struct vmci_datagram *dg)
{
	size_t size = VMCI_DG_SIZE(dg);
	struct echo_work *w;

	if (atomic_inc_return(&outstanding) > ECHO_MAX_OUTSTANDING) {
		atomic_dec(&outstanding);
		return VMCI_ERROR_NO_RESOURCES;
	}
	w = kmalloc(sizeof(*w) + size, GFP_ATOMIC | __GFP_NOWARN);
	if (!w) {
		atomic_dec(&outstanding);
		return VMCI_ERROR_NO_MEM;
	}
	memcpy(w->data, dg, size);
	INIT_WORK(&w->work, echo_work_fn);
	queue_work(echo_wq, &w->work);
	return VMCI_SUCCESS;
}

/* Delayed callback: process context, @dg is vmci's private copy but read-only. */
static int echo_delayed_cb(void *client_data, struct vmci_datagram *dg)
{
	struct vmci_datagram *reply;

	reply = kmemdup(dg, VMCI_DG_SIZE(dg), GFP_KERNEL);
	if (!reply)
		return VMCI_ERROR_NO_MEM;
	echo_back(reply);
	kfree(reply);
	return VMCI_SUCCESS;
}

static int ring_target(void)
{
	u64 packed = atomic64_read(&dbell_target);
	struct vmci_handle target;

	memcpy(&target, &packed, sizeof(target));
	if (vmci_handle_is_invalid(target))
		return VMCI_SUCCESS;
	return vmcix_doorbell_notify(target, VMCI_NO_PRIVILEGE_FLAGS);
}

static void dbell_cb(void *client_data)
{
	int result = ring_target();

	if (result < VMCI_SUCCESS)
		pr_debug("ringing back failed: %d\n", result);
}

static int arm_cb(void *client_data, struct vmci_datagram *dg)
{
	u64 packed;

	if (dg->payload_size != sizeof(packed))
		return VMCI_ERROR_INVALID_ARGS;
	memcpy(&packed, VMCI_DG_PAYLOAD(dg), sizeof(packed));
	atomic64_set(&dbell_target, packed);
	return ring_target();
}

static int __init dbell_init(void)
{
	int result;

	dbell_handle = vmci_make_handle(VMCI_INVALID_ID, DBELL_RID);
	result = vmcix_doorbell_create(&dbell_handle, 0, VMCI_NO_PRIVILEGE_FLAGS, dbell_cb, NULL);
	if (result != VMCI_SUCCESS)
		return result;
	result = vmcix_datagram_create_handle(DBELL_ARM_RID, VMCI_FLAG_DG_NONE,
					      VMCI_NO_PRIVILEGE_FLAGS, arm_cb, NULL, &arm_handle);
	if (result != VMCI_SUCCESS)
		vmcix_doorbell_destroy(dbell_handle);
	return result;
}

static void dbell_exit(void)
{
	vmcix_datagram_destroy_handle(arm_handle);
	vmcix_doorbell_destroy(dbell_handle);
}

static int __init endpoint_init(void)
{
	int result;

	echo_wq = alloc_workqueue("vmci_test_echo", 0, 0);
	if (!echo_wq)
		return -ENOMEM;
	result = vmcix_datagram_create_handle(ECHO_RID, VMCI_FLAG_DG_NONE, VMCI_NO_PRIVILEGE_FLAGS,
					      echo_cb, NULL, &echo_handle);
	if (result != VMCI_SUCCESS)
		goto err_wq;
	result = vmcix_datagram_create_handle(ECHO_TRUSTED_RID, VMCI_FLAG_DG_DELAYED_CB,
					      VMCI_PRIVILEGE_FLAG_TRUSTED, echo_delayed_cb, NULL,
					      &trusted_handle);
	if (result != VMCI_SUCCESS)
		goto err_handle;
	result = dbell_init();
	if (result != VMCI_SUCCESS)
		goto err_trusted;
	pr_info("echoing on %u:%u and %u:%u\n", echo_handle.context, echo_handle.resource,
		trusted_handle.context, trusted_handle.resource);
	return 0;

err_trusted:
	vmcix_datagram_destroy_handle(trusted_handle);
err_handle:
	vmcix_datagram_destroy_handle(echo_handle);
err_wq:
	destroy_workqueue(echo_wq);
	pr_err("cannot create echo handles: %d\n", result);
	return -EBUSY;
}

static void __exit endpoint_exit(void)
{
	/* No callback runs after these; then let queued echoes finish. */
	dbell_exit();
	vmcix_datagram_destroy_handle(trusted_handle);
	vmcix_datagram_destroy_handle(echo_handle);
	destroy_workqueue(echo_wq);
}

module_init(endpoint_init);
module_exit(endpoint_exit);

VMCIX_IMPORT_NS();
MODULE_DESCRIPTION("Test-only VMCI echo and doorbell endpoint (host resources 1500-1503)");
MODULE_AUTHOR("The vmci-vmsock authors");
MODULE_LICENSE("GPL");
