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

#endif /* VMCI_COMPAT_H */
