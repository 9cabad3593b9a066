/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host context (CID 2) as Unix sockets in one directory, so programs
 * on the machine running the emulator talk to guest vSockets.
 *
 * Datagrams: the device owns <dir>/vmci-dgram. A guest datagram to
 * {2, P} goes to <dir>/dgram-P (a socket some host program bound), from
 * <dir>/vmci-dgram; a datagram a host program sends to <dir>/vmci-dgram
 * goes to the guest. Both directions carry an 8-byte header before the
 * payload: u32 guest port, u32 host port, little-endian.
 *
 * Faults and lifecycle: <dir>/vmci-control takes one text command per
 * datagram and answers "OK" or "ERR <why>" to a bound sender:
 *   cid N          change the guest's context ID (raises CTX_ID_UPDATE)
 *   event E        raise event E without payload (e.g. 2 = QP_RESUMED)
 *   fail RID ERR   the next hypercall to RID returns ERR instead
 *   reset          device reset, as if the guest wrote CONTROL_RESET
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_BRIDGE_H
#define VMCI_BRIDGE_H

#include "vmci_model.h"

#define VMM_BRIDGE_HDR		8u
#define VMM_BRIDGE_DGRAM_NAME	"vmci-dgram"
#define VMM_BRIDGE_CONTROL_NAME	"vmci-control"

struct vmm_bridge {
	struct vmci_model *model;
	int dgram_fd;
	int control_fd;
	char dir[80];
	uint8_t *buf;
	uint64_t to_host, to_guest, dropped;
};

/* Returns 0, or -errno; on error the bridge is closed. */
int vmm_bridge_open(struct vmm_bridge *b, struct vmci_model *m, const char *dir);
void vmm_bridge_close(struct vmm_bridge *b);

/* The model's host_datagram hook. */
int64_t vmm_bridge_from_guest(struct vmm_bridge *b, const uint8_t *dg, size_t len);
/* Call when dgram_fd is readable: forwards what host programs sent. */
void vmm_bridge_dgram_readable(struct vmm_bridge *b);
/* Call when control_fd is readable. */
void vmm_bridge_control_readable(struct vmm_bridge *b);
/* One control command; returns 0 or a negative errno. */
int vmm_bridge_command(struct vmm_bridge *b, const char *cmd);

#endif
