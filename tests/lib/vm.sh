# Building initramfs images and booting them under QEMU (TCG).
# shellcheck shell=bash

# busybox_root: prints the path of a new initramfs tree with busybox, an
# applet link in /bin for each of its commands, and the directories every
# test VM's /init uses. mktemp makes the tree 0700, and it becomes the
# VM's /, where users other than root could then reach nothing: 0755.
busybox_root() {
	local root applet
	root=$(mktemp -d) || return 1
	chmod 0755 "$root"
	mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,lib/test,lib/intree}
	cp /bin/busybox "$root/bin/busybox"
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
	done
	printf '%s\n' "$root"
}

# make_initramfs IMAGE LABEL MODULE_DIR INTREE_DIR KUNIT(y|n) GCOV(y|n) [INIT]
# MODULE_DIR holds vmci.ko and vmsock.ko; INTREE_DIR the in-tree modules;
# INIT the script to run as PID 1 (default: the test plan). VM_SELFTEST=y
# in the environment adds the harness self-test (planted faults) at the end;
# VM_STRESS_MODS=DIR puts DIR's modules in /lib/stress, for the stress
# block's loads (tests/vm/init, phase 1a).
make_initramfs() {
	local image=$1 label=$2 mods=$3 intree=$4 kunit=$5 gcov=$6
	local init=${7:-$TESTS_DIR/vm/init} root prog
	root=$(busybox_root)
	cp "$init" "$root/init"
	cp "$TESTS_DIR/vm/gcov-dump" "$root/bin/"
	cp "$TESTS_DIR/vm/vmlib" "$root/bin/"
	copy_dynamic_program "$root" socat
	copy_dynamic_program "$root" ss
	# VM_EXTRA_PROGRAMS: more of the host's programs (perf for
	# tests/bench/perf-run).
	for prog in ${VM_EXTRA_PROGRAMS:-}; do
		copy_dynamic_program "$root" "$prog"
	done
	find "$mods" -maxdepth 2 -name '*.ko' -exec cp {} "$root/lib/test/" \;
	if [ -n "${VM_STRESS_MODS:-}" ]; then
		mkdir -p "$root/lib/stress"
		find "$VM_STRESS_MODS" -maxdepth 2 -name '*.ko' -exec cp {} "$root/lib/stress/" \;
	fi
	find "$OUT_DIR/user-bin" -maxdepth 1 -type f -exec cp {} "$root/lib/test/" \;
	find "$intree" -maxdepth 1 -name '*.ko' -exec cp {} "$root/lib/intree/" \;
	cat >"$root/etc/testplan" <<PLAN
LABEL=$label
KUNIT=$kunit
GCOV=$gcov
PLAN=${VM_PLAN:-full}
SELFTEST=${VM_SELFTEST:-n}
PLAN
	pack_initramfs "$root" "$image"
	rm -rf "$root"
}

# copy_dynamic_program ROOT NAME: NAME from the host's PATH into ROOT's
# /usr/bin with every library ldd resolves, the loader included, at the
# path ldd names. A program the host lacks is left out; the plan fails the
# checks that need it.
copy_dynamic_program() {
	local root=$1 name=$2 prog lib
	prog=$(command -v "$name") || return 0
	mkdir -p "$root/usr/bin"
	cp -L "$prog" "$root/usr/bin/$name"
	for lib in $(ldd "$prog" | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

# Copies the in-tree VMCI/vsock modules a kernel ships, decompressed, so
# busybox insmod can load them.
collect_intree_modules() {
	local moddir=$1 dest=$2 name f
	mkdir -p "$dest"
	for name in vmw_vmci vsock vmw_vsock_vmci_transport vsock_loopback; do
		f=$(find "$moddir" -name "$name.ko*" | head -n1)
		[ -n "$f" ] || die "in-tree module $name not found under $moddir"
		case "$f" in
		*.xz) xz -dc "$f" >"$dest/$name.ko" ;;
		*.zst) zstd -qdc "$f" >"$dest/$name.ko" ;;
		*) cp "$f" "$dest/$name.ko" ;;
		esac
	done
	# Optional: the plan skips its checks where a kernel lacks it.
	f=$(find "$moddir" -name "vsock_diag.ko*" | head -n1)
	case "$f" in
	'') ;;
	*.xz) xz -dc "$f" >"$dest/vsock_diag.ko" ;;
	*.zst) zstd -qdc "$f" >"$dest/vsock_diag.ko" ;;
	*) cp "$f" "$dest/vsock_diag.ko" ;;
	esac
}

# The kernel command line of every test VM. Every kernel report must reach
# the host, from boot to power-off: loglevel=5 puts warnings (WARN, lockdep)
# on the console, not only errors; log_buf_len gives the stock kernels'
# small ring buffer room for the whole boot, and the host checks the dump
# still starts at "Linux version"; kasan_multi_shot prints every KASAN
# report, not only the first.
VM_CMDLINE="console=ttyS0 loglevel=5 log_buf_len=8M panic=-1 oops=panic no_timer_check"
VM_CMDLINE+=" kasan.fault=report kasan_multi_shot"
VM_CMDLINE+=" watchdog_thresh=60 rcupdate.rcu_cpu_stall_timeout=300"

# count_vm_boot: one more VM booted, for the closing summary.
count_vm_boot() {
	echo "$1" >>"${VMS_BOOTED_FILE:-$OUT_DIR/vms-booted}"
}

# pack_initramfs ROOT IMAGE: the tree under ROOT as a gzipped newc cpio
# archive, the form the kernel unpacks as its initramfs.
pack_initramfs() {
	(cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) >"$2"
}

# run_qemu QEMU LIMIT LOGDIR MEM ARGS...: QEMU (a program) as every test
# VM runs it: TCG as QEMU_ACCEL says, a pc with two vCPUs and MEM of RAM,
# no network, display or monitor, and no reboot (the guest's reboot ends
# it). ARGS give the devices, the kernel and its command line. Debian's
# firmware is named with -L, since the device model's QEMU build carries
# none. The first serial port is the console, kept in LOGDIR/console.log
# and shown indented; the second is the report, LOGDIR/report.log. After
# LIMIT seconds QEMU is stopped and says so; returns 0 either way, since
# the report tells what ran.
run_qemu() {
	local qemu=$1 limit=$2 logdir=$3 mem=$4 rc
	shift 4
	mkdir -p "$logdir"
	: >"$logdir/report.log"
	count_vm_boot "$logdir"
	timeout --foreground "$limit" "$qemu" \
		-L /usr/share/qemu -L /usr/share/seabios -net none \
		"${QEMU_ACCEL[@]}" -machine pc -cpu max -smp 2 -m "$mem" -no-reboot \
		-display none -monitor none "$@" \
		-serial stdio -serial "file:$logdir/report.log" </dev/null |
		tee "$logdir/console.log" | sed -u 's/^/  vm| /'
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 124 ] && say "VM timed out after ${limit}s"
	return 0
}

# boot_vm KERNEL INITRAMFS LOGDIR TIMEOUT_SECONDS
# Under TCG on a busy host a vCPU can stall for tens of seconds without any
# bug, so the lockup and RCU stall detectors get the longest thresholds;
# a real hang still ends in the timeout and fails the run.
# Console goes to LOGDIR/console.log (and, indented, to our stdout); the
# structured report to LOGDIR/report.log.
boot_vm() {
	run_qemu qemu-system-x86_64 "$4" "$3" 2G -kernel "$1" -initrd "$2" -append "$VM_CMDLINE"
}

# debug_vm KTREE [LABEL [KUNIT]]: a debug kernel's VM (initramfs
# $OUT_DIR/initrd-LABEL.gz, modules in build_dir LABEL) and what its report
# must show; KUNIT=n when the modules hold no KUnit suites. LABEL is "debug"
# for tests/run's 6.12 kernel; make test-debug-kernels gives each series
# its own (tests/lib/debug_kernels.sh).
debug_vm() {
	local ktree=$1 label=${2:-debug} kunit=${3:-y} cov=$OUT_DIR/coverage.txt
	[ "$label" = debug ] || cov=$OUT_DIR/coverage-$label.txt
	say "booting the $label kernel"
	# 851 s on a loaded machine alone (2026-12-03): beside another VM it
	# needs more than the stock VMs' 900 s before a hang is declared.
	boot_vm "$ktree/arch/x86/boot/bzImage" "$OUT_DIR/initrd-$label.gz" \
		"$OUT_DIR/vm-$label" 1800
	check_vm_report "$label" "$OUT_DIR/vm-$label" "$kunit" y
	check_selftest "$label" "$OUT_DIR/vm-$label"
	record_coverage "$label" "$OUT_DIR/vm-$label/report.log.clean" \
		"$(build_dir "$label")" "$cov"
}
