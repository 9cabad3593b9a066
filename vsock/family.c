// SPDX-License-Identifier: GPL-2.0
/*
 * Choosing the vSockets address-family number and keeping it registered
 * exactly as long as someone uses it. Registration itself is injected
 * (struct vmsock_family_ops) so KUnit can drive all of this without
 * touching the kernel's family table.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/bitmap.h>
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/jiffies.h>
#include <linux/lockdep.h>
#include <linux/socket.h>

#include "family.h"

/*
 * Numbers below AF_MAX that no 6.1 or 6.12 kernel can ever register on
 * the machines VMware runs (x86-64, arm64), so taking one cannot break a
 * family whose module simply has not been loaded yet. Checked against
 * every sock_register() caller in 6.12 and the modules Debian ships for
 * 6.1 and 6.12. First the numbers that never had an implementation (and
 * have no SELinux socket class of their own, so policies treat us as a
 * plain "socket"), then families removed long ago, then the most recent
 * removal, then one that still exists but only on s390.
 */
static const int vmsock_af_unused[] = {
	AF_NETBEUI,	/* reserved, never implemented */
	AF_ASH,		/* reserved, never implemented */
	AF_SNA,		/* reserved, never implemented */
	AF_SECURITY,	/* "pseudo AF", never a socket family */
	AF_ECONET,	/* removed in 3.5 */
	AF_IPX,		/* removed in 4.18 */
	AF_IRDA,	/* removed in 4.17 */
	AF_DECnet,	/* removed in 6.1 */
	AF_WANPIPE,	/* gone from the tree, but an out-of-tree driver used it */
	AF_IUCV,	/* AFIUCV depends on S390 */
};

static bool vmsock_af_in_unused_list(int af)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vmsock_af_unused); i++)
		if (vmsock_af_unused[i] == af)
			return true;
	return false;
}

/* 1: registered, 0: in use by someone else, < 0: give up with that error. */
static int vmsock_af_try(vmsock_af_claim_fn claim, void *ctx, int af)
{
	int err = claim(ctx, af);

	if (!err)
		return 1;
	return err == -EEXIST ? 0 : err;
}

/*
 * Returns the number now registered, or -EAFNOSUPPORT when every candidate
 * is in use. AF_VSOCK is tried first when preferred and skipped otherwise,
 * so prefer_af_vsock=N leaves it for the in-tree family. The last resort
 * is the classic scan down from AF_MAX - 1; it stops above AF_UNSPEC,
 * which every sockaddr reads as "no family".
 */
int vmsock_af_choose(const struct vmsock_af_policy *policy,
		     vmsock_af_claim_fn claim, void *ctx)
{
	unsigned int i;
	int af, ret;

	if (policy->pinned != VMSOCK_AF_AUTO) {
		ret = vmsock_af_try(claim, ctx, policy->pinned);
		if (ret)
			return ret > 0 ? policy->pinned : ret;
		return -EAFNOSUPPORT;
	}

	if (policy->prefer_vsock) {
		ret = vmsock_af_try(claim, ctx, AF_VSOCK);
		if (ret)
			return ret > 0 ? AF_VSOCK : ret;
	}

	for (i = 0; i < ARRAY_SIZE(vmsock_af_unused); i++) {
		ret = vmsock_af_try(claim, ctx, vmsock_af_unused[i]);
		if (ret)
			return ret > 0 ? vmsock_af_unused[i] : ret;
	}

	for (af = AF_MAX - 1; af > AF_UNSPEC; af--) {
		if (af == AF_VSOCK || vmsock_af_in_unused_list(af))
			continue;
		ret = vmsock_af_try(claim, ctx, af);
		if (ret)
			return ret > 0 ? af : ret;
	}
	return -EAFNOSUPPORT;
}

/*
 * Programs that use AF_VSOCK literally never ask /dev/vsock, so 40 is
 * taken at load when the policy would pick it anyway.
 */
bool vmsock_af_registers_at_load(const struct vmsock_af_policy *policy)
{
	return policy->prefer_vsock &&
	       (policy->pinned == VMSOCK_AF_AUTO || policy->pinned == AF_VSOCK);
}

/* Between tries on a number found in use; see struct vmsock_family. */
#define VMSOCK_AF_RECHECK_INTERVAL	(60 * HZ)

/* The injected claim, behind the memory of numbers found in use. */
static int vmsock_family_claim(void *ctx, int af)
{
	struct vmsock_family *fam = ctx;
	int err;

	lockdep_assert_held(&fam->lock);
	if (af <= AF_UNSPEC || af >= AF_MAX)
		return -EINVAL;
	if (test_bit(af, fam->in_use) &&
	    time_before(jiffies, fam->in_use_since[af] + fam->recheck_interval))
		return -EEXIST;

	err = fam->ops->claim(fam->ctx, af);
	if (err == -EEXIST) {
		__set_bit(af, fam->in_use);
		fam->in_use_since[af] = jiffies;
	} else if (!err) {
		__clear_bit(af, fam->in_use);
	}
	return err;
}

static int vmsock_family_choose(struct vmsock_family *fam,
				const struct vmsock_af_policy *policy)
{
	return vmsock_af_choose(policy, vmsock_family_claim, fam);
}

static bool vmsock_family_unused(struct vmsock_family *fam)
{
	lockdep_assert_held(&fam->lock);

	return fam->af != VMSOCK_AF_NONE && !fam->held_by_module &&
	       !fam->fd_holds && !atomic_read(&fam->socket_holds);
}

static void vmsock_family_release_now(struct vmsock_family *fam)
{
	fam->ops->release(fam->ctx, fam->af);
	WRITE_ONCE(fam->af, VMSOCK_AF_NONE);
}

/*
 * Every registration and release logs (sock_register() and
 * sock_unregister() print a line each, and so do we), and /dev/vsock lets
 * anyone open, ask and close in a loop. So an unused number lingers for
 * @linger jiffies after the last hold went: a loop reuses it instead of
 * filling the log, and at most one registration per @linger can log.
 */
static void vmsock_family_last_hold_gone(struct vmsock_family *fam)
{
	lockdep_assert_held(&fam->lock);

	if (!vmsock_family_unused(fam))
		return;
	if (!fam->linger) {
		vmsock_family_release_now(fam);
		return;
	}
	WRITE_ONCE(fam->last_put, jiffies);
	mod_delayed_work(system_wq, &fam->release_work, fam->linger);
}

static void vmsock_family_release_work(struct work_struct *work)
{
	struct vmsock_family *fam =
		container_of(to_delayed_work(work), struct vmsock_family, release_work);
	unsigned long expires;

	/* When someone holds the number again, their last put rearms us. */
	mutex_lock(&fam->lock);
	if (vmsock_family_unused(fam)) {
		expires = READ_ONCE(fam->last_put) + fam->linger;
		if (fam->linger && time_before(jiffies, expires))
			mod_delayed_work(system_wq, &fam->release_work, expires - jiffies);
		else
			vmsock_family_release_now(fam);
	}
	mutex_unlock(&fam->lock);
}

void vmsock_family_init(struct vmsock_family *fam,
			const struct vmsock_family_ops *ops, void *ctx,
			const struct vmsock_af_policy *policy)
{
	mutex_init(&fam->lock);
	fam->ops = ops;
	fam->ctx = ctx;
	fam->policy = *policy;
	WRITE_ONCE(fam->af, VMSOCK_AF_NONE);
	fam->held_by_module = false;
	fam->fd_holds = 0;
	atomic_set(&fam->socket_holds, 0);
	INIT_DELAYED_WORK(&fam->release_work, vmsock_family_release_work);
	fam->linger = 0;
	fam->last_put = jiffies;
	bitmap_zero(fam->in_use, AF_MAX);
	fam->recheck_interval = VMSOCK_AF_RECHECK_INTERVAL;
}

/* Registers @af now and keeps it until vmsock_family_shutdown(). */
int vmsock_family_hold_for_module(struct vmsock_family *fam, int af)
{
	const struct vmsock_af_policy only = { .pinned = af };
	int ret;

	mutex_lock(&fam->lock);
	if (fam->af != VMSOCK_AF_NONE) {
		ret = fam->af == af ? 0 : -EBUSY;
	} else {
		ret = vmsock_family_choose(fam, &only);
		if (ret >= 0)
			WRITE_ONCE(fam->af, ret);
	}
	if (ret >= 0) {
		fam->held_by_module = true;
		ret = 0;
	}
	mutex_unlock(&fam->lock);
	return ret;
}

/*
 * The number for one /dev/vsock fd, registering it if nobody holds it.
 * *@fd_hold records that the fd holds it, so an fd that asks again gets
 * the same number without a second hold; it must start out NULL.
 */
int vmsock_family_hold_fd(struct vmsock_family *fam, void **fd_hold)
{
	int af;

	mutex_lock(&fam->lock);
	af = fam->af;
	if (af == VMSOCK_AF_NONE) {
		af = vmsock_family_choose(fam, &fam->policy);
		if (af >= 0)
			WRITE_ONCE(fam->af, af);
	}
	if (af >= 0 && !*fd_hold) {
		*fd_hold = fam;
		fam->fd_holds++;
	}
	mutex_unlock(&fam->lock);
	return af;
}

void vmsock_family_put_fd(struct vmsock_family *fam, void **fd_hold)
{
	mutex_lock(&fam->lock);
	if (*fd_hold) {
		*fd_hold = NULL;
		if (!WARN_ON_ONCE(!fam->fd_holds))
			fam->fd_holds--;
		vmsock_family_last_hold_gone(fam);
	}
	mutex_unlock(&fam->lock);
}

/*
 * A new socket's number. Fails if the number was released after socket()
 * looked the family up: the caller then sees what a slightly later
 * socket() would have seen.
 */
int vmsock_family_hold_socket(struct vmsock_family *fam)
{
	int af;

	/*
	 * Beside another socket no lock is needed: while any socket holds
	 * the number it stays registered (a release needs socket_holds at 0
	 * under @lock), so one more hold can be added to the others'.
	 */
	if (atomic_inc_not_zero(&fam->socket_holds))
		return READ_ONCE(fam->af);
	mutex_lock(&fam->lock);
	af = fam->af;
	if (af == VMSOCK_AF_NONE)
		af = -EAFNOSUPPORT;
	else
		atomic_inc(&fam->socket_holds);
	mutex_unlock(&fam->lock);
	return af;
}

/*
 * Any context: unregistering sleeps, so the last drop defers it, by the
 * linger time or at once.
 */
void vmsock_family_put_socket(struct vmsock_family *fam)
{
	int left = atomic_dec_return(&fam->socket_holds);

	WARN_ON_ONCE(left < 0);
	if (left)
		return;
	WRITE_ONCE(fam->last_put, jiffies);
	mod_delayed_work(system_wq, &fam->release_work, fam->linger);
}

/* The registered number or VMSOCK_AF_NONE, without waiting for the lock. */
int vmsock_family_current(const struct vmsock_family *fam)
{
	return READ_ONCE(fam->af);
}

/*
 * Module exit: fds and sockets pin the module, so only the module's own
 * hold can be left, but the number goes whatever holds it.
 */
void vmsock_family_shutdown(struct vmsock_family *fam)
{
	cancel_delayed_work_sync(&fam->release_work);

	mutex_lock(&fam->lock);
	WARN_ON_ONCE(fam->fd_holds || atomic_read(&fam->socket_holds));
	if (fam->af != VMSOCK_AF_NONE) {
		fam->ops->release(fam->ctx, fam->af);
		WRITE_ONCE(fam->af, VMSOCK_AF_NONE);
	}
	fam->held_by_module = false;
	mutex_unlock(&fam->lock);
	mutex_destroy(&fam->lock);
}
