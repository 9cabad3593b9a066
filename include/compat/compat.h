/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The only place that knows kernel versions differ. Force-included into
 * every object; the COMPAT_* defines come from include/compat/probes.mk,
 * so code elsewhere reads as if written for the newest kernel.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_COMPAT_H
#define VMCI_COMPAT_H

/*
 * vmci.ko exports into the VMCIX namespace (vmci/Kbuild sets it as the
 * default namespace) so its symbols never meet vmw_vmci's; importers say so.
 */
#ifdef COMPAT_NS_IS_TOKEN
#define VMCIX_IMPORT_NS()	MODULE_IMPORT_NS(VMCIX)
#else
#define VMCIX_IMPORT_NS()	MODULE_IMPORT_NS("VMCIX")
#endif

/* Lazily expanded, so it may name a constant <linux/pci.h> defines later. */
#ifndef COMPAT_HAVE_PCI_IRQ_INTX
#define PCI_IRQ_INTX	PCI_IRQ_LEGACY
#endif

/*
 * proto_ops.accept: 6.10 bundled (flags, kern) into struct
 * proto_accept_arg. COMPAT_ACCEPT_FN(name) is the signature; the body
 * reads the two values through COMPAT_ACCEPT_FLAGS and COMPAT_ACCEPT_KERN.
 */
#ifdef COMPAT_ACCEPT_ARG
#define COMPAT_ACCEPT_FN(name) \
	int name(struct socket *sock, struct socket *newsock, struct proto_accept_arg *compat_arg)
#define COMPAT_ACCEPT_FLAGS	(compat_arg->flags)
#define COMPAT_ACCEPT_KERN	(compat_arg->kern)
#else
#define COMPAT_ACCEPT_FN(name) \
	int name(struct socket *sock, struct socket *newsock, int compat_flags, bool compat_kern)
#define COMPAT_ACCEPT_FLAGS	(compat_flags)
#define COMPAT_ACCEPT_KERN	(compat_kern)
#endif

/*
 * Before 5.11 there is no kmap_local_page(). Every kernel we build for is
 * amd64 without highmem, where a page is always mapped: its address is
 * the mapping, and a user copy through it may fault and sleep as it must
 * (kmap_atomic() would forbid both).
 */
#ifndef COMPAT_HAVE_KMAP_LOCAL
#ifdef CONFIG_HIGHMEM
#error "kmap_local_page() fallback needs a kernel without highmem"
#endif
#define kmap_local_page(page)	page_address(page)
#define kunmap_local(addr)	((void)(addr))
#endif

/*
 * Before 7.0 proto_ops.bind/connect took a struct sockaddr; ours are
 * written with the newer name for the same bytes.
 */
#ifndef COMPAT_HAVE_SOCKADDR_UNSIZED
#define sockaddr_unsized	sockaddr
#endif

/* Before 7.x the same owner came from sock_i_uid(). */
#ifndef COMPAT_HAVE_SK_UID
#define sk_uid(sk)	sock_i_uid(sk)
#endif

/* Before 6.1 the same cmsgs came from sock_recv_ts_and_drops(). */
#ifndef COMPAT_HAVE_SOCK_RECV_CMSGS
#define sock_recv_cmsgs(msg, sk, skb)	sock_recv_ts_and_drops(msg, sk, skb)
#endif

/*
 * 6.9 added sock_diag_handler.owner for sock_diag to pin the module with;
 * before, netlink_dump_start() pinned the module that called it.
 * COMPAT_SOCK_DIAG_OWNER goes first in the handler's initializer.
 */
#ifdef COMPAT_HAVE_SOCK_DIAG_OWNER
#define COMPAT_SOCK_DIAG_OWNER	.owner = THIS_MODULE,
#else
#define COMPAT_SOCK_DIAG_OWNER
#endif

/* Before 6.17 a workqueue without WQ_UNBOUND was per-CPU anyway. */
#ifndef COMPAT_HAVE_WQ_PERCPU
#define WQ_PERCPU	0
#endif

/* 5.14 added lockdep_assert_not_held(); before it the check is left out. */
#ifndef COMPAT_HAVE_LOCKDEP_ASSERT_NOT_HELD
#define lockdep_assert_not_held(l)	((void)(l))
#endif

/* Before 6.1 an iov_iter's direction was READ (into it) or WRITE. */
#ifndef COMPAT_HAVE_ITER_SOURCE
#define ITER_SOURCE	WRITE
#define ITER_DEST	READ
#endif

/* Before 5.17; every Debian kernel has CONFIG_PM_SLEEP. */
#ifndef COMPAT_HAVE_SIMPLE_DEV_PM_OPS
#define DEFINE_SIMPLE_DEV_PM_OPS(name, suspend_fn, resume_fn) \
	const struct dev_pm_ops name = { SET_SYSTEM_SLEEP_PM_OPS(suspend_fn, resume_fn) }
#define pm_sleep_ptr(ptr)	(IS_ENABLED(CONFIG_PM_SLEEP) ? (ptr) : NULL)
#endif

/*
 * The fallbacks below need kernel headers. Included here, ahead of a
 * source file's own pr_fmt, they would fix printk's default prefix: define
 * pr_fmt first exactly as every file of ours does, so that a file's own
 * definition is the same one again.
 */
#if !defined(COMPAT_HAVE_SKB_RECV_DATAGRAM_3) || !defined(COMPAT_HAVE_SOCK_TIMEVAL_HELPERS) || \
	!defined(COMPAT_HAVE_SK_ERROR_REPORT) || defined(COMPAT_ACTIVE_MEMCG_UNEXPORTED)
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt
#endif

/*
 * Before 5.19 skb_recv_datagram() took "noblock" besides the flags that
 * already say MSG_DONTWAIT. The prototype is read first, so the macro
 * below only rewrites our calls.
 */
#ifndef COMPAT_HAVE_SKB_RECV_DATAGRAM_3
#include <linux/skbuff.h>
#include <linux/socket.h>
static inline struct sk_buff *
compat_skb_recv_datagram(struct sock *sk, unsigned int flags, int *err)
{
	return skb_recv_datagram(sk, flags, (flags & MSG_DONTWAIT) != 0, err);
}

#define skb_recv_datagram(sk, flags, err)	compat_skb_recv_datagram(sk, flags, err)
#endif

/*
 * 5.10's set_active_memcg() needs a per-CPU variable it does not export
 * (only for interrupt context). Our callers run in process context, where
 * the scope lives in the task.
 */
#if defined(COMPAT_ACTIVE_MEMCG_UNEXPORTED) && defined(CONFIG_MEMCG)
#include <linux/sched.h>
#include <linux/sched/mm.h>
static inline struct mem_cgroup *compat_set_active_memcg(struct mem_cgroup *memcg)
{
	struct mem_cgroup *old = current->active_memcg;

	WARN_ON_ONCE(in_interrupt());
	current->active_memcg = memcg;
	return old;
}

#define set_active_memcg(memcg)	compat_set_active_memcg(memcg)
#endif

/* Before 5.12 the callback had no wrapper. */
#ifndef COMPAT_HAVE_SK_ERROR_REPORT
#include <net/sock.h>
static inline void sk_error_report(struct sock *sk)
{
	sk->sk_error_report(sk);
}
#endif

/*
 * Before 6.0 the socket layer kept its timeval option helpers to itself.
 * These follow the same ABI: the old layout (native long fields, or
 * old_timeval32 for a 32-bit caller) for the _OLD option, the 64-bit
 * layout otherwise.
 */
#ifndef COMPAT_HAVE_SOCK_TIMEVAL_HELPERS
#include <linux/compat.h>
#include <linux/sockptr.h>
#include <net/sock.h>

static inline bool compat_timeval_is_32(bool old_timeval)
{
	return old_timeval && in_compat_syscall() && !COMPAT_USE_64BIT_TIME;
}

static inline int sock_copy_user_timeval(struct __kernel_sock_timeval *tv, sockptr_t optval,
					 int optlen, bool old_timeval)
{
	if (compat_timeval_is_32(old_timeval)) {
		struct old_timeval32 tv32;

		if (optlen < (int)sizeof(tv32))
			return -EINVAL;
		if (copy_from_sockptr(&tv32, optval, sizeof(tv32)))
			return -EFAULT;
		tv->tv_sec = tv32.tv_sec;
		tv->tv_usec = tv32.tv_usec;
	} else if (old_timeval) {
		struct __kernel_old_timeval old_tv;

		if (optlen < (int)sizeof(old_tv))
			return -EINVAL;
		if (copy_from_sockptr(&old_tv, optval, sizeof(old_tv)))
			return -EFAULT;
		tv->tv_sec = old_tv.tv_sec;
		tv->tv_usec = old_tv.tv_usec;
	} else {
		if (optlen < (int)sizeof(*tv))
			return -EINVAL;
		if (copy_from_sockptr(tv, optval, sizeof(*tv)))
			return -EFAULT;
	}
	return 0;
}

/* Writes @timeo into @optval (room for the largest layout); returns its size. */
static inline int sock_get_timeout(long timeo, void *optval, bool old_timeval)
{
	struct __kernel_sock_timeval tv = { 0, 0 };

	if (timeo != MAX_SCHEDULE_TIMEOUT) {
		tv.tv_sec = timeo / HZ;
		tv.tv_usec = ((timeo % HZ) * USEC_PER_SEC) / HZ;
	}
	if (compat_timeval_is_32(old_timeval)) {
		struct old_timeval32 tv32 = { tv.tv_sec, tv.tv_usec };

		memcpy(optval, &tv32, sizeof(tv32));
		return sizeof(tv32);
	}
	if (old_timeval) {
		struct __kernel_old_timeval old_tv = { tv.tv_sec, tv.tv_usec };

		memcpy(optval, &old_tv, sizeof(old_tv));
		return sizeof(old_tv);
	}
	memcpy(optval, &tv, sizeof(tv));
	return sizeof(tv);
}
#endif

/*
 * KUnit, for VMCI_KUNIT=y builds only (COMPAT_KUNIT_BUILD). Before 6.5 there
 * are no deferred actions: include/compat/kunit.c gives
 * kunit_add_action_or_reset() and kunit_release_action() their meaning
 * from older KUnit resources. Declared only here: <kunit/test.h> in this
 * force-included header would define pr_fmt before our files do.
 */
#if defined(COMPAT_KUNIT_BUILD) && !defined(COMPAT_HAVE_KUNIT_ACTIONS)
struct kunit;
typedef void (kunit_action_t)(void *);
int compat_kunit_add_action_or_reset(struct kunit *test, kunit_action_t *fn, void *data);
void compat_kunit_release_action(struct kunit *test, kunit_action_t *fn, void *data);
#define kunit_add_action_or_reset	compat_kunit_add_action_or_reset
#define kunit_release_action		compat_kunit_release_action
#endif

/* 6.2 added KUNIT_EXPECT_MEMEQ; memcmp() says as much, less readably. */
#if defined(COMPAT_KUNIT_BUILD) && !defined(COMPAT_HAVE_KUNIT_MEMEQ)
#define KUNIT_EXPECT_MEMEQ(test, left, right, size) \
	KUNIT_EXPECT_EQ(test, memcmp(left, right, size), 0)
#endif

/*
 * Before 6.10 a KUnit test runs in a kthread with no user address space to
 * map memory in: the cases that need one are skipped there.
 */
#if defined(COMPAT_KUNIT_BUILD) && !defined(COMPAT_HAVE_KUNIT_VM_MMAP)
#define kunit_vm_mmap(test, ...) \
	({ kunit_skip(test, "no user memory for KUnit tests before 6.10"); 0UL; })
#endif

#endif /* VMCI_COMPAT_H */
