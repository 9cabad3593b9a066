# Checks that need no VM: builds, sparse, checkpatch, exported symbols,
# DKMS, the public header, version consistency.
# shellcheck shell=bash

# check_symbols LABEL HEADERS_DIR: our exports are namespaced, prefixed,
# and share no name with the distro kernel's exports.
check_symbols() {
	local label=$1 hdr=$2 ours=$OUT_DIR/build-$1/Module.symvers bad clash
	if [ ! -s "$ours" ]; then
		record FAIL "symbols:$label" "no Module.symvers"
		return
	fi
	bad=$(awk '$5 != "VMCIX" || $2 !~ /^vmcix_/ { print $2 }' "$ours")
	clash=$(awk 'NR == FNR { mine[$2] = 1; next } ($2 in mine) { print $2 }' \
		"$ours" "$hdr/Module.symvers")
	if [ -n "$bad" ]; then
		record FAIL "symbols:$label" "not in VMCIX namespace or not vmcix_: $bad"
	elif [ -n "$clash" ]; then
		record FAIL "symbols:$label" "clash with the kernel: $clash"
	else
		record PASS "symbols:$label"
	fi
}

check_style() {
	local checkpatch log=$OUT_DIR/checkpatch.log
	checkpatch=$(ls "$CACHE_DIR"/checkpatch/scripts/checkpatch.pl 2>/dev/null)
	if [ -z "$checkpatch" ]; then
		mkdir -p "$CACHE_DIR/checkpatch"
		tar -xf /usr/src/linux-source-6.12.tar.* -C "$CACHE_DIR/checkpatch" \
			--strip-components=1 --wildcards '*/scripts/checkpatch.pl' \
			'*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch' ||
			{ record FAIL checkpatch "cannot extract checkpatch.pl"; return; }
		checkpatch=$CACHE_DIR/checkpatch/scripts/checkpatch.pl
	fi
	if make -s -C "$REPO_DIR" style CHECKPATCH="$checkpatch" >"$log" 2>&1; then
		record PASS checkpatch
	else
		record FAIL checkpatch "$(grep -cE 'ERROR|WARNING|CHECK' "$log") reports (log: $log)"
		head -n 20 "$log" | sed 's/^/    /'
	fi
}

# The install target DKMS users run, then per kernel: in a throw-away root
# (see in_throwaway_root), so the host's /usr (sources, modules, headers),
# DKMS tree and /etc stay as they were.
check_dkms() {
	local root=$OUT_DIR/dkms-root
	rm -rf "$root"
	if ! in_throwaway_root "$root" check_dkms_here; then
		record FAIL "dkms:throwaway_root" "cannot set up a private mount namespace with overlays (log: $OUT_DIR/dkms.log)"
	fi
	rm -rf "$root"
}

# in_throwaway_root DIR FUNCTION: FUNCTION (of this file or the ones it
# needs) in a private mount namespace where /usr, /var/lib and /etc are
# overlays whose writes land in DIR.
in_throwaway_root() {
	local root=$1 fn=$2
	mkdir -p "$root"
	# shellcheck disable=SC2016
	unshare --mount --propagation private bash -c '
		set -u
		root=$1
		for d in /usr /var/lib /etc; do
			mkdir -p "$root/upper$d" "$root/work$d" || exit 1
			mount -t overlay overlay \
				-o "lowerdir=$d,upperdir=$root/upper$d,workdir=$root/work$d" "$d" ||
				exit 1
		done
		eval "$2"
		'"$fn"'
	' in_throwaway_root "$root" "$(declare -f record supported_header_dirs headers_release "$fn"
		declare -p RESULTS_FILE REPO_DIR OUT_DIR)"
}

# Runs inside in_throwaway_root: free to install and remove.
check_dkms_here() {
	local hdr rel log=$OUT_DIR/dkms.log version
	version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$REPO_DIR/dkms.conf")
	make -s -C "$REPO_DIR" dkms-remove >/dev/null 2>&1
	if ! make -s -C "$REPO_DIR" dkms-install >"$log" 2>&1; then
		record FAIL "dkms:install" "make dkms-install failed (log: $log)"
		tail -n 20 "$log" | sed 's/^/    /'
	fi
	for hdr in $(supported_header_dirs); do
		rel=$(headers_release "$hdr")
		if dkms status -m vmci-vmsock -v "$version" -k "$rel" 2>/dev/null | grep -q installed &&
			[ -f "/lib/modules/$rel/updates/dkms/vmci.ko" -o -f "/lib/modules/$rel/updates/dkms/vmci.ko.xz" ] &&
			[ -f "/lib/modules/$rel/updates/dkms/vmsock.ko" -o -f "/lib/modules/$rel/updates/dkms/vmsock.ko.xz" ]; then
			record PASS "dkms:$rel"
		else
			record FAIL "dkms:$rel" "$(dkms status -m vmci-vmsock 2>&1 | tr '\n' ' ')"
		fi
	done
	make -s -C "$REPO_DIR" dkms-remove >>"$log" 2>&1
}

check_versions() {
	local pkg hdr
	pkg=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$REPO_DIR/dkms.conf")
	hdr=$(sed -n 's/^#define VMCI_VMSOCK_VERSION_STRING\t"\(.*\)"/\1/p' \
		"$REPO_DIR/include/vmci/version_info.h")
	if [ -n "$pkg" ] && [ "$pkg" = "$hdr" ]; then
		record PASS "version_consistent"
	else
		record FAIL "version_consistent" "dkms.conf '$pkg' vs version_info.h '$hdr'"
	fi
}

# The script's PASS/FAIL lines, and its exit status: a script that fails
# (or dies) without a FAIL line, or reports nothing, fails here.
check_uapi_header() {
	local line log=$OUT_DIR/uapi-header.log rc passes=0 fails=0
	bash "$TESTS_DIR/static/uapi-header.sh" >"$log" 2>&1
	rc=$?
	while IFS= read -r line; do
		case "$line" in
		"PASS "*) record PASS "${line#PASS }"; passes=$((passes + 1)) ;;
		"FAIL "*) record FAIL "${line#FAIL }"; fails=$((fails + 1)) ;;
		*) echo "    $line" ;;
		esac
	done <"$log"
	if [ "$rc" -ne 0 ] && [ "$fails" -eq 0 ]; then
		record FAIL "uapi:exit" "uapi-header.sh exited $rc without a FAIL line (log: $log)"
	elif [ "$rc" -eq 0 ] && [ "$fails" -gt 0 ]; then
		record FAIL "uapi:exit" "uapi-header.sh reported failures but exited 0"
	elif [ "$passes" -eq 0 ] && [ "$fails" -eq 0 ]; then
		record FAIL "uapi:exit" "uapi-header.sh reported nothing (log: $log)"
	fi
}

# run_check_script NAME SCRIPT [ARGS...]: records the PASS/FAIL lines a
# tests/static script prints; an exit status that disagrees with them, or
# no PASS/FAIL line at all, fails too.
run_check_script() {
	local name=$1 out rc line
	shift
	out=$(bash "$@" 2>&1)
	rc=$?
	while IFS= read -r line; do
		case "$line" in
		"PASS "*) record PASS "${line#PASS }" ;;
		"FAIL "*) record FAIL "${line#FAIL }" ;;
		*) echo "    $line" ;;
		esac
	done <<<"$out"
	if [ "$rc" -ne 0 ] && ! grep -q '^FAIL ' <<<"$out"; then
		record FAIL "$name:exit" "$1 exited $rc without a FAIL line"
	elif [ "$rc" -eq 0 ] && grep -q '^FAIL ' <<<"$out"; then
		record FAIL "$name:exit" "$1 reported failures but exited 0"
	elif ! grep -q '^\(PASS\|FAIL\) ' <<<"$out"; then
		record FAIL "$name:exit" "$1 reported nothing"
	fi
}

run_static_checks() {
	local hdr rel
	check_versions
	check_style
	check_uapi_header
	run_check_script man "$TESTS_DIR/static/man-pages.sh"
	run_check_script deb "$TESTS_DIR/static/deb.sh" "$OUT_DIR/deb"
	expect_supported_kernels static
	for hdr in $(supported_header_dirs); do
		rel=$(headers_release "$hdr")
		build_modules "$rel" "$hdr" || continue
		sparse_modules "$rel" "$hdr"
		check_symbols "$rel" "$hdr"
	done
	check_dkms
}
