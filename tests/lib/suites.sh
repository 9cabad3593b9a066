# Debian's other suites, each with its own compiler and kernel: a cached
# root file system per suite (mmdebstrap), in which our modules build with
# W=1 and sparse and install with DKMS; its stock kernel then boots under
# QEMU like the host's kernels (tests/run's stock phase).
# shellcheck shell=bash

# suite:why. bookworm (6.1, and 6.12 from backports) is the host itself.
SUITES=(bullseye trixie sid)
SUITE_PACKAGES=linux-headers-amd64,linux-image-amd64,kmod,sparse,dkms,rsync
# Bump when the steps below change what ends up in a root.
SUITE_RECIPE=1

suite_mirror() {
	sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -v security | head -n 1
}

suite_key() {
	printf '%s\n%s\n%s\nrecipe %s\n' "$1" "$SUITE_PACKAGES" "$(suite_mirror)" "$SUITE_RECIPE" |
		sha256sum | cut -c1-16
}

# suite_root SUITE: prints the path of SUITE's cached root, making it once.
suite_root() {
	local suite=$1 dir start
	dir=$CACHE_DIR/suite-$suite-$(suite_key "$suite")
	mkdir -p "$CACHE_DIR"
	(
		flock 9 || exit 1
		[ -f "$dir/.done" ] && exit 0
		rm -rf "$dir" "$dir.tmp"
		say "making a $suite root with mmdebstrap (about 2-4 minutes)" >&2
		start=$SECONDS
		mmdebstrap --variant=buildd --include="$SUITE_PACKAGES" \
			--aptopt='Acquire::Check-Valid-Until "false"' \
			"$suite" "$dir.tmp" "$(suite_mirror)" >"$CACHE_DIR/suite-$suite.log" 2>&1 ||
			{ tail -n 20 "$CACHE_DIR/suite-$suite.log" >&2; exit 1; }
		log_build_time "$suite root" $((SECONDS - start)) 0 >&2
		mv "$dir.tmp" "$dir"
		touch "$dir/.done"
		# Roots for older inputs are dead weight.
		find "$CACHE_DIR" -maxdepth 1 -name "suite-$suite-*" ! -path "$dir" \
			! -name '*.log' -exec rm -rf {} +
	) 9>"$CACHE_DIR/suite-$suite.lock" || return 1
	printf '%s\n' "$dir"
}

# in_suite ROOT COMMAND: COMMAND (a shell string) inside ROOT, with /proc
# mounted in a private mount namespace so nothing stays mounted on the host.
in_suite() {
	unshare -m sh -c 'mount -t proc proc "$1/proc" && chroot "$1" sh -c "$2"' sh "$1" "$2"
}

# The headers directory and kernel release the suite's linux-headers-amd64 gave.
suite_headers() {
	ls -d "$1"/usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1 | sed "s|^$1||"
}

# Debian's 7.2 headers ship no scripts/checker-valid.sh, and kbuild then
# skips sparse and exits 0. The harness supplies one in its own root.
suite_fix_checker() {
	local root=$1 common
	for common in "$root"/usr/src/linux-headers-*-common; do
		[ -e "$common/scripts/checker-valid.sh" ] && continue
		cat >"$common/scripts/checker-valid.sh" <<'SH'
#!/bin/sh
# Supplied by the vmci-vmsock test harness: prints 1 when the checker
# given as arguments runs on a trivial file.
echo 'int vmci_checker_probe;' | "$@" - >/dev/null 2>&1 && echo 1
SH
		chmod +x "$common/scripts/checker-valid.sh"
	done
}

# check_suite SUITE: build (W=1, sparse) and DKMS inside SUITE's root.
check_suite() {
	local root
	if ! root=$(suite_root "$1"); then
		record FAIL "suite:$1:root" "mmdebstrap failed (log: $CACHE_DIR/suite-$1.log)"
		return 1
	fi
	check_suite_root "$1" "$root"
}

# check_suite_root SUITE ROOT
check_suite_root() {
	local suite=$1 root=$2 hdr rel label log
	hdr=$(suite_headers "$root")
	rel=${hdr#/usr/src/linux-headers-}
	label=$suite-$rel
	if [ -z "$hdr" ]; then
		record FAIL "suite:$suite:headers" "no linux-headers in $root"
		return 1
	fi
	suite_fix_checker "$root"
	rm -rf "$root/build"
	mkdir -p "$root/build"
	rsync -a "$REPO_DIR"/{Makefile,Kbuild,dkms.conf,vmci,vsock,include} "$root/build/"
	# Beside the sources, as build_modules puts it: its Kbuild includes ../include.
	rsync -a "$REPO_DIR/tests/kmod/" "$root/build/testmod/"
	log=$OUT_DIR/build-$label.log
	# One pass compiles with W=1 and runs sparse on every file.
	if in_suite "$root" "cd /build && make -j$(nproc) KDIR=$hdr W=1 C=2 CHECK=sparse modules &&
		make -C $hdr M=/build/testmod KBUILD_EXTRA_SYMBOLS=/build/Module.symvers W=1 modules" \
		>"$log" 2>&1; then
		if grep -qE 'warning:|error:' "$log"; then
			record FAIL "build:$label" "$(grep -cE 'warning:|error:' "$log") warnings (log: $log)"
			grep -E 'warning:|error:' "$log" | head -n 20 | sed 's/^/    /'
		else
			record PASS "build:$label"
		fi
		if grep -q '^ *CHECK ' "$log"; then
			record PASS "sparse:$label"
		else
			record FAIL "sparse:$label" "sparse did not run (log: $log)"
		fi
	else
		record FAIL "build:$label" "make failed (log: $log)"
		grep -E 'error' "$log" | head -n 20 | sed 's/^/    /'
		return 1
	fi
	mkdir -p "$(build_dir "$label")"
	rsync -a "$root/build/" "$(build_dir "$label")/"
	# DKMS as a user of that suite runs it; removed again so the root stays clean.
	local version
	version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$REPO_DIR/dkms.conf")
	if in_suite "$root" "rm -rf /usr/src/vmci-vmsock-$version && mkdir /usr/src/vmci-vmsock-$version &&
		cp -a /build/Makefile /build/Kbuild /build/dkms.conf /build/vmci /build/vsock /build/include \
			/usr/src/vmci-vmsock-$version/ &&
		find /usr/src/vmci-vmsock-$version -name '*.o' -delete -o -name '*.ko' -delete -o -name '.*.cmd' -delete &&
		dkms add -m vmci-vmsock -v $version && dkms install -m vmci-vmsock -v $version -k $rel &&
		ls /lib/modules/$rel/updates/dkms/vmci.ko* /lib/modules/$rel/updates/dkms/vmsock.ko*;
		rc=\$?; dkms remove -m vmci-vmsock -v $version --all >/dev/null 2>&1;
		rm -rf /usr/src/vmci-vmsock-$version; exit \$rc" >"$OUT_DIR/dkms-$label.log" 2>&1; then
		record PASS "dkms:$label"
	else
		record FAIL "dkms:$label" "log: $OUT_DIR/dkms-$label.log"
		tail -n 10 "$OUT_DIR/dkms-$label.log" | sed 's/^/    /'
	fi
	printf '%s %s %s\n' "$suite" "$root" "$rel" >>"$OUT_DIR/suites.list"
}

# boot_suite_kernels: the stock VM plan on each suite's kernel that built,
# each a VM job (tests/lib/parallel.sh).
boot_suite_kernels() {
	local suite root rel label kernel
	[ -f "$OUT_DIR/suites.list" ] || return 0
	while read -r suite root rel; do
		# trixie's kernel is the 6.12 series the host's 6.12 VM boots.
		[ "$suite" = trixie ] && continue
		label=stock-$suite-$rel
		kernel=$root/boot/vmlinuz-$rel
		if [ ! -f "$kernel" ]; then
			record FAIL "$label:vm" "no $kernel in the $suite root"
			continue
		fi
		collect_intree_modules "$root/lib/modules/$rel/kernel" "$OUT_DIR/intree-$suite"
		vm_job "$label" suite_vm "$suite" "$rel" "$label" "$kernel"
	done <"$OUT_DIR/suites.list"
}

# suite_vm SUITE REL LABEL KERNEL: one suite kernel's VM, the full plan the
# host's stock kernels run (1804 checks passed on 5.10 and 7.2, 2026-12-03).
suite_vm() {
	local suite=$1 rel=$2 label=$3 kernel=$4
	make_initramfs "$OUT_DIR/initrd-$label.gz" "$label" \
		"$(build_dir "$suite-$rel")" "$OUT_DIR/intree-$suite" n n
	say "booting $suite's kernel $rel"
	boot_vm "$kernel" "$OUT_DIR/initrd-$label.gz" "$OUT_DIR/vm-$label" 900
	check_vm_report "$label" "$OUT_DIR/vm-$label"
}
