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
 *              and counts in the dbell_rings parameter (read-only), so a
 *              guest test can see the device ring it
 *
 * Rings never sleep, so both ring straight from their callbacks.
 *
 * Queue pairs, so a VMM test can move data through a pair it allocated
 * and mapped itself, with this module as the host end:
 *
 *   {2, 1504}  datagram handle, no privilege flags, delayed callback
 *              (attaching sleeps): each datagram carries a struct qp_cmd
 *              and gets a struct qp_reply back at its source.
 *              ATTACH joins the sender's pair (one at a time); ECHO takes
 *              up to len bytes the VMM wrote and writes them back, replying
 *              with the count and a checksum of what it read; SEND writes
 *              len pattern bytes; DETACH leaves. When the VMM detaches or
 *              goes away (QP_PEER_DETACH), the module leaves too.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>
#include <vmci/vmci_abi.h>
#include <vmci/vmcix.h>

#define ECHO_RID		1500
#define ECHO_TRUSTED_RID	1501
#define ECHO_MAX_OUTSTANDING	64
#define DBELL_RID		1502
#define DBELL_ARM_RID		1503
#define QP_RID			1504
#define QP_MAX_CHUNK		(64 * 1024)

enum qp_op { QP_ATTACH = 1, QP_ECHO, QP_SEND, QP_DETACH };

struct qp_cmd {
	u32 op;
	u32 _pad;
	struct vmci_handle handle;
	u64 vmm_produce_size;	/* the VMM's view; we attach mirrored */
	u64 vmm_consume_size;
	u64 len;
};

struct qp_reply {
	s64 result;		/* bytes moved, or a VMCI error */
	u64 checksum;
};

struct qp_reply_dg {
	struct vmci_datagram hdr;
	struct qp_reply reply;
};

struct echo_work {
	struct work_struct work;
	u64 data[];
};

static struct workqueue_struct *echo_wq;
static atomic_t outstanding = ATOMIC_INIT(0);
static atomic_t dbell_rings = ATOMIC_INIT(0);

/*
 * Read-only counters: a test waits for the echoes still in the work
 * queue before it counts what reached it, and for a doorbell to be rung.
 */
static int atomic_param_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read((atomic_t *)kp->arg));
}

static const struct kernel_param_ops atomic_param_ops = {
	.get = atomic_param_get,
};
module_param_cb(echo_outstanding, &atomic_param_ops, &outstanding, 0444);
module_param_cb(dbell_rings, &atomic_param_ops, &dbell_rings, 0444);
static struct vmci_handle echo_handle = VMCI_INVALID_HANDLE;
static struct vmci_handle trusted_handle = VMCI_INVALID_HANDLE;
static struct vmci_handle dbell_handle = VMCI_INVALID_HANDLE;
static struct vmci_handle arm_handle = VMCI_INVALID_HANDLE;
static struct vmci_handle qp_cmd_handle = VMCI_INVALID_HANDLE;
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
	int result;

	atomic_inc(&dbell_rings);
	result = ring_target();

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

/* qp_lock protects qp_peer; callbacks of 1504 and the event run in process context. */
static DEFINE_MUTEX(qp_lock);
static struct vmcix_qpair *qp_peer;
static struct vmci_handle qp_handle = VMCI_INVALID_HANDLE;
static u32 qp_detach_sub;

/* Position-weighted, so reordered or shifted bytes change it. */
static u64 qp_checksum(const u8 *buf, size_t len)
{
	u64 sum = 0;
	size_t i;

	for (i = 0; i < len; i++)
		sum += (u64)buf[i] * (i + 1);
	return sum;
}

/* Caller holds qp_lock. */
static void qp_leave_locked(void)
{
	if (qp_peer)
		vmcix_qpair_detach(&qp_peer);
	qp_handle = VMCI_INVALID_HANDLE;
}

static s64 qp_echo_locked(u64 len, u64 *checksum)
{
	ssize_t got, put;
	u8 *buf;

	if (!qp_peer)
		return VMCI_ERROR_QUEUEPAIR_NOTATTACHED;
	if (!len || len > QP_MAX_CHUNK)
		return VMCI_ERROR_INVALID_ARGS;
	buf = kmalloc(len, GFP_KERNEL);
	if (!buf)
		return VMCI_ERROR_NO_MEM;
	got = vmcix_qpair_dequeue(qp_peer, buf, len, 0);
	if (got > 0) {
		*checksum = qp_checksum(buf, got);
		put = vmcix_qpair_enqueue(qp_peer, buf, got, 0);
		if (put != got)
			got = put < 0 ? put : VMCI_ERROR_QUEUEPAIR_NOSPACE;
	}
	kfree(buf);
	return got;
}

static s64 qp_send_locked(u64 len, u64 *checksum)
{
	ssize_t put;
	u64 i;
	u8 *buf;

	if (!qp_peer)
		return VMCI_ERROR_QUEUEPAIR_NOTATTACHED;
	if (!len || len > QP_MAX_CHUNK)
		return VMCI_ERROR_INVALID_ARGS;
	buf = kmalloc(len, GFP_KERNEL);
	if (!buf)
		return VMCI_ERROR_NO_MEM;
	for (i = 0; i < len; i++)
		buf[i] = (u8)(i * 31 + 7);
	*checksum = qp_checksum(buf, len);
	put = vmcix_qpair_enqueue(qp_peer, buf, len, 0);
	kfree(buf);
	return put;
}

static s64 qp_do(const struct qp_cmd *cmd, u32 vmm_cid, u64 *checksum)
{
	struct vmci_handle h = cmd->handle;
	s64 result;

	mutex_lock(&qp_lock);
	switch (cmd->op) {
	case QP_ATTACH:
		if (qp_peer) {
			result = VMCI_ERROR_ALREADY_EXISTS;
			break;
		}
		result = vmcix_qpair_alloc(&qp_peer, &h, cmd->vmm_consume_size,
					   cmd->vmm_produce_size, vmm_cid,
					   VMCI_QPFLAG_ATTACH_ONLY, VMCI_NO_PRIVILEGE_FLAGS);
		if (result == VMCI_SUCCESS)
			qp_handle = h;
		break;
	case QP_ECHO:
		result = qp_echo_locked(cmd->len, checksum);
		break;
	case QP_SEND:
		result = qp_send_locked(cmd->len, checksum);
		break;
	case QP_DETACH:
		result = qp_peer ? VMCI_SUCCESS : VMCI_ERROR_QUEUEPAIR_NOTATTACHED;
		qp_leave_locked();
		break;
	default:
		result = VMCI_ERROR_INVALID_ARGS;
	}
	mutex_unlock(&qp_lock);
	return result;
}

/* Delayed callback: process context, so it may attach, copy and reply. */
static int qp_cmd_cb(void *client_data, struct vmci_datagram *dg)
{
	struct qp_reply_dg out = {
		.hdr.dst = dg->src,
		.hdr.src = dg->dst,
		.hdr.payload_size = sizeof(out.reply),
	};
	struct qp_cmd cmd;

	if (dg->payload_size != sizeof(cmd))
		return VMCI_ERROR_INVALID_ARGS;
	memcpy(&cmd, VMCI_DG_PAYLOAD(dg), sizeof(cmd));
	out.reply.result = qp_do(&cmd, dg->src.context, &out.reply.checksum);
	return vmcix_datagram_send(&out.hdr);
}

/* The VMM left: so do we, freeing the pair. */
static void qp_peer_detach_cb(u32 sub_id, const struct vmci_event_data *ed, void *client_data)
{
	const struct vmci_event_data_max *max = (const void *)ed;

	mutex_lock(&qp_lock);
	if (qp_peer && vmci_handle_equal(max->payload.qp_payload.handle, qp_handle))
		qp_leave_locked();
	mutex_unlock(&qp_lock);
}

static int __init qp_init(void)
{
	int result;

	result = vmcix_event_subscribe(VMCI_EVENT_QP_PEER_DETACH, qp_peer_detach_cb, NULL,
				       &qp_detach_sub);
	if (result != VMCI_SUCCESS)
		return result;
	result = vmcix_datagram_create_handle(QP_RID, VMCI_FLAG_DG_DELAYED_CB,
					      VMCI_NO_PRIVILEGE_FLAGS, qp_cmd_cb, NULL,
					      &qp_cmd_handle);
	if (result != VMCI_SUCCESS)
		vmcix_event_unsubscribe(qp_detach_sub);
	return result;
}

static void qp_exit(void)
{
	vmcix_datagram_destroy_handle(qp_cmd_handle);
	vmcix_event_unsubscribe(qp_detach_sub);
	mutex_lock(&qp_lock);
	qp_leave_locked();
	mutex_unlock(&qp_lock);
}

static int __init endpoint_init(void)
{
	int result;

	echo_wq = alloc_workqueue("vmci_test_echo", WQ_PERCPU, 0);
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
	result = qp_init();
	if (result != VMCI_SUCCESS) {
		dbell_exit();
		goto err_trusted;
	}
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
	qp_exit();
	dbell_exit();
	vmcix_datagram_destroy_handle(trusted_handle);
	vmcix_datagram_destroy_handle(echo_handle);
	destroy_workqueue(echo_wq);
}

module_init(endpoint_init);
module_exit(endpoint_exit);

VMCIX_IMPORT_NS();
MODULE_DESCRIPTION("Test-only VMCI echo, doorbell and queue-pair endpoint (host resources 1500-1504)");
MODULE_AUTHOR("The vmci-vmsock authors");
MODULE_LICENSE("GPL");
