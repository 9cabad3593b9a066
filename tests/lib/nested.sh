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
# MiB each way of the stream (model_bulk): NESTED_MIB, default 16.
NESTED_MIB=${NESTED_MIB:-16}
# The inner guest's stack: intree (vsock, vmw_vmci, vmw_vsock_vmci_transport
# as the tiny kernel built them) or ours (vmci.ko + vmsock.ko built against
# the tiny tree; AF_VSOCK is then our family, as the guest programs expect).
NESTED_STACK=${NESTED_STACK:-intree}
# How long QEMU and the host program may run inside the outer VM.
NESTED_INNER_LIMIT=${NESTED_INNER_LIMIT:-1800}

# nested_base_root ROOT INIT: busybox, INIT as /init, vmlib.
nested_base_root() {
	local root=$1 applet
	chmod 0755 "$root"
	mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,lib/test,lib/intree}
	cp /bin/busybox "$root/bin/busybox"
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
	done
	cp "$2" "$root/init"
	cp "$TESTS_DIR/vm/vmlib" "$root/bin/"
}

# make_inner_initramfs IMAGE TINY_TREE [OUR_MODULE_DIR]: the inner guest:
# the in-tree guest stack as the tiny kernel built it (and, given
# OUR_MODULE_DIR, our vmci.ko and vmsock.ko built for it; NESTED_STACK
# says which one loads), and the model phase's guest programs (written
# for AF_VSOCK, the family of whichever stack loaded).
make_inner_initramfs() {
	local image=$1 tree=$2 ours=${3:-} root m
	root=$(mktemp -d)
	nested_base_root "$root" "$TESTS_DIR/nested/inner-init"
	for m in net/vmw_vsock/vsock.ko drivers/misc/vmw_vmci/vmw_vmci.ko \
		net/vmw_vsock/vmw_vsock_vmci_transport.ko; do
		cp "$tree/$m" "$root/lib/intree/" || { rm -rf "$root"; return 1; }
	done
	if [ -n "$ours" ]; then
		cp "$ours"/vmci/vmci.ko "$ours"/vsock/vmsock.ko "$root/lib/test/" ||
			{ rm -rf "$root"; return 1; }
	fi
	for m in model_bulk model_dgram model_listen; do
		gcc -static -O2 -Wall -Wextra -Werror -o "$root/lib/test/$m" \
			"$TESTS_DIR/vmm/guest/$m.c" || { rm -rf "$root"; return 1; }
	done
	cat >"$root/etc/testplan" <<PLAN
LABEL=nested-inner-$NESTED_STACK
STACK=$NESTED_STACK
CID=$NESTED_CID
STREAM_PORT=$NESTED_STREAM_PORT
DGRAM_PORT=$NESTED_DGRAM_PORT
UNBOUND_PORT=$NESTED_UNBOUND_PORT
LISTEN_PORT=$NESTED_LISTEN_PORT
BYTES=$((NESTED_MIB * 1048576))
PLAN
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$image"
	rm -rf "$root"
}

# make_outer_initramfs IMAGE LABEL MODULE_DIR QEMU BZIMAGE INNER_IMAGE:
# our modules, the host program, and QEMU with every library ldd names
# (the loader included) and the firmware directories it reads.
make_outer_initramfs() {
	local image=$1 label=$2 mods=$3 qemu=$4 root lib
	root=$(mktemp -d)
	nested_base_root "$root" "$TESTS_DIR/nested/outer-init"
	mkdir -p "$root"/{usr/bin,usr/share,lib/nested}
	cp "$mods"/vmci/vmci.ko "$mods"/vsock/vmsock.ko "$root/lib/test/" &&
		gcc -static -O2 -Wall -Wextra -Werror -o "$root/lib/test/nested_host" \
			"$TESTS_DIR/nested/nested_host.c" &&
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
BYTES=$((NESTED_MIB * 1048576))
LIMIT=$NESTED_INNER_LIMIT
PLAN
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$image"
	rm -rf "$root"
}
