/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the stream tests need to play a VMM peer of vmsock through
 * /dev/vmci: the context and datagram ioctl arguments and VMware's
 * 56-byte vSockets control packet (facts section 7.1).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_TESTS_VSOCK_CTL_H
#define VMCI_TESTS_VSOCK_CTL_H

#include <stdint.h>

struct vmm_init_blk {
	uint32_t cid;
	uint32_t flags;
};

struct vmm_dg_info {
	uint64_t addr;
	uint32_t len;
	int32_t result;
};

struct ctl_packet {
	uint32_t dst_cid, dst_rid, src_cid, src_rid;
	uint64_t payload_size;
	uint8_t version, type;
	uint16_t proto;
	uint32_t src_port, dst_port, reserved2;
	uint64_t u0, u1;
};

_Static_assert(sizeof(struct ctl_packet) == 56, "control packet layout");

#endif
