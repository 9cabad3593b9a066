// SPDX-License-Identifier: GPL-2.0
/*
 * The host's end of a queue pair the guest allocated, reached through the
 * pair's page list. The guest produces into its produce queue and the
 * host into the guest's consume queue; each side writes only the header of
 * the queue it produces (its producer_tail, and in consumer_head how far
 * it has read the other queue). Offsets read from a header the guest
 * writes are never trusted: one outside the queue is an error, not an
 * address.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include "vmci_model_internal.h"

#define QH_TAIL 8
#define QH_HEAD 16

static uint64_t pages_for(uint64_t size)
{
	return (size + VMM_PAGE_SIZE - 1) / VMM_PAGE_SIZE;
}

/* Index in ppns of the consume queue's header page. */
static uint64_t consume_base(const struct vmm_qpair *qp)
{
	return 1 + pages_for(qp->produce_size);
}

static int get_off(struct vmci_model *m, uint64_t ppn, unsigned int field,
		   uint64_t *out)
{
	uint8_t b[8];

	if (m->env.mem_read(m->env.opaque, (ppn << VMM_PAGE_SHIFT) + field, b, 8))
		return -1;
	*out = vmm_get64(b);
	return 0;
}

static int put_off(struct vmci_model *m, uint64_t ppn, unsigned int field,
		   uint64_t v)
{
	uint8_t b[8];

	vmm_put64(b, v);
	return m->env.mem_write(m->env.opaque, (ppn << VMM_PAGE_SHIFT) + field, b, 8);
}

/* Copies LEN bytes at queue offset OFF (no wrap) to or from the pages. */
static int copy_queue(struct vmci_model *m, const uint64_t *data_ppns,
		      uint64_t off, uint8_t *buf, size_t len, bool to_guest)
{
	size_t chunk;
	uint64_t gpa;
	int ret;

	while (len) {
		chunk = VMM_PAGE_SIZE - off % VMM_PAGE_SIZE;
		if (chunk > len)
			chunk = len;
		gpa = (data_ppns[off / VMM_PAGE_SIZE] << VMM_PAGE_SHIFT) +
		      off % VMM_PAGE_SIZE;
		ret = to_guest ? m->env.mem_write(m->env.opaque, gpa, buf, chunk) :
				 m->env.mem_read(m->env.opaque, gpa, buf, chunk);
		if (ret)
			return -1;
		off += chunk;
		buf += chunk;
		len -= chunk;
	}
	return 0;
}

static uint64_t used_bytes(uint64_t tail, uint64_t head, uint64_t size)
{
	return tail >= head ? tail - head : size - (head - tail);
}

int64_t vmm_qp_host_ready(struct vmci_model *m, struct vmm_qpair *qp)
{
	uint64_t tail, head, size = qp->produce_size;

	if (qp->host_detached)
		return VMM_ERROR_QUEUEPAIR_NOTATTACHED;
	if (get_off(m, qp->ppns[0], QH_TAIL, &tail) ||
	    get_off(m, qp->ppns[consume_base(qp)], QH_HEAD, &head))
		return VMM_ERROR_GENERIC;
	if (tail >= size || head >= size)
		return VMM_ERROR_INVALID_SIZE;
	return (int64_t)used_bytes(tail, head, size);
}

int64_t vmm_qp_host_free(struct vmci_model *m, struct vmm_qpair *qp)
{
	uint64_t tail, head, size = qp->consume_size;

	if (qp->host_detached)
		return VMM_ERROR_QUEUEPAIR_NOTATTACHED;
	if (get_off(m, qp->ppns[consume_base(qp)], QH_TAIL, &tail) ||
	    get_off(m, qp->ppns[0], QH_HEAD, &head))
		return VMM_ERROR_GENERIC;
	if (tail >= size || head >= size)
		return VMM_ERROR_INVALID_SIZE;
	return (int64_t)(size - used_bytes(tail, head, size) - 1);
}

int64_t vmm_qp_host_read(struct vmci_model *m, struct vmm_qpair *qp,
			 uint8_t *buf, size_t len)
{
	int64_t ready = vmm_qp_host_ready(m, qp);
	uint64_t head, size = qp->produce_size, first;
	const uint64_t *data = qp->ppns + 1;

	if (ready < 0)
		return ready;
	if (ready == 0)
		return VMM_ERROR_QUEUEPAIR_NODATA;
	if ((uint64_t)ready < len)
		len = ready;
	get_off(m, qp->ppns[consume_base(qp)], QH_HEAD, &head);
	first = size - head < len ? size - head : len;
	if (copy_queue(m, data, head, buf, first, false) ||
	    copy_queue(m, data, 0, buf + first, len - first, false))
		return VMM_ERROR_GENERIC;
	if (put_off(m, qp->ppns[consume_base(qp)], QH_HEAD, (head + len) % size))
		return VMM_ERROR_GENERIC;
	return (int64_t)len;
}

int64_t vmm_qp_host_write(struct vmci_model *m, struct vmm_qpair *qp,
			  const uint8_t *buf, size_t len)
{
	int64_t space = vmm_qp_host_free(m, qp);
	uint64_t tail, size = qp->consume_size, first;
	const uint64_t *data = qp->ppns + consume_base(qp) + 1;

	if (space < 0)
		return space;
	if (space == 0)
		return VMM_ERROR_QUEUEPAIR_NOSPACE;
	if ((uint64_t)space < len)
		len = space;
	get_off(m, qp->ppns[consume_base(qp)], QH_TAIL, &tail);
	first = size - tail < len ? size - tail : len;
	/* Data before the tail moves: the guest reads up to the tail. */
	if (copy_queue(m, data, tail, (uint8_t *)buf, first, true) ||
	    copy_queue(m, data, 0, (uint8_t *)buf + first, len - first, true))
		return VMM_ERROR_GENERIC;
	if (put_off(m, qp->ppns[consume_base(qp)], QH_TAIL, (tail + len) % size))
		return VMM_ERROR_GENERIC;
	return (int64_t)len;
}
