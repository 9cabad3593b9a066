/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMCI device's behaviour, free of any emulator: the register file,
 * the datagram byte streams and DMA buffers, and the hypervisor calls.
 * The embedding (the QEMU glue, or a unit test) supplies guest memory
 * access and interrupt delivery through struct vmm_env.
 *
 * Nothing the guest writes is trusted: every length, address and index is
 * checked here, and a bad request ends in a VMCI error result.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_MODEL_H
#define VMCI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmci_model_abi.h"

struct vmm_qpair;

struct vmm_env {
	void *opaque;
	/* Guest-physical memory; non-zero return means the access failed. */
	int (*mem_read)(void *opaque, uint64_t gpa, void *buf, size_t len);
	int (*mem_write)(void *opaque, uint64_t gpa, const void *buf, size_t len);
	/*
	 * CAUSES were just raised and are enabled (edge, for MSI and MSI-X);
	 * LEVEL is whether any enabled cause is pending (for INTx).
	 */
	void (*irq)(void *opaque, uint32_t causes, bool level);
	/*
	 * A datagram for the host context (CID 2), or a vSockets control
	 * packet for the hypervisor ({0, 15}). Returns the VMCI result the
	 * guest sees. NULL: the host context is unreachable.
	 */
	int64_t (*host_datagram)(void *opaque, const uint8_t *dg, size_t len);
	/* The guest detached (or a reset dropped) a pair; may be NULL. */
	void (*qp_gone)(void *opaque, uint32_t context, uint32_t resource);
	/*
	 * VMX mode (vmci_vmx.h): a real host driver keeps the host's half of
	 * doorbells and queue pairs. Each hook may be NULL (bridge mode:
	 * the model alone decides).
	 * doorbell: RID is VMM_RID_DOORBELL_LINK / _UNLINK for a doorbell
	 * of the guest the model accepted, or VMM_RID_DOORBELL_NOTIFY for
	 * a handle of another context; returns the host's VMCI result (a
	 * refused link is undone).
	 * qp_alloc: the model accepted QP and wrote its headers; returns the
	 * host's result, and on an error the model forgets the pair. In this
	 * mode the model keeps no offers: the host's broker knows its pairs.
	 * qp_detach: the guest detaches QP (or a reset drops it), called
	 * instead of qp_gone; returns the host's result.
	 */
	int64_t (*doorbell)(void *opaque, uint32_t rid, uint32_t context,
			    uint32_t resource);
	int64_t (*qp_alloc)(void *opaque, const struct vmm_qpair *qp);
	int64_t (*qp_detach)(void *opaque, const struct vmm_qpair *qp);
};

struct vmm_rx_entry {
	struct vmm_rx_entry *next;
	uint32_t len;
	uint8_t data[];
};

struct vmm_doorbell {
	uint32_t context;
	uint32_t resource;
	uint32_t index;
	bool used;
};

struct vmm_qpair {
	uint32_t context;
	uint32_t resource;
	uint32_t peer;
	uint32_t flags;
	uint64_t produce_size;
	uint64_t consume_size;
	uint64_t num_pages;
	/* Produce header, produce data, consume header, consume data. */
	uint64_t *ppns;
	/* The host end left; the guest keeps its pages until it detaches. */
	bool host_detached;
};

struct vmm_stats {
	uint64_t hypercalls;
	uint64_t errors;
	uint64_t rx_dropped;
	uint64_t rx_delivered;
};

struct vmci_model {
	struct vmm_env env;

	/* Configuration (properties). */
	uint32_t cid;
	uint32_t caps_offered;

	/* Register file. */
	uint32_t status;
	uint32_t icr;
	uint32_t imr;
	uint32_t caps_in_use;
	int64_t result;
	uint32_t out_high;
	uint32_t in_high;
	uint32_t page_shift;

	/* DATA_OUT byte stream: the datagram being assembled. */
	uint8_t *out_buf;
	size_t out_len;
	size_t out_want;	/* 0 until the header is complete */
	bool out_discard;	/* the datagram is bad; swallow its bytes */

	/* Datagrams waiting for the guest. */
	struct vmm_rx_entry *rx_head, *rx_tail;
	size_t rx_bytes;
	/*
	 * Fault injection (junk dma-resize): when a DMA receive hands this
	 * entry over, it goes alone, and its payload_size in guest memory is
	 * rewritten right after the interrupt. NULL when none is armed.
	 */
	struct vmm_rx_entry *rx_resize;

	/* DATA_IN byte stream: whole pages built when first read. */
	uint8_t *in_chunk;
	size_t in_chunk_len;
	size_t in_chunk_pos;

	/* Notifications. */
	bool bitmap_set;
	uint64_t bitmap_gpa;
	struct vmm_doorbell doorbells[VMM_MAX_DOORBELLS];
	uint32_t well_known_map[8];
	uint32_t event_subscribed;

	/* Pairs the host created and offered, waiting for the guest's attach. */
	struct {
		uint32_t resource;
		uint64_t produce_size, consume_size;	/* the guest's view */
	} host_offers[16];

	/* Queue pairs shared with the host. */
	struct vmm_qpair *qps;
	unsigned int qp_count;
	uint64_t qp_pages;

	/* Fault injection: the next hypercall to fail_rid returns fail_result. */
	uint32_t fail_rid;
	int32_t fail_result;

	struct vmm_stats stats;
};

int vmm_init(struct vmci_model *m, const struct vmm_env *env, uint32_t cid,
	     uint32_t caps_offered);
void vmm_destroy(struct vmci_model *m);
void vmm_reset(struct vmci_model *m);

/* Register access; SIZE is 1, 2 or 4 bytes, OFFSET within the register file. */
uint32_t vmm_read(struct vmci_model *m, uint32_t offset, unsigned int size);
void vmm_write(struct vmci_model *m, uint32_t offset, uint32_t value,
	       unsigned int size);

/*
 * One complete datagram from the guest, in a buffer the device owns (the
 * source context is filled in); returns the result the guest sees.
 */
int64_t vmm_handle_datagram(struct vmci_model *m, uint8_t *dg, size_t len);

/* Queues a datagram for the guest; returns a VMCI result. */
int vmm_deliver(struct vmci_model *m, const uint8_t *dg, size_t len);
int vmm_raise_event(struct vmci_model *m, uint32_t event, const void *payload,
		    size_t payload_len);
void vmm_set_cid(struct vmci_model *m, uint32_t cid);
/*
 * What a restore without the VM's queue pairs leaves: the model forgets
 * every pair (their host ends see the guest leave), then raises
 * QP_RESUMED, after which the guest frees their pages without a detach.
 */
int vmm_qp_resume(struct vmci_model *m);
int vmm_ring_doorbell(struct vmci_model *m, uint32_t context, uint32_t resource);
struct vmm_qpair *vmm_qp_find(struct vmci_model *m, uint32_t context,
			      uint32_t resource);

/*
 * The host's end of a guest-allocated pair: bytes ready from the guest,
 * room toward the guest, and moving data (returns bytes or a VMCI error;
 * an offset outside the queue in a guest-written header is INVALID_SIZE).
 */
/* The host creates pair {2, RESOURCE}; the guest attaches with its pages. */
int vmm_qp_host_offer(struct vmci_model *m, uint32_t resource,
		      uint64_t produce_size, uint64_t consume_size);
int64_t vmm_qp_host_ready(struct vmci_model *m, struct vmm_qpair *qp);
int64_t vmm_qp_host_free(struct vmci_model *m, struct vmm_qpair *qp);
int64_t vmm_qp_host_read(struct vmci_model *m, struct vmm_qpair *qp,
			 uint8_t *buf, size_t len);
int64_t vmm_qp_host_write(struct vmci_model *m, struct vmm_qpair *qp,
			  const uint8_t *buf, size_t len);
/*
 * The host end attaches to / detaches from a guest pair: the guest gets
 * QP_PEER_ATTACH / QP_PEER_DETACH {handle, peer 2}. A pair the host left
 * stays known until the guest detaches too; its queues are not touched.
 */
int vmm_qp_host_attach(struct vmci_model *m, struct vmm_qpair *qp);
int vmm_qp_host_detach(struct vmci_model *m, struct vmm_qpair *qp);
/* Fault: offsets outside the queues in the header the host writes. */
int vmm_qp_host_garble(struct vmci_model *m, struct vmm_qpair *qp);

/*
 * Fault: queues one malformed datagram of kind KIND for the guest (see
 * vmci_model_junk.c for the kinds). Returns a VMCI result.
 */
int vmm_inject_junk(struct vmci_model *m, const char *kind);

/* Little-endian field access into byte buffers. */
static inline uint32_t vmm_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t vmm_get64(const uint8_t *p)
{
	return (uint64_t)vmm_get32(p) | (uint64_t)vmm_get32(p + 4) << 32;
}

static inline void vmm_put32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static inline void vmm_put64(uint8_t *p, uint64_t v)
{
	vmm_put32(p, (uint32_t)v);
	vmm_put32(p + 4, (uint32_t)(v >> 32));
}

static inline size_t vmm_align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

/* Writes a datagram header at P. */
void vmm_put_header(uint8_t *p, uint32_t dst_cid, uint32_t dst_rid,
		    uint32_t src_cid, uint32_t src_rid, uint64_t payload_size);

#endif
