# Shared helpers for the test scripts. Sourced, never executed.
# shellcheck shell=bash

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_DIR=$(cd "$TESTS_DIR/.." && pwd)
CACHE_DIR=${VMCI_TEST_CACHE:-/var/cache/vmci-vmsock-tests}
OUT_DIR=${VMCI_TEST_OUT:-$REPO_DIR/tests/out}

say() { printf '==> %s\n' "$*"; }

# Every test VM runs its vCPUs on one host thread (single-threaded TCG).
# QEMU 7.2, Debian 12's and the tree our device model builds in, lets one
# vCPU finish translating code that another vCPU rewrote meanwhile (QEMU
# 8.1 locks the pages before translating), and the stale translation
# survives the write. Linux rewrites its text with int3 as the first byte,
# so a vCPU can later trap on an int3 that is no longer in memory: "Oops:
# int3" with some other byte before the <..> of the Code: line. CI saw it
# once, 1.37 s into a stock 6.12 boot, before any module of ours loaded.
# With one vCPU running at a time no translation overlaps a write. Both
# vCPUs still run, in turns (docs/testing.md has the cost);
# VM_TCG_THREAD=multi brings parallel vCPUs back, for hunting races.
QEMU_ACCEL=(-accel "tcg,thread=${VM_TCG_THREAD:-single}")
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# The kernel series we support: each needs its headers (and, for the stock
# phase, its kernel) installed; ensure_packages installs both.
SUPPORTED_SERIES="6.1 6.12"

# Debian headers package directories we support, newest last.
supported_header_dirs() {
	local d
	for d in /usr/src/linux-headers-6.1.*-amd64 /usr/src/linux-headers-6.12.*-amd64; do
		[ -f "$d/Makefile" ] && printf '%s\n' "$d"
	done
}

# The kernel release a headers directory builds for.
headers_release() {
	basename "$1" | sed 's/^linux-headers-//'
}

# expect_supported_kernels PHASE: a FAIL for each supported series without
# headers, so a phase that finds no kernel cannot pass by recording nothing.
expect_supported_kernels() {
	local series
	for series in $SUPPORTED_SERIES; do
		supported_header_dirs | grep -q "/linux-headers-$series\.[^/]*-amd64\$" ||
			record FAIL "$1:kernel-$series" "no /usr/src/linux-headers-$series.*-amd64"
	done
}
