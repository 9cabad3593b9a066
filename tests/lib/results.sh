# Result bookkeeping: every check of the suite lands here, once.
# shellcheck shell=bash

RESULTS_FILE=

# VMS_BOOTED_FILE: one line per VM booted (boot_vm), beside the results,
# wherever a job has moved its own OUT_DIR.
results_init() {
	mkdir -p "$OUT_DIR"
	RESULTS_FILE=$OUT_DIR/results.txt
	VMS_BOOTED_FILE=$OUT_DIR/vms-booted
	: >"$RESULTS_FILE"
}

# record PASS|FAIL|SKIP name [detail]
record() {
	local status=$1 name=$2 detail=${3:-}
	printf '%s %s%s\n' "$status" "$name" "${detail:+ # $detail}" >>"$RESULTS_FILE"
	printf '[%s] %s%s\n' "$status" "$name" "${detail:+ # $detail}"
}

results_count() {
	grep -c "^$1 " "$RESULTS_FILE" || true
}

# The number of different checks: a check every VM runs counts once, so
# the VM's label (the part before the first ":" when it names a booted VM,
# whose log directory is vm-<label>) is left out of the name.
results_distinct() {
	local vms
	vms=$(sed 's|.*/vm-||' "$VMS_BOOTED_FILE" 2>/dev/null)
	awk -v vms="$vms" 'BEGIN { n = split(vms, l, "\n"); for (i = 1; i <= n; i++) vm[l[i]] = 1 }
		{ name = $2; i = index(name, ":")
		  if (i && (substr(name, 1, i - 1) in vm)) name = substr(name, i + 1)
		  print name }' "$RESULTS_FILE" | sort -u | wc -l
}

# Prints the closing line and returns non-zero when anything failed or
# nothing ran at all.
results_summary() {
	local passed failed skipped
	passed=$(results_count PASS)
	failed=$(results_count FAIL)
	skipped=$(results_count SKIP)
	if [ "$failed" -gt 0 ]; then
		echo "Failed checks:"
		grep '^FAIL ' "$RESULTS_FILE" | sed 's/^/  /'
	fi
	echo "$(results_distinct) distinct checks," \
		"$(cat "$VMS_BOOTED_FILE" 2>/dev/null | wc -l) VMs booted"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}
