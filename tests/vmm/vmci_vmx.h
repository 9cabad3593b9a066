/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMX mode: the host context (CID 2) of the device model is the VMCI host
 * driver of the kernel the model runs on, reached through /dev/vmci as
 * VMware's VMX reaches it. One open file is one VMCI context with the
 * guest's CID; the host's vSockets and in-kernel VMCI clients then see
 * the guest as they would see a VMware guest.
 *
 * What crosses the file (docs/device-model.md, "VMX mode"):
 * - guest datagrams for CID 2 (and vSockets control packets): DATAGRAM_SEND;
 * - datagrams and events for the guest: DATAGRAM_RECEIVE, delivered into
 *   the model's receive queue unchanged (the broker's QP_PEER_ATTACH /
 *   QP_PEER_DETACH events included);
 * - guest doorbells: NOTIFY_RESOURCE CREATE/DESTROY when the guest links
 *   and unlinks them, NOTIFY when it rings a host doorbell, and
 *   NOTIFICATIONS_RECEIVE for the ones the host rang;
 * - queue pairs: QUEUEPAIR_ALLOC, then SETVA on a window of this process's
 *   address space where each page of the pair's page list is mapped from
 *   the file backing guest RAM (a memfd), in the order the driver pins:
 *   produce header, produce queue, consume header, consume queue;
 *   QUEUEPAIR_DETACH, after which the window is unmapped.
 *
 * Plain POSIX and Linux ioctls, no emulator types: the QEMU glue and the
 * in-VM test (tests/user/vmx_model.c) embed it alike.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_VMX_H
#define VMCI_VMX_H

#include "vmci_model.h"

/* INIT_CONTEXT's flag for an isolated VM (VMCI_PRIVILEGE_FLAG_RESTRICTED). */
#define VMX_PRIV_RESTRICTED	0x1

/* A pair the host driver holds for the guest, and its window. */
struct vmm_vmx_pair {
	uint32_t context;
	uint32_t resource;
	uint8_t *window;	/* NULL once unmapped */
	size_t len;
};

struct vmm_vmx {
	struct vmci_model *model;
	int fd;			/* /dev/vmci, one context */
	uint32_t cid;		/* the context's CID as the driver granted it */
	/*
	 * Where guest-physical page GPA lives: the file and offset to map
	 * (RAM must be shared, file-backed memory); non-zero if it is not RAM.
	 */
	int (*ram_lookup)(void *opaque, uint64_t gpa, int *fd, uint64_t *offset);
	void *ram_opaque;
	/* The page holding the notify byte the driver keeps (SET_NOTIFY). */
	volatile uint8_t *notify;
	uint8_t *buf;		/* DATAGRAM_RECEIVE buffer */
	uint64_t *handles;	/* NOTIFICATIONS_RECEIVE buffer */
	/* A datagram the guest's full queue refused; taken before any other. */
	uint32_t held_len;
	struct vmm_vmx_pair *pairs;
	unsigned int pair_count;
	/* Counters for tests and logs. */
	uint64_t to_host, to_guest, rings_in, rings_out, held;
};

/*
 * Opens DEV and creates the guest's context with the model's CID and
 * PRIV_FLAGS (0, or VMX_PRIV_RESTRICTED: an isolated VM, which only
 * trusted host endpoints may reach); if the driver grants
 * another CID (taken or reserved), the model takes it before the guest
 * runs. Returns 0 or -errno.
 */
int vmm_vmx_open(struct vmm_vmx *x, struct vmci_model *m, const char *dev,
		 uint32_t priv_flags,
		 int (*ram_lookup)(void *opaque, uint64_t gpa, int *fd,
				   uint64_t *offset),
		 void *ram_opaque);
/* Detaches every pair, closes the context (the driver tears down the rest). */
void vmm_vmx_close(struct vmm_vmx *x);

/* The model's hooks (struct vmm_env); the embedding's wrappers call these. */
int64_t vmm_vmx_from_guest(struct vmm_vmx *x, const uint8_t *dg, size_t len);
int64_t vmm_vmx_doorbell(struct vmm_vmx *x, uint32_t rid, uint32_t context,
			 uint32_t resource);
int64_t vmm_vmx_qp_alloc(struct vmm_vmx *x, const struct vmm_qpair *qp);
int64_t vmm_vmx_qp_detach(struct vmm_vmx *x, const struct vmm_qpair *qp);

/*
 * Call when x->fd is readable (poll): moves pending datagrams and events
 * into the model and rings the doorbells the host rang. Returns how many
 * things it delivered, or -errno. A datagram the guest's queue has no room
 * for is kept and retried first on the next call; until then the
 * driver's queue holds the rest (the embedding should call again once
 * the guest read, not only on POLLIN).
 */
int vmm_vmx_poll(struct vmm_vmx *x);

#endif
