// SPDX-License-Identifier: GPL-2.0
/*
 * What a program built with vmci_sockets.h sees: the driver version, the
 * address family it was handed, and this machine's context ID.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdio.h>

#include "../../include/uapi/vmci_sockets.h"

int main(void)
{
	unsigned int version = VMCISock_Version();
	int fd = -1;
	int af = VMCISock_GetAFValueFd(&fd);

	if (version == VMCI_SOCKETS_INVALID_VERSION) {
		printf("vSockets driver: not available\n");
		return 1;
	}
	printf("vSockets driver version: %u.%u.%u\n",
	       VMCI_SOCKETS_VERSION_EPOCH(version),
	       VMCI_SOCKETS_VERSION_MAJOR(version),
	       VMCI_SOCKETS_VERSION_MINOR(version));
	printf("local context ID: %u\n", VMCISock_GetLocalCID());
	if (af < 0)
		printf("address family: not reserved yet\n");
	else
		printf("address family: %d\n", af);
	VMCISock_ReleaseAFValueFd(fd);
	return 0;
}
