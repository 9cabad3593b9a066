# A real Debian 12 guest (issue 14, item 4): a cached mmdebstrap image
# that boots Debian's kernel with systemd and udev under our QEMU with the
# VMCI device model. The package built by "make deb" is installed in it
# with dpkg -i (DKMS builds the modules in the guest), the coexistence
# policy is checked after a reboot, and again after dpkg --purge and a
# reboot. VMCI_TEST_ONLY=debian_guest runs this phase alone.
# shellcheck shell=bash

DEBIAN_GUEST_SUITE=bookworm
# systemd and udev as a user's system has them, Debian's kernel with its
# in-tree VMCI and vSockets modules, what the package's postinst needs
# (DKMS, headers, compiler), open-vm-tools for the VMware Tools tests,
# iproute2 for "ss --vsock", and ccache, which the step script puts in
# front of gcc for DKMS (the compile results outlive the run, see below).
DEBIAN_GUEST_PACKAGES=systemd,systemd-sysv,udev,kmod,linux-image-amd64,linux-headers-amd64,dkms,build-essential,open-vm-tools,iproute2,ccache
DEBIAN_GUEST_RECIPE=$TESTS_DIR/vm/debian-guest/customize
DEBIAN_GUEST_DISK_SIZE=4G
DEBIAN_GUEST_CID=4420
# The model phase's host echo programs (tests/vmm/host).
DEBIAN_GUEST_STREAM_PORT=7000
DEBIAN_GUEST_DGRAM_PORT=6000
# Three boots and a DKMS build under TCG.
DEBIAN_GUEST_TIMEOUT=${DEBIAN_GUEST_TIMEOUT:-2400}
# The DKMS build is most of the phase's time under TCG (about 500 s of 700
# on a busy 2-core host). Its compiler output is kept in a ccache on a third
# disk, cached per image beside it and written back after a run that
# completed; sources that did not change then cost only the kbuild and
# probe overhead. 0 turns it off (every run compiles everything).
DEBIAN_GUEST_CCACHE=${DEBIAN_GUEST_CCACHE:-1}
DEBIAN_GUEST_CCACHE_SIZE=1G

# The image's cache key: suite, packages, mirror, the customize hook and the
# function that builds it.
debian_guest_key() {
	{
		printf '%s\n%s\n%s\n' "$DEBIAN_GUEST_SUITE" "$DEBIAN_GUEST_PACKAGES" "$(suite_mirror)"
		cat "$DEBIAN_GUEST_RECIPE"
		declare -f debian_guest_build
	} | sha256sum | cut -c1-16
}

# debian_guest_build DIR: DIR/root.img (raw ext4, made by mke2fs -d from
# the mmdebstrap tree, so no mount is needed), DIR/vmlinuz, DIR/initrd.img
# and DIR/release (the guest kernel's release).
debian_guest_build() {
	local dir=$1 tree=$1/tree rel
	mmdebstrap --variant=minbase --include="$DEBIAN_GUEST_PACKAGES" \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		--aptopt='APT::Install-Recommends "false"' \
		--customize-hook="sh '$DEBIAN_GUEST_RECIPE' \"\$1\"" \
		"$DEBIAN_GUEST_SUITE" "$tree" "$(suite_mirror)" || return 1
	rel=$(ls "$tree/lib/modules" | sort -V | tail -n 1)
	[ -n "$rel" ] && [ -f "$tree/boot/vmlinuz-$rel" ] && [ -f "$tree/boot/initrd.img-$rel" ] ||
		{ echo "no kernel or initrd in the tree"; return 1; }
	cp "$tree/boot/vmlinuz-$rel" "$dir/vmlinuz"
	cp "$tree/boot/initrd.img-$rel" "$dir/initrd.img"
	echo "$rel" >"$dir/release"
	mke2fs -q -t ext4 -L debroot -d "$tree" "$dir/root.img" "$DEBIAN_GUEST_DISK_SIZE" ||
		return 1
	rm -rf "$tree"
}

# debian_guest_image: prints the cached image's directory, making it once.
debian_guest_image() {
	local dir start=$SECONDS
	dir=$CACHE_DIR/debian-guest-$(debian_guest_key)
	mkdir -p "$CACHE_DIR"
	(
		flock 9 || exit 1
		[ -f "$dir/.done" ] && exit 0
		rm -rf "$dir" "$dir.tmp"
		mkdir -p "$dir.tmp"
		say "making the Debian guest image with mmdebstrap (a few minutes)" >&2
		debian_guest_build "$dir.tmp" >"$CACHE_DIR/debian-guest.log" 2>&1 ||
			{ tail -n 20 "$CACHE_DIR/debian-guest.log" >&2; rm -rf "$dir.tmp"; exit 1; }
		mv "$dir.tmp" "$dir"
		touch "$dir/.done"
		say "Debian guest image made in $((SECONDS - start))s" >&2
		# Images for older inputs are dead weight.
		find "$CACHE_DIR" -maxdepth 1 -name 'debian-guest-*' ! -path "$dir" \
			! -name '*.log' -exec rm -rf {} +
	) 9>"$CACHE_DIR/debian-guest.lock" || return 1
	printf '%s\n' "$dir"
}

# debian_guest_deb DIR: "make deb" in a scratch copy of the tree (as the
# static phase's deb.sh does), so the worktree's parent stays clean; prints
# the .deb's path.
debian_guest_deb() {
	local work=$1 version
	version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$REPO_DIR/dkms.conf")
	rm -rf "$work"
	mkdir -p "$work/src"
	rsync -a --exclude tests/out --exclude .git "$REPO_DIR/" "$work/src/" &&
		(cd "$work/src" && make deb) >"$work/build.log" 2>&1 &&
		[ -f "$work/vmci-vmsock-dkms_${version}_all.deb" ] || return 1
	printf '%s\n' "$work/vmci-vmsock-dkms_${version}_all.deb"
}

# debian_guest_payload IMAGE LABEL DEB: the second disk, read-only in the
# guest: the step script, its plan, the package and the program to build.
debian_guest_payload() {
	local image=$1 label=$2 deb=$3 dir
	dir=$(mktemp -d)
	cp "$TESTS_DIR/vm/debian-guest/step" "$TESTS_DIR/vm/debian-guest/sockets_echo.c" \
		"$TESTS_DIR/user/tap.h" "$TESTS_DIR/vmm/guest/iopl_exec.c" "$deb" "$dir/"
	cat >"$dir/plan" <<PLAN
LABEL=$label
CID=$DEBIAN_GUEST_CID
STREAM_PORT=$DEBIAN_GUEST_STREAM_PORT
DGRAM_PORT=$DEBIAN_GUEST_DGRAM_PORT
DEB=$(basename "$deb")
PLAN
	rm -f "$image"
	mke2fs -q -t ext4 -L payload -d "$dir" "$image" 32M
	local rc=$?
	rm -rf "$dir"
	return $rc
}

# debian_guest_ccache_disk IMAGE_DIR COPY: COPY is a writable copy of the
# image's cached ccache disk, or a new empty one.
debian_guest_ccache_disk() {
	local cached=$1/../$(basename "$1")-ccache.img copy=$2
	rm -f "$copy"
	if [ -f "$cached" ]; then
		cp --sparse=always "$cached" "$copy"
	else
		mke2fs -q -t ext4 -L ccache "$copy" "$DEBIAN_GUEST_CCACHE_SIZE"
	fi
}

# debian_guest_ccache_save IMAGE_DIR COPY: keeps COPY for the next run.
debian_guest_ccache_save() {
	local cached=$1/../$(basename "$1")-ccache.img copy=$2
	(
		flock 9 || exit 1
		cp --sparse=always "$copy" "$cached.tmp" && mv "$cached.tmp" "$cached"
	) 9>"$CACHE_DIR/debian-guest.lock"
}

# debian_guest_tools_results LABEL LOG: what tools_host.py received from
# the guest's vmtoolsd, boot by boot. The step script sets guestinfo.x to
# "y" after the install (our vmsock) and to "y-intree" after the purge
# (Debian's stack) before anything else, so that line starts the boot's
# part of the log. In each part: an RPC connection from the guest's CID on
# a privileged port, the four version values the daemon sends when it
# starts, and the command-channel session it answered (reset, ping, an
# unknown command; tools_host.py prints a RESULT line for each). 8 checks
# a boot.
debian_guest_tools_results() {
	local label=$1 log=$2 step value part key check
	for step in installed:y purged:y-intree; do
		value=${step#*:}
		step=${step%%:*}
		part=$(awk -v v="$value" '$1 == "rpci" && $3 == "info-set" && $4 == "guestinfo.x" {
			on = ($5 == v && $6 == "->") } on' "$log")
		if grep -q "^rpci: connection from $DEBIAN_GUEST_CID:[0-9]* (privileged)" <<<"$part"; then
			record PASS "$label:$step:host_rpci_from_guest"
		else
			record FAIL "$label:$step:host_rpci_from_guest" "no privileged RPC from CID $DEBIAN_GUEST_CID"
		fi
		for key in description versionString versionNumber buildNumber; do
			if grep -q "^daemon version info: guestinfo\.vmtools\.$key = [^ ]" <<<"$part"; then
				record PASS "$label:$step:host_daemon_$key"
			else
				record FAIL "$label:$step:host_daemon_$key" "not received"
			fi
		done
		for check in reset ping unknown; do
			if grep -q "^RESULT PASS tools:tclo[0-9]*_$check\$" <<<"$part" &&
				! grep -q "^RESULT FAIL tools:tclo[0-9]*_$check" <<<"$part"; then
				record PASS "$label:$step:host_tclo_$check"
			else
				record FAIL "$label:$step:host_tclo_$check" \
					"$(grep "^RESULT [A-Z]* tools:tclo[0-9]*_$check" <<<"$part" | head -n 1)"
			fi
		done
	done
}

run_debian_guest_tests() {
	local qemu img deb label logdir hostdir pids pid start rc stall ccache=()
	if ! qemu=$(guest_model_qemu) || ! cp "$qemu" "$OUT_DIR/qemu-debian-guest"; then
		record FAIL "debian_guest:qemu" "no QEMU with the VMCI device model"
		return 0
	fi
	qemu=$OUT_DIR/qemu-debian-guest
	start=$SECONDS
	if ! img=$(debian_guest_image); then
		record FAIL "debian_guest:image" "mmdebstrap failed (log: $CACHE_DIR/debian-guest.log)"
		return 0
	fi
	say "Debian guest image ready in $((SECONDS - start))s: $img"
	start=$SECONDS
	if ! deb=$(debian_guest_deb "$OUT_DIR/debian-guest-deb"); then
		record FAIL "debian_guest:make_deb" "log: $OUT_DIR/debian-guest-deb/build.log"
		return 0
	fi
	label=debian-guest-$(cut -d- -f1 "$img/release")
	logdir=$OUT_DIR/vm-$label
	mkdir -p "$logdir"
	: >"$logdir/report.log"
	if ! debian_guest_payload "$OUT_DIR/debian-guest-payload.img" "$label" "$deb"; then
		record FAIL "$label:payload"
		return 0
	fi
	if [ "$DEBIAN_GUEST_CCACHE" = 1 ] &&
		debian_guest_ccache_disk "$img" "$OUT_DIR/debian-guest-ccache.img"; then
		ccache=(-drive "file=$OUT_DIR/debian-guest-ccache.img,format=raw,if=virtio")
	fi
	say "package, payload and ccache disks in $((SECONDS - start))s"
	hostdir=$(mktemp -d /tmp/vmci-debian-guest.XXXXXX)
	python3 "$TESTS_DIR/vmm/host/stream_echo.py" "$hostdir" "$DEBIAN_GUEST_STREAM_PORT" \
		>"$OUT_DIR/host-$label.log" 2>&1 &
	pids=$!
	python3 "$TESTS_DIR/vmm/host/dgram_echo.py" "$hostdir" "$DEBIAN_GUEST_DGRAM_PORT" \
		>>"$OUT_DIR/host-$label.log" 2>&1 &
	pids+=" $!"
	# The hypervisor's VMware Tools endpoints (CID 0, ports 976 and 975),
	# for Debian's vmtoolsd in boots 2 and 3.
	python3 "$TESTS_DIR/vmm/host/tools_host.py" "$hostdir" >"$OUT_DIR/host-$label.log.tools" 2>&1 &
	pids+=" $!"
	say "booting Debian $(cat "$img/release") with systemd: install, reboot, purge, reboot"
	start=$SECONDS
	# A VMware platform as the guest kernel and udev see one: DMI names
	# VMware and QEMU's vmport answers the backdoor's version call, so
	# x86 detects VMware (vmw_balloon loads) and systemd-detect-virt says
	# vmware. The guest reboots inside this one QEMU process (no
	# -no-reboot); the root disk's writes live in a snapshot overlay,
	# so the cached image is never changed. The stall thresholds are the
	# other VMs' (VM_CMDLINE): under TCG on a busy 2-core host a vCPU
	# waits tens of seconds, which Debian's defaults report as RCU
	# stalls and soft lockups.
	stall="watchdog_thresh=60 rcupdate.rcu_cpu_stall_timeout=300"
	timeout --foreground "$DEBIAN_GUEST_TIMEOUT" "$qemu" \
		-L /usr/share/qemu -L /usr/share/seabios -net none \
		"${QEMU_ACCEL[@]}" -machine pc,vmport=on -cpu max,hypervisor=off -smp 2 -m 2G \
		-display none -monitor none \
		-smbios "type=1,manufacturer=VMware,, Inc.,product=VMware Virtual Platform,serial=VMware-56 4d 00 00 00 00 00 00-00 00 00 00 00 00 44 20" \
		-device "vmci-model,cid=$DEBIAN_GUEST_CID,mmio=on,msix=on,msi=on,host-dir=$hostdir" \
		-drive "file=$img/root.img,format=raw,if=virtio,snapshot=on" \
		-drive "file=$OUT_DIR/debian-guest-payload.img,format=raw,if=virtio,readonly=on" \
		"${ccache[@]}" \
		-kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
		-append "root=/dev/vda rw console=ttyS0 loglevel=4 panic=-1 no_timer_check quiet $stall" \
		-serial stdio -serial "file:$logdir/report.log" </dev/null |
		tee "$logdir/console.log" | sed -u 's/^/  vm| /'
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 124 ] && say "VM timed out after ${DEBIAN_GUEST_TIMEOUT}s"
	say "Debian guest: three boots in $((SECONDS - start))s"
	for pid in $pids; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$hostdir"
	check_vm_report "$label" "$logdir"
	debian_guest_tools_results "$label" "$OUT_DIR/host-$label.log.tools"
	# Only a run that got to the end leaves a ccache the next run may trust.
	if [ ${#ccache[@]} -gt 0 ] && grep -q '^END' "$logdir/report.log.clean"; then
		debian_guest_ccache_save "$img" "$OUT_DIR/debian-guest-ccache.img"
	fi
	rm -f "$OUT_DIR/debian-guest-ccache.img"
	tr -d '\r' <"$logdir/report.log" | sed -n 's/^TIME \([^ ]*\) \(.*\)/    time \1: \2 s/p;
		s/^CCACHE \([^ ]*\) \(.*\)/    ccache \1: \2/p'
}
