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

struct echo_work {
	struct work_struct work;
	u64 data[];
};

static struct workqueue_struct *echo_wq;
static atomic_t outstanding = ATOMIC_INIT(0);
static struct vmci_handle echo_handle = VMCI_INVALID_HANDLE;
static struct vmci_handle trusted_handle = VMCI_INVALID_HANDLE;

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
	pr_info("echoing on %u:%u and %u:%u\n", echo_handle.context, echo_handle.resource,
		trusted_handle.context, trusted_handle.resource);
	return 0;

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
	vmcix_datagram_destroy_handle(trusted_handle);
	vmcix_datagram_destroy_handle(echo_handle);
	destroy_workqueue(echo_wq);
}

module_init(endpoint_init);
module_exit(endpoint_exit);

VMCIX_IMPORT_NS();
MODULE_DESCRIPTION("Test-only VMCI datagram echo endpoint (host resources 1500 and 1501)");
MODULE_AUTHOR("The vmci-vmsock authors");
MODULE_LICENSE("GPL");
