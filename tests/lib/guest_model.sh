# Our guest personality (vmci.ko's PCI driver) and vmsock against the VMCI
# device model in QEMU, on the stock Debian 6.12 kernel.
# shellcheck shell=bash

source "$TESTS_DIR/lib/vmware_tools.sh"

# One VM per line: BAR1 variant (mmio on/off), interrupts the device
# offers (msix = MSI-X and MSI, msi = MSI only, intx = neither), our
# irq_mode parameter, the mode and vector count we must end up with, CID,
# and optionally "tools": Debian's vmtoolsd runs in that VM (one is enough).
GUEST_MODEL_VMS=(
	"on  msix auto  msix  3 4401 tools"
	"off msix msix1 msix1 1 4402"
	"off msi  auto  msi   1 4403"
	"on  intx auto  intx  1 4404"
)
# Under the debug kernel the two receive paths, DMA and port I/O. Not
# INTx: under TCG the debug kernel's ACPI _PRT evaluation hits the AML
# loop timeout ("PCI INT A: no GSI"), so no INTx line reaches the device.
GUEST_MODEL_DEBUG_VMS=(
	"on  msix auto  msix  3 4405"
	"off msi  auto  msi   1 4406"
)
GUEST_MODEL_KERNEL=${GUEST_MODEL_KERNEL:-6.12.*}
GUEST_MODEL_ECHO_PORT=6100
# Bytes each way of the one-direction-at-a-time stream test (model_bulk).
GUEST_MODEL_BULK_MIB=${GUEST_MODEL_BULK_MIB:-64}

# The QEMU with the device model: built by tests/lib/qemu.sh when that is
# present, else whatever binary a finished build left in the cache.
guest_model_qemu() {
	local d
	if declare -F qemu_binary >/dev/null; then
		qemu_binary
		return
	fi
	for d in "$CACHE_DIR"/qemu-*/; do
		case $d in */qemu-tree-*) continue ;; esac
		if [ -f "$d/.done" ] && [ -x "$d/qemu-system-x86_64" ]; then
			echo "$d/qemu-system-x86_64"
			return 0
		fi
	done
	return 1
}

# guest_model_echo DIR PORT LOG: the host end. CID 2 port P is DIR/dgram-P;
# a guest datagram arrives there as u32 guest port, u32 host port, payload,
# and goes back the same way through DIR/vmci-dgram. PORT+1 forwards the
# payload to the model's control socket. Its output must not hold the
# caller's $(...) open.
guest_model_echo() {
	/usr/bin/python3 - "$1" "$2" >"$3" 2>&1 <<'PY' &
import os, select, socket, sys
directory, port = sys.argv[1], int(sys.argv[2])
def bound(name):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(os.path.join(directory, name))
    return s
echo, ctl = bound("dgram-%d" % port), bound("dgram-%d" % (port + 1))
# Port+1: the payload is a command for the model; its answer comes back here.
while True:
    for s in select.select([echo, ctl], [], [])[0]:
        data, sender = s.recvfrom(1 << 20)
        if s is echo and len(data) >= 8:
            s.sendto(data, os.path.join(directory, "vmci-dgram"))
        elif s is ctl and str(sender).endswith("vmci-control"):
            print("model answered", data, flush=True)
        elif s is ctl and len(data) > 8:
            print("control", data[8:], flush=True)
            s.sendto(data[8:], os.path.join(directory, "vmci-control"))
PY
	echo $!
}

# make_guest_model_initramfs IMAGE LABEL MODULE_DIR GCOV(y|n) [INTREE_MODULE_DIR] [tools]
make_guest_model_initramfs() {
	local image=$1 label=$2 mods=$3 gcov=$4 intree=${5:-} tools=n root why
	root=$(busybox_root)
	# The in-tree driver, to check that we say who owns the device.
	[ -n "$intree" ] && cp "$intree/vmw_vmci.ko" "$root/lib/intree/"
	# GUEST_MODEL_INIT: another PID 1 for the same VM (make fuzz-device).
	cp "${GUEST_MODEL_INIT:-$TESTS_DIR/vm/guest-model-init}" "$root/init"
	cp "$TESTS_DIR/vm/gcov-dump" "$root/bin/"
	cp "$TESTS_DIR/vm/vmlib" "$root/bin/"
	cp "$mods"/vmci/vmci.ko "$mods"/vsock/vmsock.ko "$mods"/testmod/vmci_test_endpoint.ko \
		"$OUT_DIR/user-bin/guest_device" "$root/lib/test/" || { rm -rf "$root"; return 1; }
	# The model phase's guest programs, written for AF_VSOCK (40): in this
	# VM the family is ours, so they drive our vmsock over our driver.
	for src in "$TESTS_DIR"/vmm/guest/*.c; do
		gcc -static -O2 -Wall -Wextra -Werror -o "$root/lib/test/$(basename "$src" .c)" \
			"$src" || { rm -rf "$root"; return 1; }
	done
	# Debian's vmtoolsd (vmware_tools.sh); without it the VM skips its checks.
	if [ "${6:-}" = tools ]; then
		if why=$(install_vmware_tools "$root"); then
			tools=y
		else
			record SKIP "$label:vmware_tools" "$why"
		fi
	fi
	printf 'LABEL=%s\nGCOV=%s\nTOOLS=%s\n' "$label" "$gcov" "$tools" >"$root/etc/testplan"
	pack_initramfs "$root" "$image"
	rm -rf "$root"
}

# boot_guest_model_vm QEMU KERNEL MODULE_DIR INTREE_DIR LABEL GCOV(y|n) "mmio irqs param mode vectors cid [tools]"
# GCOV=y: MODULE_DIR was built with gcov and the kernel has GCOV_KERNEL.
boot_guest_model_vm() {
	local qemu=$1 kernel=$2 mods=$3 intree=$4 label=$5 gcov=$6 mmio irqs param mode vectors cid
	local hostdir echo_pid pid regs msix=off msi=off device append tools
	read -r mmio irqs param mode vectors cid tools <<<"$7"
	regs=$([ "$mmio" = on ] && echo mmio || echo io)
	label=$label-$regs-$mode
	[ "$irqs" = msix ] && msix=on msi=on
	[ "$irqs" = msi ] && msi=on
	hostdir=$(mktemp -d /tmp/vmci-guest-model.XXXXXX)
	device="vmci-model,cid=$cid,mmio=$mmio,msix=$msix,msi=$msi,host-dir=$hostdir"
	append="vmci_guest.cid=$cid vmci_guest.irq_param=$param vmci_guest.mode=$mode"
	append+=" vmci_guest.vectors=$vectors vmci_guest.regs=$regs"
	append+=" vmci_guest.echo=$GUEST_MODEL_ECHO_PORT vmci_guest.new_cid=$((cid + 100))"
	append+=" vmci_guest.bulk_mib=$GUEST_MODEL_BULK_MIB"
	make_guest_model_initramfs "$OUT_DIR/initrd-$label.gz" "$label" "$mods" "$gcov" "$intree" \
		"$tools" ||
		{ record FAIL "$label:initramfs"; rm -rf "$hostdir"; return; }
	say "booting $(basename "$kernel") with $device, irq_mode=$param"
	echo_pid=$(guest_model_echo "$hostdir" "$GUEST_MODEL_ECHO_PORT" "$OUT_DIR/host-$label.log")
	# The model phase's host programs (streams on 7000-7003 and 8000,
	# datagrams and control on 6000/6001), as model.sh starts them,
	# and the hypervisor's VMware Tools endpoints (tools_host.py).
	echo_pid+=" $(start_model_host_side "$hostdir" "$OUT_DIR/host-$label.log.model" | tr '\n' ' ')"
	# The same lenient stall thresholds as boot_vm: TCG on a busy host.
	run_qemu "$qemu" 900 "$OUT_DIR/vm-$label" 2G \
		-device "$device" -kernel "$kernel" -initrd "$OUT_DIR/initrd-$label.gz" \
		-append "$VM_CMDLINE $append"
	for pid in $echo_pid; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	record_host_results "$label" "$OUT_DIR/host-$label.log.model.connect" 3
	record_host_results "$label" "$OUT_DIR/host-$label.log.model.lifecycle" 2
	# The command-channel session of model_tools (three checks), and the
	# daemon's when it ran.
	record_host_results "$label" "$OUT_DIR/host-$label.log.model.tools" 3
	rm -rf "$hostdir"
	# The debug kernel (the one with gcov) has kmemleak: its scan must run.
	check_vm_report "$label" "$OUT_DIR/vm-$label" n "$gcov"
	[ "$gcov" = y ] && record_coverage "$label" "$OUT_DIR/vm-$label/report.log.clean" \
		"$mods" "$OUT_DIR/coverage-$label.txt" "$OUT_DIR/gcda-$label"
	return 0
}

run_guest_model_tests() {
	local qemu rel hdr line key ktree
	if ! qemu=$(guest_model_qemu) || ! cp "$qemu" "$OUT_DIR/qemu-model"; then
		# A build that fails is a failure; only a harness without one skips.
		if declare -F qemu_binary >/dev/null; then
			record FAIL "guest_model:qemu" "no QEMU with the VMCI device model"
		else
			record SKIP "guest_model:vm" "no QEMU with the VMCI device model cached"
		fi
		return 0
	fi
	# Our own copy: a newer model build prunes older cached binaries.
	qemu=$OUT_DIR/qemu-model
	rel=$(basename "$(ls -d /boot/vmlinuz-$GUEST_MODEL_KERNEL 2>/dev/null | head -n 1)")
	rel=${rel#vmlinuz-}
	hdr=/lib/modules/$rel/build
	if [ -z "$rel" ] || [ ! -d "$hdr" ]; then
		record FAIL "guest_model:vm" "no stock kernel and headers matching $GUEST_MODEL_KERNEL"
	elif [ -d "$(build_dir "$rel")" ] || build_modules "$rel" "$hdr"; then
		[ -d "$OUT_DIR/intree-$rel" ] ||
			collect_intree_modules "/lib/modules/$rel/kernel" "$OUT_DIR/intree-$rel"
		for line in "${GUEST_MODEL_VMS[@]}"; do
			vm_job "guest-model-${rel%%-*}-$(guest_model_vm_suffix "$line")" \
				boot_guest_model_vm "$qemu" "/boot/vmlinuz-$rel" "$(build_dir "$rel")" \
				"$OUT_DIR/intree-$rel" "guest-model-${rel%%-*}" n "$line"
		done
		vm_job "policy-${rel%%-*}" run_policy_vm "$qemu" "$rel" "$(build_dir "$rel")"
	fi
	# The debug kernel (KASAN, lockdep, kmemleak) if it is cached; never built here.
	key=$(debug_kernel_key 2>/dev/null) || return 0
	# A full run's debug phase has built it: missing then is a failure.
	if [ ! -f "$CACHE_DIR/kernel-$key/.done" ]; then
		if [ -z "${VMCI_TEST_ONLY:-}" ]; then
			record FAIL "guest-model-debug:vm" "debug kernel $key not cached"
		else
			record SKIP "guest-model-debug:vm" "debug kernel $key not cached (the debug phase builds it)"
		fi
		return 0
	fi
	ktree=$CACHE_DIR/kernel-$key/src
	# Without KUnit: its suites would fight the real device for the hypervisor route.
	[ -d "$(build_dir debug-plain)" ] || build_debug_modules debug-plain "$ktree" || return 0
	[ -d "$OUT_DIR/intree-debug" ] || collect_intree_modules "$ktree" "$OUT_DIR/intree-debug"
	for line in "${GUEST_MODEL_DEBUG_VMS[@]}"; do
		vm_job "guest-model-debug-$(guest_model_vm_suffix "$line")" \
			boot_guest_model_vm "$qemu" "$ktree/arch/x86/boot/bzImage" \
			"$(build_dir debug-plain)" "$OUT_DIR/intree-debug" guest-model-debug y "$line"
	done
	GUEST_MODEL_MERGE=y
}

# After vm_jobs_wait: the debug VMs' coverage, merged once both are done.
GUEST_MODEL_MERGE=n
finish_guest_model_tests() {
	[ "$GUEST_MODEL_MERGE" = y ] || return 0
	merge_coverage guest-model-debug "$(build_dir debug-plain)" \
		"$OUT_DIR/coverage-guest-model-debug.txt" "$OUT_DIR"/gcda-guest-model-debug-*
}

# The "io-msi"-style part of a VM's label, from its GUEST_MODEL_VMS line.
guest_model_vm_suffix() {
	local mmio irqs param mode rest
	read -r mmio irqs param mode rest <<<"$1"
	echo "$([ "$mmio" = on ] && echo mmio || echo io)-$mode"
}
