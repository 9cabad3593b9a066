# The package's module policy (conf/, docs/deployment.md) on Debian's stock
# kernel with Debian's own VMCI and vSockets modules installed beside ours,
# kmod as modprobe, and the VMCI device model: one VM, tests/vm/policy-init.
# shellcheck shell=bash

POLICY_CID=4410
# In-tree modules the policy speaks of, and what they need.
POLICY_INTREE_MODULES=(vmw_vmci vmw_balloon vsock vmw_vsock_vmci_transport vsock_diag
	vsock_loopback)

# make_policy_initramfs IMAGE LABEL REL MODULE_DIR
make_policy_initramfs() {
	local image=$1 label=$2 rel=$3 mods=$4 root name f tool
	root=$(busybox_root)
	mkdir -p "$root/lib/modprobe.d"
	# Debian's modprobe, not busybox's: the policy uses softdep and install.
	copy_dynamic_program "$root" kmod
	# iproute2's ss, for the sock_diag request "ss --vsock" makes.
	copy_dynamic_program "$root" ss
	for tool in modprobe insmod rmmod lsmod depmod modinfo; do
		ln -sf /usr/bin/kmod "$root/sbin/$tool"
	done
	for name in "${POLICY_INTREE_MODULES[@]}"; do
		f=$(find "/lib/modules/$rel/kernel" -name "$name.ko*" | head -n1)
		[ -n "$f" ] || { echo "no $name for $rel"; rm -rf "$root"; return 1; }
		mkdir -p "$root$(dirname "$f")"
		cp "$f" "$root$f"
	done
	mkdir -p "$root/lib/modules/$rel/updates"
	cp "$mods/vmci/vmci.ko" "$mods/vsock/vmsock.ko" "$root/lib/modules/$rel/updates/"
	cp "/lib/modules/$rel/modules.order" "/lib/modules/$rel/modules.builtin" \
		"/lib/modules/$rel/modules.builtin.modinfo" "$root/lib/modules/$rel/" 2>/dev/null
	depmod -b "$root" "$rel" || { rm -rf "$root"; return 1; }
	# What the package installs, where the package installs it.
	cp "$REPO_DIR/conf/vmci-vmsock-policy.conf" "$REPO_DIR/vsock/vmsock-modprobe.conf" \
		"$root/lib/modprobe.d/"
	cp "$TESTS_DIR/vm/policy-init" "$root/init"
	cp "$OUT_DIR/user-bin/af_probe" "$root/lib/test/"
	printf 'LABEL=%s\nCID=%s\n' "$label" "$POLICY_CID" >"$root/etc/testplan"
	pack_initramfs "$root" "$image"
	rm -rf "$root"
}

# run_policy_vm QEMU REL MODULE_DIR
run_policy_vm() {
	local qemu=$1 rel=$2 mods=$3 label=policy-${2%%-*} hostdir logdir
	logdir=$OUT_DIR/vm-$label
	if ! make_policy_initramfs "$OUT_DIR/initrd-$label.gz" "$label" "$rel" "$mods" \
		>"$OUT_DIR/initrd-$label.log" 2>&1; then
		record FAIL "$label:initramfs" "$(tail -n 1 "$OUT_DIR/initrd-$label.log")"
		return
	fi
	hostdir=$(mktemp -d /tmp/vmci-policy.XXXXXX)
	say "booting $rel with the package's module policy"
	run_qemu "$qemu" 600 "$logdir" 1G \
		-device "vmci-model,cid=$POLICY_CID,mmio=on,msix=on,msi=on,host-dir=$hostdir" \
		-kernel "/boot/vmlinuz-$rel" -initrd "$OUT_DIR/initrd-$label.gz" \
		-append "$VM_CMDLINE"
	rm -rf "$hostdir"
	check_vm_report "$label" "$logdir"
}
