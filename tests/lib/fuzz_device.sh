# The hostile-device fuzz target (make fuzz-device): our vmci.ko (guest
# personality) and vmsock.ko in a guest-model VM on the stock Debian 6.12
# kernel, while tests/vmm/host/device_fuzz.py sends the device model's
# fault commands at random (seeded) and tests/vmm/guest/fuzz_traffic.c
# runs streams and datagrams. Passes when the guest's kernel log stays
# clean, a fresh stream and datagram work after the faults, the modules
# unload, and every check the VM declares was reported.
# shellcheck shell=bash

# The VM's checks: 2 loads, fuzz_traffic's 5 and its plan, 2 unloads.
FUZZ_DEVICE_CHECKS=10
# The device: MMIO with DMA datagrams (so junk dma-resize rewrites the
# buffer the guest reads), MSI-X; the CID the fault driver moves from.
FUZZ_DEVICE_CID=4501

# run_fuzz_device SECONDS SEED PLANT(y|n): builds, boots, checks.
run_fuzz_device() {
	local secs=$1 seed=$2 plant=$3 label=fuzz-device qemu rel hdr mods hostdir pids pid
	local logdir host summary got device append
	[ "$plant" = y ] && label=fuzz-device-plant
	# A copy of its own: in the suite other VM jobs run qemu-model meanwhile.
	if ! qemu=$(guest_model_qemu) || ! cp "$qemu" "$OUT_DIR/qemu-$label"; then
		record FAIL "$label:qemu" "no QEMU with the VMCI device model"
		return 1
	fi
	rel=$(basename "$(ls -d /boot/vmlinuz-$GUEST_MODEL_KERNEL 2>/dev/null | head -n 1)")
	rel=${rel#vmlinuz-}
	hdr=/lib/modules/$rel/build
	if [ -z "$rel" ] || [ ! -d "$hdr" ]; then
		record FAIL "$label:kernel" "no stock kernel and headers matching $GUEST_MODEL_KERNEL"
		return 1
	fi
	# The suite's stock build of the same kernel serves, when there is one.
	if [ "$plant" = y ]; then
		build_modules "$label" "$hdr" VMCI_FUZZ_PLANT=y || return 1
		mods=$(build_dir "$label")
	elif [ -f "$(build_dir "$rel")/vsock/vmsock.ko" ]; then
		mods=$(build_dir "$rel")
	else
		build_modules "$label" "$hdr" || return 1
		mods=$(build_dir "$label")
	fi
	# The initramfs takes guest_device from the test programs' directory.
	mkdir -p "$OUT_DIR/user-bin"
	gcc -static -O2 -Wall -Wextra -Werror -o "$OUT_DIR/user-bin/guest_device" \
		"$TESTS_DIR/user/guest_device.c" || { record FAIL "$label:user_build"; return 1; }
	GUEST_MODEL_INIT=$TESTS_DIR/vm/fuzz-device-init \
		make_guest_model_initramfs "$OUT_DIR/initrd-$label.gz" "$label" "$mods" n ||
		{ record FAIL "$label:initramfs"; return 1; }

	hostdir=$(mktemp -d /tmp/vmci-fuzz-device.XXXXXX)
	host=$OUT_DIR/host-$label.log
	python3 "$TESTS_DIR/vmm/host/dgram_echo.py" "$hostdir" 6000 >"$host.echo" 2>&1 &
	pids=$!
	python3 "$TESTS_DIR/vmm/host/device_fuzz.py" "$hostdir" "$seed" "$secs" 7010 6010 \
		$((FUZZ_DEVICE_CID + 100)) >"$host" 2>&1 &
	pids+=" $!"
	device="vmci-model,cid=$FUZZ_DEVICE_CID,mmio=on,msix=on,msi=on,host-dir=$hostdir"
	append="vmci_guest.irq_param=auto vmci_guest.fuzz_secs=$secs"
	logdir=$OUT_DIR/vm-$label
	say "booting $rel with the hostile device ($label: ${secs}s, seed $seed, plant $plant)"
	run_qemu "$OUT_DIR/qemu-$label" $((secs + 600)) "$logdir" 2G \
		-device "$device" -kernel "/boot/vmlinuz-$rel" -initrd "$OUT_DIR/initrd-$label.gz" \
		-append "$VM_CMDLINE $append"
	for pid in $pids; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	rm -rf "$hostdir"

	summary=$(grep '^# device fuzz: seed' "$host")
	{
		echo "$label: ${summary#\# device fuzz: }"
		grep '^# device fuzz: per kind' "$host" | sed 's/^# device fuzz: /  /'
		tr -d '\r' <"$logdir/console.log" | sed -n 's/.*# \(traffic in .*\)/  \1/p'
		echo "  replay: FUZZ_SEED=$seed FUZZ_SECS=$secs make fuzz-device; commands: $host"
	} >"$OUT_DIR/$label.txt"
	sed 's/^/  /' "$OUT_DIR/$label.txt"
	if [ -n "$summary" ]; then
		record PASS "$label:faults_sent" "${summary#\# device fuzz: }"
	else
		record FAIL "$label:faults_sent" "the fault driver never started (see $host)"
	fi
	check_vm_report "$label" "$logdir"
	got=$(tr -d '\r' <"$logdir/report.log" | grep -c '^RESULT ' || true)
	if [ "$got" -eq "$FUZZ_DEVICE_CHECKS" ]; then
		record PASS "$label:plan" "$got checks"
	else
		record FAIL "$label:plan" "the VM declares $FUZZ_DEVICE_CHECKS checks and reported $got"
	fi
}
