# SPDX-License-Identifier: GPL-2.0
# Flags shared by vmci/Kbuild and vsock/Kbuild.
#
# VMCI_KUNIT=y builds the KUnit suites into the modules (test kernels only).
# VMCI_GCOV=y instruments the modules for gcov (kernels with GCOV_KERNEL).
# VMCI_KCOV=y instruments them for KCOV, the fuzzer's coverage (kernels
# with CONFIG_KCOV; the debug kernel instruments nothing else), and lets
# their work items report to KCOV remote coverage (include/vmci/fuzz_kcov.h).
# VMCI_FUZZ_PLANT=y plants the fuzzer's self-test bug (vmci/fuzz_plant.h).
# VMCI_PLANT_PIN_LEAK=y plants the nested run's pin leak (vmci/pin_leak_plant.h).

include $(src)/../include/compat/probes.mk

ccflags-y += -I$(src)/../include $(COMPAT_FLAGS) \
	-include $(src)/../include/compat/compat.h \
	-idirafter $(src)/../include/compat/fallback

GCOV_PROFILE := $(VMCI_GCOV)
KCOV_INSTRUMENT := $(VMCI_KCOV)
ccflags-$(VMCI_KCOV) += -DVMCI_KCOV_REMOTE
ccflags-$(VMCI_FUZZ_PLANT) += -DVMCI_FUZZ_PLANT
ccflags-$(VMCI_PLANT_PIN_LEAK) += -DVMCI_PLANT_PIN_LEAK
