# Result bookkeeping: every check of the suite lands here, once.
# shellcheck shell=bash

RESULTS_FILE=

results_init() {
	mkdir -p "$OUT_DIR"
	RESULTS_FILE=$OUT_DIR/results.txt
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
	echo "$(awk '{ print $2 }' "$RESULTS_FILE" | sort -u | wc -l) distinct checks," \
		"$(cat "$OUT_DIR/vms-booted" 2>/dev/null | wc -l) VMs booted"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}
