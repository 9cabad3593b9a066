# Shared helpers for the test scripts. Sourced, never executed.
# shellcheck shell=bash

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_DIR=$(cd "$TESTS_DIR/.." && pwd)
CACHE_DIR=${VMCI_TEST_CACHE:-/var/cache/vmci-vmsock-tests}
OUT_DIR=${VMCI_TEST_OUT:-$REPO_DIR/tests/out}

say() { printf '==> %s\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

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
