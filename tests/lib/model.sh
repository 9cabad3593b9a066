# The VMCI device model (tests/vmm): its host unit tests, and stock Debian
# kernels whose in-tree VMCI stack runs against it inside our QEMU.
# shellcheck shell=bash

# One VM per line: kernel-release glob, BAR1 variant (mmio on/off),
# interrupt kind, context ID, MiB of bulk stream data each way. Each boot
# costs ~25 s, so the kernels share the combinations out instead of each
# running all of them. INTx is absent: the in-tree vmw_vmci cannot use it
# (test-environment.md).
MODEL_VMS=(
	"6.12.* on  msix 1234 64"
	"6.12.* off msi  5678 64"
	"6.1.*  off msix 4321 64"
	"6.1.*  on  msi  8765 64"
)

# Builds and runs the unit tests under ASan and UBSan; one result per case.
run_model_unit_tests() {
	local bin=$OUT_DIR/model-unit src name log
	mkdir -p "$bin"
	for src in "$TESTS_DIR"/vmm/unit/*.c; do
		name=$(basename "$src" .c)
		log=$OUT_DIR/model-unit-$name.log
		if ! gcc -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
			-fno-sanitize-recover=all -o "$bin/$name" "$src" \
			"$TESTS_DIR"/vmm/vmci_model_*.c "$TESTS_DIR"/vmm/vmci_bridge.c \
			"$TESTS_DIR"/vmm/vmci_stream.c >"$log" 2>&1; then
			record FAIL "model_unit:$name:build" "log: $log"
			sed 's/^/    /' "$log" | head -n 20
			continue
		fi
		"$bin/$name" >"$log" 2>&1
		local rc=$?
		sed -n 's/^ok \(.*\)/PASS \1/p; s/^not ok \([^ ]*\)\(.*\)/FAIL \1\2/p' "$log" |
			while read -r status case rest; do
				record "$status" "model_unit:$name:$case" "${rest#\# }"
			done
		if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$log"; then
			record FAIL "model_unit:$name:exit" "exit status $rc (log: $log)"
			grep -E 'ERROR|runtime error' "$log" | head -n 5 | sed 's/^/    /'
		fi
	done
}

make_model_initramfs() {
	local image=$1 label=$2 intree=$3 root src
	root=$(busybox_root)
	cp "$TESTS_DIR/vm/model-init" "$root/init"
	cp "$TESTS_DIR/vm/vmlib" "$root/bin/"
	for src in "$TESTS_DIR"/vmm/guest/*.c; do
		gcc -static -O2 -Wall -Wextra -Werror -o "$root/lib/test/$(basename "$src" .c)" \
			"$src" || { rm -rf "$root"; return 1; }
	done
	find "$intree" -maxdepth 1 -name '*.ko' -exec cp {} "$root/lib/intree/" \;
	printf 'LABEL=%s\n' "$label" >"$root/etc/testplan"
	pack_initramfs "$root" "$image"
	rm -rf "$root"
}

# boot_model_vm QEMU KERNEL INITRD LOGDIR TIMEOUT APPEND DEVICE
boot_model_vm() {
	run_qemu "$1" "$5" "$4" 1G -device "$7" -kernel "$2" -initrd "$3" \
		-append "$VM_CMDLINE $6"
}

# Host programs the guest tests talk to through the device's Unix sockets.
start_model_host_side() {
	local dir=$1 log=$2
	python3 "$TESTS_DIR/vmm/host/dgram_echo.py" "$dir" 6000 >"$log" 2>&1 &
	echo $!
	python3 "$TESTS_DIR/vmm/host/stream_echo.py" "$dir" 7000 >>"$log" 2>&1 &
	echo $!
	python3 "$TESTS_DIR/vmm/host/stream_connect.py" "$dir" 8000 1 300000 4194304 \
		>"$log.connect" 2>&1 &
	echo $!
	python3 "$TESTS_DIR/vmm/host/stream_lifecycle.py" "$dir" 7002 >"$log.lifecycle" 2>&1 &
	echo $!
	python3 "$TESTS_DIR/vmm/host/stream_bulk.py" "$dir" 7003 >"$log.bulk" 2>&1 &
	echo $!
	# The hypervisor's VMware Tools endpoints (CID 0 ports 976 and 975).
	python3 "$TESTS_DIR/vmm/host/tools_host.py" "$dir" >"$log.tools" 2>&1 &
	echo $!
}

# RESULT lines a host-side program printed; EXPECTED of them must exist.
record_host_results() {
	local label=$1 log=$2 expected=$3 status name rest
	while read -r _ status name rest; do
		record "$status" "$label:$name" "${rest#\# }"
	done < <(grep '^RESULT ' "$log")
	[ "$(grep -c '^RESULT ' "$log")" -ge "$expected" ] ||
		record FAIL "$label:host_results" "host program reported too little (log: $log)"
	grep '^# throughput' "$log" | sed 's/^/    /'
}

run_model_vms() {
	local qemu=$1 line glob mmio irq cid bulk rel label vectors msix msi
	for line in "${MODEL_VMS[@]}"; do
		read -r glob mmio irq cid bulk <<<"$line"
		rel=$(basename "$(ls -d /boot/vmlinuz-$glob 2>/dev/null | head -n 1)" | sed 's/^vmlinuz-//')
		label=model-${rel%%-*}-$([ "$mmio" = on ] && echo mmio || echo io)-$irq
		if [ -z "$rel" ] || [ ! -d "/lib/modules/$rel/kernel" ]; then
			record FAIL "$label:vm" "no stock kernel matching $glob"
			continue
		fi
		msix=off msi=off vectors=1
		if [ "$irq" = msix ]; then
			msix=on
			vectors=$([ "$mmio" = on ] && echo 3 || echo 2)
		else
			msi=on
		fi
		[ -d "$OUT_DIR/intree-$rel" ] ||
			collect_intree_modules "/lib/modules/$rel/kernel" "$OUT_DIR/intree-$rel"
		vm_job "$label" model_vm "$qemu" "$rel" "$label" "$mmio" "$msix" "$msi" "$cid" \
			"$vectors" "$bulk"
	done
}

# model_vm QEMU REL LABEL MMIO MSIX MSI CID VECTORS BULK_MIB: one VM of the
# in-tree stack against the device model, with its host-side programs.
model_vm() {
	local qemu=$1 rel=$2 label=$3 mmio=$4 msix=$5 msi=$6 cid=$7 vectors=$8 bulk=$9
	local hostdir device pids pid
	hostdir=$(mktemp -d /tmp/vmci-model.XXXXXX)
	device="vmci-model,cid=$cid,mmio=$mmio,msix=$msix,msi=$msi,host-dir=$hostdir"
	make_model_initramfs "$OUT_DIR/initrd-$label.gz" "$label" "$OUT_DIR/intree-$rel" ||
		{ record FAIL "$label:initramfs"; rm -rf "$hostdir"; return; }
	say "booting $rel with $device"
	pids=$(start_model_host_side "$hostdir" "$OUT_DIR/host-$label.log")
	boot_model_vm "$qemu" "/boot/vmlinuz-$rel" "$OUT_DIR/initrd-$label.gz" \
		"$OUT_DIR/vm-$label" 900 "vmci_model.cid=$cid vmci_model.vectors=$vectors vmci_model.bulk_mib=$bulk" \
		"$device"
	for pid in $pids; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	record_host_results "$label" "$OUT_DIR/host-$label.log.connect" 3
	record_host_results "$label" "$OUT_DIR/host-$label.log.lifecycle" 2
	# model_tools' command-channel session: reset, ping, unknown.
	record_host_results "$label" "$OUT_DIR/host-$label.log.tools" 3
	rm -rf "$hostdir"
	check_vm_report "$label" "$OUT_DIR/vm-$label"
	# What the in-tree stack reaches through the model: no pass/fail.
	tr -d '\r' <"$OUT_DIR/vm-$label/console.log" |
		sed -n "s/.*\(# throughput: [gh][a-z]*->[gh][a-z]* .*\)/    \1 [$label]/p"
}

run_model_tests() {
	local qemu
	run_model_unit_tests
	# Our own copy: a parallel run's model build prunes other cached binaries.
	if qemu=$(qemu_binary) && cp "$qemu" "$OUT_DIR/qemu-model-intree"; then
		record PASS "model:qemu_build"
		run_model_vms "$OUT_DIR/qemu-model-intree"
	else
		record FAIL "model:qemu_build"
	fi
}
