// SPDX-License-Identifier: GPL-2.0
/*
 * Queue pairs the guest shares with the host: QUEUEPAIR_ALLOC and
 * QUEUEPAIR_DETACH. The device keeps each pair's page list so the host
 * side can later reach the queues in guest memory.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdlib.h>
#include <string.h>

#include "vmci_model_internal.h"

#define QP_FLAG_ATTACH_ONLY	0x1u
#define QP_FLAG_LOCAL		0x2u
#define QP_ALL_FLAGS		0xfu
#define QP_ALLOC_FIXED		40u	/* handle, peer, flags, two sizes, count */
#define QP_MAX_MEMORY		(128ull << 20)
#define QP_MAX_PAGES		(QP_MAX_MEMORY / VMM_PAGE_SIZE)
#define QP_MAX_COUNT		1024u

void vmm_qp_reset(struct vmci_model *m)
{
	unsigned int i;

	for (i = 0; i < m->qp_count; i++) {
		if (m->env.qp_detach)
			m->env.qp_detach(m->env.opaque, &m->qps[i]);
		else if (m->env.qp_gone)
			m->env.qp_gone(m->env.opaque, m->qps[i].context,
				       m->qps[i].resource);
		free(m->qps[i].ppns);
	}
	free(m->qps);
	m->qps = NULL;
	m->qp_count = 0;
	m->qp_pages = 0;
	memset(m->host_offers, 0, sizeof(m->host_offers));
}

int vmm_qp_resume(struct vmci_model *m)
{
	/* A model that kept them would write pages the guest reuses. */
	vmm_qp_reset(m);
	return vmm_raise_event(m, VMM_EVENT_QP_RESUMED, NULL, 0);
}

struct vmm_qpair *vmm_qp_find(struct vmci_model *m, uint32_t context,
			      uint32_t resource)
{
	unsigned int i;

	for (i = 0; i < m->qp_count; i++)
		if (m->qps[i].context == context && m->qps[i].resource == resource)
			return &m->qps[i];
	return NULL;
}

static uint64_t pages_for(uint64_t size)
{
	return (size + VMM_PAGE_SIZE - 1) / VMM_PAGE_SIZE;
}

/* The hypervisor, not the guest, initialises a shared pair's headers. */
static int init_header(struct vmci_model *m, uint64_t ppn, uint32_t ctx,
		       uint32_t rid)
{
	uint8_t hdr[24] = { 0 };

	vmm_put32(hdr, ctx);
	vmm_put32(hdr + 4, rid);
	return m->env.mem_write(m->env.opaque, ppn << VMM_PAGE_SHIFT, hdr,
				sizeof(hdr));
}

int vmm_qp_host_offer(struct vmci_model *m, uint32_t resource,
		      uint64_t produce_size, uint64_t consume_size)
{
	unsigned int i;

	for (i = 0; i < 16; i++) {
		if (!m->host_offers[i].resource) {
			m->host_offers[i].resource = resource;
			m->host_offers[i].produce_size = produce_size;
			m->host_offers[i].consume_size = consume_size;
			return VMM_SUCCESS;
		}
	}
	return VMM_ERROR_NO_RESOURCES;
}

/* A guest attach to a host-created pair: it must match the offer. */
static int take_offer(struct vmci_model *m, uint32_t rid, uint32_t flags,
		      uint64_t psize, uint64_t csize)
{
	unsigned int i;

	if (!rid || !(flags & QP_FLAG_ATTACH_ONLY))
		return VMM_ERROR_INVALID_ARGS;
	for (i = 0; i < 16; i++) {
		if (m->host_offers[i].resource != rid)
			continue;
		if (m->host_offers[i].produce_size != psize ||
		    m->host_offers[i].consume_size != csize)
			return VMM_ERROR_INVALID_ARGS;
		m->host_offers[i].resource = 0;
		return VMM_SUCCESS;
	}
	return VMM_ERROR_NOT_FOUND;
}

/* Drops QP from the list (the last entry takes its slot). */
static void forget(struct vmci_model *m, struct vmm_qpair *qp)
{
	m->qp_pages -= qp->num_pages;
	free(qp->ppns);
	*qp = m->qps[--m->qp_count];
}

int64_t vmm_qp_alloc(struct vmci_model *m, const uint8_t *pl, uint64_t plen)
{
	uint32_t ctx, rid, peer, flags, ppn_size;
	uint64_t psize, csize, n, i, ppn, need;
	struct vmm_qpair *qp, *grown;
	uint64_t *ppns;
	uint8_t probe;
	int ret;

	if (plen < QP_ALLOC_FIXED)
		return VMM_ERROR_INVALID_ARGS;
	ctx = vmm_get32(pl);
	rid = vmm_get32(pl + 4);
	peer = vmm_get32(pl + 8);
	flags = vmm_get32(pl + 12);
	psize = vmm_get64(pl + 16);
	csize = vmm_get64(pl + 24);
	n = vmm_get64(pl + 32);
	ppn_size = (m->caps_in_use & VMM_CAPS_PPN64) ? 8 : 4;

	if ((ctx != m->cid && ctx != VMM_HOST_CID) || rid == VMM_INVALID_ID)
		return VMM_ERROR_INVALID_ARGS;
	if ((flags & ~QP_ALL_FLAGS) || (flags & QP_FLAG_LOCAL))
		return VMM_ERROR_INVALID_ARGS;
	/* The host, or the hypervisor's own stream endpoints (CID 0). */
	if (peer != VMM_INVALID_ID && peer != VMM_HOST_CID && peer != VMM_HYPERVISOR_CID)
		return peer == m->cid ? VMM_ERROR_INVALID_ARGS :
					VMM_ERROR_DST_UNREACHABLE;
	if (psize > QP_MAX_MEMORY || csize > QP_MAX_MEMORY ||
	    psize + csize > QP_MAX_MEMORY)
		return VMM_ERROR_NO_RESOURCES;
	need = pages_for(psize) + pages_for(csize) + 2;
	if (n != need || n <= 2 || (plen - QP_ALLOC_FIXED) / ppn_size != n ||
	    (plen - QP_ALLOC_FIXED) % ppn_size)
		return VMM_ERROR_INVALID_ARGS;
	if (vmm_qp_find(m, ctx, rid))
		return VMM_ERROR_ALREADY_EXISTS;
	/*
	 * Only the host creates pairs in its own context. With a real host
	 * (qp_alloc hook) its broker knows which pairs exist and were offered.
	 */
	if (m->env.qp_alloc) {
		if (ctx == VMM_HOST_CID && !(flags & QP_FLAG_ATTACH_ONLY))
			return VMM_ERROR_NO_ACCESS;
	} else if (ctx == VMM_HOST_CID || (flags & QP_FLAG_ATTACH_ONLY)) {
		if (ctx != VMM_HOST_CID)
			return VMM_ERROR_NOT_FOUND;
		ret = take_offer(m, rid, flags, psize, csize);
		if (ret)
			return ret;
	}
	if (m->qp_count >= QP_MAX_COUNT || m->qp_pages + n > QP_MAX_PAGES + 2 * QP_MAX_COUNT)
		return VMM_ERROR_NO_RESOURCES;

	ppns = malloc(n * sizeof(*ppns));
	if (!ppns)
		return VMM_ERROR_NO_MEM;
	for (i = 0; i < n; i++) {
		ppn = ppn_size == 8 ? vmm_get64(pl + QP_ALLOC_FIXED + 8 * i) :
				      vmm_get32(pl + QP_ALLOC_FIXED + 4 * i);
		if (ppn > (UINT64_MAX >> VMM_PAGE_SHIFT) ||
		    m->env.mem_read(m->env.opaque, ppn << VMM_PAGE_SHIFT, &probe, 1)) {
			free(ppns);
			return VMM_ERROR_INVALID_ARGS;
		}
		ppns[i] = ppn;
	}
	grown = realloc(m->qps, (m->qp_count + 1) * sizeof(*m->qps));
	if (!grown) {
		free(ppns);
		return VMM_ERROR_NO_MEM;
	}
	m->qps = grown;
	qp = &m->qps[m->qp_count++];
	*qp = (struct vmm_qpair){
		.context = ctx, .resource = rid, .peer = peer, .flags = flags,
		.produce_size = psize, .consume_size = csize,
		.num_pages = n, .ppns = ppns,
	};
	m->qp_pages += n;
	init_header(m, ppns[0], ctx, rid);
	init_header(m, ppns[1 + pages_for(psize)], ctx, rid);
	if (m->env.qp_alloc) {
		int64_t host = m->env.qp_alloc(m->env.opaque, qp);

		if (host < VMM_SUCCESS) {
			forget(m, qp);
			return host;
		}
	}
	return VMM_SUCCESS;
}

int64_t vmm_qp_detach(struct vmci_model *m, const uint8_t *pl, uint64_t plen)
{
	struct vmm_qpair *qp;

	if (plen != 8)
		return VMM_ERROR_INVALID_ARGS;
	qp = vmm_qp_find(m, vmm_get32(pl), vmm_get32(pl + 4));
	if (!qp)
		return VMM_ERROR_NOT_FOUND;
	if (m->env.qp_detach) {
		int64_t host = m->env.qp_detach(m->env.opaque, qp);

		/* The guest's pages are its own again whatever the host said. */
		forget(m, qp);
		return host;
	}
	if (m->env.qp_gone)
		m->env.qp_gone(m->env.opaque, qp->context, qp->resource);
	forget(m, qp);
	/* Nobody on the host side held it: this was the last user. */
	return VMM_SUCCESS_LAST_DETACH;
}

/*
 * QP_PEER_ATTACH / QP_PEER_DETACH: {handle, peer, pad}; the peer is the
 * hypervisor for a pair the guest made for it, else the host.
 */
static int peer_event(struct vmci_model *m, uint32_t event, const struct vmm_qpair *qp)
{
	uint8_t payload[16] = { 0 };

	vmm_put32(payload, qp->context);
	vmm_put32(payload + 4, qp->resource);
	vmm_put32(payload + 8, qp->peer == VMM_HYPERVISOR_CID ? VMM_HYPERVISOR_CID :
								VMM_HOST_CID);
	return vmm_raise_event(m, event, payload, sizeof(payload));
}

int vmm_qp_host_attach(struct vmci_model *m, struct vmm_qpair *qp)
{
	if (qp->host_detached)
		return VMM_ERROR_QUEUEPAIR_NOTATTACHED;
	return peer_event(m, VMM_EVENT_QP_PEER_ATTACH, qp);
}

int vmm_qp_host_detach(struct vmci_model *m, struct vmm_qpair *qp)
{
	if (qp->host_detached)
		return VMM_ERROR_QUEUEPAIR_NOTATTACHED;
	qp->host_detached = true;
	return peer_event(m, VMM_EVENT_QP_PEER_DETACH, qp);
}

int vmm_qp_host_garble(struct vmci_model *m, struct vmm_qpair *qp)
{
	uint64_t gpa = qp->ppns[1 + pages_for(qp->produce_size)] << VMM_PAGE_SHIFT;
	uint8_t fields[16];

	if (qp->host_detached)
		return VMM_ERROR_QUEUEPAIR_NOTATTACHED;
	/* producer_tail past the consume queue, consumer_head past the produce queue. */
	vmm_put64(fields, qp->consume_size + 0x1000);
	vmm_put64(fields + 8, UINT64_MAX - 7);
	if (m->env.mem_write(m->env.opaque, gpa + 8, fields, sizeof(fields)))
		return VMM_ERROR_GENERIC;
	return VMM_SUCCESS;
}
