# SPDX-License-Identifier: GPL-2.0
#
# vmci.ko + vmsock.ko, out of tree.
#   make                      build against the running kernel
#   make KVER=6.1.0-56-amd64  build against /lib/modules/KVER/build
#   make KDIR=/path/to/tree   build against any prepared kernel tree
# Targets a developer uses daily: modules, check (sparse), style
# (checkpatch), test, demo, install, dkms-install.

PACKAGE   := vmci-vmsock
VERSION   := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' $(CURDIR)/dkms.conf)
KVER      ?= $(shell uname -r)
KDIR      ?= /lib/modules/$(KVER)/build
DESTDIR   ?=
# Where install-files puts configuration: /etc for a hand install, /lib for
# the Debian package (install-package-files).
MODPROBE_DIR ?= /etc/modprobe.d
UDEV_RULES_DIR ?= /etc/udev/rules.d
CHECKPATCH ?= $(firstword $(wildcard $(KDIR)/scripts/checkpatch.pl) \
		$(wildcard /var/cache/vmci-vmsock-tests/kernel-*/src/scripts/checkpatch.pl))

KBUILD = $(MAKE) -C $(KDIR) M=$(CURDIR)

KERNEL_SOURCES = $(filter-out %.mod.c,$(wildcard vmci/*.[ch] vsock/*.[ch] tests/kmod/*.[ch] \
	include/vmci/*.h include/compat/*.[ch]))
UAPI_HEADERS = include/uapi/vmci_sockets.h
CHECKPATCH_FLAGS = --strict --no-tree --terse --show-types \
	--ignore FILE_PATH_CHANGES,SPDX_LICENSE_TAG

.PHONY: all modules clean check style install install-files install-package-files \
	install-policy dkms-install dkms-remove deb test canary demo bench bench-guest \
	bench-perf bench-close bench-stall bench-budget bench-host-scale tools install-tools stress fuzz fuzz-plant fuzz-device \
	test-nested test-debug-kernels test-tcg

all: modules

# "+": $(MAKE) is hidden in $(KBUILD), so make 4.3 would not pass its
# jobserver on and "make -j" would build serially.
modules:
	+$(KBUILD) modules

clean:
	+$(KBUILD) clean
	rm -f tools/vmsockstat

# User-space tools; CFLAGS/CPPFLAGS/LDFLAGS as dpkg-buildflags sets them.
TOOLS_CFLAGS ?= -O2 -g
tools: tools/vmsockstat

tools/vmsockstat: tools/vmsockstat.c
	$(CC) $(TOOLS_CFLAGS) $(CFLAGS) $(CPPFLAGS) -Wall -Wextra $(LDFLAGS) -o $@ $<

install-tools: tools
	install -D -m 0755 tools/vmsockstat $(DESTDIR)/usr/sbin/vmsockstat
	install -D -m 0644 man/vmsockstat.8 $(DESTDIR)/usr/share/man/man8/vmsockstat.8

# Sparse over every object, warnings as the kernel prints them. Kbuild
# exits 0 and checks nothing when it thinks sparse is unusable (Debian's
# 7.2 headers lack scripts/checker-valid.sh): no CHECK line is a failure.
check:
	+@out=$$($(KBUILD) C=2 CHECK=sparse modules 2>&1); rc=$$?; \
	printf '%s\n' "$$out"; \
	test $$rc -eq 0 || exit $$rc; \
	printf '%s\n' "$$out" | grep -q '^ *CHECK ' || \
		{ echo "make check: sparse did not run" >&2; exit 1; }

style:
	@test -n "$(CHECKPATCH)" || { echo "no checkpatch.pl: set CHECKPATCH="; exit 1; }
	$(CHECKPATCH) $(CHECKPATCH_FLAGS) -f $(KERNEL_SOURCES)
	@# VMware's userspace API names (VMCISock_GetAFValueFd...) are ABI.
	$(CHECKPATCH) $(CHECKPATCH_FLAGS) --ignore CAMELCASE -f $(UAPI_HEADERS)

# Modules, public header, modprobe and udev policy, tools for one kernel.
install: modules install-files install-tools
	+$(KBUILD) INSTALL_MOD_DIR=updates modules_install
	depmod -a $(KVER)

install-files:
	install -D -m 0644 include/uapi/vmci_sockets.h $(DESTDIR)/usr/include/vmci/vmci_sockets.h
	install -D -m 0644 vsock/vmsock-modprobe.conf $(DESTDIR)$(MODPROBE_DIR)/vmsock.conf
	install -D -m 0644 vsock/60-vmsock.rules $(DESTDIR)$(UDEV_RULES_DIR)/60-vmsock.rules
	install -D -m 0644 man/vmci.4 $(DESTDIR)/usr/share/man/man4/vmci.4
	install -D -m 0644 man/vmsock.7 $(DESTDIR)/usr/share/man/man7/vmsock.7
	install -D -m 0644 man/vmci_sockets.3 $(DESTDIR)/usr/share/man/man3/vmci_sockets.3

# The coexistence policy (docs/deployment.md): vmci owns the device and
# vmsock AF_VSOCK, both loaded at boot. The package installs it; by hand
# it is a choice ("make install-policy").
install-policy:
	install -D -m 0644 conf/vmci-vmsock-policy.conf $(DESTDIR)$(MODPROBE_DIR)/vmci-vmsock-policy.conf
	install -D -m 0644 conf/vmci-vmsock-load.conf $(DESTDIR)/usr/lib/modules-load.d/vmci-vmsock.conf

# What the Debian package carries besides the sources (debian/rules).
install-package-files:
	$(MAKE) install-files install-policy MODPROBE_DIR=/lib/modprobe.d \
		UDEV_RULES_DIR=/lib/udev/rules.d

# The DKMS .deb, in ../ as dpkg-buildpackage leaves it.
deb:
	dpkg-buildpackage -b -us -uc

# Puts the source under /usr/src and has DKMS build and install it for
# every kernel with headers; AUTOINSTALL covers kernels installed later.
dkms-install: install-files
	rm -rf $(DESTDIR)/usr/src/$(PACKAGE)-$(VERSION)
	mkdir -p $(DESTDIR)/usr/src/$(PACKAGE)-$(VERSION)
	cp -a Makefile Kbuild dkms.conf vmci vsock include \
		$(DESTDIR)/usr/src/$(PACKAGE)-$(VERSION)/
	dkms add -m $(PACKAGE) -v $(VERSION)
	for build in /lib/modules/*/build; do \
		test -f $$build/Makefile || continue; \
		kver=$$(basename $$(dirname $$build)); \
		dkms install -m $(PACKAGE) -v $(VERSION) -k $$kver || exit 1; \
	done

dkms-remove:
	-dkms remove -m $(PACKAGE) -v $(VERSION) --all
	rm -rf $(DESTDIR)/usr/src/$(PACKAGE)-$(VERSION)

test:
	tests/run

# The debug VM of tests/run on debug kernels of 6.1, sid's newest and 5.10,
# each built from its suite's linux-source (tests/debug-kernels/run);
# DEBUG_KERNELS="5.10" (or "6.1 sid") runs some only. Not part of "make test".
test-debug-kernels:
	tests/debug-kernels/run

# Builds against the newest headers sid has today and reports what broke.
canary:
	tests/canary

demo:
	tests/demo

# The coverage-guided fuzzer's long run in the debug-kernel VM (tests/fuzz):
# FUZZ_SECS, FUZZ_OPS (whichever ends first) and FUZZ_PLANT=y (the planted
# bug must be found) from the environment.
fuzz:
	tests/fuzz/run

# The fuzzer's self-test: a minute on the clean modules, then the planted
# bug must be found, minimised and replayed (tests/fuzz, vmci/fuzz_plant.h).
fuzz-plant:
	FUZZ_SECS=$${FUZZ_SECS:-60} FUZZ_OPS=0 FUZZ_PLANT=y tests/fuzz/run

# The hostile device: the VMCI device model's faults at random under our
# guest stack's traffic, in a guest-model VM (tests/lib/fuzz_device.sh).
# FUZZ_SECS (default 120), FUZZ_SEED (printed; replays the choices) and
# FUZZ_PLANT=y (the planted guest bug: the run must fail) from the environment.
fuzz-device:
	tests/fuzz/device-run

# Numbers only (vmsock beside AF_UNIX, TCP/UDP and vsock_loopback in one VM
# run); BENCH_SCALE > 1 shrinks the transfers.
BENCH_SCALE ?= 1
bench:
	tests/bench/run $(BENCH_SCALE)

# Our guest stack against the in-tree one through the VMCI device model
# (one VM each, stock 6.12): 64 KiB stream writes both ways and round trips.
bench-guest:
	tests/bench/guest-run $(BENCH_SCALE)

# A sampling profile (perf, every kernel function) of one benchmark row,
# vmsock against AF_UNIX in interleaved passes (stock 6.12); tests/bench/
# perf-sum prints it. BENCH_ROWS picks the row (default: connect).
BENCH_ROWS ?= connect
bench-perf:
	tests/bench/perf-run "$(BENCH_ROWS)"

# What a local connection costs while N are open, against AF_UNIX (stock 6.12).
bench-close:
	tests/bench/close-run $(BENCH_CLOSE_N)

# Connects one user's queue-pair hoarding refuses to others (stock 6.12).
bench-budget:
	tests/bench/budget-run $(BENCH_BUDGET_ROUNDS)

# Scale of the host personality (issue 16): 10,000 guest-played connections
# over N = 10, 100, 1,000 VMM contexts, cost per context and per connection
# at each N, correctness checked (stock 6.12). BENCH_HOST_SCALE="CONNS N..."
# changes the sizes; HOST_SCALE_KERNEL=debug runs it on the debug kernel.
BENCH_HOST_SCALE ?=
bench-host-scale:
	tests/bench/host-scale-run $(BENCH_HOST_SCALE)

# The nested run (issue 16): an outer VM with our host personality runs our
# QEMU with the device model in VMX mode, which boots a tiny inner guest on
# the in-tree guest stack (tests/nested/run); tests/run has a short form.
test-nested:
	tests/nested/run

# Why the test VMs run single-threaded TCG: a guest patching its own text
# survives it and, as a negative control, dies of a stale int3 under
# multi-threaded TCG (QEMU 7.2). Two VMs, TCG_SECS (default 60) each.
test-tcg:
	tests/tcg/run

# The stress and lifetime tests at full size on the debug kernel (one VM,
# hours under TCG): 10,000 connections, 1,000 VMM contexts, 100 load/unload
# cycles, kill -9 inside SETVA and ALLOC. STRESS_SIZES="CONNS VMMS CYCLES
# KILLS" changes the sizes; the suite's debug phase runs them smaller.
STRESS_SIZES ?=
stress:
	tests/stress/run $(STRESS_SIZES)

# How long an unprivileged user's socket stuck in a faulting copy holds up
# root's connections (stock 6.12); BENCH_STALL_MS: how long the fault lasts.
bench-stall:
	tests/bench/stall-run $(BENCH_STALL_MS)
