# The nested run (issue 16 item 2): an outer VM with our vmci.ko (host
# personality) and vmsock.ko runs our QEMU with the device model in VMX
# mode, which boots a tiny inner guest. See docs/device-model.md "Nested run".
# shellcheck shell=bash

# Bump when the build steps below change what ends up in the tree.
TINY_KERNEL_RECIPE=1

# Everything that shapes the inner kernel: the source package, the config
# fragment, the toolchain and the build steps.
tiny_kernel_key() {
	{
		dpkg-query -W -f='${Version}\n' "$KERNEL_SOURCE_PKG"
		echo "recipe $TINY_KERNEL_RECIPE"
		cat "$TESTS_DIR/nested/tiny.config"
		toolchain_id
		declare -f tiny_kernel_build verify_kernel_config
	} | sha256sum | cut -c1-16
}

# tiny_kernel_build DIR TARBALL: unpacks, configures (tinyconfig plus
# tests/nested/tiny.config) and builds bzImage and modules into DIR/src.
tiny_kernel_build() {
	local dir=$1 tarball=$2
	rm -rf "$dir"
	mkdir -p "$dir/src"
	tar -xf "$tarball" -C "$dir/src" --strip-components=1 || die "cannot unpack $tarball"
	(
		cd "$dir/src" || exit 1
		make -s ARCH=x86_64 tinyconfig >/dev/null &&
			scripts/kconfig/merge_config.sh -m .config "$TESTS_DIR/nested/tiny.config" >/dev/null &&
			make -s ARCH=x86_64 olddefconfig >/dev/null &&
			verify_kernel_config .config "$TESTS_DIR/nested/tiny.config"
	) >&2 || die "tiny kernel configuration failed"
	run_with_heartbeat "$dir/build.log" "tiny kernel build" \
		nice -n 10 make -C "$dir/src" ARCH=x86_64 -j"$(nproc)" bzImage modules >&2 ||
		die "tiny kernel build failed"
}

# Prints the path of a ready tiny kernel tree; concurrent callers wait for
# one build. Older tiny trees are removed after a build.
tiny_kernel_tree() {
	mkdir -p "$CACHE_DIR"
	(
		flock 9 || die "cannot lock $CACHE_DIR/tinykernel.lock"
		local key dir tarball old
		key=$(tiny_kernel_key) || die "$KERNEL_SOURCE_PKG is not installed"
		dir=$CACHE_DIR/tinykernel-$key
		if [ ! -f "$dir/.done" ]; then
			tarball=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -n1)
			[ -n "$tarball" ] || die "no /usr/src/linux-source-6.12.tar.*"
			say "building the nested run's tiny kernel into $dir" >&2
			tiny_kernel_build "$dir" "$tarball"
			touch "$dir/.done"
			for old in "$CACHE_DIR"/tinykernel-*; do
				[ "$old" = "$dir" ] || [ ! -d "$old" ] || rm -rf "$old"
			done
		fi
		printf '%s\n' "$dir/src"
	) 9>"$CACHE_DIR/tinykernel.lock"
}

# Ports and CID of the nested run: the inner guest's model_bulk connects to
# STREAM, model_dgram echoes through DGRAM and expects UNBOUND to fail.
NESTED_CID=${NESTED_CID:-4600}
NESTED_STREAM_PORT=7003
NESTED_DGRAM_PORT=6000
NESTED_UNBOUND_PORT=6099
# The inner guest's listener (model_listen), which the host connects to.
NESTED_LISTEN_PORT=7100
# The close phase's second guest listener: a stream held into the shutdown.
NESTED_HOLD_PORT=7101
# The restricted phase: host stream ports trusted and not, datagram ports
# trusted and not, the guest's listener, and the bytes each stream echoes.
NESTED_R_T=7200
NESTED_R_U=7201
NESTED_R_DT=6200
NESTED_R_DU=6201
NESTED_R_LISTEN=7202
NESTED_SMALL=65536
# The boots of the inner guest, in order (tests/nested/outer-init, phase()):
# kill (QEMU killed with -9 mid-transfer), close (the host closes
# mid-transfer, then the guest shuts down with streams open), restricted
# (a RESTRICTED context), full (datagrams and NESTED_MIB each way; after
# the others, it shows that nothing of theirs was left behind).
NESTED_PHASES=${NESTED_PHASES:-kill close restricted full}
# vmx-restricted= of the restricted phase: "off" only as a negative control
# (the host program then sees its untrusted sockets reach the guest).
NESTED_RESTRICTED=${NESTED_RESTRICTED:-on}
# MiB each way of the stream (model_bulk): NESTED_MIB, default 16.
NESTED_MIB=${NESTED_MIB:-16}
# The inner guest's stack: intree (vsock, vmw_vmci, vmw_vsock_vmci_transport
# as the tiny kernel built them) or ours (vmci.ko + vmsock.ko built against
# the tiny tree; AF_VSOCK is then our family, as the guest programs expect).
NESTED_STACK=${NESTED_STACK:-intree}
# The inner kernel: tiny (tests/nested/tiny.config, built and cached) or
# stock (the outer VM's own Debian 6.12 kernel and its in-tree modules:
# nothing to build; our modules are then the outer VM's).
NESTED_INNER=${NESTED_INNER:-tiny}
# NESTED_PLANT=pin_leak builds the outer VM's vmci with a planted bug that
# keeps one page of every queue pair pinned (vmci/pin_leak_plant.h): a
# negative control, under which every pins check must fail.
NESTED_PLANT=${NESTED_PLANT:-}
# How long each QEMU run may take inside the outer VM.
NESTED_INNER_LIMIT=${NESTED_INNER_LIMIT:-1200}

# nested_base_root INIT: prints the path of a new busybox_root with INIT
# as /init and vmlib.
nested_base_root() {
	local root
	root=$(busybox_root) || return 1
	cp "$1" "$root/init"
	cp "$TESTS_DIR/vm/vmlib" "$root/bin/"
	printf '%s\n' "$root"
}

# make_inner_initramfs IMAGE INTREE_DIR [OUR_MODULE_DIR]: the inner guest:
# the in-tree guest stack of the inner kernel (vsock.ko, vmw_vmci.ko and
# vmw_vsock_vmci_transport.ko in INTREE_DIR) and, given OUR_MODULE_DIR,
# our vmci.ko and vmsock.ko built for it (NESTED_STACK says which one
# loads), and the guest programs (written for AF_VSOCK, the family of
# whichever stack loaded).
make_inner_initramfs() {
	local image=$1 intree=$2 ours=${3:-} root m
	root=$(nested_base_root "$TESTS_DIR/nested/inner-init")
	for m in vsock vmw_vmci vmw_vsock_vmci_transport; do
		cp "$intree/$m.ko" "$root/lib/intree/" || { rm -rf "$root"; return 1; }
	done
	if [ -n "$ours" ]; then
		cp "$ours"/vmci/vmci.ko "$ours"/vsock/vmsock.ko "$root/lib/test/" ||
			{ rm -rf "$root"; return 1; }
	fi
	for m in vmm/guest/model_bulk vmm/guest/model_dgram vmm/guest/model_listen \
		nested/inner_fail nested/inner_restricted; do
		gcc -static -O2 -Wall -Wextra -Werror -o "$root/lib/test/${m##*/}" \
			"$TESTS_DIR/$m.c" || { rm -rf "$root"; return 1; }
	done
	cat >"$root/etc/testplan" <<PLAN
LABEL=nested-inner-$NESTED_STACK
STACK=$NESTED_STACK
CID=$NESTED_CID
STREAM_PORT=$NESTED_STREAM_PORT
DGRAM_PORT=$NESTED_DGRAM_PORT
UNBOUND_PORT=$NESTED_UNBOUND_PORT
LISTEN_PORT=$NESTED_LISTEN_PORT
HOLD_PORT=$NESTED_HOLD_PORT
R_T=$NESTED_R_T
R_U=$NESTED_R_U
R_DT=$NESTED_R_DT
R_DU=$NESTED_R_DU
R_LISTEN=$NESTED_R_LISTEN
SMALL=$NESTED_SMALL
BYTES=$((NESTED_MIB * 1048576))
PLAN
	pack_initramfs "$root" "$image"
	rm -rf "$root"
}

# make_outer_initramfs IMAGE LABEL MODULE_DIR QEMU BZIMAGE INNER_IMAGE:
# our modules, the host program, and QEMU with every library ldd names
# (the loader included) and the firmware directories it reads.
make_outer_initramfs() {
	local image=$1 label=$2 mods=$3 qemu=$4 root lib
	root=$(nested_base_root "$TESTS_DIR/nested/outer-init")
	mkdir -p "$root"/{usr/bin,usr/share,lib/nested}
	for m in nested_host host_fail host_restricted; do
		gcc -static -O2 -Wall -Wextra -Werror -pthread -o "$root/lib/test/$m" \
			"$TESTS_DIR/nested/$m.c" || { rm -rf "$root"; return 1; }
	done
	cp "$mods"/vmci/vmci.ko "$mods"/vsock/vmsock.ko "$root/lib/test/" &&
		cp "$qemu" "$root/usr/bin/qemu-system-x86_64" &&
		cp -rL /usr/share/qemu /usr/share/seabios "$root/usr/share/" &&
		cp "$5" "$root/lib/nested/bzImage" && cp "$6" "$root/lib/nested/inner.gz" ||
		{ rm -rf "$root"; return 1; }
	for lib in $(ldd "$qemu" | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
	cat >"$root/etc/testplan" <<PLAN
LABEL=$label
CID=$NESTED_CID
STREAM_PORT=$NESTED_STREAM_PORT
DGRAM_PORT=$NESTED_DGRAM_PORT
LISTEN_PORT=$NESTED_LISTEN_PORT
HOLD_PORT=$NESTED_HOLD_PORT
R_T=$NESTED_R_T
R_U=$NESTED_R_U
R_DT=$NESTED_R_DT
R_DU=$NESTED_R_DU
R_LISTEN=$NESTED_R_LISTEN
SMALL=$NESTED_SMALL
BYTES=$((NESTED_MIB * 1048576))
LIMIT=$NESTED_INNER_LIMIT
PHASES="$NESTED_PHASES"
RESTRICTED=$NESTED_RESTRICTED
PLAN
	pack_initramfs "$root" "$image"
	rm -rf "$root"
}

# nested_fail WHAT DETAIL: records the failed step and returns 1.
nested_fail() {
	record FAIL "nested:$1" "$2"
	return 1
}

# run_nested: the nested run as the NESTED_* settings say, in $OUT_DIR,
# recording into the current results (make test-nested, and tests/run's
# short job). Builds what is not cached: the tiny kernel, QEMU, modules.
run_nested() {
	local rel qemu tree ours label start nphases kernel
	rel=$(basename "$(ls -d /boot/vmlinuz-6.12.* 2>/dev/null | head -n 1)")
	rel=${rel#vmlinuz-}
	[ -n "$rel" ] && [ -d "/lib/modules/$rel/build" ] ||
		nested_fail setup "needs Debian's 6.12 kernel and its headers" || return 1
	qemu=$(qemu_binary) || nested_fail qemu "no QEMU with the VMCI device model" || return 1
	local outer_label=nested-$rel plant=()
	case "$NESTED_PLANT" in
	'') ;;
	pin_leak)
		outer_label=nested-$rel-pin-leak
		plant=(VMCI_PLANT_PIN_LEAK=y)
		;;
	*)
		nested_fail setup "NESTED_PLANT must be empty or pin_leak"
		return 1
		;;
	esac
	say "building the modules for the outer VM ($rel${NESTED_PLANT:+, planted: $NESTED_PLANT})"
	build_modules "$outer_label" "/lib/modules/$rel/build" "${plant[@]}" ||
		nested_fail build "module build failed" || return 1

	# The inner kernel, its in-tree guest stack, and our modules for it.
	local intree=$OUT_DIR/inner-intree m
	rm -rf "$intree"
	mkdir -p "$intree"
	case "$NESTED_INNER" in
	stock)
		kernel=/boot/vmlinuz-$rel
		collect_intree_modules "/lib/modules/$rel/kernel" "$intree"
		ours=$(build_dir "$outer_label")
		;;
	tiny)
		start=$SECONDS
		tree=$(tiny_kernel_tree) || nested_fail tiny_kernel "no tiny kernel" || return 1
		say "tiny kernel ready after $((SECONDS - start)) s"
		kernel=$tree/arch/x86/boot/bzImage
		for m in net/vmw_vsock/vsock drivers/misc/vmw_vmci/vmw_vmci \
			net/vmw_vsock/vmw_vsock_vmci_transport; do
			cp "$tree/$m.ko" "$intree/" || nested_fail setup "no $m.ko" || return 1
		done
		ours=
		if [ "$NESTED_STACK" = ours ]; then
			say "building our modules for the tiny inner kernel"
			build_modules nested-tiny "$tree" ||
				nested_fail build_tiny "module build for the tiny kernel failed" ||
				return 1
			ours=$(build_dir nested-tiny)
		fi
		;;
	*)
		nested_fail setup "NESTED_INNER must be tiny or stock"
		return 1
		;;
	esac
	case "$NESTED_STACK" in
	intree) ours= ;;
	ours) ;;
	*)
		nested_fail setup "NESTED_STACK must be intree or ours"
		return 1
		;;
	esac

	# The outer VM's checks are named after the inner stack too, so that
	# both stacks' runs can sit in one set of results.
	label=nested-$rel
	[ "$NESTED_STACK" = ours ] && label=$label-ours
	make_inner_initramfs "$OUT_DIR/inner.gz" "$intree" "$ours" ||
		nested_fail initramfs "inner initramfs failed" || return 1
	make_outer_initramfs "$OUT_DIR/outer.gz" "$label" "$(build_dir "$outer_label")" "$qemu" \
		"$kernel" "$OUT_DIR/inner.gz" ||
		nested_fail initramfs "outer initramfs failed" || return 1
	say "outer initramfs $(($(stat -c %s "$OUT_DIR/outer.gz") >> 20)) MiB," \
		"inner $(($(stat -c %s "$OUT_DIR/inner.gz") >> 10)) KiB," \
		"inner kernel ($NESTED_INNER) $(($(stat -c %s "$kernel") >> 10)) KiB"

	say "booting $rel: inner guest CID $NESTED_CID ($NESTED_STACK stack)," \
		"$NESTED_MIB MiB each way, phases: $NESTED_PHASES"
	start=$SECONDS
	# A bound for a hang only: each QEMU run has its own.
	nphases=$(echo "$NESTED_PHASES" | wc -w)
	boot_vm "/boot/vmlinuz-$rel" "$OUT_DIR/outer.gz" "$OUT_DIR/vm" \
		$((NESTED_INNER_LIMIT * nphases + 600))
	say "outer VM ran $((SECONDS - start)) s"
	check_vm_report "$label" "$OUT_DIR/vm"
	tr -d '\r' <"$OUT_DIR/vm/report.log" | sed -n 's/^FIGURE //p' | tee "$OUT_DIR/figures.txt"
}

# The short nested job of tests/run: the full phase only, 1 MiB each way,
# first with Debian's in-tree guest stack, then with ours (make
# test-nested is the whole run). One job, so that the two never build the
# same module tree at once. The inner kernel is NESTED_INNER's (tiny
# unless the environment says stock).
run_nested_short() {
	local NESTED_PHASES=full NESTED_MIB=1 NESTED_STACK base=$OUT_DIR
	for NESTED_STACK in intree ours; do
		OUT_DIR=$base/nested-$NESTED_STACK
		rm -rf "$OUT_DIR"
		mkdir -p "$OUT_DIR"
		run_nested
	done
	OUT_DIR=$base
}
