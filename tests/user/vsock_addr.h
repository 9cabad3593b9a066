/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The family number and local CID a socket test program found at start-up,
 * and the address it builds from them. Included once per program: the
 * statics are that program's own.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VSOCK_ADDR_H
#define VSOCK_ADDR_H

#include <string.h>
#include "../../include/uapi/vmci_sockets.h"

static int af;
/* Programs that only talk to the host never read their own CID. */
static unsigned int local_cid __attribute__((unused));

static struct sockaddr_vm vm_addr(unsigned int cid, unsigned int port)
{
	struct sockaddr_vm a;

	memset(&a, 0, sizeof(a));
	a.svm_family = af;
	a.svm_cid = cid;
	a.svm_port = port;
	return a;
}

#endif
