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

# boot_fuzz_vm KERNEL INITRAMFS LOGDIR TIMEOUT_SECONDS: boot_vm's machine,
# but an oops ends the executor, not the kernel (the fuzzer must see the
# report to save its program) and KASAN reports every time, not once (a
# reproducer is replayed).
boot_fuzz_vm() {
	local kernel=$1 initrd=$2 logdir=$3 limit=$4 rc
	mkdir -p "$logdir"
	: >"$logdir/report.log"
	timeout --foreground "$limit" qemu-system-x86_64 \
		-machine pc -cpu max -smp 2 -m 2G -no-reboot -display none \
		-monitor none -net none \
		-kernel "$kernel" -initrd "$initrd" \
		-append "console=ttyS0 quiet loglevel=4 panic=-1 no_timer_check kasan.fault=report kasan_multi_shot watchdog_thresh=60 rcupdate.rcu_cpu_stall_timeout=300" \
		-serial stdio -serial "file:$logdir/report.log" </dev/null |
		tee "$logdir/console.log" | grep --line-buffered -E '^(fuzz:|FUZZ|REPORT|REPRO|\[)' |
		sed -u 's/^/  vm| /'
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 124 ] && say "VM timed out after ${limit}s"
	return 0
}

# Instrumented basic blocks of a module: its calls to KCOV's hook.
kcov_sites() {
	objdump -dr "$1" 2>/dev/null | grep -c 'R_X86_64_PLT32[[:space:]]*__sanitizer_cov_trace_pc' || true
}

# run_fuzz_vm LABEL SECONDS OPS PLANT(y|n): builds the modules (PLANT=y:
# with the planted bug), boots the debug kernel with the fuzzer for SECONDS
# or OPS operations (0: no limit), and records the outcome. PLANT=n passes
# when nothing was reported; PLANT=y when the planted bug was reported,
# saved, minimised and replayed. Figures go to OUT_DIR/fuzz-LABEL.txt and
# reproducers to OUT_DIR/fuzz-LABEL/.
run_fuzz_vm() {
	local label=$1 secs=$2 ops=$3 plant=$4 ktree mods logdir report summary
	ktree=$(debug_kernel_tree) || { record FAIL "$label:debug_kernel"; return 1; }
	build_fuzzer || return 1
	mods=$(build_dir "$label")
	if [ "$plant" = y ]; then
		build_debug_modules "$label" "$ktree" VMCI_FUZZ_PLANT=y || return 1
	elif [ -f "$(build_dir debug)/vmci/vmci.ko" ]; then
		# The debug phase's modules (KCOV too; their KUnit suites run at load).
		mods=$(build_dir debug)
	else
		build_debug_modules "$label" "$ktree" || return 1
	fi
	mkdir -p "$OUT_DIR/intree-none"
	sed -e "s/@SECS@/$secs/" -e "s/@OPS@/$ops/" -e "s/@PLANT@/$plant/" \
		"$TESTS_DIR/fuzz/vm-init" >"$OUT_DIR/fuzz-init-$label"
	make_initramfs "$OUT_DIR/initrd-$label.gz" "$label" "$mods" "$OUT_DIR/intree-none" n n \
		"$OUT_DIR/fuzz-init-$label"
	logdir=$OUT_DIR/vm-$label
	say "booting the debug kernel with the fuzzer ($label: ${secs}s or $ops ops)"
	boot_fuzz_vm "$ktree/arch/x86/boot/bzImage" "$OUT_DIR/initrd-$label.gz" "$logdir" \
		$((secs + 600))
	tr -d '\r' <"$logdir/report.log" >"$logdir/report.log.clean"
	report=$logdir/report.log.clean

	# Reproducers, one file each, as the VM saved them.
	rm -rf "$OUT_DIR/fuzz-$label"
	mkdir -p "$OUT_DIR/fuzz-$label"
	awk -v dir="$OUT_DIR/fuzz-$label" '/^FUZZFILE / {
		f = dir "/" $2; sub(/^FUZZFILE [^ ]* /, ""); print > f }' "$report"

	summary=$(sed -n 's/^FUZZ FUZZ-SUMMARY //p' "$report" | tail -n 1)
	{
		echo "$label: $summary"
		echo "instrumented blocks: vmci $(kcov_sites "$mods/vmci/vmci.ko")," \
			"vmsock $(kcov_sites "$mods/vsock/vmsock.ko")"
		grep -E '^FUZZ (REPORT|REPRO)' "$report" | sed 's/^FUZZ /  /'
	} >"$OUT_DIR/fuzz-$label.txt"
	sed 's/^/  /' "$OUT_DIR/fuzz-$label.txt"
	if [ -n "$summary" ] && ! printf '%s' "$summary" | grep -q 'ops=0 '; then
		record PASS "$label:fuzzer_ran" "$summary"
	else
		record FAIL "$label:fuzzer_ran" "no FUZZ-SUMMARY (see $logdir/console.log)"
	fi

	if [ "$plant" = y ]; then
		if grep -q '^END$' "$report"; then
			record PASS "$label:vm_completed"
		else
			record FAIL "$label:vm_completed" "no END marker"
		fi
		grep '^RESULT ' "$report" | while read -r _ status name rest; do
			record "$status" "$name" "${rest#\# }"
		done
		if grep -q '^FUZZ REPORT .*planted fuzz bug' "$report" &&
			grep -q '^FUZZ REPRO .*min.prog' "$report"; then
			record PASS "$label:finds_planted_bug"
		else
			record FAIL "$label:finds_planted_bug" "no minimised report of the planted bug"
		fi
		return 0
	fi
	check_vm_report "$label" "$logdir"
	if grep -q '^FUZZ REPORT' "$report"; then
		record FAIL "$label:no_reports" "$(grep -m1 '^FUZZ REPORT' "$report" | cut -c1-200)"
	else
		record PASS "$label:no_reports"
	fi
}
