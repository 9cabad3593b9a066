/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API of vmci.ko for vmsock.ko and other in-kernel users.
 * Exported in the VMCIX symbol namespace with the vmcix_ prefix, so it
 * never collides with the in-tree vmw_vmci exports.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCIX_H
#define VMCIX_H

#include <linux/types.h>
#include <linux/uidgid.h>

/* Context ID of this machine as peers address it. */
u32 vmcix_get_context_id(void);
/* True when @cid is that context ID now (it changes on CTX_ID_UPDATE). */
bool vmcix_is_local_cid(u32 cid);
/*
 * The privilege flags of context @cid, a VMM this host runs (say
 * VMCI_PRIVILEGE_FLAG_RESTRICTED); VMCI_NO_PRIVILEGE_FLAGS for any other
 * CID. Process context.
 */
u32 vmcix_context_priv_flags(u32 cid);

/*
 * Personalities. The host personality lives as long as vmci.ko, so users
 * learn of it through the module dependency. The guest personality comes
 * when the PCI driver brings a VMCI device up and goes when it takes the
 * device down; a watcher's notifier_call gets VMCIX_GUEST_UP or
 * VMCIX_GUEST_DOWN (data NULL), in process context, and may sleep. A
 * watcher that registers while a guest device is up gets VMCIX_GUEST_UP
 * at once. DOWN comes only after the last datagram left through the
 * device. Callbacks must not call vmcix_personality_watch/unwatch.
 */
struct notifier_block;
enum vmcix_personality_event {
	VMCIX_GUEST_UP = 1,
	VMCIX_GUEST_DOWN,
};

int vmcix_personality_watch(struct notifier_block *nb);
int vmcix_personality_unwatch(struct notifier_block *nb);

struct vmci_event_data;

/*
 * Event subscriptions (VMCI_EVENT_*; results are VMCI codes). The callback
 * runs in process context and may sleep; @ed points at a zeroed struct
 * vmci_event_data_max, so the event's payload follows it in bounds. Once
 * unsubscribe returns, the callback is not running and never runs again,
 * unless unsubscribe was called from that callback itself, in which case
 * it returns at once and the callback is simply not called again.
 */
typedef void (*vmcix_event_cb)(u32 sub_id, const struct vmci_event_data *ed, void *client_data);
int vmcix_event_subscribe(u32 event, vmcix_event_cb cb, void *client_data, u32 *sub_id);
int vmcix_event_unsubscribe(u32 sub_id);

/*
 * Datagrams (results are VMCI codes). A handle is {our CID, resource ID},
 * or {VMCI_INVALID_ID, resource ID} with VMCI_FLAG_ANYCID_DG_HND so that
 * it receives whatever CID the sender used; resource_id VMCI_INVALID_ID
 * asks for a dynamic ID (> VMCI_RESERVED_RESOURCE_ID_MAX). priv_flags are
 * VMCI_PRIVILEGE_FLAG_*: a RESTRICTED peer reaches only TRUSTED handles.
 *
 * The callback runs directly from the delivering context, which may be
 * atomic (the guest receive path): it must not sleep, unless the handle
 * was created with VMCI_FLAG_DG_DELAYED_CB, which runs it from a workqueue
 * in process context. @dg is read-only and valid only during the call.
 * create and destroy sleep; destroy returns once the callback is not
 * running and never will again, so never call it from that callback.
 * destroy waits for an RCU grace period: an owner that closes handles on
 * a hot path uses destroy_async, which never sleeps and frees the resource
 * ID at once; the callback may still run (it must cope with its owner
 * gone) until gone(client_data) is called, in process context, after
 * which it never runs. A module that uses destroy_async calls
 * vmcix_datagram_barrier() before it unloads: it returns once every gone
 * of an earlier destroy_async has returned.
 *
 * vmcix_datagram_send() never sleeps and may be called from callbacks.
 * dg->src is our handle (a VMCI_INVALID_ID context is filled in); it
 * returns VMCI_DG_SIZE(dg) on success or a VMCI error.
 */
struct vmci_datagram;
struct vmci_handle;
typedef int (*vmcix_datagram_recv_cb)(void *client_data, struct vmci_datagram *dg);
int vmcix_datagram_create_handle(u32 resource_id, u32 flags, u32 priv_flags,
				 vmcix_datagram_recv_cb cb, void *client_data,
				 struct vmci_handle *out_handle);
int vmcix_datagram_destroy_handle(struct vmci_handle handle);
int vmcix_datagram_destroy_handle_async(struct vmci_handle handle,
					void (*gone)(void *client_data));
void vmcix_datagram_barrier(void);
int vmcix_datagram_send(struct vmci_datagram *dg);

/*
 * Doorbells of this host. vmcix_doorbell_create() takes *@handle as
 * {VMCI_INVALID_ID or our CID, RID or VMCI_INVALID_ID for a fresh one} and
 * writes back the real handle. The callback runs directly in whoever rings
 * the doorbell (it must not sleep), or with VMCI_FLAG_DELAYED_CB from a
 * workqueue in process context; rings that arrive while a delayed call is
 * still queued are folded into it. create and destroy sleep; destroy
 * returns once the callback is not running and never will again, so never
 * call it from that callback. vmcix_doorbell_notify() rings a doorbell for
 * a sender with @priv_flags, never sleeps and may be called from
 * callbacks. All return a VMCI result.
 */
typedef void (*vmcix_doorbell_cb)(void *client_data);
int vmcix_doorbell_create(struct vmci_handle *handle, u32 flags, u32 priv_flags,
			  vmcix_doorbell_cb cb, void *client_data);
int vmcix_doorbell_destroy(struct vmci_handle handle);
int vmcix_doorbell_notify(struct vmci_handle handle, u32 priv_flags);

/*
 * Queue pairs (results are byte counts or VMCI codes). Only local pairs
 * (VMCI_QPFLAG_LOCAL, both ends in this kernel) exist so far; others get
 * VMCI_ERROR_UNAVAILABLE. The creator passes VMCI_INVALID_HANDLE (or
 * {our CID, VMCI_INVALID_ID}) and gets {our CID, dynamic ID} back; the
 * other end attaches with that handle, the sizes swapped and the same
 * flags (ATTACH_ONLY aside), and the creator's subscribers then get
 * VMCI_EVENT_QP_PEER_ATTACH. Detaching one end sends the other
 * VMCI_EVENT_QP_PEER_DETACH. alloc and detach sleep and raise those events
 * on the calling task, so do not call them holding a lock that an event
 * callback takes. The data calls may sleep too: one enqueue and one
 * dequeue or peek may run at a time on an endpoint, each in parallel with
 * the other direction and with the peer; detach must not overlap any
 * other call on the same endpoint. @mode is accepted and ignored.
 */
struct msghdr;
struct vmcix_qpair;
int vmcix_qpair_alloc(struct vmcix_qpair **qpair, struct vmci_handle *handle,
		      u64 produce_size, u64 consume_size, u32 peer, u32 flags, u32 priv_flags);

/*
 * Whom a pair is for, when that is not the calling task (a socket's pair
 * is made by a worker). Ring memory the pair allocates is charged to
 * @memcg (NULL: the calling task's memory cgroup), which the caller keeps
 * alive during the call. Its ring bytes count against @uid's share of the
 * machine-wide pair budgets (vmci's qp_user_percent) unless @privileged,
 * which may use a whole budget; a create beyond either is
 * VMCI_ERROR_NO_RESOURCES. The charge is kept with the pair and given
 * back when it goes. vmcix_qpair_alloc() charges the calling task:
 * its euid, its memory cgroup, privileged with CAP_NET_ADMIN.
 */
struct mem_cgroup;
struct vmcix_qp_owner {
	struct mem_cgroup *memcg;
	kuid_t uid;
	bool privileged;
};

int vmcix_qpair_alloc_for(const struct vmcix_qp_owner *owner, struct vmcix_qpair **qpair,
			  struct vmci_handle *handle, u64 produce_size, u64 consume_size,
			  u32 peer, u32 flags, u32 priv_flags);
/*
 * Both ends of a new local pair (VMCI_QPFLAG_LOCAL), for a caller that
 * holds both, as vmsock does when it connects two of its own sockets:
 * what a create and an attach to the new handle would do, in one call
 * that looks nothing up. @owner pays for both queues, as a creator does;
 * *@creator produces into *@attacher's consume queue, of @produce_size
 * bytes. The creator's subscribers get VMCI_EVENT_QP_PEER_ATTACH as after
 * any attach, and each end is detached on its own.
 */
int vmcix_qpair_alloc_local_pair(const struct vmcix_qp_owner *owner,
				 struct vmcix_qpair **creator, struct vmcix_qpair **attacher,
				 struct vmci_handle *handle, u64 produce_size, u64 consume_size);
int vmcix_qpair_detach(struct vmcix_qpair **qpair);
void vmcix_qpair_peer_told(struct vmcix_qpair *qpair);
ssize_t vmcix_qpair_enqueue(struct vmcix_qpair *qpair, const void *buf, size_t len, int mode);
ssize_t vmcix_qpair_dequeue(struct vmcix_qpair *qpair, void *buf, size_t len, int mode);
ssize_t vmcix_qpair_peek(struct vmcix_qpair *qpair, void *buf, size_t len, int mode);
ssize_t vmcix_qpair_enquev(struct vmcix_qpair *qpair, struct msghdr *msg, size_t len, int mode);
ssize_t vmcix_qpair_dequev(struct vmcix_qpair *qpair, struct msghdr *msg, size_t len, int mode);
ssize_t vmcix_qpair_peekv(struct vmcix_qpair *qpair, struct msghdr *msg, size_t len, int mode);
s64 vmcix_qpair_produce_free_space(const struct vmcix_qpair *qpair);
s64 vmcix_qpair_produce_buf_ready(const struct vmcix_qpair *qpair);
s64 vmcix_qpair_consume_free_space(const struct vmcix_qpair *qpair);
s64 vmcix_qpair_consume_buf_ready(const struct vmcix_qpair *qpair);
s64 vmcix_qpair_produce_buf_ready_nowait(const struct vmcix_qpair *qpair);
s64 vmcix_qpair_consume_free_space_nowait(const struct vmcix_qpair *qpair);

#endif /* VMCIX_H */
