# Builds (once) the debug test kernel from Debian's linux-source-6.12 and
# caches it outside the repo under a key of everything that shapes it.
# shellcheck shell=bash

KERNEL_SOURCE_PKG=linux-source-6.12
# Bump when the build steps below change what ends up in the tree.
KERNEL_RECIPE=1

# Run a long command with its output in LOG, printing a heartbeat so a
# reader of the CI log can see that it is alive.
run_with_heartbeat() {
	local log=$1 what=$2 start=$SECONDS pid rc
	shift 2
	"$@" >"$log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 30
		kill -0 "$pid" 2>/dev/null &&
			say "$what: $((SECONDS - start))s, $(wc -l <"$log") log lines"
	done
	wait "$pid"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		tail -n 40 "$log" >&2
		say "$what failed (full log: $log)"
	fi
	log_build_time "$what" $((SECONDS - start)) "$rc"
	return "$rc"
}

# log_build_time WHAT SECONDS RC: a cache build's own duration, for the
# cold-run estimate in docs/testing.md: said, and kept in
# $CACHE_DIR/build-times.log (date, seconds, exit status, what, load).
log_build_time() {
	say "$1 took $2s (exit $3)"
	printf '%s %ss rc=%s %s (load %s)\n' "$(date -u +%FT%TZ)" "$2" "$3" "$1" \
		"$(cut -d' ' -f1-3 /proc/loadavg)" >>"$CACHE_DIR/build-times.log"
}

# The toolchain that compiles a cached tree: a new compiler or linker must
# give a new tree, never objects of two compilers in one kernel.
toolchain_id() {
	"${CC:-gcc}" --version | head -n 1
	ld --version | head -n 1
}

# Everything that shapes the tree: the source package, the config, the
# toolchain and the build steps themselves (declare -f prints the code of
# the functions without their comments, so a comment edit keeps the tree).
debug_kernel_key() {
	{
		dpkg-query -W -f='${Version}\n' "$KERNEL_SOURCE_PKG"
		echo "recipe $KERNEL_RECIPE"
		cat "$TESTS_DIR/kernel/debug.config"
		toolchain_id
		declare -f debug_kernel_build verify_kernel_config
	} | sha256sum | cut -c1-16
}

# Fails loudly when olddefconfig silently dropped an option we asked for.
verify_kernel_config() {
	local cfg=$1 want=$2 line name missing=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF "$line" "$cfg" || { echo "missing: $line"; missing=1; }
			;;
		"# CONFIG_"*" is not set")
			name=${line#\# }
			name=${name%% *}
			grep -q "^$name=" "$cfg" && { echo "unwanted: $name"; missing=1; }
			;;
		esac
	done <"$want"
	return "$missing"
}

# Prints the path of a ready debug kernel tree (bzImage and modules built).
# Concurrent callers (parallel test runs) wait for one build, never race.
debug_kernel_tree() {
	mkdir -p "$CACHE_DIR"
	(
		flock 9 || die "cannot lock $CACHE_DIR/kernel.lock"
		debug_kernel_tree_locked
	) 9>"$CACHE_DIR/kernel.lock"
}

# debug_kernel_build DIR TARBALL: unpacks, configures and builds into DIR/src.
debug_kernel_build() {
	local dir=$1 tarball=$2
	rm -rf "$dir"
	mkdir -p "$dir/src"
	tar -xf "$tarball" -C "$dir/src" --strip-components=1 || die "cannot unpack $tarball"
	(
		cd "$dir/src" || exit 1
		make -s ARCH=x86_64 tinyconfig >/dev/null &&
			scripts/kconfig/merge_config.sh -m .config "$TESTS_DIR/kernel/debug.config" >/dev/null &&
			make -s ARCH=x86_64 olddefconfig >/dev/null &&
			verify_kernel_config .config "$TESTS_DIR/kernel/debug.config"
	) >&2 || die "debug kernel configuration failed"
	run_with_heartbeat "$dir/build.log" "kernel build" \
		make -C "$dir/src" ARCH=x86_64 -j"$(nproc)" bzImage modules >&2 ||
		die "debug kernel build failed"
}

debug_kernel_tree_locked() {
	local key dir tarball
	key=$(debug_kernel_key) || die "$KERNEL_SOURCE_PKG is not installed"
	dir=$CACHE_DIR/kernel-$key
	if [ -f "$dir/.done" ]; then
		touch "$dir/.used"
		printf '%s\n' "$dir/src"
		return 0
	fi
	tarball=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -n1)
	[ -n "$tarball" ] || die "no /usr/src/linux-source-6.12.tar.*"
	say "building the debug test kernel into $dir (about 8-10 minutes on 2 cores)" >&2
	debug_kernel_build "$dir" "$tarball"
	touch "$dir/.done" "$dir/.used"
	# Trees for older inputs are dead weight (several GiB each), but a tree
	# another branch used lately (another key) stays: removing it would
	# make the branches rebuild each other's kernels in turn.
	local old
	for old in "$CACHE_DIR"/kernel-*; do
		[ "$old" = "$dir" ] || [ ! -d "$old" ] && continue
		[ -n "$(find "$old" -maxdepth 1 \( -name .used -o -name .done \) -mtime -2)" ] &&
			continue
		rm -rf "$old"
	done
	printf '%s\n' "$dir/src"
}
