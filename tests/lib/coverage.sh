# gcov line coverage of our modules from the VMs that run them
# instrumented (build_debug_modules); tests/vm/gcov-dump is the VM side.
# shellcheck shell=bash

# record_coverage LABEL REPORT BUILD_DIR SUMMARY_FILE [KEEP_DIR]
# The VM names each .gcda by the absolute path of the object it belongs
# to, which is our build directory on this machine: put it back there and
# let gcov summarise line coverage per source file. Without a .gcda gcov
# still prints 0% for the file, so the count of files that came back is
# what decides. KEEP_DIR gets a copy of the .gcda files for merge_coverage.
# VM jobs that share a build directory (the two debug guest-model VMs)
# take turns: each clears the directory's .gcda files and puts its own
# there, and two at once deleted each other's halfway (CI, 2026-12-03:
# "22 .gcda files came back from the VM, 28 not decodable").
record_coverage() {
	mkdir -p "$3"
	(
		flock 9 || exit 1
		record_coverage_locked "$@"
	) 9>"$3/.coverage.lock"
}

record_coverage_locked() {
	local label=$1 report=$2 build=$3 summary=$4 keep=${5:-} f restored=0 broken=0
	find "$build" \( -name '*.gcda' -o -name '*.gcda.b64' \) -delete
	awk -v root="$build" '
		/^GCDA / { file = (index($2, root) == 1) ? $2 ".b64" : ""; next }
		/^B64 / && file { sub(/^B64 /, ""); print > file }
	' "$report"
	while read -r f; do
		if base64 -d "$f" >"${f%.b64}" 2>/dev/null; then
			restored=$((restored + 1))
		else
			broken=$((broken + 1))
			rm -f "${f%.b64}"
		fi
		rm -f "$f"
	done < <(find "$build" -name '*.gcda.b64')
	if [ "$restored" -eq 0 ] || [ "$broken" -ne 0 ]; then
		record FAIL "$label:gcov_collected" \
			"$restored .gcda files came back from the VM, $broken not decodable"
		return 0
	fi
	[ -n "$keep" ] && keep_gcda "$build" "$keep"
	if ! coverage_summary "$build" >"$summary" || [ ! -s "$summary" ]; then
		record FAIL "$label:gcov_collected" "gcov printed nothing for $restored .gcda files"
		return 0
	fi
	record PASS "$label:gcov_collected" "$restored .gcda files"
	say "gcov line coverage ($label):"
	cat "$summary"
}

# keep_gcda BUILD_DIR DEST: BUILD_DIR's .gcda files, same relative paths.
keep_gcda() {
	rm -rf "$2"
	rsync -am --include='*/' --include='*.gcda' --exclude='*' "$1/" "$2/"
}

# merge_coverage LABEL BUILD_DIR SUMMARY_FILE KEPT_DIR...: coverage of
# several VMs that ran the same build (gcov-tool sums their counters),
# for code no single VM reaches, such as both datagram paths of the PCI
# driver. Needs two or more KEPT_DIRs; a VM whose data did not come back
# has already failed its gcov_collected.
merge_coverage() {
	local label=$1 build=$2 summary=$3 dir merged next kept=() err=
	shift 3
	for dir in "$@"; do
		[ -d "$dir" ] && kept+=("$dir")
	done
	[ "${#kept[@]}" -ge 2 ] || return 0
	merged=$(mktemp -d)
	next=$(mktemp -d)
	rsync -a "${kept[0]}/" "$merged/"
	# gcov-tool skips a file it cannot read with a message and exit 0.
	for dir in "${kept[@]:1}"; do
		if ! err=$(gcov-tool merge -o "$next" "$merged" "$dir" 2>&1) || [ -n "$err" ]; then
			err="gcov-tool merge $dir: ${err:-failed}"
			break
		fi
		rsync -a --delete "$next/" "$merged/"
	done
	find "$build" -name '*.gcda' -delete
	[ -z "$err" ] && rsync -a "$merged/" "$build/"
	rm -rf "$merged" "$next"
	if [ -n "$err" ] || ! coverage_summary "$build" >"$summary" || [ ! -s "$summary" ]; then
		record FAIL "$label:gcov_merged" "$(printf '%s' "${err:-gcov printed nothing}" | head -n 1)"
		return 0
	fi
	record PASS "$label:gcov_merged" "${#kept[@]} VMs"
	say "gcov line coverage ($label, ${#kept[@]} VMs together):"
	cat "$summary"
}

# coverage_summary BUILD_DIR: gcov's line coverage of every source file
# BUILD_DIR compiled (0% where no .gcda is in place), then totals per
# module and over vmci/guest_*.c. Fails when gcov does.
coverage_summary() {
	local build=$1 dir f srcs
	for dir in vmci vsock; do
		srcs=()
		# Only what this build compiled: gcov fails on a source without
		# notes, such as a KUnit file outside VMCI_KUNIT=y.
		for f in "$build/$dir"/*.c; do
			[ -f "${f%.c}.gcno" ] && srcs+=("${f##*/}")
		done
		(cd "$build/$dir" && gcov -n -o . "${srcs[@]}" 2>/dev/null) |
			awk -v root="$build/" '
				function total(name, h, n, what) {
					if (n) printf "  %-28s %6.2f%% of %d lines%s\n", name, 100 * h / n, n, what
				}
				# gcc 16 (sid) names our files relative to the build
				# directory, as newer kbuild passes them; older ones absolute.
				/^File / {
					f = substr($2, 2, length($2) - 2)
					if (substr(f, 1, 1) != "/") f = root f
					next
				}
				/^Lines executed:/ && index(f, root) == 1 {
					split(substr($2, 10), p, "%"); n = $4; h = int(p[1] * n / 100 + 0.5)
					rel = substr(f, length(root) + 1)
					printf "  %-28s %6.2f%% of %d lines\n", rel, p[1], n
					if (rel !~ /_kunit\.c$/ && rel !~ /^include\//) {
						split(rel, d, "/"); hit[d[1]] += h; all[d[1]] += n
						# The PCI driver, the part only a VM with the device runs.
						if (rel ~ /^vmci\/guest_[a-z_]*\.c$/) { ghit += h; gall += n }
					}
					f = ""
				}
				END {
					for (m in all) total(m "/ total", hit[m], all[m], " (excluding KUnit files)")
					total("vmci/guest_*.c total", ghit, gall, "")
				}'
	done
}
