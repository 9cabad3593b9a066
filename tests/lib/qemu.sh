# Builds (once per input) Debian's QEMU with our VMCI device model from
# tests/vmm/ and caches it outside the repo.
#
# Two cache entries: the configured QEMU tree (qemu-tree-<key>, keyed by the
# Debian source version and QEMU_RECIPE; 8 minutes cold on 2 idle cores, 30
# on busy ones) and the finished binary (qemu-<key>, keyed additionally by
# the files of tests/vmm/ and this script), so an edit of the device model
# is an incremental rebuild of a few files (30-60 s).
# shellcheck shell=bash

# Bump when the configure or build steps below change.
QEMU_RECIPE=1
QEMU_BUILD_PACKAGES=(dpkg-dev meson ninja-build libglib2.0-dev libpixman-1-dev libfdt-dev)
# The deb-src entry and the source package lists live in the cache, not
# in the host's /etc/apt and /var/lib/apt: apt runs with these options.
QEMU_APT_DIR=$CACHE_DIR/apt
QEMU_APT_OPTS=(
	-o "Dir::Etc::SourceList=$QEMU_APT_DIR/sources.list"
	-o "Dir::Etc::SourceParts=$QEMU_APT_DIR/sources.list.d"
	-o "Dir::State::Lists=$QEMU_APT_DIR/lists"
	-o "Dir::Cache=$QEMU_APT_DIR/cache"
)

# A deb-src entry mirroring the machine's deb entries, in QEMU_APT_DIR,
# and its package lists (apt-get update, once per cache).
ensure_qemu_source_entry() {
	local list=$QEMU_APT_DIR/sources.list.d/deb-src.sources
	[ -s "$list" ] && [ -f "$QEMU_APT_DIR/.updated" ] && return 0
	say "adding a private deb-src entry ($list)"
	mkdir -p "$QEMU_APT_DIR/sources.list.d" "$QEMU_APT_DIR/lists/partial" \
		"$QEMU_APT_DIR/cache/archives/partial"
	: >"$QEMU_APT_DIR/sources.list"
	awk '
		/^Types:/ { deb = ($0 ~ /(^|[ \t])deb([ \t]|$)/); if (deb) print "Types: deb-src"; next }
		deb && /^(URIs|Suites|Components|Signed-By):/ { print }
		/^$/ { if (deb) print ""; deb = 0 }
	' /etc/apt/sources.list.d/*.sources >"$list"
	sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		2>/dev/null >"$QEMU_APT_DIR/sources.list"
	[ -s "$list" ] || [ -s "$QEMU_APT_DIR/sources.list" ] ||
		{ rm -f "$list"; die "no deb entry to mirror as deb-src"; }
	apt-get "${QEMU_APT_OPTS[@]}" update -q >/dev/null || die "apt-get update (deb-src) failed"
	touch "$QEMU_APT_DIR/.updated"
}

qemu_source_version() {
	apt-cache "${QEMU_APT_OPTS[@]}" showsrc qemu 2>/dev/null | sed -n 's/^Version: //p' |
		sort -V | tail -n 1
}

# The configured tree depends on the source, the configure step (its code,
# from declare -f), the compiler and meson; toolchain_id is in kernel.sh.
qemu_tree_key() {
	{
		printf '%s\nrecipe %s\n' "$1" "$QEMU_RECIPE"
		toolchain_id
		/usr/bin/meson --version 2>/dev/null
		declare -f qemu_prepare_tree
	} | sha256sum | cut -c1-16
}

qemu_binary_key() {
	{
		printf '%s\n' "$1"
		toolchain_id
		ninja --version
		(cd "$TESTS_DIR/vmm" && find . -maxdepth 1 -type f -print |
			LC_ALL=C sort | xargs sha256sum)
		cat "$TESTS_DIR/lib/qemu.sh"
	} | sha256sum | cut -c1-16
}

# Copies the device model (the top level of tests/vmm; its subdirectories
# are tests) into the tree. Sources keep no old times: a file older than
# the objects an earlier build made (another branch shared the tree, or it
# was edited while that build ran) would be skipped by ninja, and an old
# meson.build would leave the other branch's file list in build.ninja.
qemu_install_model() {
	local src=$1 dest=$1/hw/misc/vmci_model
	mkdir -p "$dest"
	rsync -rl --checksum --delete --exclude '*/' "$TESTS_DIR/vmm/" "$dest/" || return 1
	# Only called when the binary must be rebuilt: every model file and its
	# meson.build look new, whatever another branch or an edit made during
	# an earlier build left behind.
	touch "$dest"/*
	grep -qxF "subdir('vmci_model')" "$src/hw/misc/meson.build" ||
		echo "subdir('vmci_model')" >>"$src/hw/misc/meson.build"
}

qemu_prepare_tree() {
	local dir=$1 version=$2 start=$SECONDS
	say "unpacking Debian's qemu $version into $dir" >&2
	rm -rf "$dir"
	mkdir -p "$dir/get"
	(cd "$dir/get" && apt-get "${QEMU_APT_OPTS[@]}" source -q "qemu=$version") >"$dir/source.log" 2>&1 ||
		{ tail -n 20 "$dir/source.log" >&2; return 1; }
	mv "$dir"/get/qemu-*/ "$dir/src" && rm -rf "$dir/get" || return 1
	mkdir -p "$dir/src/build"
	# A pyenv python3 first on PATH breaks QEMU's configure.
	(cd "$dir/src/build" && PATH=/usr/bin:/bin:/usr/sbin:/sbin ../configure \
		--target-list=x86_64-softmmu --disable-docs --disable-werror \
		--disable-tools --disable-guest-agent --meson=/usr/bin/meson) \
		>"$dir/configure.log" 2>&1 || { tail -n 20 "$dir/configure.log" >&2; return 1; }
	say "qemu configured in $((SECONDS - start))s" >&2
	touch "$dir/.configured"
}

# Prints the path of a qemu-system-x86_64 with the device model built in.
# Parallel runs wait for one build, never race.
qemu_binary() {
	mkdir -p "$CACHE_DIR"
	(
		flock 9 || die "cannot lock $CACHE_DIR/qemu.lock"
		qemu_binary_locked
	) 9>"$CACHE_DIR/qemu.lock"
}

qemu_binary_locked() {
	local version tkey bkey tree bin start=$SECONDS
	ensure_qemu_source_entry >&2
	ensure_packages "${QEMU_BUILD_PACKAGES[@]}" >&2
	version=$(qemu_source_version)
	[ -n "$version" ] || die "apt-cache knows no qemu source package"
	tkey=$(qemu_tree_key "$version")
	bkey=$(qemu_binary_key "$version")
	tree=$CACHE_DIR/qemu-tree-$tkey
	bin=$CACHE_DIR/qemu-$bkey
	if [ ! -f "$bin/.done" ]; then
		if [ ! -f "$tree/.configured" ]; then
			qemu_prepare_tree "$tree" "$version" || die "qemu source/configure failed"
		fi
		qemu_install_model "$tree/src" || die "cannot copy the device model into $tree"
		say "building qemu-system-x86_64 with the VMCI model ($tree)" >&2
		run_with_heartbeat "$tree/build.log" "qemu build" \
			ninja -C "$tree/src/build" qemu-system-x86_64 >&2 ||
			die "qemu build failed (log: $tree/build.log)"
		mkdir -p "$bin"
		cp "$tree/src/build/qemu-system-x86_64" "$bin/" || die "cannot copy qemu"
		printf '%s\n' "$version" >"$bin/version"
		touch "$bin/.done"
		say "qemu ready in $((SECONDS - start))s" >&2
		# Older trees and binaries of our own kind only, and none another
		# branch (another key) used in the last two days.
		local old
		for old in "$CACHE_DIR"/qemu-*; do
			[ "$old" = "$tree" ] || [ "$old" = "$bin" ] || [ ! -d "$old" ] && continue
			[ -n "$(find "$old" -maxdepth 1 \( -name .used -o -name .done \
				-o -name .configured \) -mtime -2)" ] && continue
			rm -rf "$old"
		done
	fi
	touch "$tree/.used" "$bin/.used" 2>/dev/null
	printf '%s\n' "$bin/qemu-system-x86_64"
}
