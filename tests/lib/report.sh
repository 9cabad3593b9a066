# Turns a VM's report (second serial port) and console into results.
# shellcheck shell=bash

# What must never appear in a kernel log of a passing run.
KERNEL_REPORT_PATTERN='WARNING:|BUG:|BUG |KASAN|UBSAN|general protection|Oops|Call Trace|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU|sleeping function called from invalid context|unreferenced object|Kernel panic|kernel BUG|refcount_t:|list_add corruption|list_del corruption|stack-protector|segfault at'

# KUnit suites our sources declare; each must report on a KUnit kernel.
expected_kunit_suites() {
	grep -ho '\.name = "[a-z0-9_]*"' "$REPO_DIR"/vmci/*_kunit.c "$REPO_DIR"/vsock/*_kunit.c 2>/dev/null |
		sed 's/.*"\(.*\)"/\1/' | sort -u
}

# KTAP from /sys/kernel/debug/kunit/<suite>/results: one result per case.
record_kunit() {
	local label=$1 report=$2 suite
	awk '
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
			if (depth == 2) print status, name[1] "." name[2] "/" line
			else if (depth == 1 && !params) print status, name[1] "." line
			else if (depth == 1) params = 0
		}
	' "$report" >"$report.kunit"
	while read -r status name; do
		record "$status" "$label:kunit:$name"
	done <"$report.kunit"
	for suite in $(expected_kunit_suites); do
		grep -q " $suite\." "$report.kunit" ||
			record FAIL "$label:kunit:$suite" "suite did not report"
	done
}

# check_vm_report LABEL LOGDIR [KUNIT y|n]
check_vm_report() {
	local label=$1 logdir=$2 kunit=${3:-n}
	local report=$logdir/report.log console=$logdir/console.log hits
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

	hits=$( { grep -h '^DMESG ' "$report"; cat "$console"; } |
		grep -E "$KERNEL_REPORT_PATTERN" | grep -v 'kmemleak: Kernel memory leak detector' | head -n 5)
	if [ -z "$hits" ]; then
		record PASS "$label:kernel_log_clean"
	else
		record FAIL "$label:kernel_log_clean" "$(echo "$hits" | head -n 1)"
		echo "$hits" | sed 's/^/    /'
	fi
	if grep -q '^KMEMLEAK ' "$report" || [ "$kunit" = y ]; then
		if grep -q '^KMEMLEAK unreferenced object' "$report"; then
			record FAIL "$label:kmemleak_clean" "$(grep -c '^KMEMLEAK unreferenced object' "$report") leaks"
		else
			record PASS "$label:kmemleak_clean"
		fi
	fi
}
