# Shared helpers for the test scripts. Sourced, never executed.
# shellcheck shell=bash

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_DIR=$(cd "$TESTS_DIR/.." && pwd)
CACHE_DIR=${VMCI_TEST_CACHE:-/var/cache/vmci-vmsock-tests}
OUT_DIR=${VMCI_TEST_OUT:-$REPO_DIR/tests/out}

say() { printf '==> %s\n' "$*"; }
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
