#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Compile-only checks of include/uapi/vmci_sockets.h: programs written for
# VMware's header must build unchanged, warning-free, in every C/C++ dialect
# people still use, and next to <linux/vm_sockets.h> in either order.
#
# Copyright (C) 2026 The vmci-vmsock authors
set -u

REPO_DIR=$(cd "$(dirname "$0")/../.." && pwd)
HDR_DIR=$REPO_DIR/include/uapi
CC=${CC:-gcc}
CXX=${CXX:-g++}
WARN=(-Wall -Wextra -Werror)
# Warnings a careful user might enable; the header must not be the reason
# their build breaks.
STRICT_C=(-Wshadow -Wconversion -Wsign-conversion -Wstrict-prototypes
	  -Wmissing-prototypes -Wundef -Wcast-qual -Wredundant-decls
	  -Wold-style-definition)
STRICT_CXX=(-Wshadow -Wconversion -Wsign-conversion -Wundef -Wcast-qual
	    -Wold-style-cast -Wuseless-cast -Wzero-as-null-pointer-constant)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/uapi-header.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT

failures=0

# check NAME SOURCE COMPILER ARGS...: compile SOURCE (to an object, unless
# ARGS ask to link) and report.
check() {
	local name=$1 src=$2 out
	shift 2
	if out=$("$@" -I"$HDR_DIR" "$TMP/$src" -o "$TMP/$name.out" 2>&1); then
		echo "PASS uapi:$name"
	else
		echo "FAIL uapi:$name"
		printf '%s\n' "$out" | sed 's/^/    /'
		failures=$((failures + 1))
	fi
}

if [ ! -f "$HDR_DIR/vmci_sockets.h" ]; then
	echo "FAIL uapi:exists"
	echo "    $HDR_DIR/vmci_sockets.h not found"
	exit 1
fi

# Touches every name so that a broken macro body fails to compile too.
# Written in C89 so one file serves every dialect.
cat >"$TMP/api.c" <<'EOF'
#include <string.h>
#include "vmci_sockets.h"

#ifdef __cplusplus
#define CAST(type, x) static_cast<type>(x)
#else
#define CAST(type, x) ((type)(x))
#endif

int main(void)
{
	unsigned long v[32];
	struct uuid_2_cid u2c;
	struct sockaddr_vm addr;
	unsigned int version;
	int fd = -1;
	int af;

	memset(&addr, 0, sizeof(addr));
	v[0] = VMADDR_CID_ANY;
	v[1] = VMADDR_PORT_ANY;
	v[2] = VMADDR_CID_HYPERVISOR;
	v[3] = VMADDR_CID_LOCAL;
	v[4] = VMADDR_CID_HOST;
	v[5] = SO_VMCI_BUFFER_SIZE;
	v[6] = SO_VMCI_BUFFER_MIN_SIZE;
	v[7] = SO_VMCI_BUFFER_MAX_SIZE;
	v[8] = SO_VMCI_PEER_HOST_VM_ID;
	v[9] = SO_VMCI_SERVICE_LABEL;
	v[10] = SO_VMCI_TRUSTED;
	v[11] = SO_VMCI_CONNECT_TIMEOUT;
	v[12] = SO_VMCI_NONBLOCK_TXRX;
	v[13] = VMCI_SOCKETS_INVALID_VERSION;
	v[14] = VMCI_SOCKETS_VERSION;
	v[15] = VMCI_SOCKETS_GET_AF_VALUE;
	v[16] = VMCI_SOCKETS_GET_LOCAL_CID;

	version = VMCISock_Version();
	v[17] = VMCI_SOCKETS_VERSION_EPOCH(version);
	v[18] = VMCI_SOCKETS_VERSION_MAJOR(version);
	v[19] = VMCI_SOCKETS_VERSION_MINOR(version);
	v[20] = VMCISock_GetLocalCID();
	v[21] = VMCISock_Uuid2ContextId("00 11 22 33 44 55 66 77-88 99 aa bb cc dd ee ff");
	v[22] = VMADDR_CID_RESERVED;
	v[23] = SO_VMCI_DISCONNECT_CAUSE;
	v[24] = VMCI_SOCKETS_DISCONNECT_REGULAR;
	v[25] = VMCI_SOCKETS_DISCONNECT_VMOTION;
	v[26] = SO_VMCI_PEER_LIMIT_RATE;
	v[27] = SO_VMCI_PEER_PRIV_LIMIT;
	v[28] = SO_VMCI_PEER_LIMIT_PRIV;
	v[29] = SO_VMCI_PEER_BURST_LEVEL;
	v[30] = VMCI_SOCKETS_UUID_2_CID;
	memset(&u2c, 0, sizeof(u2c));
	v[31] = u2c.u2c_context_id + u2c.u2c_pad + CAST(unsigned char, u2c.u2c_uuid_string[0]);

	af = VMCISock_GetAFValueFd(&fd);
	addr.svm_family = CAST(sa_family_t, af);
	addr.svm_cid = VMADDR_CID_ANY;
	addr.svm_port = VMADDR_PORT_ANY;
	VMCISock_ReleaseAFValueFd(fd);
	af = VMCISock_GetAFValue();

	return CAST(int, v[0] + v[21] + v[31] + addr.svm_cid) + af;
}
EOF

# The header must not mind being compiled without any of its functions used.
cat >"$TMP/empty.c" <<'EOF'
#include <string.h>
#include "vmci_sockets.h"

int main(void)
{
	return 0;
}
EOF

# Mixing both APIs: upstream names and ours, one struct.
for order in first last; do
	{
		echo '#include <string.h>'
		[ "$order" = first ] && echo '#include <linux/vm_sockets.h>'
		echo '#include "vmci_sockets.h"'
		[ "$order" = last ] && echo '#include <linux/vm_sockets.h>'
		cat <<'EOF'

int main(void)
{
	struct sockaddr_vm addr;
	int af = VMCISock_GetAFValue();

	memset(&addr, 0, sizeof(addr));
	addr.svm_family = AF_VSOCK;
	addr.svm_cid = VMADDR_CID_HOST;
	addr.svm_port = VMADDR_PORT_ANY;
	return af + SO_VM_SOCKETS_TRUSTED + SO_VMCI_TRUSTED +
	       (int)IOCTL_VM_SOCKETS_GET_LOCAL_CID + (int)addr.svm_cid;
}
EOF
	} >"$TMP/linux-$order.c"
done

# Only the fallback definitions may come with upstream's header first.
cat >"$TMP/standalone-linux-first.c" <<'EOF'
#include <linux/vm_sockets.h>
#include <string.h>
#include "vmci_sockets.h"

int main(void)
{
	struct sockaddr_vm addr;

	memset(&addr, 0, sizeof(addr));
	addr.svm_cid = VMADDR_CID_LOCAL;
	return (int)addr.svm_cid + SO_VM_SOCKETS_BUFFER_SIZE;
}
EOF

# ABI values and layout, checked by the compiler itself (C89 has no
# static_assert: a negative array size is the error).
cat >"$TMP/abi.c" <<'EOF'
#include <stddef.h>
#include <string.h>
#include "vmci_sockets.h"

#define ABI_ASSERT(name, cond) typedef char abi_##name[(cond) ? 1 : -1]

ABI_ASSERT(size, sizeof(struct sockaddr_vm) == 16);
ABI_ASSERT(family, offsetof(struct sockaddr_vm, svm_family) == 0);
ABI_ASSERT(family_size, sizeof(((struct sockaddr_vm *)0)->svm_family) == 2);
ABI_ASSERT(reserved1, offsetof(struct sockaddr_vm, svm_reserved1) == 2);
ABI_ASSERT(port, offsetof(struct sockaddr_vm, svm_port) == 4);
ABI_ASSERT(port_size, sizeof(((struct sockaddr_vm *)0)->svm_port) == 4);
ABI_ASSERT(cid, offsetof(struct sockaddr_vm, svm_cid) == 8);
ABI_ASSERT(cid_size, sizeof(((struct sockaddr_vm *)0)->svm_cid) == 4);

ABI_ASSERT(cid_any, VMADDR_CID_ANY == 0xFFFFFFFFU);
ABI_ASSERT(port_any, VMADDR_PORT_ANY == 0xFFFFFFFFU);
ABI_ASSERT(cid_hypervisor, VMADDR_CID_HYPERVISOR == 0);
ABI_ASSERT(cid_local, VMADDR_CID_LOCAL == 1);
ABI_ASSERT(cid_host, VMADDR_CID_HOST == 2);
ABI_ASSERT(opt_size, SO_VMCI_BUFFER_SIZE == 0);
ABI_ASSERT(opt_min, SO_VMCI_BUFFER_MIN_SIZE == 1);
ABI_ASSERT(opt_max, SO_VMCI_BUFFER_MAX_SIZE == 2);
ABI_ASSERT(opt_vmid, SO_VMCI_PEER_HOST_VM_ID == 3);
ABI_ASSERT(opt_label, SO_VMCI_SERVICE_LABEL == 4);
ABI_ASSERT(opt_trusted, SO_VMCI_TRUSTED == 5);
ABI_ASSERT(opt_timeout, SO_VMCI_CONNECT_TIMEOUT == 6);
ABI_ASSERT(opt_nonblock, SO_VMCI_NONBLOCK_TXRX == 7);
ABI_ASSERT(ioc_version, VMCI_SOCKETS_VERSION == 1972);
ABI_ASSERT(ioc_af, VMCI_SOCKETS_GET_AF_VALUE == 1976);
ABI_ASSERT(ioc_cid, VMCI_SOCKETS_GET_LOCAL_CID == 1977);
ABI_ASSERT(ioc_uuid, VMCI_SOCKETS_UUID_2_CID == 1991);
ABI_ASSERT(cid_reserved, VMADDR_CID_RESERVED == 1);
ABI_ASSERT(opt_cause, SO_VMCI_DISCONNECT_CAUSE == 8);
ABI_ASSERT(cause_regular, VMCI_SOCKETS_DISCONNECT_REGULAR == 0);
ABI_ASSERT(cause_vmotion, VMCI_SOCKETS_DISCONNECT_VMOTION == 1);
ABI_ASSERT(opt_rate, SO_VMCI_PEER_LIMIT_RATE == 9);
ABI_ASSERT(opt_priv, SO_VMCI_PEER_PRIV_LIMIT == 10);
ABI_ASSERT(opt_priv_doc, SO_VMCI_PEER_LIMIT_PRIV == 10);
ABI_ASSERT(opt_burst, SO_VMCI_PEER_BURST_LEVEL == 11);
ABI_ASSERT(u2c_size, sizeof(struct uuid_2_cid) == 136);
ABI_ASSERT(u2c_cid, offsetof(struct uuid_2_cid, u2c_context_id) == 0);
ABI_ASSERT(u2c_pad, offsetof(struct uuid_2_cid, u2c_pad) == 4);
ABI_ASSERT(u2c_string, offsetof(struct uuid_2_cid, u2c_uuid_string) == 8);
ABI_ASSERT(bad_version, VMCI_SOCKETS_INVALID_VERSION == 0xFFFFFFFFU);
ABI_ASSERT(epoch, VMCI_SOCKETS_VERSION_EPOCH(0x09080001U) == 9);
ABI_ASSERT(major, VMCI_SOCKETS_VERSION_MAJOR(0x09080001U) == 8);
ABI_ASSERT(minor, VMCI_SOCKETS_VERSION_MINOR(0x09080001U) == 1);

int main(void)
{
	return 0;
}
EOF

# Written the way the vSockets Programming Guide's examples are.
cat >"$TMP/guide.c" <<'EOF'
#include <string.h>
#include "vmci_sockets.h"
#define BUFSIZE 4096
#define BACKLOG 5

int main(void)
{
	int sockfd, newfd, afFd;
	int afVMCI;
	unsigned long long setBuf = 32768, getBuf;
	socklen_t getBufLen = sizeof getBuf;
	struct sockaddr_vm my_addr = {0};
	struct sockaddr_vm their_addr;
	socklen_t their_addr_len = sizeof their_addr;
	char recv_buf[BUFSIZE];
	ssize_t numbytes;
	unsigned int cid;

	afVMCI = VMCISock_GetAFValueFd(&afFd);
	if (afVMCI < 0) {
		perror("VMCISock_GetAFValueFd");
		return 1;
	}
	if ((sockfd = socket(afVMCI, SOCK_STREAM, 0)) == -1) {
		perror("socket");
		goto cleanup;
	}
	if (setsockopt(sockfd, afVMCI, SO_VMCI_BUFFER_SIZE,
		       (void *)&setBuf, sizeof setBuf) == -1) {
		perror("setsockopt");
		goto close;
	}
	if (getsockopt(sockfd, afVMCI, SO_VMCI_BUFFER_SIZE,
		       (void *)&getBuf, &getBufLen) == -1) {
		perror("getsockopt");
		goto close;
	}
	if (getBuf != setBuf)
		fprintf(stderr, "SO_VMCI_BUFFER_SIZE not set to size requested.\n");

	cid = VMCISock_GetLocalCID();
	printf("local CID %u\n", cid);

	my_addr.svm_family = afVMCI;
	my_addr.svm_cid = VMADDR_CID_ANY;
	my_addr.svm_port = VMADDR_PORT_ANY;
	if (bind(sockfd, (struct sockaddr *) &my_addr, sizeof my_addr) == -1) {
		perror("bind");
		goto close;
	}
	if (listen(sockfd, BACKLOG) == -1) {
		perror("listen");
		goto close;
	}
	if ((newfd = accept(sockfd, (struct sockaddr *) &their_addr,
			    &their_addr_len)) == -1) {
		perror("accept");
		goto close;
	}
	if ((numbytes = recv(newfd, recv_buf, sizeof recv_buf, 0)) == -1)
		perror("recv");
	close(newfd);
close:
	close(sockfd);
cleanup:
	VMCISock_ReleaseAFValueFd(afFd);
	return 0;
}
EOF

for std in c89 c99 c11; do
	check "$std" api.c "$CC" -std="$std" -pedantic "${WARN[@]}" -c
done
for std in c++98 c++11 c++17; do
	check "$std" api.c "$CXX" -x c++ -std="$std" -pedantic "${WARN[@]}" -c
done
check unused-c89 empty.c "$CC" -std=c89 -pedantic "${WARN[@]}" -c
check unused-c++ empty.c "$CXX" -x c++ "${WARN[@]}" -c
check strict-c api.c "$CC" -std=c99 -pedantic "${WARN[@]}" "${STRICT_C[@]}" -c
check strict-c++ api.c "$CXX" -x c++ "${WARN[@]}" "${STRICT_CXX[@]}" -c

for order in first last; do
	check "linux-$order-c89" "linux-$order.c" \
		"$CC" -std=c89 -pedantic "${WARN[@]}" -c
	check "linux-$order-c11" "linux-$order.c" \
		"$CC" -std=c11 "${WARN[@]}" -c
	check "linux-$order-c++" "linux-$order.c" \
		"$CXX" -x c++ "${WARN[@]}" -c
done

check standalone api.c "$CC" -std=c89 -pedantic "${WARN[@]}" \
	-DVMCI_SOCKETS_STANDALONE -c
check standalone-linux-first standalone-linux-first.c \
	"$CC" -std=c99 "${WARN[@]}" -DVMCI_SOCKETS_STANDALONE -c

check abi-c89 abi.c "$CC" -std=c89 -pedantic "${WARN[@]}" -c
check abi-c++ abi.c "$CXX" -x c++ "${WARN[@]}" -c
check abi-standalone abi.c "$CC" -std=c89 -pedantic "${WARN[@]}" \
	-DVMCI_SOCKETS_STANDALONE -c

check guide guide.c "$CC" "${WARN[@]}" -static
# The Guide's "= {0}" is complete in C but draws -Wextra's
# missing-initializer warning from g++; that is the program's style, not ours.
check guide-c++ guide.c "$CXX" -x c++ "${WARN[@]}" \
	-Wno-missing-field-initializers -static

[ "$failures" -eq 0 ]
