// SPDX-License-Identifier: GPL-2.0
/*
 * The register file: control and interrupt state, and the two ways a
 * datagram crosses the device (byte-stream ports and DMA buffers).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdlib.h>
#include <string.h>

#include "vmci_model_internal.h"

void vmm_put_header(uint8_t *p, uint32_t dst_cid, uint32_t dst_rid,
		    uint32_t src_cid, uint32_t src_rid, uint64_t payload_size)
{
	vmm_put32(p, dst_cid);
	vmm_put32(p + 4, dst_rid);
	vmm_put32(p + 8, src_cid);
	vmm_put32(p + 12, src_rid);
	vmm_put64(p + 16, payload_size);
}

static bool irq_level(const struct vmci_model *m)
{
	return (m->status & VMM_STATUS_INT_ON) && (m->icr & m->imr);
}

void vmm_raise(struct vmci_model *m, uint32_t causes)
{
	uint32_t enabled;

	m->icr |= causes;
	enabled = (m->status & VMM_STATUS_INT_ON) ? causes & m->imr : 0;
	if (m->env.irq)
		m->env.irq(m->env.opaque, enabled, irq_level(m));
}

static void lower_irq(struct vmci_model *m)
{
	if (m->env.irq)
		m->env.irq(m->env.opaque, 0, irq_level(m));
}

int vmm_init(struct vmci_model *m, const struct vmm_env *env, uint32_t cid,
	     uint32_t caps_offered)
{
	memset(m, 0, sizeof(*m));
	m->env = *env;
	m->cid = cid;
	m->caps_offered = caps_offered | VMM_CAPS_DATAGRAM;
	m->out_buf = malloc(VMM_MAX_HYPERCALL_SIZE);
	m->in_chunk = malloc(VMM_RX_MAX_ENTRY);
	if (!m->out_buf || !m->in_chunk) {
		vmm_destroy(m);
		return -1;
	}
	vmm_reset(m);
	return 0;
}

void vmm_destroy(struct vmci_model *m)
{
	vmm_rx_clear(m);
	vmm_qp_reset(m);
	free(m->out_buf);
	free(m->in_chunk);
	m->out_buf = NULL;
	m->in_chunk = NULL;
}

/* Device reset: the guest must register its bitmap and doorbells again. */
void vmm_reset(struct vmci_model *m)
{
	m->status = 0;
	m->icr = 0;
	m->imr = 0;
	m->caps_in_use = 0;
	m->result = 0;
	m->out_high = 0;
	m->in_high = 0;
	m->page_shift = VMM_PAGE_SHIFT;
	m->out_len = 0;
	m->out_want = 0;
	m->out_discard = false;
	vmm_rx_clear(m);
	vmm_hcall_reset(m);
	lower_irq(m);
}

static void finish_result(struct vmci_model *m, int64_t result)
{
	m->result = result;
	if (result < 0)
		m->stats.errors++;
}

/*
 * DATA_OUT: bytes accumulate until the header says how long the datagram
 * is. An impossible length cannot be resynchronised from the stream
 * itself, so the datagram is swallowed up to the next RESULT read, which
 * every sender does after each datagram.
 */
static void data_out_byte(struct vmci_model *m, uint8_t byte)
{
	uint64_t payload;

	if (m->out_discard)
		return;
	m->out_buf[m->out_len++] = byte;
	if (m->out_len == VMM_DG_HEADER_SIZE) {
		payload = vmm_get64(m->out_buf + 16);
		if (payload > VMM_MAX_HYPERCALL_SIZE - VMM_DG_HEADER_SIZE) {
			m->out_discard = true;
			finish_result(m, VMM_ERROR_INVALID_ARGS);
			return;
		}
		m->out_want = VMM_DG_HEADER_SIZE + payload;
	}
	if (m->out_want && m->out_len == m->out_want) {
		finish_result(m, vmm_handle_datagram(m, m->out_buf, m->out_len));
		m->out_len = 0;
		m->out_want = 0;
	}
}

/* A RESULT read closes the current DATA_OUT datagram, complete or not. */
static void data_out_boundary(struct vmci_model *m)
{
	if (m->out_len && !m->out_discard)
		finish_result(m, VMM_ERROR_DATAGRAM_INCOMPLETE);
	m->out_len = 0;
	m->out_want = 0;
	m->out_discard = false;
}

static uint64_t dma_addr(uint32_t high, uint32_t low)
{
	return (uint64_t)high << 32 | low;
}

static void dma_send(struct vmci_model *m, uint64_t gpa)
{
	uint8_t hdr[VMM_DMA_HDR_SIZE];
	uint32_t size;
	int64_t result;

	if (!(m->caps_in_use & VMM_CAPS_DMA_DATAGRAM) ||
	    m->env.mem_read(m->env.opaque, gpa, hdr, sizeof(hdr))) {
		finish_result(m, VMM_ERROR_INVALID_ARGS);
		return;
	}
	size = vmm_get32(hdr + VMM_DMA_OFF_SIZE);
	if (vmm_get32(hdr + VMM_DMA_OFF_OPCODE) != VMM_DMA_OP_SEND ||
	    size < VMM_DG_HEADER_SIZE || size > VMM_MAX_DG_SIZE)
		result = VMM_ERROR_INVALID_ARGS;
	else if (m->env.mem_read(m->env.opaque, gpa + VMM_DMA_HDR_SIZE,
				 m->out_buf, size))
		result = VMM_ERROR_INVALID_ARGS;
	else if (vmm_get64(m->out_buf + 16) != size - VMM_DG_HEADER_SIZE)
		result = VMM_ERROR_INVALID_ARGS;
	else
		result = vmm_handle_datagram(m, m->out_buf, size);
	finish_result(m, result);
	vmm_put64(hdr + VMM_DMA_OFF_RESULT, (uint64_t)result);
	vmm_put32(hdr + VMM_DMA_OFF_BUSY, 0);
	/* The result must be in place before busy drops. */
	m->env.mem_write(m->env.opaque, gpa + VMM_DMA_OFF_RESULT,
			 hdr + VMM_DMA_OFF_RESULT, 8);
	m->env.mem_write(m->env.opaque, gpa + VMM_DMA_OFF_BUSY,
			 hdr + VMM_DMA_OFF_BUSY, 4);
}

/*
 * A device that changes its mind: the datagram it just handed over, at
 * the start of the guest's buffer, gets a payload_size far beyond any
 * buffer, after the guest was told to look. A guest that checks the size
 * in place and reads it again later trusts a size it never checked.
 */
static void dma_resize_after_irq(struct vmci_model *m, uint64_t addr)
{
	uint8_t huge[8];

	vmm_put64(huge, (uint64_t)1 << 32);
	m->env.mem_write(m->env.opaque, addr + 16, huge, sizeof(huge));
}

/*
 * DMA receive: whole datagrams into the first S/G element, 8-byte packed,
 * then an invalid header, then busy = 1 and the DMA interrupt.
 */
static void dma_receive(struct vmci_model *m, uint64_t gpa)
{
	uint8_t hdr[VMM_DMA_HDR_SIZE + VMM_DMA_SG_SIZE];
	uint64_t addr, cap;
	uint32_t nsg;
	size_t used;
	uint8_t one[4];
	bool resize;

	if (!(m->caps_in_use & VMM_CAPS_DMA_DATAGRAM) ||
	    m->env.mem_read(m->env.opaque, gpa, hdr, sizeof(hdr))) {
		m->stats.errors++;
		return;
	}
	nsg = vmm_get32(hdr + VMM_DMA_OFF_SIZE);
	addr = vmm_get64(hdr + VMM_DMA_HDR_SIZE);
	cap = vmm_get64(hdr + VMM_DMA_HDR_SIZE + 8);
	if (vmm_get32(hdr + VMM_DMA_OFF_OPCODE) != VMM_DMA_OP_RECEIVE ||
	    nsg < 1 || nsg > VMM_DMA_MAX_SG || cap < VMM_DG_HEADER_SIZE ||
	    cap > VMM_MAX_DG_SIZE) {
		m->stats.errors++;
		return;
	}
	/* The pack holds it alone (vmm_rx_pack()). */
	resize = m->rx_resize && m->rx_head == m->rx_resize;
	used = vmm_rx_pack(m, m->in_chunk, cap);
	if (used && m->env.mem_write(m->env.opaque, addr, m->in_chunk, used)) {
		m->stats.errors++;
		return;
	}
	vmm_put32(one, 1);
	m->env.mem_write(m->env.opaque, gpa + VMM_DMA_OFF_BUSY, one, 4);
	vmm_raise(m, VMM_ICR_DMA_DATAGRAM | (m->rx_head ? VMM_ICR_DATAGRAM : 0));
	if (resize)
		dma_resize_after_irq(m, addr);
}

static void control_write(struct vmci_model *m, uint32_t value)
{
	if (value & VMM_CONTROL_RESET) {
		vmm_reset(m);
		return;
	}
	if (value & VMM_CONTROL_INT_ENABLE) {
		m->status |= VMM_STATUS_INT_ON;
		/* Anything that arrived while disabled is announced now. */
		if (m->icr & m->imr)
			vmm_raise(m, m->icr & m->imr);
	}
	if (value & VMM_CONTROL_INT_DISABLE) {
		m->status &= ~VMM_STATUS_INT_ON;
		lower_irq(m);
	}
}

uint32_t vmm_read(struct vmci_model *m, uint32_t offset, unsigned int size)
{
	uint32_t value = 0, icr;
	unsigned int i;

	if (size != 1 && size != 2 && size != 4)
		return 0;
	if (offset == VMM_REG_DATA_IN) {
		for (i = 0; i < size; i++)
			value |= (uint32_t)vmm_rx_stream_byte(m) << (8 * i);
		return value;
	}
	switch (offset) {
	case VMM_REG_STATUS:
		return m->status;
	case VMM_REG_ICR:
		icr = m->icr;
		m->icr = 0;
		lower_irq(m);
		return icr;
	case VMM_REG_CAPS:
		return m->caps_offered;
	case VMM_REG_RESULT_LOW:
		data_out_boundary(m);
		return (uint32_t)m->result;
	case VMM_REG_RESULT_HIGH:
		return (uint32_t)((uint64_t)m->result >> 32);
	default:
		return 0;
	}
}

void vmm_write(struct vmci_model *m, uint32_t offset, uint32_t value,
	       unsigned int size)
{
	unsigned int i;

	if (size != 1 && size != 2 && size != 4)
		return;
	if (offset == VMM_REG_DATA_OUT) {
		for (i = 0; i < size; i++)
			data_out_byte(m, value >> (8 * i));
		return;
	}
	switch (offset) {
	case VMM_REG_CONTROL:
		control_write(m, value);
		break;
	case VMM_REG_IMR:
		m->imr = value & VMM_ICR_ALL;
		lower_irq(m);
		if (m->icr & m->imr)
			vmm_raise(m, 0);
		break;
	case VMM_REG_CAPS:
		/* The driver may only use what was offered. */
		m->caps_in_use = value & m->caps_offered;
		break;
	case VMM_REG_DATA_OUT_HIGH:
		m->out_high = value;
		break;
	case VMM_REG_DATA_OUT_LOW:
		dma_send(m, dma_addr(m->out_high, value));
		break;
	case VMM_REG_DATA_IN_HIGH:
		m->in_high = value;
		break;
	case VMM_REG_DATA_IN_LOW:
		dma_receive(m, dma_addr(m->in_high, value));
		break;
	case VMM_REG_PAGE_SHIFT:
		m->page_shift = value;
		break;
	default:
		break;
	}
}
