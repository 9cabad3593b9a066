// SPDX-License-Identifier: GPL-2.0
/*
 * What the hypervisor does with a datagram: hypervisor calls (destination
 * context 0), routing to the host context and back to the guest itself,
 * doorbells and events. The one datagram to context 0 that is not a call
 * is a vSockets control packet for the hypervisor's stream endpoints
 * ({0, 15}); it goes to the embedding like host traffic.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <string.h>

#include "vmci_model_internal.h"

#define HDR VMM_DG_HEADER_SIZE

void vmm_hcall_reset(struct vmci_model *m)
{
	unsigned int i;

	/* A real host forgets the guest's doorbells with the device's state. */
	for (i = 0; m->env.doorbell && i < VMM_MAX_DOORBELLS; i++)
		if (m->doorbells[i].used)
			m->env.doorbell(m->env.opaque, VMM_RID_DOORBELL_UNLINK,
					m->doorbells[i].context,
					m->doorbells[i].resource);
	m->bitmap_set = false;
	m->bitmap_gpa = 0;
	memset(m->doorbells, 0, sizeof(m->doorbells));
	memset(m->well_known_map, 0xff, sizeof(m->well_known_map));
	m->event_subscribed = 0;
	vmm_qp_reset(m);
}

static bool resource_supported(uint32_t rid)
{
	switch (rid) {
	case VMM_RID_RESOURCES_QUERY:
	case VMM_RID_GET_CONTEXT_ID:
	case VMM_RID_SET_NOTIFY_BITMAP:
	case VMM_RID_DOORBELL_LINK:
	case VMM_RID_DOORBELL_UNLINK:
	case VMM_RID_DOORBELL_NOTIFY:
	case VMM_RID_DATAGRAM_REQUEST_MAP:
	case VMM_RID_DATAGRAM_REMOVE_MAP:
	case VMM_RID_EVENT_SUBSCRIBE:
	case VMM_RID_EVENT_UNSUBSCRIBE:
	case VMM_RID_QUEUEPAIR_ALLOC:
	case VMM_RID_QUEUEPAIR_DETACH:
		return true;
	default:
		return false;
	}
}

static int64_t resources_query(const uint8_t *pl, uint64_t plen)
{
	uint32_t n, i;
	int64_t mask = 0;

	if (plen < 8)
		return VMM_ERROR_INVALID_ARGS;
	n = vmm_get32(pl);
	if (n == 0 || n > VMM_RESOURCE_QUERY_MAX || plen < 8 + 4ull * n)
		return VMM_ERROR_INVALID_ARGS;
	for (i = 0; i < n; i++)
		if (resource_supported(vmm_get32(pl + 8 + 4 * i)))
			mask |= 1ll << i;
	return mask;
}

static int64_t set_notify_bitmap(struct vmci_model *m, const uint8_t *pl,
				 uint64_t plen)
{
	uint64_t ppn;
	uint8_t probe;

	if (!(m->caps_in_use & VMM_CAPS_NOTIFICATIONS))
		return VMM_ERROR_UNAVAILABLE;
	if (plen != 8)
		return VMM_ERROR_INVALID_ARGS;
	ppn = (m->caps_in_use & VMM_CAPS_PPN64) ? vmm_get64(pl) : vmm_get32(pl);
	if (ppn > (UINT64_MAX >> VMM_PAGE_SHIFT))
		return VMM_ERROR_INVALID_ARGS;
	/* The page must be guest memory the device can reach. */
	if (m->env.mem_read(m->env.opaque, ppn << VMM_PAGE_SHIFT, &probe, 1))
		return VMM_ERROR_INVALID_ARGS;
	m->bitmap_gpa = ppn << VMM_PAGE_SHIFT;
	m->bitmap_set = true;
	return VMM_SUCCESS;
}

static struct vmm_doorbell *find_doorbell(struct vmci_model *m, uint32_t ctx,
					  uint32_t rid)
{
	unsigned int i;

	for (i = 0; i < VMM_MAX_DOORBELLS; i++)
		if (m->doorbells[i].used && m->doorbells[i].context == ctx &&
		    m->doorbells[i].resource == rid)
			return &m->doorbells[i];
	return NULL;
}

/* Fills a free slot; a real host must accept the doorbell too. */
static int64_t link_slot(struct vmci_model *m, struct vmm_doorbell *db,
			 uint32_t ctx, uint32_t rid, uint64_t index)
{
	int64_t host;

	if (m->env.doorbell) {
		host = m->env.doorbell(m->env.opaque, VMM_RID_DOORBELL_LINK,
				       ctx, rid);
		if (host < VMM_SUCCESS)
			return host;
	}
	*db = (struct vmm_doorbell){
		.context = ctx, .resource = rid,
		.index = (uint32_t)index, .used = true,
	};
	return VMM_SUCCESS;
}

static int64_t doorbell_link(struct vmci_model *m, const uint8_t *pl,
			     uint64_t plen)
{
	uint32_t ctx, rid;
	uint64_t index;
	unsigned int i;

	if (plen != 16)
		return VMM_ERROR_INVALID_ARGS;
	ctx = vmm_get32(pl);
	rid = vmm_get32(pl + 4);
	index = vmm_get64(pl + 8);
	if (ctx != m->cid || rid == VMM_INVALID_ID || index >= VMM_PAGE_SIZE)
		return VMM_ERROR_INVALID_ARGS;
	if (find_doorbell(m, ctx, rid))
		return VMM_ERROR_DUPLICATE_ENTRY;
	for (i = 0; i < VMM_MAX_DOORBELLS; i++) {
		if (!m->doorbells[i].used)
			return link_slot(m, &m->doorbells[i], ctx, rid, index);
	}
	return VMM_ERROR_NO_RESOURCES;
}

static int64_t doorbell_unlink(struct vmci_model *m, const uint8_t *pl,
			       uint64_t plen)
{
	struct vmm_doorbell *db;

	if (plen != 8)
		return VMM_ERROR_INVALID_ARGS;
	db = find_doorbell(m, vmm_get32(pl), vmm_get32(pl + 4));
	if (!db)
		return VMM_ERROR_NOT_FOUND;
	db->used = false;
	if (m->env.doorbell)
		return m->env.doorbell(m->env.opaque, VMM_RID_DOORBELL_UNLINK,
				       db->context, db->resource);
	return VMM_SUCCESS;
}

/* Sets the doorbell's byte in the guest bitmap and raises the interrupt. */
int vmm_ring_doorbell(struct vmci_model *m, uint32_t context, uint32_t resource)
{
	struct vmm_doorbell *db = find_doorbell(m, context, resource);
	uint8_t byte;
	uint64_t gpa;

	if (!db)
		return VMM_ERROR_NOT_FOUND;
	if (!m->bitmap_set)
		return VMM_ERROR_UNAVAILABLE;
	gpa = m->bitmap_gpa + db->index;
	if (m->env.mem_read(m->env.opaque, gpa, &byte, 1))
		return VMM_ERROR_GENERIC;
	byte |= 1;
	if (m->env.mem_write(m->env.opaque, gpa, &byte, 1))
		return VMM_ERROR_GENERIC;
	vmm_raise(m, VMM_ICR_NOTIFICATION);
	return VMM_SUCCESS;
}

static int64_t doorbell_notify(struct vmci_model *m, const uint8_t *pl,
			       uint64_t plen)
{
	uint32_t ctx, rid;

	if (plen != 8)
		return VMM_ERROR_INVALID_ARGS;
	ctx = vmm_get32(pl);
	rid = vmm_get32(pl + 4);
	if (ctx == m->cid)
		return vmm_ring_doorbell(m, ctx, rid);
	/* Another context's doorbell: only a real host has any. */
	if (m->env.doorbell)
		return m->env.doorbell(m->env.opaque, VMM_RID_DOORBELL_NOTIFY,
				       ctx, rid);
	return VMM_ERROR_NOT_FOUND;
}

/* Obsolete well-known datagram mappings: kept as a small table only. */
static int64_t request_map(struct vmci_model *m, const uint8_t *pl,
			   uint64_t plen, bool add)
{
	uint32_t id, slot_id = add ? VMM_INVALID_ID : 0;
	unsigned int i;

	if (plen != 8)
		return VMM_ERROR_INVALID_ARGS;
	id = vmm_get32(pl);
	if (id == VMM_INVALID_ID)
		return VMM_ERROR_INVALID_ARGS;
	for (i = 0; i < 8; i++)
		if (m->well_known_map[i] == id)
			break;
	if (add && i < 8)
		return VMM_ERROR_DUPLICATE_ENTRY;
	if (!add && i == 8)
		return VMM_ERROR_NOT_FOUND;
	if (!add) {
		m->well_known_map[i] = VMM_INVALID_ID;
		return VMM_SUCCESS;
	}
	for (i = 0; i < 8; i++) {
		if (m->well_known_map[i] == slot_id) {
			m->well_known_map[i] = id;
			return VMM_SUCCESS;
		}
	}
	return VMM_ERROR_NO_RESOURCES;
}

static bool event_valid(uint32_t event)
{
	return event < VMM_EVENT_MAX && event != 5 && event != 6;
}

/*
 * EVENT_SUBSCRIBE/UNSUBSCRIBE: Linux guests never send them (they
 * subscribe locally) and events reach the guest regardless; the device
 * keeps the mask so a test can see what a guest asked for. Payload: the
 * event number as u32, then 4 bytes of padding (our layout; not from the
 * facts sheet).
 */
static int64_t event_subscription(struct vmci_model *m, const uint8_t *pl,
				  uint64_t plen, bool subscribe)
{
	uint32_t event;

	if (plen != 8)
		return VMM_ERROR_INVALID_ARGS;
	event = vmm_get32(pl);
	if (!event_valid(event))
		return VMM_ERROR_EVENT_UNKNOWN;
	if (subscribe)
		m->event_subscribed |= 1u << event;
	else
		m->event_subscribed &= ~(1u << event);
	return VMM_SUCCESS;
}

static int64_t hypercall(struct vmci_model *m, uint32_t rid, const uint8_t *pl,
			 uint64_t plen)
{
	m->stats.hypercalls++;
	if (m->fail_result && rid == m->fail_rid) {
		int32_t forced = m->fail_result;

		m->fail_result = 0;
		return forced;
	}
	switch (rid) {
	case VMM_RID_RESOURCES_QUERY:
		return resources_query(pl, plen);
	case VMM_RID_GET_CONTEXT_ID:
		return m->cid;
	case VMM_RID_SET_NOTIFY_BITMAP:
		return set_notify_bitmap(m, pl, plen);
	case VMM_RID_DOORBELL_LINK:
		return doorbell_link(m, pl, plen);
	case VMM_RID_DOORBELL_UNLINK:
		return doorbell_unlink(m, pl, plen);
	case VMM_RID_DOORBELL_NOTIFY:
		return doorbell_notify(m, pl, plen);
	case VMM_RID_DATAGRAM_REQUEST_MAP:
		return request_map(m, pl, plen, true);
	case VMM_RID_DATAGRAM_REMOVE_MAP:
		return request_map(m, pl, plen, false);
	case VMM_RID_EVENT_SUBSCRIBE:
		return event_subscription(m, pl, plen, true);
	case VMM_RID_EVENT_UNSUBSCRIBE:
		return event_subscription(m, pl, plen, false);
	case VMM_RID_QUEUEPAIR_ALLOC:
		return vmm_qp_alloc(m, pl, plen);
	case VMM_RID_QUEUEPAIR_DETACH:
		return vmm_qp_detach(m, pl, plen);
	default:
		return VMM_ERROR_INVALID_RESOURCE;
	}
}

/*
 * Routed datagrams carry the sender's real context: a guest may leave it
 * anonymous (the hypervisor fills it in) but may not claim another one.
 */
static int64_t route(struct vmci_model *m, uint8_t *dg, size_t len)
{
	uint32_t dst = vmm_get32(dg), src = vmm_get32(dg + 8);
	int64_t ret;

	if (len > VMM_MAX_DG_SIZE)
		return VMM_ERROR_PAYLOAD_TOO_LARGE;
	if (src != m->cid && src != VMM_INVALID_ID)
		return VMM_ERROR_NO_ACCESS;
	if (vmm_get32(dg + 12) == VMM_INVALID_ID)
		return VMM_ERROR_INVALID_ARGS;
	vmm_put32(dg + 8, m->cid);
	if (dst == m->cid) {
		ret = vmm_deliver(m, dg, len);
	} else if (dst == VMM_HOST_CID || dst == VMM_HYPERVISOR_CID) {
		if (!m->env.host_datagram)
			return VMM_ERROR_DST_UNREACHABLE;
		ret = m->env.host_datagram(m->env.opaque, dg, len);
	} else {
		return VMM_ERROR_DST_UNREACHABLE;
	}
	/* A routed datagram's result is its size, as on a real host. */
	return ret < 0 ? ret : (int64_t)len;
}

int64_t vmm_handle_datagram(struct vmci_model *m, uint8_t *dg, size_t len)
{
	uint64_t plen;

	if (len < HDR)
		return VMM_ERROR_INVALID_ARGS;
	plen = vmm_get64(dg + 16);
	if (plen != len - HDR)
		return VMM_ERROR_INVALID_ARGS;
	/* Without an embedding that serves it, {0, 15} is an unknown call. */
	if (vmm_get32(dg) == VMM_HYPERVISOR_CID &&
	    (vmm_get32(dg + 4) != VMM_RID_HV_VSOCK_PACKET || !m->env.host_datagram))
		return hypercall(m, vmm_get32(dg + 4), dg + HDR, plen);
	return route(m, dg, len);
}

int vmm_raise_event(struct vmci_model *m, uint32_t event, const void *payload,
		    size_t payload_len)
{
	uint8_t dg[HDR + 8 + 16];

	if (payload_len > 16 || !event_valid(event))
		return VMM_ERROR_INVALID_ARGS;
	memset(dg, 0, sizeof(dg));
	vmm_put_header(dg, m->cid, VMM_EVENT_HANDLER, VMM_HYPERVISOR_CID,
		       VMM_EVENT_HANDLER, 8 + payload_len);
	vmm_put32(dg + HDR, event);
	if (payload_len)
		memcpy(dg + HDR + 8, payload, payload_len);
	return vmm_deliver(m, dg, HDR + 8 + payload_len);
}

void vmm_set_cid(struct vmci_model *m, uint32_t cid)
{
	uint8_t payload[8] = { 0 };

	m->cid = cid;
	vmm_put32(payload, cid);
	vmm_raise_event(m, VMM_EVENT_CTX_ID_UPDATE, payload, sizeof(payload));
}
