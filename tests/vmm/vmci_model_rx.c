// SPDX-License-Identifier: GPL-2.0
/*
 * Datagrams on their way to the guest: a byte-limited FIFO, drained either
 * through the DATA_IN byte stream or into a DMA receive buffer.
 *
 * The byte stream is built one page at a time, when the guest reads the
 * first byte of that page. A page holds whole datagrams packed at 8-byte
 * offsets, and 0xFF filler after the last one (a header whose resource is
 * VMCI_INVALID_ID means "nothing more here"). A datagram longer than a page
 * starts on a page boundary and spans as many pages as it needs. A guest
 * that reads in page-sized batches from a page boundary therefore finds
 * every datagram start either right after the previous datagram or on a
 * page boundary after filler, which is what the receive loop of a VMCI
 * driver expects; a guest reading odd amounts still sees a coherent stream.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdlib.h>
#include <string.h>

#include "vmci_model_internal.h"

void vmm_rx_clear(struct vmci_model *m)
{
	struct vmm_rx_entry *e;

	while ((e = m->rx_head)) {
		m->rx_head = e->next;
		free(e);
	}
	m->rx_tail = NULL;
	m->rx_bytes = 0;
	m->rx_resize = NULL;
	m->in_chunk_len = 0;
	m->in_chunk_pos = 0;
}

static bool header_ok(const uint8_t *dg, size_t len)
{
	return len >= VMM_DG_HEADER_SIZE && len <= VMM_MAX_DG_SIZE &&
	       vmm_get64(dg + 16) == len - VMM_DG_HEADER_SIZE &&
	       vmm_get32(dg + 4) != VMM_INVALID_ID;
}

int vmm_deliver(struct vmci_model *m, const uint8_t *dg, size_t len)
{
	if (!header_ok(dg, len))
		return VMM_ERROR_INVALID_ARGS;
	return vmm_rx_push(m, dg, len);
}

int vmm_rx_push(struct vmci_model *m, const uint8_t *dg, size_t len)
{
	struct vmm_rx_entry *e;

	if (len < VMM_DG_HEADER_SIZE || len > VMM_RX_MAX_ENTRY)
		return VMM_ERROR_INVALID_ARGS;
	if (m->rx_bytes + len > VMM_MAX_DG_QUEUE_SIZE) {
		m->stats.rx_dropped++;
		return VMM_ERROR_NO_RESOURCES;
	}
	e = malloc(sizeof(*e) + len);
	if (!e)
		return VMM_ERROR_NO_MEM;
	e->next = NULL;
	e->len = len;
	memcpy(e->data, dg, len);
	if (m->rx_tail)
		m->rx_tail->next = e;
	else
		m->rx_head = e;
	m->rx_tail = e;
	m->rx_bytes += len;
	vmm_raise(m, VMM_ICR_DATAGRAM);
	return VMM_SUCCESS;
}

static struct vmm_rx_entry *rx_pop(struct vmci_model *m)
{
	struct vmm_rx_entry *e = m->rx_head;

	m->rx_head = e->next;
	if (!m->rx_head)
		m->rx_tail = NULL;
	m->rx_bytes -= e->len;
	m->stats.rx_delivered++;
	/* Only a DMA receive rewrites it; the byte stream hands it over as is. */
	if (e == m->rx_resize)
		m->rx_resize = NULL;
	return e;
}

/*
 * Packs whole datagrams into BUF (at most CAP bytes) and terminates the
 * run with filler. A head datagram that can never fit is dropped, so one
 * oversized entry cannot wedge the queue. The rx_resize entry goes alone:
 * a guest that drops the rest of a buffer after a bad header then loses
 * nothing else.
 */
size_t vmm_rx_pack(struct vmci_model *m, uint8_t *buf, size_t cap)
{
	size_t used = 0, end;
	struct vmm_rx_entry *e;
	bool alone;

	while (m->rx_head) {
		if (m->rx_head->len > cap && used == 0) {
			free(rx_pop(m));
			m->stats.rx_delivered--;
			m->stats.rx_dropped++;
			continue;
		}
		if (used + m->rx_head->len > cap || (used && m->rx_head == m->rx_resize))
			break;
		alone = m->rx_head == m->rx_resize;
		e = rx_pop(m);
		memcpy(buf + used, e->data, e->len);
		end = vmm_align8(used + e->len);
		if (end > cap)
			end = cap;
		memset(buf + used + e->len, 0, end - used - e->len);
		used = end;
		free(e);
		if (alone)
			break;
	}
	end = used + VMM_DG_HEADER_SIZE;
	if (end > cap)
		end = cap;
	memset(buf + used, 0xff, end - used);
	return end;
}

/* Builds the next run of the DATA_IN stream (one page, or one long datagram). */
static void build_chunk(struct vmci_model *m)
{
	size_t len, pages;
	struct vmm_rx_entry *e;

	m->in_chunk_pos = 0;
	if (m->rx_head && vmm_align8(m->rx_head->len) > VMM_PAGE_SIZE) {
		e = rx_pop(m);
		pages = (e->len + VMM_PAGE_SIZE - 1) / VMM_PAGE_SIZE;
		len = pages * VMM_PAGE_SIZE;
		memcpy(m->in_chunk, e->data, e->len);
		memset(m->in_chunk + e->len, 0xff, len - e->len);
		m->in_chunk_len = len;
		free(e);
		return;
	}
	len = 0;
	while (m->rx_head && vmm_align8(m->rx_head->len) <= VMM_PAGE_SIZE - len) {
		e = rx_pop(m);
		memcpy(m->in_chunk + len, e->data, e->len);
		memset(m->in_chunk + len + e->len, 0,
		       vmm_align8(e->len) - e->len);
		len += vmm_align8(e->len);
		free(e);
	}
	memset(m->in_chunk + len, 0xff, VMM_PAGE_SIZE - len);
	m->in_chunk_len = VMM_PAGE_SIZE;
}

uint8_t vmm_rx_stream_byte(struct vmci_model *m)
{
	uint8_t byte;

	if (m->in_chunk_pos >= m->in_chunk_len)
		build_chunk(m);
	byte = m->in_chunk[m->in_chunk_pos++];
	/* Whatever did not fit waits for the next receive pass. */
	if (m->in_chunk_pos == m->in_chunk_len && m->rx_head)
		vmm_raise(m, VMM_ICR_DATAGRAM);
	return byte;
}
