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
