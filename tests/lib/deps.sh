# Installs, with apt, what the suite needs on a fresh Debian 12 machine.
# shellcheck shell=bash

TEST_PACKAGES=(
	build-essential bc bison flex libelf-dev libssl-dev cpio kmod xz-utils
	busybox-static qemu-system-x86 sparse dkms rsync socat mandoc iproute2
	debhelper dh-dkms lintian fakeroot dpkg-dev mmdebstrap
	linux-source-6.12 linux-headers-amd64 linux-image-amd64
	linux-headers-6.12-amd64 linux-image-6.12-amd64
)

ensure_packages() {
	local missing=() pkg
	for pkg in "$@"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" ||
			missing+=("$pkg")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] ||
		die "missing packages (${missing[*]}); run as root so they can be installed"
	say "installing: ${missing[*]}"
	apt-get update -q >/dev/null ||
		die "apt-get update failed: is a Debian mirror reachable?"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		"${missing[@]}" >"$OUT_DIR/apt.log" 2>&1 ||
		{ tail -n 20 "$OUT_DIR/apt.log" >&2; die "apt-get install failed (log: $OUT_DIR/apt.log)"; }
}
