# Turns a VM's report (second serial port) and console into results.
# shellcheck shell=bash

# What must never appear in a kernel log of a passing run.
KERNEL_REPORT_PATTERN='printk messages dropped|WARNING:|BUG:|BUG |KASAN|UBSAN|general protection|Oops|Call Trace|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU|sleeping function called from invalid context|unreferenced object|Kernel panic|kernel BUG|refcount_t:|list_add corruption|list_del corruption|stack-protector|segfault at'

# KUnit suites our sources declare; each must report on a KUnit kernel.
expected_kunit_suites() {
	grep -ho '\.name = "[a-z0-9_]*"' "$REPO_DIR"/vmci/*_kunit.c "$REPO_DIR"/vsock/*_kunit.c 2>/dev/null |
		sed 's/.*"\(.*\)"/\1/' | sort -u
}

# The loads of our modules in a KUnit VM (tests/vm/init), each running the
# suites again: every one must report every suite.
KUNIT_RUNS="load modprobe coexist"

# KTAP from /sys/kernel/debug/kunit/<suite>/results: one result per case,
# per load ("KTAP_RUN <load>" before each load's results). The first load's
# cases are LABEL:kunit:..., the others' LABEL:kunit_<load>:...
record_kunit() {
	local label=$1 report=$2 suite run status where name
	awk '
		/^KTAP_RUN / { run = $2; next }
		# Depth 1 is the suite, depth 2 a parameterised case: a case with
		# parameters reports each parameter and not its summary line.
		/^KTAP / {
			line = substr($0, 6)
			match(line, /^ */)
			depth = int(RLENGTH / 4)
			line = substr(line, RLENGTH + 1)
			if (line ~ /^# Subtest: /) {
				name[depth] = substr(line, 12)
				if (depth == 2) params = 1
				next
			}
			if (line !~ /^(not )?ok [0-9]+ /) next
			status = (line ~ /^not /) ? "FAIL" : "PASS"
			sub(/^(not )?ok [0-9]+ /, "", line)
			if (line ~ /# SKIP/) status = "SKIP"
			sub(/ *#.*$/, "", line)
			gsub(/[ \t]+/, "_", line)
			if (run == "") run = "none"
			if (depth == 2) print status, run, name[1] "." name[2] "/" line
			else if (depth == 1 && !params) print status, run, name[1] "." line
			else if (depth == 1) params = 0
		}
	' "$report" >"$report.kunit"
	while read -r status run name; do
		where=kunit_$run
		[ "$run" = load ] && where=kunit
		record "$status" "$label:$where:$name"
	done <"$report.kunit"
	for run in $KUNIT_RUNS; do
		where=kunit_$run
		[ "$run" = load ] && where=kunit
		for suite in $(expected_kunit_suites); do
			grep -q "^[A-Z]* $run $suite\." "$report.kunit" ||
				record FAIL "$label:$where:$suite" "suite did not report"
		done
	done
}

# kernel_report_hits FILE...: the kernel reports in FILEs, one per line.
# The one scanner of every VM's console and kernel log, and of the
# harness self-test, which proves it catches what it must.
kernel_report_hits() {
	cat "$@" | grep -E "$KERNEL_REPORT_PATTERN" |
		grep -v 'kmemleak: Kernel memory leak detector'
}

# kmemleak_leaks TAG REPORT: the number of leaks kmemleak_report (in
# tests/vm/vmlib) reported under TAG; fails, saying why, when the scan did
# not run to its end.
kmemleak_leaks() {
	local tag=$1 report=$2
	if grep -q "^$tag scan ok$" "$report"; then
		grep -c "^$tag unreferenced object" "$report" || true
	elif grep -q "^$tag absent$" "$report"; then
		echo "kmemleak expected but /sys/kernel/debug/kmemleak is not writable"
		return 1
	elif grep -q "^$tag scan failed$" "$report"; then
		echo "writing \"scan\" to /sys/kernel/debug/kmemleak failed"
		return 1
	else
		echo "no kmemleak scan reported (the VM ended before it?)"
		return 1
	fi
}

# The console up to the harness self-test (tests/vm/init's markers).
real_console() {
	tr -d '\r' <"$1" | sed '/^=== harness self-test:/,$d'
}

# check_vm_report LABEL LOGDIR [KUNIT y|n] [KMEMLEAK y|n]
# KMEMLEAK=y: the kernel has kmemleak, so its scan must have run.
check_vm_report() {
	local label=$1 logdir=$2 kunit=${3:-n} kmemleak=${4:-n}
	local report=$logdir/report.log console=$logdir/console.log hits leaks first
	tr -d '\r' <"$report" >"$report.clean"
	report=$report.clean

	if grep -q '^END$' "$report"; then
		record PASS "$label:vm_completed"
	else
		record FAIL "$label:vm_completed" "no END marker (crash or timeout; see $console)"
	fi
	grep '^RESULT ' "$report" | while read -r _ status name rest; do
		record "$status" "$name" "${rest#\# }"
	done
	[ "$kunit" = y ] && record_kunit "$label" "$report"

	# The kernel log dump must start at boot: a wrapped ring buffer would
	# have lost reports the console did not print.
	first=$(grep -m 1 '^DMESG ' "$report")
	if [[ "$first" == *"Linux version"* ]]; then
		record PASS "$label:kernel_log_complete"
	else
		record FAIL "$label:kernel_log_complete" "log dump starts with: ${first:-nothing}"
	fi
	hits=$(kernel_report_hits <(grep -h '^DMESG ' "$report") <(real_console "$console") |
		head -n 5)
	if [ -z "$hits" ]; then
		record PASS "$label:kernel_log_clean"
	else
		record FAIL "$label:kernel_log_clean" "$(echo "$hits" | head -n 1)"
		echo "$hits" | sed 's/^/    /'
	fi
	# A kernel without kmemleak (the stock ones) says "KMEMLEAK absent":
	# nothing to check there unless the caller expects kmemleak.
	if [ "$kmemleak" = y ] || grep '^KMEMLEAK ' "$report" | grep -qvx 'KMEMLEAK absent'; then
		if ! leaks=$(kmemleak_leaks KMEMLEAK "$report"); then
			record FAIL "$label:kmemleak_clean" "$leaks"
		elif [ "$leaks" -gt 0 ]; then
			record FAIL "$label:kmemleak_clean" "$leaks leaks"
		else
			record PASS "$label:kmemleak_clean"
		fi
	fi
}

# The faults tests/kmod/vmci_test_faults.c plants, each with what its
# report must contain.
SELFTEST_FAULTS=(
	"warn WARNING:.*vmci_test_faults"
	"kasan BUG: KASAN: slab-out-of-bounds"
	"lockdep possible circular locking dependency"
)

# check_selftest LABEL LOGDIR: the harness self-test at the end of the
# debug VM. Each planted fault must be found by the same scanner as the
# real run's, in the console section and in the kernel log of that fault
# alone; the leak by the kmemleak check, naming the module.
check_selftest() {
	local label=$1 logdir=$2 report console line fault want hits leaks slab page
	report=$logdir/report.log.clean
	console=$(tr -d '\r' <"$logdir/console.log")
	if grep -q '^SELFTEST_END$' "$report"; then
		record PASS "$label:selftest:completed"
	else
		record FAIL "$label:selftest:completed" "no SELFTEST_END (see $logdir/console.log)"
	fi
	for line in "${SELFTEST_FAULTS[@]}" "leak"; do
		read -r fault want <<<"$line"
		if grep -q "^SELFTEST_LOADED $fault$" "$report"; then
			record PASS "$label:selftest:${fault}_planted"
		else
			record FAIL "$label:selftest:${fault}_planted" "insmod vmci_test_faults.ko fault=$fault failed"
		fi
		[ "$fault" = leak ] && continue
		hits=$(kernel_report_hits <(echo "$console" |
			sed -n "/^=== harness self-test: $fault\$/,/^=== harness self-test:/p") |
			grep -E "$want")
		if [ -n "$hits" ]; then
			record PASS "$label:selftest:${fault}_on_console"
		else
			record FAIL "$label:selftest:${fault}_on_console" "the scanner found no \"$want\""
		fi
		hits=$(kernel_report_hits <(sed -n "s/^SELFTEST_DMESG $fault //p" "$report") |
			grep -E "$want")
		if [ -n "$hits" ]; then
			record PASS "$label:selftest:${fault}_in_kernel_log"
		else
			record FAIL "$label:selftest:${fault}_in_kernel_log" "the scanner found no \"$want\""
		fi
	done
	if ! leaks=$(kmemleak_leaks SELFTEST_KMEMLEAK "$report"); then
		record FAIL "$label:selftest:leak_reported" "$leaks"
		return
	fi
	read -r slab page <<<"$(selftest_leaks "$report")"
	# Either kind may hide, never both: slab buffers behind the
	# allocator's stale copies of their pointers on 7.x, page-backed ones
	# behind stale struct page words on 6.12 after the run has churned
	# slabs (tests/kmod/vmci_test_faults.c). One named buffer of the 16
	# proves the scanner reads kmemleak; both counts are for the record.
	if [ $((slab + page)) -gt 0 ]; then
		record PASS "$label:selftest:leak_reported" \
			"$page of 8 page-backed and $slab of 8 slab buffers named"
	else
		record FAIL "$label:selftest:leak_reported" \
			"$leaks leaks, none of the 16 planted by vmci_test_faults"
	fi
}

# selftest_leaks REPORT: "SLAB PAGE", how many of the planted slab and
# page-backed buffers kmemleak named: objects whose backtrace is in
# vmci_test_faults, told apart by size (slab objects are at most
# KMALLOC_MAX_CACHE_SIZE, 8 KiB on x86).
selftest_leaks() {
	awk '
		function close_object() {
			if (open && ours)
				(size > 8192) ? page++ : slab++
			open = 0
		}
		/^SELFTEST_KMEMLEAK unreferenced object / {
			close_object()
			size = $0
			sub(/.*\(size /, "", size)
			sub(/\).*/, "", size)
			size += 0
			open = 1
			ours = 0
			next
		}
		/^SELFTEST_KMEMLEAK / && /vmci_test_faults/ { ours = 1 }
		END { close_object(); print slab + 0, page + 0 }
	' "$1"
}
