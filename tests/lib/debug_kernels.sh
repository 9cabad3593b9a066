# Debug kernels of every supported series (make test-debug-kernels): each
# built from its own Debian suite's linux-source package with the 6.12
# debug kernel's config (tests/kernel/debug.config) and cached under a key
# of all its inputs. tests/lib/kernel.sh builds the 6.12 one; nothing here
# touches its functions, whose text is in that kernel's cache key.
# shellcheck shell=bash

# The series, in the order they run: 6.1 is nearest to 6.12, so what fails
# there is likely ours and cheap to see first.
DEBUG_KERNELS_ALL="6.1 sid 5.10"
# Bump when the steps below change what ends up in a tree or build root.
DK_RECIPE=1
# What a kernel build needs beyond the suite root's build-essential.
DK_BUILD_PACKAGES=(flex bison bc libelf-dev libssl-dev cpio xz-utils kmod rsync)

# dk_suite SERIES: the Debian suite whose linux-source the series builds
# from; empty for bookworm, the host itself.
dk_suite() {
	case $1 in
	5.10) echo bullseye ;;
	6.1) echo "" ;;
	sid) echo sid ;;
	*) return 1 ;;
	esac
}

# dk_absent_options SERIES: the debug.config options the series' Kconfig
# does not have at all (checked against the tree: an option listed here
# that does exist fails the build, so none is ever dropped silently).
#   CONFIG_UBSAN_SHIFT: 5.11 split shifts out of 5.10's CONFIG_UBSAN_MISC,
#     which checks them (with other classes) and is added below instead.
#   CONFIG_SLUB_TINY: 6.2; "is not set" lines need no entry, but it is
#     listed so the printed list is the whole truth.
dk_absent_options() {
	case $1 in
	5.10) echo CONFIG_UBSAN_SHIFT CONFIG_SLUB_TINY ;;
	*) echo "" ;;
	esac
}

# dk_extra_options SERIES: options the series needs beyond debug.config to
# get what debug.config gets on 6.12, printed when used.
#   CONFIG_SLUB=y: before 6.4 tinyconfig picks SLOB, under which KASAN and
#     FAILSLAB cannot be enabled; 6.12 has SLUB only.
#   CONFIG_UBSAN_MISC=y: 5.10's shift checks (CONFIG_UBSAN_SHIFT above).
dk_extra_options() {
	case $1 in
	5.10) echo CONFIG_SLUB=y CONFIG_UBSAN_MISC=y ;;
	6.1) echo CONFIG_SLUB=y ;;
	*) echo "" ;;
	esac
}

# dk_no_kunit SERIES: why our KUnit suites cannot be run on SERIES
# (nothing when they can). 6.1's missing KUnit calls are supplied by
# include/compat/kunit.c and compat.h, so the suites build there, but
# 6.1's KUnit runs a module's suites at MODULE_STATE_COMING, before the
# module's init (6.12 waits for MODULE_STATE_LIVE): our suites then meet
# a resource table and workqueues init has not set up, and the VM died in
# them (2026-12-03). The suites run on the 6.12 debug kernel.
dk_no_kunit() {
	case $1 in
	5.10) echo "5.10's KUnit has no parameterised cases (5.11), and its" \
		"kunit_test_suites() defines a module_init of its own" ;;
	6.1) echo "6.1's KUnit runs a module's suites before the module's init" \
		"(MODULE_STATE_COMING)" ;;
	esac
}

# dk_run ROOT COMMAND [ARGS...]: COMMAND in the build root ROOT (on the host
# when ROOT is empty), in the current directory. The cache, the repository
# and the output directory appear at the same paths inside, so a tree built
# in the root and the modules built against it keep their host paths.
dk_run() {
	local root=$1
	shift
	if [ -z "$root" ]; then
		command "$@"
		return
	fi
	mkdir -p "$OUT_DIR" "$root$CACHE_DIR" "$root$REPO_DIR" "$root$OUT_DIR"
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare -m sh -c '
		root=$1 cache=$2 repo=$3 out=$4 dir=$5
		shift 5
		mount -t proc proc "$root/proc" &&
			mount --bind "$cache" "$root$cache" &&
			mount --bind "$repo" "$root$repo" &&
			mount --bind "$out" "$root$out" &&
			exec chroot "$root" sh -c "cd \"\$0\" && exec \"\$@\"" "$dir" "$@"
	' sh "$root" "$CACHE_DIR" "$REPO_DIR" "$OUT_DIR" "$PWD" "$@"
}

# make, while DK_ROOT names a build root, runs in it: build_modules
# (tests/lib/build.sh) then builds our modules with the compiler that built
# the kernel, as kbuild requires.
make() {
	dk_run "${DK_ROOT:-}" make "$@"
}

# gcov, while DK_ROOT names a build root, runs in it too: the .gcda files
# the VM wrote follow the format of the gcc that instrumented the modules,
# which only that gcc's gcov reads (the host's gcov-12 read none of sid's
# gcc-16 files, so debug-sid:gcov_collected failed on 2026-12-03).
gcov() {
	dk_run "${DK_ROOT:-}" gcov "$@"
}

# dk_debug_vm ROOT KTREE LABEL KUNIT: debug_vm (tests/lib/vm.sh) with its
# coverage summary made by the gcov of ROOT, where the modules were built
# (the host's when ROOT is empty).
dk_debug_vm() {
	local root=$1
	shift
	DK_ROOT=$root debug_vm "$@"
}

# dk_build_root SUITE: prints the path of a cached copy of SUITE's root
# (tests/lib/suites.sh) with the kernel build's packages added. A copy: the
# suite root itself stays as the suite phase made it, for its DKMS checks.
dk_build_root() {
	local suite=$1 base dir
	base=$(suite_root "$suite") || return 1
	dir=$CACHE_DIR/dkroot-$suite-$(printf '%s\n%s\nrecipe %s\n' "$base" \
		"${DK_BUILD_PACKAGES[*]}" "$DK_RECIPE" | sha256sum | cut -c1-16)
	(
		flock 9 || exit 1
		[ -f "$dir/.done" ] && exit 0
		rm -rf "$dir"
		say "making a $suite build root in $dir" >&2
		cp -a "$base" "$dir.tmp" && rm -f "$dir.tmp/.done" &&
			dk_run "$dir.tmp" apt-get -q -o 'Acquire::Check-Valid-Until=false' update &&
			dk_run "$dir.tmp" env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
				install --no-install-recommends "${DK_BUILD_PACKAGES[@]}" ||
			exit 1
		mv "$dir.tmp" "$dir"
		touch "$dir/.done"
		find "$CACHE_DIR" -maxdepth 1 -name "dkroot-$suite-*" ! -path "$dir" \
			! -name '*.lock' -exec rm -rf {} +
	) 9>"$CACHE_DIR/dkroot-$suite.lock" >&2 || return 1
	printf '%s\n' "$dir"
}

# dk_source_package SERIES ROOT: the linux-source package's name. sid's
# newest series is whatever its linux-source metapackage points at.
dk_source_package() {
	case $1 in
	sid)
		dk_run "$2" apt-cache depends linux-source |
			sed -n 's/^ *Depends: \(linux-source-[0-9][0-9.]*\)$/\1/p' | head -n 1
		;;
	*) echo "linux-source-$1" ;;
	esac
}

# dk_fetch_source SERIES ROOT: the source .deb, downloaded once into the
# cache; prints its path. The root's package lists are refreshed first, so
# sid's newest is taken (an old list still serves when the mirror is down).
dk_fetch_source() {
	local series=$1 root=$2 pkg ver deb dir=$CACHE_DIR/dk-debs
	mkdir -p "$dir"
	dk_run "$root" apt-get -q -o 'Acquire::Check-Valid-Until=false' update >&2 ||
		say "apt-get update failed in ${root:-the host}: using the lists it has" >&2
	pkg=$(dk_source_package "$series" "$root")
	[ -n "$pkg" ] || { say "no linux-source package for $series" >&2; return 1; }
	ver=$(dk_run "$root" apt-cache policy "$pkg" | sed -n 's/^ *Candidate: *//p')
	case $ver in '' | '(none)') say "no candidate for $pkg" >&2; return 1 ;; esac
	deb=$dir/${pkg}_${ver}_all.deb
	if [ ! -s "$deb" ]; then
		(cd "$dir" && dk_run "$root" apt-get -q -o 'Acquire::Check-Valid-Until=false' \
			download "$pkg=$ver") >&2 || return 1
	fi
	[ -s "$deb" ] || { say "apt-get download gave no $deb" >&2; return 1; }
	printf '%s\n' "$deb"
}

# The compiler and linker of a root, as toolchain_id prints the host's.
dk_toolchain_id() {
	dk_run "$1" sh -c 'gcc --version | head -n 1; ld --version | head -n 1'
}

# dk_kernel_key SERIES ROOT DEB: everything that shapes the tree.
dk_kernel_key() {
	{
		echo "series $1 recipe $DK_RECIPE"
		basename "$3"
		dpkg-deb -f "$3" Package Version
		cat "$TESTS_DIR/kernel/debug.config"
		dk_absent_options "$1"
		dk_extra_options "$1"
		dk_toolchain_id "$2"
		declare -f dk_kernel_build dk_config_fragment verify_kernel_config dk_run
	} | sha256sum | cut -c1-16
}

# dk_config_fragment SERIES OUT: debug.config without the options the
# series lacks, into OUT; fails when a listed option exists in the tree
# (current directory) after all.
dk_config_fragment() {
	local series=$1 out=$2 opt absent
	absent=$(dk_absent_options "$series")
	cp "$TESTS_DIR/kernel/debug.config" "$out"
	for opt in $absent; do
		if find . -name 'Kconfig*' -exec grep -qx "config ${opt#CONFIG_}" {} + ; then
			echo "$opt is listed as absent from $series but its Kconfig has it"
			return 1
		fi
		echo "absent from $series's Kconfig, left out: $opt"
		sed -i "/^$opt=/d; /^# $opt is not set\$/d" "$out"
	done
	for opt in $(dk_extra_options "$series"); do
		echo "added for $series: $opt"
		echo "$opt" >>"$out"
	done
}

# dk_kernel_build SERIES ROOT DIR DEB: unpacks DEB's tarball, configures and
# builds into DIR/src, compiling in ROOT (the suite's own compiler: gcc-10
# for 5.10, whose sources predate gcc-12's new warnings and checks, and
# the compiler Debian built that kernel with; the host's gcc-12 for 6.1).
dk_kernel_build() {
	local series=$1 root=$2 dir=$3 deb=$4
	rm -rf "$dir"
	mkdir -p "$dir/src"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards './usr/src/linux-source-*.tar.xz' |
		tar -xJ -C "$dir/src" --strip-components=1 || die "cannot unpack $deb"
	(
		cd "$dir/src" || exit 1
		dk_config_fragment "$series" "$dir/debug.config" &&
			dk_run "$root" make -s ARCH=x86_64 tinyconfig >/dev/null &&
			dk_run "$root" scripts/kconfig/merge_config.sh -m .config \
				"$dir/debug.config" >/dev/null &&
			dk_run "$root" make -s ARCH=x86_64 olddefconfig >/dev/null &&
			verify_kernel_config .config "$dir/debug.config"
	) >&2 || die "debug kernel $series: configuration failed"
	run_with_heartbeat "$dir/build.log" "kernel build $series" \
		dk_run "$root" nice -n 10 make -C "$dir/src" ARCH=x86_64 -j"$(nproc)" \
		bzImage modules >&2 || die "debug kernel $series: build failed"
}

# dk_kernel_tree SERIES: prints "ROOT TREE" for the ready kernel of SERIES
# (ROOT is "-" for the host), building it once under a lock.
dk_kernel_tree() {
	local series=$1 suite root="" deb key dir
	suite=$(dk_suite "$series") || die "unknown series $series (have: $DEBUG_KERNELS_ALL)"
	if [ -n "$suite" ]; then
		root=$(dk_build_root "$suite") || die "no $suite build root"
	fi
	deb=$(dk_fetch_source "$series" "$root") || die "no source package for $series"
	key=$(dk_kernel_key "$series" "$root" "$deb")
	dir=$CACHE_DIR/dkernel-$series-$key
	mkdir -p "$CACHE_DIR"
	(
		flock 9 || exit 1
		if [ ! -f "$dir/.done" ]; then
			say "building the $series debug kernel from $(basename "$deb") into $dir" >&2
			dk_kernel_build "$series" "$root" "$dir" "$deb"
			touch "$dir/.done"
			# Older trees of the series are dead weight (GiBs each),
			# unless some other branch used them lately.
			local old
			for old in "$CACHE_DIR/dkernel-$series-"*; do
				[ "$old" = "$dir" ] || [ ! -d "$old" ] && continue
				[ -n "$(find "$old" -maxdepth 1 -name .used -mtime -2)" ] && continue
				rm -rf "$old"
			done
		fi
		touch "$dir/.used"
	) 9>"$CACHE_DIR/dkernel-$series.lock" || return 1
	printf '%s %s\n' "${root:--}" "$dir/src"
}
