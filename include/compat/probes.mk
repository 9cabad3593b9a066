# SPDX-License-Identifier: GPL-2.0
#
# Kernel feature probes. Each probe compiles a tiny snippet against the
# target kernel with its own flags; success adds a -D define that
# include/compat/compat.h turns into the one spelling our sources use.
# Included by vmci/Kbuild and vsock/Kbuild; nothing else tests versions.

compat_probe_cc = $(CC) $(KBUILD_CPPFLAGS) $(NOSTDINC_FLAGS) $(LINUXINCLUDE) \
	$(KBUILD_CFLAGS) -DKBUILD_MODNAME='"compat_probe"' \
	-DKBUILD_BASENAME='"compat_probe"' -Werror -c -o /dev/null -x c -

# $(call compat_probe,DEFINE,C source): \n is a newline, $(H) a '#'.
H := \#
compat_probe = $(shell printf '%b' '$(2)' | $(compat_probe_cc) >/dev/null 2>&1 && echo -D$(1))

# Up to 6.12 symbol namespaces are bare tokens; 6.13 made them strings.
COMPAT_FLAGS := $(call compat_probe,COMPAT_NS_IS_TOKEN,\
	$(H)include <linux/module.h>\nMODULE_IMPORT_NS(COMPAT_PROBE_NS);\n)

# Exports made with plain EXPORT_SYMBOL_GPL() land in our namespace; 6.6
# made the default namespace a string well before the explicit form.
COMPAT_DEFAULT_NS_IS_TOKEN := $(call compat_probe,COMPAT_DEFAULT_NS_IS_TOKEN,\
	$(H)define DEFAULT_SYMBOL_NAMESPACE COMPAT_PROBE_NS\n\
	$(H)include <linux/export.h>\nint compat_probe_sym;\n\
	EXPORT_SYMBOL_GPL(compat_probe_sym);\n)
ifneq ($(COMPAT_DEFAULT_NS_IS_TOKEN),)
COMPAT_EXPORT_NS := -DDEFAULT_SYMBOL_NAMESPACE=VMCIX
else
COMPAT_EXPORT_NS := -DDEFAULT_SYMBOL_NAMESPACE='"VMCIX"'
endif

# 6.8 renamed PCI_IRQ_LEGACY to PCI_IRQ_INTX (the old name went in 6.10).
COMPAT_FLAGS += $(call compat_probe,COMPAT_HAVE_PCI_IRQ_INTX,\
	$(H)include <linux/pci.h>\nint compat_probe_flag = PCI_IRQ_INTX;\n)

# 6.10 passes proto_ops.accept a struct proto_accept_arg instead of
# (flags, kern).
COMPAT_FLAGS += $(call compat_probe,COMPAT_ACCEPT_ARG,\
	$(H)include <net/sock.h>\nint f(struct proto_accept_arg *a);\n\
	int f(struct proto_accept_arg *a) { return a->flags + a->kern; }\n)

# 5.11 added kmap_local_page(); before, amd64 (no highmem) maps every page.
COMPAT_FLAGS += $(call compat_probe,COMPAT_HAVE_KMAP_LOCAL,\
	$(H)include <linux/highmem.h>\nvoid *f(struct page *p);\n\
	void *f(struct page *p) { return kmap_local_page(p); }\n)

# 6.1 named iov_iter directions ITER_SOURCE/ITER_DEST (were WRITE/READ).
COMPAT_FLAGS += $(call compat_probe,COMPAT_HAVE_ITER_SOURCE,\
	$(H)include <linux/uio.h>\nint compat_probe_dir = ITER_SOURCE + ITER_DEST;\n)

# 5.17 added DEFINE_SIMPLE_DEV_PM_OPS() and pm_sleep_ptr().
COMPAT_FLAGS += $(call compat_probe,COMPAT_HAVE_SIMPLE_DEV_PM_OPS,\
	$(H)include <linux/pm.h>\nstatic int s(struct device *d) { return 0; }\n\
	DEFINE_SIMPLE_DEV_PM_OPS(compat_probe_pm, s, s);\n\
	const void *compat_probe_ptr = pm_sleep_ptr(&compat_probe_pm);\n)

# 5.14 added lockdep_assert_not_held().
COMPAT_FLAGS += $(call compat_probe,COMPAT_HAVE_LOCKDEP_ASSERT_NOT_HELD,\
	$(H)include <linux/mutex.h>\n$(H)include <linux/lockdep.h>\n\
	void f(struct mutex *m);\nvoid f(struct mutex *m) { lockdep_assert_not_held(m); }\n)

# 5.19 dropped skb_recv_datagram()'s noblock argument (flags carry it).
COMPAT_FLAGS += $(call compat_probe,COMPAT_HAVE_SKB_RECV_DATAGRAM_3,\
	$(H)include <linux/skbuff.h>\nstruct sk_buff *f(struct sock *sk);\n\
	struct sk_buff *f(struct sock *sk) { int e; return skb_recv_datagram(sk, 0, &e); }\n)

# 5.12 added sk_error_report().
COMPAT_FLAGS += $(call compat_probe,COMPAT_HAVE_SK_ERROR_REPORT,\
	$(H)include <net/sock.h>\nvoid f(struct sock *sk);\nvoid f(struct sock *sk) { sk_error_report(sk); }\n)

# 5.14 (sock_get_timeout) and 6.0 (sock_copy_user_timeval) made the socket
# layer's timeval option helpers available to modules.
COMPAT_FLAGS += $(call compat_probe,COMPAT_HAVE_SOCK_TIMEVAL_HELPERS,\
	$(H)include <net/sock.h>\nint f(struct __kernel_sock_timeval *tv, sockptr_t p);\n\
	int f(struct __kernel_sock_timeval *tv, sockptr_t p) {\n\
	return sock_copy_user_timeval(tv, p, 16, false) + sock_get_timeout(1, tv, false); }\n)

# 6.17 added WQ_PERCPU; 7.x warns when a workqueue names neither it nor
# WQ_UNBOUND. Before, per-CPU was what no flag meant.
COMPAT_FLAGS += $(call compat_probe,COMPAT_HAVE_WQ_PERCPU,\
	$(H)include <linux/workqueue.h>\nint compat_probe_wq = WQ_PERCPU;\n)

# 7.0 passes proto_ops.bind/connect a struct sockaddr_unsized.
COMPAT_FLAGS += $(call compat_probe,COMPAT_HAVE_SOCKADDR_UNSIZED,\
	$(H)include <linux/socket.h>\nint compat_probe_len = sizeof(struct sockaddr_unsized);\n)

# 5.10's set_active_memcg() writes the per-CPU int_active_memcg, which only
# 5.11 exported: a module using it would not load. Not a compile question,
# so the kernel's own list of exports answers it.
ifneq ($(shell grep -qw int_active_memcg $(srctree)/include/linux/sched/mm.h 2>/dev/null && \
	! grep -qw int_active_memcg $(objtree)/Module.symvers 2>/dev/null && echo y),)
COMPAT_FLAGS += -DCOMPAT_ACTIVE_MEMCG_UNEXPORTED
endif

# 7.x reads a socket's owner with sk_uid(); before, sock_i_uid() took the
# callback lock for it.
COMPAT_FLAGS += $(call compat_probe,COMPAT_HAVE_SK_UID,\
	$(H)include <net/sock.h>\nkuid_t f(const struct sock *sk);\n\
	kuid_t f(const struct sock *sk) { return sk_uid(sk); }\n)

# 6.1 renamed sock_recv_ts_and_drops() (SO_RXQ_OVFL, timestamps) to
# sock_recv_cmsgs().
COMPAT_FLAGS += $(call compat_probe,COMPAT_HAVE_SOCK_RECV_CMSGS,\
	$(H)include <net/sock.h>\nvoid f(struct msghdr *m, struct sock *sk, struct sk_buff *skb);\n\
	void f(struct msghdr *m, struct sock *sk, struct sk_buff *skb) { sock_recv_cmsgs(m, sk, skb); }\n)

# 6.9 added sock_diag_handler.owner (sock_diag pins the module itself).
COMPAT_FLAGS += $(call compat_probe,COMPAT_HAVE_SOCK_DIAG_OWNER,\
	$(H)include <linux/sock_diag.h>\n\
	const struct sock_diag_handler compat_probe_h = { .owner = NULL };\n)

# KUnit API our suites use that older kernels lack; probed only for
# VMCI_KUNIT=y builds (compat.h supplies the missing parts from older
# KUnit calls). 6.5 added deferred actions (kunit_add_action_or_reset,
# kunit_release_action), 6.2 KUNIT_EXPECT_MEMEQ, 6.10 kunit_vm_mmap.
ifeq ($(VMCI_KUNIT),y)
COMPAT_FLAGS += -DCOMPAT_KUNIT_BUILD
COMPAT_FLAGS += $(call compat_probe,COMPAT_HAVE_KUNIT_ACTIONS,\
	$(H)include <kunit/test.h>\nint f(struct kunit *t);\n\
	int f(struct kunit *t) { return kunit_add_action_or_reset(t, NULL, NULL); }\n)
COMPAT_FLAGS += $(call compat_probe,COMPAT_HAVE_KUNIT_MEMEQ,\
	$(H)include <kunit/test.h>\nvoid f(struct kunit *t);\n\
	void f(struct kunit *t) { KUNIT_EXPECT_MEMEQ(t, "a", "a", 1); }\n)
COMPAT_FLAGS += $(call compat_probe,COMPAT_HAVE_KUNIT_VM_MMAP,\
	$(H)include <kunit/test.h>\nunsigned long f(struct kunit *t);\n\
	unsigned long f(struct kunit *t) { return kunit_vm_mmap(t, NULL, 0, 1, 0, 0, 0); }\n)
endif
