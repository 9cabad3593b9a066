/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One direction of a queue pair: a shared header page and a ring of data
 * pages.
 *
 * An endpoint owns two queues. It writes data into its produce queue and
 * moves that queue's producer_tail; it reads from its consume queue and
 * records how far it got in consumer_head of its *produce* queue's header.
 * So the head that limits what it may send is in its consume queue's
 * header, written by the peer.
 *
 * The peer may be another VM, the hypervisor or a hostile VMX process: it
 * can rewrite any header field at any moment. Every operation therefore
 * loads each offset once, checks it against the queue size and works only
 * from that copy. Offsets are stored with single 64-bit stores, never with
 * a read-modify-write on the shared page.
 *
 * No lock is taken here. Callers allow at most one enqueue and at most one
 * dequeue (or peek) at a time on a queue; the two directions run freely
 * against each other and against the peer.
 *
 * Return values are byte counts or VMCI_ERROR_* codes (all negative).
 * A copy that faults part way behaves like a short read or write: the
 * offset moves by exactly the bytes copied and that count is returned, so
 * the caller's iov_iter and the queue stay in step and no byte is lost or
 * sent twice. VMCI_ERROR_INVALID_ARGS means nothing could be copied and
 * nothing moved; VMCI_ERROR_NO_MEM, that a lazy queue could not get the
 * page its first byte needed.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_QUEUE_H
#define VMCI_QUEUE_H

#include <linux/compiler.h>
#include <linux/types.h>
#include <vmci/vmci_abi.h>

struct iov_iter;
struct mem_cgroup;
struct page;

/*
 * A guest's whole pair must fit in VMCI_MAX_GUEST_QP_MEMORY, so no single
 * queue is larger; the bound also keeps offsets below 4 GiB, the most a
 * 32-bit peer can express.
 */
#define VMCI_QUEUE_MAX_SIZE	((u64)VMCI_MAX_GUEST_QP_MEMORY)

struct vmci_queue {
	struct vmci_queue_header *q_header;	/* kernel mapping, shared */
	u64 size;				/* ring bytes, header excluded */
	unsigned int num_pages;			/* DIV_ROUND_UP(size, PAGE_SIZE) */
	struct page **pages;			/* ring pages, may be highmem */
	bool lazy;				/* pages appear on first write */
	struct mem_cgroup *memcg;		/* lazy: whom they are charged to */
};

/* Snapshots of the offsets; validate before use, the peer may lie. */
static inline u64 vmci_queue_header_producer_tail(const struct vmci_queue_header *hdr)
{
	return READ_ONCE(hdr->producer_tail);
}

static inline u64 vmci_queue_header_consumer_head(const struct vmci_queue_header *hdr)
{
	return READ_ONCE(hdr->consumer_head);
}

void vmci_queue_header_init(struct vmci_queue_header *hdr, struct vmci_handle handle);

/*
 * Queue in kernel memory (local and guest pairs, tests): zeroed header;
 * ring pages zeroed if @zero, which every caller whose pages anything
 * outside this kernel maps (guest pairs: the hypervisor) must ask for.
 * All of it is charged to the current (or active) memory cgroup.
 * NULL for size 0, sizes over VMCI_QUEUE_MAX_SIZE or no memory.
 * vmci_queue_free() only takes queues from here.
 */
struct vmci_queue *vmci_queue_alloc(u64 size, bool zero);
void vmci_queue_free(struct vmci_queue *q);

/*
 * A pair of queues that only this kernel ever touches (a local pair), in
 * one allocation with @head zeroed bytes in front for the caller, which
 * is what it returns (NULL for a bad size or no memory). Each queue has
 * its header now and each ring page when the first enqueue reaches it, so
 * a connection that carries little data never allocates (and, under
 * init_on_alloc, never zeroes) a whole ring. The pages are charged to
 * @memcg (a reference is kept) or, when it is NULL, to the writer's
 * memory cgroup. Never hand their pages or headers to a device or a VMM:
 * some pages may not exist, and a header is not a page of its own. Freed
 * only together, by vmci_queue_pair_free_lazy().
 */
void *vmci_queue_pair_alloc_lazy(size_t head, u64 produce_size, u64 consume_size,
				 struct mem_cgroup *memcg, struct vmci_queue **produce_q,
				 struct vmci_queue **consume_q);
void vmci_queue_pair_free_lazy(void *block, struct vmci_queue *produce_q,
			       struct vmci_queue *consume_q);

/*
 * Queue over memory someone else owns (pinned user pages, device-shared
 * pages); @q only borrows @hdr and @pages and must not outlive them.
 */
int vmci_queue_init(struct vmci_queue *q, struct vmci_queue_header *hdr,
		    struct page **pages, unsigned int num_pages, u64 size);

/*
 * Snapshots for deciding whether to wait or to signal the peer; enqueue
 * and dequeue take their own. Free space is in @produce_q, ready bytes are
 * in @consume_q.
 */
s64 vmci_queue_free_space(const struct vmci_queue *produce_q,
			  const struct vmci_queue *consume_q);
s64 vmci_queue_ready_bytes(const struct vmci_queue *produce_q,
			   const struct vmci_queue *consume_q);

ssize_t vmci_queue_enqueue(struct vmci_queue *produce_q,
			   const struct vmci_queue *consume_q,
			   struct iov_iter *from, size_t len);
ssize_t vmci_queue_dequeue(struct vmci_queue *produce_q,
			   const struct vmci_queue *consume_q,
			   struct iov_iter *to, size_t len, bool peek);

ssize_t vmci_queue_enqueue_buf(struct vmci_queue *produce_q,
			       const struct vmci_queue *consume_q,
			       const void *buf, size_t len);
ssize_t vmci_queue_dequeue_buf(struct vmci_queue *produce_q,
			       const struct vmci_queue *consume_q,
			       void *buf, size_t len, bool peek);

#endif /* VMCI_QUEUE_H */
