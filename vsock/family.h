/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Which address-family number vSockets has, and for how long.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMSOCK_FAMILY_H
#define VMSOCK_FAMILY_H

#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/socket.h>
#include <linux/types.h>
#include <linux/workqueue.h>

/* af_value when nothing is registered; af= when the number is ours to pick. */
#define VMSOCK_AF_NONE	(-1)
#define VMSOCK_AF_AUTO	(-1)

struct vmsock_af_policy {
	int pinned;		/* the only number to try, or VMSOCK_AF_AUTO */
	bool prefer_vsock;	/* AF_VSOCK first, and registered at load */
};

/*
 * Registers @af for us: 0 when it is ours, -EEXIST when another protocol
 * has it (the choice moves on), any other error ends the choice.
 */
typedef int (*vmsock_af_claim_fn)(void *ctx, int af);

int vmsock_af_choose(const struct vmsock_af_policy *policy,
		     vmsock_af_claim_fn claim, void *ctx);
bool vmsock_af_registers_at_load(const struct vmsock_af_policy *policy);

struct vmsock_family_ops {
	vmsock_af_claim_fn claim;
	/* Undoes a successful claim; may sleep. */
	void (*release)(void *ctx, int af);
};

/*
 * The number is registered while the module, an fd that asked for it or
 * a socket holds it, and for @linger jiffies after the last of them.
 * Every registration and unregistration happens under @lock. Sockets
 * drop their hold from the sk destructor, which may run in atomic
 * context: that drop is a bare atomic decrement, and the one that reaches
 * zero queues @release_work to reconsider under @lock, where a holder
 * that arrived meanwhile keeps the number.
 */
struct vmsock_family {
	struct mutex lock;	/* guards @af and every hold but a socket's drop */
	const struct vmsock_family_ops *ops;
	void *ctx;
	struct vmsock_af_policy policy;
	int af;			/* or VMSOCK_AF_NONE; written under @lock */
	bool held_by_module;
	unsigned int fd_holds;
	atomic_t socket_holds;	/* raised from 0 only under @lock, registered */
	/*
	 * Releases the number once nothing has held it for @linger jiffies
	 * (0: as soon as nothing holds it). @last_put is when the last hold
	 * went; the release work rearms itself while it is more recent than
	 * @linger. @linger is set before the first hold and never changes.
	 */
	struct delayed_work release_work;
	unsigned long linger;
	unsigned long last_put;
	/*
	 * Numbers sock_register() found taken are not probed again for
	 * @recheck_interval jiffies: it logs "Registered" even when it
	 * fails, and /dev/vsock lets anyone ask.
	 */
	DECLARE_BITMAP(in_use, AF_MAX);
	unsigned long in_use_since[AF_MAX];
	unsigned long recheck_interval;
};

void vmsock_family_init(struct vmsock_family *fam,
			const struct vmsock_family_ops *ops, void *ctx,
			const struct vmsock_af_policy *policy);
int vmsock_family_hold_for_module(struct vmsock_family *fam, int af);
int vmsock_family_hold_fd(struct vmsock_family *fam, void **fd_hold);
void vmsock_family_put_fd(struct vmsock_family *fam, void **fd_hold);
int vmsock_family_hold_socket(struct vmsock_family *fam);
void vmsock_family_put_socket(struct vmsock_family *fam);
int vmsock_family_current(const struct vmsock_family *fam);
void vmsock_family_shutdown(struct vmsock_family *fam);

#endif /* VMSOCK_FAMILY_H */
