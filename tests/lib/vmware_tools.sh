# Debian's open-vm-tools in a guest-model VM: its vmtoolsd and the shared
# libraries it loads, copied into the initramfs, so that the real daemon
# talks to the device model's hypervisor endpoints through our vmsock
# (issue 14, item 5; tests/vmm/host/tools_host.py).
# shellcheck shell=bash

# Prints the directory the package is unpacked in; cached per version.
vmware_tools_package() {
	local version dir
	version=$(apt-cache policy open-vm-tools 2>/dev/null | sed -n 's/^ *Candidate: //p')
	[ -n "$version" ] && [ "$version" != "(none)" ] || return 1
	dir=$CACHE_DIR/open-vm-tools-$(printf '%s' "$version" | tr ':~+' '___')
	mkdir -p "$CACHE_DIR"
	(
		flock 9 || exit 1
		[ -f "$dir/.done" ] && exit 0
		rm -rf "$dir"
		mkdir -p "$dir/get"
		(cd "$dir/get" && apt-get download -q "open-vm-tools=$version") \
			>"$dir/download.log" 2>&1 || exit 1
		dpkg-deb -x "$dir"/get/open-vm-tools_*.deb "$dir/root" || exit 1
		rm -rf "$dir/get"
		touch "$dir/.done"
	) 9>"$CACHE_DIR/open-vm-tools.lock" || return 1
	printf '%s\n' "$dir/root"
}

# install_vmware_tools ROOT: /usr/bin/vmtoolsd and every library it needs,
# as this machine's loader resolves them (the package is this machine's
# Debian release, so its own libraries fit). No plugins: the daemon's
# core alone reports its version and answers reset and ping.
install_vmware_tools() {
	local dest=$1 pkg libs lib target
	pkg=$(vmware_tools_package) || { echo "cannot download open-vm-tools"; return 1; }
	libs=$(LD_LIBRARY_PATH=$pkg/usr/lib/x86_64-linux-gnu ldd "$pkg/usr/bin/vmtoolsd") ||
		{ echo "ldd vmtoolsd failed"; return 1; }
	if grep -q 'not found' <<<"$libs"; then
		echo "missing libraries: $(grep 'not found' <<<"$libs" | tr -s '\t\n' '  ')"
		return 1
	fi
	mkdir -p "$dest/usr/bin" "$dest/usr/lib/x86_64-linux-gnu/open-vm-tools/plugins/vmsvc" \
		"$dest/usr/lib/x86_64-linux-gnu/open-vm-tools/plugins/common"
	cp "$pkg/usr/bin/vmtoolsd" "$dest/usr/bin/" || return 1
	# GLib asks who root is.
	[ -f "$dest/etc/passwd" ] || printf 'root:x:0:0:root:/:/bin/sh\n' >"$dest/etc/passwd"
	for lib in $(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' \
		<<<"$libs"); do
		target=${lib#"$pkg"}
		mkdir -p "$dest$(dirname "$target")"
		cp -L "$lib" "$dest$target" || return 1
	done
}
