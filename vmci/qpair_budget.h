/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Machine-wide budgets of queue-pair ring bytes, each with a share per
 * user, so that one user at its limit leaves room for everyone else.
 *
 * A pair is charged when it is created, to the owner its client named
 * (struct vmcix_qp_owner), and uncharged when it goes, from whichever
 * task lets it go: the charge record travels with the pair. Owners that
 * are privileged (CAP_NET_ADMIN, or the kernel itself) count only
 * against the whole budget; everyone else also against
 * qp_user_percent of it, per uid.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_QPAIR_BUDGET_H
#define VMCI_QPAIR_BUDGET_H

#include <linux/math.h>
#include <linux/mm.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/xarray.h>

struct vmcix_qp_owner;

/*
 * One mutex in qpair_budget.c protects @limit, @used and @users of every
 * budget; it nests inside the backends' own locks and takes none itself.
 * @users maps a uid (its value in the initial namespace) to that uid's
 * charged bytes, as an xarray value entry. A uid with nothing charged
 * has no entry, except the last one to drop to 0 (@idle_uid), kept at 0:
 * a user who opens and closes one connection at a time would otherwise
 * build the xarray's path to its index (up to three nodes) at every
 * connect and free it, a grace period later, at every close. So the map
 * holds the users with live pairs and at most one more.
 */
struct vmci_qp_budget {
	u64 limit;
	u64 used;
	struct xarray users;
	kuid_t idle_uid;
	bool has_idle;		/* @idle_uid's entry, at 0, is in @users */
};

/* The xarray's own lock is not used: the budget mutex covers it. */
#define VMCI_QP_BUDGET_INIT(bytes) {					\
	.limit = (bytes),						\
	.users = XARRAY_INIT(vmci_qp_budget_users, 0),			\
}

/* What one pair took; kept with the pair until it is uncharged. */
struct vmci_qp_charge {
	u64 bytes;
	kuid_t uid;
	bool per_user;		/* counted in @uid's share too */
};

/*
 * A pair's cost: its ring bytes, each queue rounded up to whole pages,
 * so that tiny pairs cannot hold many times the memory they are charged.
 * (The header pages are left out so that the largest pair still fits.)
 */
static inline u64 vmci_qp_charge_bytes(u64 produce_size, u64 consume_size)
{
	return round_up(produce_size, PAGE_SIZE) + round_up(consume_size, PAGE_SIZE);
}

/*
 * VMCI_SUCCESS with @c filled in, or VMCI_ERROR_NO_RESOURCES when the
 * budget or the owner's share has no room for @bytes (VMCI_ERROR_NO_MEM
 * when the per-user record cannot be made). Sleeps.
 */
int vmci_qp_budget_charge(struct vmci_qp_budget *b, const struct vmcix_qp_owner *owner,
			  u64 bytes, struct vmci_qp_charge *c);
/* Gives back what @c took; @c is empty afterwards. Sleeps. */
void vmci_qp_budget_uncharge(struct vmci_qp_budget *b, struct vmci_qp_charge *c);

/* Module exit, every pair gone: drops the idle entry, leaving @b empty. */
void vmci_qp_budget_drop_idle(struct vmci_qp_budget *b);

/* Snapshots for stats and tests. */
u64 vmci_qp_budget_used(struct vmci_qp_budget *b);
u64 vmci_qp_budget_user_used(struct vmci_qp_budget *b, kuid_t uid);
/* The most one unprivileged uid may hold of @limit bytes. */
u64 vmci_qp_user_share(u64 limit);
/* For KUnit: a new limit; returns the old one. */
u64 vmci_qp_budget_set_limit(struct vmci_qp_budget *b, u64 bytes);
/* For KUnit: a new qp_user_percent (1-100); returns the old one. */
unsigned int vmci_qp_set_user_percent(unsigned int percent);

#endif /* VMCI_QPAIR_BUDGET_H */
