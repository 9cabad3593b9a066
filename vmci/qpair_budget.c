// SPDX-License-Identifier: GPL-2.0
/*
 * Queue-pair budgets with a share per user; see qpair_budget.h.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/math64.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/xarray.h>
#include <vmci/vmci_abi.h>
#include <vmci/vmcix.h>

#include "qpair_budget.h"

/*
 * A quarter: three other users (or root) still find three quarters of
 * every budget free however hard one user pushes. Read once per charge.
 */
#define VMCI_QP_USER_PERCENT_DEFAULT	25
static unsigned int qp_user_percent = VMCI_QP_USER_PERCENT_DEFAULT;

static int qp_user_percent_set(const char *val, const struct kernel_param *kp)
{
	unsigned int pct;

	if (kstrtouint(val, 0, &pct) || !pct || pct > 100) {
		pr_err("qp_user_percent=%s: want 1 to 100\n", val);
		return -EINVAL;
	}
	WRITE_ONCE(qp_user_percent, pct);
	return 0;
}

static const struct kernel_param_ops qp_user_percent_ops = {
	.set = qp_user_percent_set,
	.get = param_get_uint,
};

module_param_cb(qp_user_percent, &qp_user_percent_ops, &qp_user_percent, 0644);
MODULE_PARM_DESC(qp_user_percent,
		 "Percent of each queue-pair budget one unprivileged user may hold (1-100, default 25)");

u64 vmci_qp_user_share(u64 limit)
{
	return div_u64(limit * READ_ONCE(qp_user_percent), 100);
}

unsigned int vmci_qp_set_user_percent(unsigned int percent)
{
	return xchg(&qp_user_percent, percent);
}

/* Every budget's fields; see struct vmci_qp_budget. */
static DEFINE_MUTEX(budget_lock);

static unsigned long uid_index(kuid_t uid)
{
	return __kuid_val(uid);
}

/* Caller holds budget_lock. */
static u64 user_used_locked(struct vmci_qp_budget *b, kuid_t uid)
{
	void *entry = xa_load(&b->users, uid_index(uid));

	return entry ? xa_to_value(entry) : 0;
}

/* Caller holds budget_lock. Erases the idle entry if its uid is still at 0. */
static void drop_idle_locked(struct vmci_qp_budget *b)
{
	if (b->has_idle && !user_used_locked(b, b->idle_uid))
		xa_erase(&b->users, uid_index(b->idle_uid));
	b->has_idle = false;
}

/*
 * Caller holds budget_lock. Stores @bytes for @uid. A uid that drops to 0
 * keeps its entry, at 0, as the idle one (see struct vmci_qp_budget), and
 * the entry idle until then goes, unless its uid has pairs again.
 * Overwriting an entry never allocates, so only a new entry can fail.
 */
static int user_store_locked(struct vmci_qp_budget *b, kuid_t uid, u64 bytes)
{
	if (bytes)
		return xa_err(xa_store(&b->users, uid_index(uid), xa_mk_value(bytes), GFP_KERNEL));
	if (!b->has_idle || !uid_eq(b->idle_uid, uid))
		drop_idle_locked(b);
	xa_store(&b->users, uid_index(uid), xa_mk_value(0), GFP_KERNEL);
	b->idle_uid = uid;
	b->has_idle = true;
	return 0;
}

int vmci_qp_budget_charge(struct vmci_qp_budget *b, const struct vmcix_qp_owner *owner,
			  u64 bytes, struct vmci_qp_charge *c)
{
	u64 mine = 0;
	int result = VMCI_ERROR_NO_RESOURCES;

	memset(c, 0, sizeof(*c));
	mutex_lock(&budget_lock);
	/* Written so that no sum is formed that could wrap. */
	if (b->used > b->limit || bytes > b->limit - b->used)
		goto out;
	if (!owner->privileged) {
		u64 share = vmci_qp_user_share(b->limit);

		mine = user_used_locked(b, owner->uid);
		if (mine > share || bytes > share - mine)
			goto out;
		if (user_store_locked(b, owner->uid, mine + bytes)) {
			result = VMCI_ERROR_NO_MEM;
			goto out;
		}
		c->per_user = true;
	}
	b->used += bytes;
	c->bytes = bytes;
	c->uid = owner->uid;
	result = VMCI_SUCCESS;
out:
	mutex_unlock(&budget_lock);
	return result;
}

void vmci_qp_budget_uncharge(struct vmci_qp_budget *b, struct vmci_qp_charge *c)
{
	mutex_lock(&budget_lock);
	b->used -= c->bytes;
	/* Lowering a value never allocates, and erasing cannot fail. */
	if (c->per_user)
		user_store_locked(b, c->uid, user_used_locked(b, c->uid) - c->bytes);
	mutex_unlock(&budget_lock);
	memset(c, 0, sizeof(*c));
}

void vmci_qp_budget_drop_idle(struct vmci_qp_budget *b)
{
	mutex_lock(&budget_lock);
	drop_idle_locked(b);
	mutex_unlock(&budget_lock);
}

u64 vmci_qp_budget_used(struct vmci_qp_budget *b)
{
	u64 n;

	mutex_lock(&budget_lock);
	n = b->used;
	mutex_unlock(&budget_lock);
	return n;
}

u64 vmci_qp_budget_user_used(struct vmci_qp_budget *b, kuid_t uid)
{
	u64 n;

	mutex_lock(&budget_lock);
	n = user_used_locked(b, uid);
	mutex_unlock(&budget_lock);
	return n;
}

u64 vmci_qp_budget_set_limit(struct vmci_qp_budget *b, u64 bytes)
{
	u64 old;

	mutex_lock(&budget_lock);
	old = b->limit;
	b->limit = bytes;
	mutex_unlock(&budget_lock);
	return old;
}
