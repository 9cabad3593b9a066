/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Functions the parts of the device model share with each other only.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_MODEL_INTERNAL_H
#define VMCI_MODEL_INTERNAL_H

#include "vmci_model.h"

/*
 * The longest entry the receive queue holds: one page more than a legal
 * datagram, so an injected oversized one still fits the DATA_IN chunk.
 */
#define VMM_RX_MAX_ENTRY	(VMM_MAX_DG_SIZE + VMM_PAGE_SIZE)

void vmm_raise(struct vmci_model *m, uint32_t causes);

void vmm_rx_clear(struct vmci_model *m);
/* Queues LEN bytes as they are, up to VMM_RX_MAX_ENTRY (fault injection). */
int vmm_rx_push(struct vmci_model *m, const uint8_t *dg, size_t len);
uint8_t vmm_rx_stream_byte(struct vmci_model *m);
/* Packs pending datagrams into BUF; returns the bytes used. */
size_t vmm_rx_pack(struct vmci_model *m, uint8_t *buf, size_t cap);

void vmm_hcall_reset(struct vmci_model *m);
void vmm_qp_reset(struct vmci_model *m);
int64_t vmm_qp_alloc(struct vmci_model *m, const uint8_t *pl, uint64_t plen);
int64_t vmm_qp_detach(struct vmci_model *m, const uint8_t *pl, uint64_t plen);

#endif
