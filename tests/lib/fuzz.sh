# The coverage-guided fuzzer (tests/fuzz) in its own debug-kernel VM:
# CI's short slice (tests/run) and the long run (make fuzz, tests/fuzz/run).
# shellcheck shell=bash

# build_fuzzer: the static fuzzer, beside the other test programs.
build_fuzzer() {
	mkdir -p "$OUT_DIR/user-bin"
	if gcc -static -O2 -Wall -Wextra -Werror -pthread -o "$OUT_DIR/user-bin/fuzz" \
		"$TESTS_DIR"/fuzz/*.c >"$OUT_DIR/fuzz-build.log" 2>&1; then
		record PASS "user_build:fuzz"
	else
		record FAIL "user_build:fuzz"
		sed 's/^/    /' "$OUT_DIR/fuzz-build.log"
		return 1
	fi
}

# boot_fuzz_vm KERNEL INITRAMFS LOGDIR TIMEOUT_SECONDS: boot_vm's machine
# and command line, but an oops ends the executor, not the kernel (the
# fuzzer must see the report to save its program).
boot_fuzz_vm() {
	run_qemu qemu-system-x86_64 "$4" "$3" 2G -kernel "$1" -initrd "$2" \
		-append "${VM_CMDLINE/ oops=panic/}"
}

# Instrumented basic blocks of a module: its calls to KCOV's hook.
kcov_sites() {
	objdump -dr "$1" 2>/dev/null | grep -c 'R_X86_64_PLT32[[:space:]]*__sanitizer_cov_trace_pc' || true
}

# The RESULT lines tests/fuzz/vm-init reports: kcov_present and the
# load and unload of three modules; the planted-bug phase adds its own
# loads and unloads, the saved reproducer and its replay.
FUZZ_VM_CHECKS=7
FUZZ_VM_PLANT_CHECKS=8

# prepare_fuzz_vm LABEL SECONDS OPS PLANT(y|n) [PLANT_SECONDS]: everything
# the fuzzer's VM needs from the host: the fuzzer, the modules (the debug
# phase's when it built them), the planted-bug build, the initramfs.
prepare_fuzz_vm() {
	local label=$1 secs=$2 ops=$3 plant=$4 plant_secs=${5:-900} ktree mods
	ktree=$(debug_kernel_tree) || { record FAIL "$label:debug_kernel"; return 1; }
	build_fuzzer || return 1
	if [ -f "$(build_dir debug)/vmci/vmci.ko" ]; then
		# The debug phase's modules (KCOV too; their KUnit suites run at load).
		mods=$(build_dir debug)
	else
		build_debug_modules "$label" "$ktree" || return 1
		mods=$(build_dir "$label")
	fi
	if [ "$plant" = y ]; then
		build_debug_modules "$label-plant" "$ktree" VMCI_FUZZ_PLANT=y || return 1
		cp "$(build_dir "$label-plant")/vmci/vmci.ko" "$OUT_DIR/user-bin/vmci-plant.ko"
		cp "$(build_dir "$label-plant")/vsock/vmsock.ko" "$OUT_DIR/user-bin/vmsock-plant.ko"
	fi
	mkdir -p "$OUT_DIR/intree-none"
	sed -e "s/@SECS@/$secs/" -e "s/@OPS@/$ops/" -e "s/@PLANT@/$plant/" \
		-e "s/@PLANT_SECS@/$plant_secs/" "$TESTS_DIR/fuzz/vm-init" >"$OUT_DIR/fuzz-init-$label"
	# sed writes a plain file; the kernel runs /init only if it is executable (EACCES).
	chmod 0755 "$OUT_DIR/fuzz-init-$label"
	make_initramfs "$OUT_DIR/initrd-$label.gz" "$label" "$mods" "$OUT_DIR/intree-none" n n \
		"$OUT_DIR/fuzz-init-$label"
	rm -f "$OUT_DIR/user-bin/"*-plant.ko
	echo "$mods" >"$OUT_DIR/fuzz-mods-$label"
}

# kcov_function_sites MODULE.ko: "NAME SITES" per instrumented function.
kcov_function_sites() {
	objdump -dr "$1" 2>/dev/null | awk '
		/^[0-9a-f]+ <.*>:$/ { fn = $2; gsub(/[<>:]/, "", fn) }
		/R_X86_64_PLT32[ \t]+__sanitizer_cov_trace_pc/ { n[fn]++ }
		END { for (f in n) print f, n[f] }'
}

# fuzz_functions REPORT MODS PHASE OUT: blocks reached of each function
# of our modules against its instrumented blocks, "module function
# reached sites", the functions never reached first; prints one line of
# totals.
fuzz_functions() {
	local report=$1 mods=$2 phase=$3 out=$4 mod ko
	{
		for mod in vmci vmsock; do
			ko=$mods/vmci/vmci.ko
			[ "$mod" = vmsock ] && ko=$mods/vsock/vmsock.ko
			kcov_function_sites "$ko" | sed "s/^/SITES $mod /"
		done
		sed -n "s/^FUZZFUNC $phase /REACHED /p" "$report"
	} | awk '
		$1 == "SITES" { sites[$2 " " $3] = $4 }
		$1 == "REACHED" { reached[$2 " " $3] = $4 }
		END {
			for (k in sites) {
				split(k, p, " ")
				total[p[1]]++
				if (k in reached) hit[p[1]]++
				printf "%s %d %d\n", k, reached[k] + 0, sites[k] | "sort -k3,3n -k1,1 -k2,2 >'"$out"'"
			}
			printf "functions reached: vmci %d of %d, vmsock %d of %d (never reached: %s)\n",
				hit["vmci"], total["vmci"], hit["vmsock"], total["vmsock"], "'"$out"'"
		}'
}

# run_fuzz_vm LABEL SECONDS OPS PLANT(y|n) [PLANT_SECONDS]: prepare_fuzz_vm,
# then fuzz_vm.
run_fuzz_vm() {
	prepare_fuzz_vm "$@" && fuzz_vm "$@"
}

# fuzz_vm LABEL SECONDS OPS PLANT(y|n) [PLANT_SECONDS]: boots the debug
# kernel with the fuzzer on our modules for SECONDS or OPS operations (0:
# no limit); passes when nothing was reported, the kernel log and kmemleak
# are clean, the modules unload and the VM reported every check it
# declares. PLANT=y adds a second phase on modules built with the planted
# bug (VMCI_FUZZ_PLANT=y), for at most PLANT_SECONDS (default 900), which
# passes when the planted bug was reported, saved, minimised and replayed;
# the clean checks then read only the log before it. Figures go to
# OUT_DIR/fuzz-LABEL.txt, reproducers to OUT_DIR/fuzz-LABEL/. A VM job:
# prepare_fuzz_vm made its inputs.
fuzz_vm() {
	local label=$1 secs=$2 ops=$3 plant=$4 plant_secs=${5:-900} ktree mods logdir report
	local summary limit=$(($2 + 600)) want=$FUZZ_VM_CHECKS got
	ktree=$(debug_kernel_tree) || { record FAIL "$label:debug_kernel"; return 1; }
	mods=$(cat "$OUT_DIR/fuzz-mods-$label")
	if [ "$plant" = y ]; then
		limit=$((limit + plant_secs))
		want=$((want + FUZZ_VM_PLANT_CHECKS))
	fi
	logdir=$OUT_DIR/vm-$label
	say "booting the debug kernel with the fuzzer ($label: ${secs}s or $ops ops, plant $plant)"
	boot_fuzz_vm "$ktree/arch/x86/boot/bzImage" "$OUT_DIR/initrd-$label.gz" "$logdir" "$limit"
	tr -d '\r' <"$logdir/report.log" >"$logdir/report.log.clean"
	report=$logdir/report.log.clean

	# Reproducers, one file each, as the VM saved them.
	rm -rf "$OUT_DIR/fuzz-$label"
	mkdir -p "$OUT_DIR/fuzz-$label"
	awk -v dir="$OUT_DIR/fuzz-$label" '/^FUZZFILE / {
		f = dir "/" $2; sub(/^FUZZFILE [^ ]* /, ""); print > f }' "$report"

	summary=$(sed -n 's/^FUZZ fuzz FUZZ-SUMMARY //p' "$report" | tail -n 1)
	{
		echo "$label: $summary"
		[ "$plant" = y ] && echo "$label planted-bug phase:" \
			"$(sed -n 's/^FUZZ plant FUZZ-SUMMARY //p' "$report" | tail -n 1)"
		echo "instrumented blocks: vmci $(kcov_sites "$mods/vmci/vmci.ko")," \
			"vmsock $(kcov_sites "$mods/vsock/vmsock.ko")"
		fuzz_functions "$report" "$mods" fuzz "$OUT_DIR/fuzz-$label-functions.txt"
		grep -E '^FUZZ [a-z]+ (REPORT|REPRO)' "$report" | sed 's/^FUZZ /  /'
	} >"$OUT_DIR/fuzz-$label.txt"
	sed 's/^/  /' "$OUT_DIR/fuzz-$label.txt"
	if [ -n "$summary" ] && ! printf '%s' "$summary" | grep -q ' ops=0 '; then
		record PASS "$label:fuzzer_ran" "$summary"
	else
		record FAIL "$label:fuzzer_ran" "no FUZZ-SUMMARY (see $logdir/console.log)"
	fi
	got=$(grep -c '^RESULT ' "$report" || true)
	if [ "$got" -eq "$want" ]; then
		record PASS "$label:plan" "$want checks"
	else
		record FAIL "$label:plan" "the VM declares $want checks and reported $got"
	fi
	if grep -q '^FUZZ fuzz REPORT' "$report"; then
		record FAIL "$label:no_reports" "$(grep -m1 '^FUZZ fuzz REPORT' "$report" | cut -c1-200)"
	else
		record PASS "$label:no_reports"
	fi

	if [ "$plant" != y ]; then
		check_vm_report "$label" "$logdir" n y
		return 0
	fi
	# The clean checks see the kernel log up to the planted-bug phase.
	mkdir -p "$logdir/clean"
	awk '/^DMESG .*fuzz: planted-bug phase/ { cut = 1 } /^DMESG / && cut { next } { print }' \
		"$report" >"$logdir/clean/report.log"
	awk '/=== fuzz: planted-bug phase/ { exit } { print }' "$logdir/console.log" \
		>"$logdir/clean/console.log"
	check_vm_report "$label" "$logdir/clean" n y
	if grep -qE '^FUZZ plant REPORT .*(planted fuzz bug|fuzz_plant\.h)' "$report" &&
		grep -q '^FUZZ plant REPRO .*min.prog' "$report"; then
		record PASS "$label:finds_planted_bug" \
			"$(grep -m1 '^FUZZ plant FUZZ-SUMMARY' "$report" | grep -o 'secs=[0-9]* execs=[0-9]* ops=[0-9]*')"
	else
		record FAIL "$label:finds_planted_bug" "no minimised report of the planted bug"
	fi
}
