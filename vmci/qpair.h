/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Queue pairs as in-kernel clients hold them (struct vmcix_qpair), and the
 * backends that create and tear down the shared queues behind them.
 *
 * The data path is the same for every kind of pair: it works on the two
 * struct vmci_queue of an endpoint. Only allocation and detach differ, so a
 * backend supplies just those: the local one (qpair_local.c, both ends in
 * this kernel), the broker (qpair_broker.c, the host end of a VMM
 * process's pair) and the guest personality's (guest_qpair.c, hypercalls);
 * backend_for() in qpair.c chooses.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_QPAIR_H
#define VMCI_QPAIR_H

#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <vmci/vmci_abi.h>

#include "resource.h"

struct vmci_queue;
struct vmcix_qpair;

/*
 * alloc gets @qp with sizes, peer and flags set (this endpoint's view:
 * produce is what it sends), fills in the handle, the queues and
 * backend_data, and returns VMCI_SUCCESS or a VMCI error with nothing
 * left behind. detach undoes a successful alloc; the queues may
 * stay alive for the peer but @qp must not touch them afterwards. Both
 * run in process context and may sleep.
 *
 * lock_queues and unlock_queues are optional: a backend whose queue
 * memory can go away under a live endpoint (the broker's, when the VMM
 * unmaps or leaves) brackets every data-path access with them. lock
 * returns VMCI_SUCCESS with the queues usable until unlock, or an error
 * with nothing held. They may sleep, unless @nowait: lock then returns
 * VMCI_ERROR_WOULD_BLOCK instead of waiting.
 */
struct vmci_qpair_backend {
	int (*alloc)(struct vmcix_qpair *qp, struct vmci_handle handle, u32 peer,
		     u32 flags, u32 priv_flags);
	void (*detach)(struct vmcix_qpair *qp);
	int (*lock_queues)(const struct vmcix_qpair *qp, bool nowait);
	void (*unlock_queues)(const struct vmcix_qpair *qp);
};

/*
 * One endpoint. Everything but the two mutexes is set by alloc and then
 * read-only until detach, which the client must not run concurrently
 * with any other call on the same object. @owner is whom a backend
 * charges (see vmcix_qp_owner); it points at the caller's copy and is
 * valid only while alloc runs, so a backend keeps what it needs.
 *
 * produce_lock serialises enqueues, consume_lock dequeues and peeks: the
 * ring code allows one of each at a time, and the two directions run in
 * parallel.
 */
struct vmcix_qpair {
	const struct vmci_qpair_backend *backend;
	void *backend_data;		/* the backend's entry, kept alive by @qp */
	struct vmci_handle handle;
	struct vmci_queue *produce_q;
	struct vmci_queue *consume_q;
	u64 produce_size;
	u64 consume_size;
	u32 peer;
	u32 flags;
	bool peer_told;			/* set by vmcix_qpair_peer_told() */
	const struct vmcix_qp_owner *owner;	/* during alloc only, see above */
	struct mutex produce_lock;	/* see above */
	struct mutex consume_lock;	/* see above */
};

/*
 * Every pair this kernel holds as a client is registered under one
 * resource type (VMCI_RESOURCE_TYPE_QPAIR_GUEST), so its handle is unique
 * whichever backend made it; @backend says whose entry embeds this.
 */
struct vmci_qpair_resource {
	struct vmci_resource res;
	const struct vmci_qpair_backend *backend;
};

extern const struct vmci_qpair_backend vmci_qpair_local_backend;
extern const struct vmci_qpair_backend vmci_qpair_broker_backend;

/*
 * Both ends of a new local pair (see vmcix_qpair_alloc_local_pair()):
 * @creator as the local backend's alloc would fill it, charged to its
 * owner, and @attacher as the attach to the new handle would. @cid is
 * this kernel's context ID, which the caller has already looked up.
 */
int vmci_qpair_local_alloc_both(struct vmcix_qpair *creator, struct vmcix_qpair *attacher,
				u32 cid);

/*
 * The backend for pairs without VMCI_QPFLAG_LOCAL, or NULL. The backend's
 * code must stay loaded (it is part of vmci.ko) and its alloc must fail
 * cleanly once its device is gone: clearing it does not wait for allocs
 * already running.
 */
void vmci_qpair_set_remote_backend(const struct vmci_qpair_backend *backend);

/* Module exit: what the local pairs' budget still holds goes. */
void vmci_qpair_local_exit(void);

/* Totals for debugfs stats: live local pairs, and their queue bytes. */
u32 vmci_qpair_local_count(void);
u64 vmci_qpair_local_memory(void);
/*
 * What the local budget has charged (page-rounded, released when the
 * queues are freed), and what @uid holds of it.
 */
u64 vmci_qpair_local_charged(void);
u64 vmci_qpair_local_user_memory(kuid_t uid);

/*
 * For the KUnit suite: the queue-memory budget shared by all local pairs
 * (VMCI_MAX_GUEST_QP_MEMORY unless changed). Returns the old value.
 */
u64 vmci_qpair_local_set_budget(u64 bytes);

#endif /* VMCI_QPAIR_H */
