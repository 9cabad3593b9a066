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

#endif /* VMCI_COMPAT_H */
