# Builds our modules out of a private copy of the sources, one copy per
# kernel, so objects for different kernels never mix in the work tree.
# shellcheck shell=bash

# build_dir LABEL: where LABEL's copy lives.
build_dir() {
	printf '%s/build-%s\n' "$OUT_DIR" "$1"
}

# build_modules LABEL KDIR [extra make args...]: W=1 build; warnings fail.
build_modules() {
	local label=$1 kdir=$2 dir log
	shift 2
	dir=$(build_dir "$label")
	log=$OUT_DIR/build-$label.log
	mkdir -p "$dir"
	rsync -a --delete --exclude '*.gcda' \
		"$REPO_DIR"/{Makefile,Kbuild,dkms.conf,vmci,vsock,include} "$dir/"
	if ! make -C "$kdir" M="$dir" W=1 "$@" modules >"$log" 2>&1; then
		record FAIL "build:$label" "make failed (log: $log)"
		grep -E 'error|warning' "$log" | head -n 20 | sed 's/^/    /'
		return 1
	fi
	# Test-only modules (tests/kmod) link against our vmci's exports.
	if [ -f "$REPO_DIR/tests/kmod/Kbuild" ]; then
		rsync -a --delete "$REPO_DIR/tests/kmod/" "$dir/testmod/"
		make -C "$kdir" M="$dir/testmod" W=1 "$@" \
			KBUILD_EXTRA_SYMBOLS="$dir/Module.symvers" modules >>"$log" 2>&1 ||
			{ record FAIL "build:$label" "test modules failed (log: $log)"; return 1; }
	fi
	if grep -qE 'warning:|error:' "$log"; then
		record FAIL "build:$label" "W=1 warnings (log: $log)"
		grep -E 'warning:|error:' "$log" | head -n 20 | sed 's/^/    /'
		return 1
	fi
	record PASS "build:$label"
}

# build_debug_modules LABEL KTREE [extra make args...]: for the debug
# kernel (GCOV_KERNEL), always instrumented, so every VM booting it can
# report coverage with record_coverage; and for KCOV (CONFIG_KCOV), which
# only the fuzzer (tests/fuzz) turns on.
build_debug_modules() {
	local label=$1 ktree=$2
	shift 2
	build_modules "$label" "$ktree" VMCI_GCOV=y VMCI_KCOV=y "$@"
}

# sparse_modules LABEL KDIR: sparse (C=2) over every source of the copy.
sparse_modules() {
	local label=$1 kdir=$2 dir log
	dir=$(build_dir "$label")
	log=$OUT_DIR/sparse-$label.log
	if ! make -C "$kdir" M="$dir" C=2 CHECK=sparse modules >"$log" 2>&1; then
		record FAIL "sparse:$label" "make failed (log: $log)"
		return 1
	fi
	if ! grep -q 'CHECK ' "$log"; then
		record FAIL "sparse:$label" "sparse did not run (log: $log)"
	elif grep -qE 'warning:|error:' "$log"; then
		record FAIL "sparse:$label" "$(grep -cE 'warning:|error:' "$log") reports (log: $log)"
		grep -E 'warning:|error:' "$log" | head -n 20 | sed 's/^/    /'
	else
		record PASS "sparse:$label"
	fi
}

# build_user_tests: the static userspace test programs the VMs run.
build_user_tests() {
	local src bin=$OUT_DIR/user-bin
	rm -rf "$bin"
	mkdir -p "$bin"
	# tests/guide/X.c becomes guide_X: programs in the Programming Guide's style.
	for src in "$TESTS_DIR"/user/*.c "$TESTS_DIR"/guide/*.c; do
		local name
		name=$(basename "$src" .c)
		case "$src" in */guide/*) name=guide_$name ;; esac
		if gcc -static -O2 -Wall -Wextra -Werror -o "$bin/$name" "$src" \
			>"$OUT_DIR/user-build.log" 2>&1; then
			record PASS "user_build:$name"
		else
			record FAIL "user_build:$name"
			sed 's/^/    /' "$OUT_DIR/user-build.log"
		fi
	done
}
