# SPDX-License-Identifier: GPL-2.0
# Flags shared by vmci/Kbuild and vsock/Kbuild.
#
# VMCI_KUNIT=y builds the KUnit suites into the modules (test kernels only).
# VMCI_GCOV=y instruments the modules for gcov (kernels with GCOV_KERNEL).

include $(src)/../include/compat/probes.mk

ccflags-y += -I$(src)/../include $(COMPAT_FLAGS) \
	-include $(src)/../include/compat/compat.h \
	-idirafter $(src)/../include/compat/fallback

GCOV_PROFILE := $(VMCI_GCOV)
