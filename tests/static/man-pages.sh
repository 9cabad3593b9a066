#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The manual pages in man/: mandoc finds nothing to warn about, each page
# renders, and the example program in vmci_sockets(3) builds against our
# header exactly as printed. Prints PASS/FAIL lines; exits non-zero on any
# failure.
#
# Copyright (C) 2026 The vmci-vmsock authors
set -u

REPO_DIR=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/man-pages.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
failures=0

report() { # report NAME OK [detail]
	if [ "$2" = 0 ]; then
		echo "PASS man:$1"
	else
		echo "FAIL man:$1${3:+ # $3}"
		failures=$((failures + 1))
	fi
}

pages=("$REPO_DIR"/man/*.[1-9])
[ -e "${pages[0]}" ] || { echo "FAIL man:pages # no pages in man/"; exit 1; }
for page in "${pages[@]}"; do
	name=$(basename "$page")
	out=$(mandoc -Tlint -W warning "$page" 2>&1)
	report "lint:$name" "$([ -z "$out" ] && echo 0 || echo 1)" "$(echo "$out" | head -n 1)"
	mandoc -Thtml "$page" >"$TMP/$name.html" 2>/dev/null
	report "render:$name" "$(grep -q "id=\"SEE_ALSO\"" "$TMP/$name.html" && echo 0 || echo 1)"
done

# The EXAMPLES section between .nf and .fi, with the roff escapes undone.
sed -n '/^\.SH EXAMPLES/,/^\.SH/p' "$REPO_DIR/man/vmci_sockets.3" |
	sed -n '/^\.nf/,/^\.fi/p' | sed '1d;$d' |
	sed -e 's/\\-/-/g' -e 's/\\en/\\n/g' >"$TMP/example.c"
# The page names the header where the package installs it,
# <vmci/vmci_sockets.h>; lay the tree's copy out the same way, so the
# check never depends on whether another job installed the package first.
mkdir -p "$TMP/include/vmci"
ln -s "$REPO_DIR/include/uapi/vmci_sockets.h" "$TMP/include/vmci/vmci_sockets.h"
out=$(gcc -Wall -Wextra -Werror -I"$TMP/include" -o "$TMP/example" \
	-x c "$TMP/example.c" 2>&1)
report "example:vmci_sockets.3" "$([ -s "$TMP/example.c" ] && [ -z "$out" ] && echo 0 || echo 1)" \
	"$(echo "$out" | head -n 1)"
[ "$failures" -eq 0 ]
