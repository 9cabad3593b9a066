// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/errno.h>
#include <linux/string.h>

#include "addr.h"

/* The one hypervisor resource a vSockets datagram may target. */
#define VMSOCK_HYPERVISOR_DGRAM_PORT	14U

int vmsock_addr_check(const struct sockaddr *addr, int len, int family)
{
	if (!addr || len < (int)sizeof(struct sockaddr_vm))
		return -EINVAL;
	if (addr->sa_family != family)
		return -EAFNOSUPPORT;
	return 0;
}

void vmsock_addr_init(struct sockaddr_vm *addr, int family, u32 cid, u32 port)
{
	memset(addr, 0, sizeof(*addr));
	addr->svm_family = family;
	addr->svm_cid = cid;
	addr->svm_port = port;
}

bool vmsock_dgram_dst_allowed(u32 cid, u32 port)
{
	return cid != VMADDR_CID_HYPERVISOR || port == VMSOCK_HYPERVISOR_DGRAM_PORT;
}
