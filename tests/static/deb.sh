#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make deb` in a scratch copy of the tree: the package builds, lintian has
# nothing to say beyond debian/*.lintian-overrides, and it carries what a
# user needs (sources with dkms.conf, header, manual pages, the module
# policy, udev rule) plus maintainer scripts that run DKMS.
# Usage: deb.sh WORKDIR. Prints PASS/FAIL lines; exits non-zero on failure.
#
# Copyright (C) 2026 The vmci-vmsock authors
set -u

REPO_DIR=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${1:?usage: deb.sh WORKDIR}
failures=0

report() { # report NAME OK [detail]
	if [ "$2" = 0 ]; then
		echo "PASS deb:$1"
	else
		echo "FAIL deb:$1${3:+ # $3}"
		failures=$((failures + 1))
	fi
}

rm -rf "$WORK"
mkdir -p "$WORK/src"
rsync -a --exclude tests/out --exclude .git "$REPO_DIR/" "$WORK/src/"
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$REPO_DIR/dkms.conf")
(cd "$WORK/src" && make deb) >"$WORK/build.log" 2>&1
deb=$WORK/vmci-vmsock-dkms_${version}_all.deb
[ -f "$deb" ]
report build $? "log: $WORK/build.log"
[ -f "$deb" ] || exit 1

out=$(lintian "$deb" 2>&1 | grep -v 'running with root privileges')
[ -z "$out" ]
report lintian $? "$(echo "$out" | head -n 1)"

dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$WORK/contents"
for f in /usr/src/vmci-vmsock-$version/dkms.conf /usr/src/vmci-vmsock-$version/Makefile \
	/usr/src/vmci-vmsock-$version/vmci/Kbuild /usr/src/vmci-vmsock-$version/vsock/Kbuild \
	/usr/include/vmci/vmci_sockets.h /usr/share/man/man4/vmci.4.gz \
	/usr/share/man/man7/vmsock.7.gz /usr/share/man/man3/vmci_sockets.3.gz \
	/lib/modprobe.d/vmci-vmsock-policy.conf /lib/modprobe.d/vmsock.conf \
	/usr/lib/modules-load.d/vmci-vmsock.conf /lib/udev/rules.d/60-vmsock.rules; do
	grep -qxF "$f" "$WORK/contents"
	report "has:$f" $?
done
# vmsockstat(8) is its own architecture-dependent package.
tooldeb=$(ls "$WORK"/vmsockstat_"${version}"_*.deb 2>/dev/null | head -n 1)
[ -n "$tooldeb" ]
report build:vmsockstat $? "no vmsockstat_${version}_*.deb"
if [ -n "$tooldeb" ]; then
	out=$(lintian "$tooldeb" 2>&1 | grep -v 'running with root privileges')
	[ -z "$out" ]
	report lintian:vmsockstat $? "$(echo "$out" | head -n 1)"
	dpkg-deb -c "$tooldeb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$WORK/tool-contents"
	for f in /usr/sbin/vmsockstat /usr/share/man/man8/vmsockstat.8.gz; do
		grep -qxF "$f" "$WORK/tool-contents"
		report "has:$f" $?
	done
fi
# Build products of a developer's tree must not ride along.
bad=$(grep -E '\.(o|ko|cmd|mod|gcda|gcno)$' "$WORK/contents" | head -n 1)
[ -z "$bad" ]
report no-build-products $? "$bad"

dpkg-deb -e "$deb" "$WORK/control"
grep -q 'dkms' "$WORK/control/postinst" 2>/dev/null
report postinst-dkms $?
grep -q 'dkms' "$WORK/control/prerm" 2>/dev/null
report prerm-dkms $?
[ "$failures" -eq 0 ]
