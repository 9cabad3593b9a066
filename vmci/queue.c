// SPDX-License-Identifier: GPL-2.0
/*
 * Queue-pair ring: space accounting and copying data in and out.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <asm/barrier.h>
#include <vmci/vmci_abi.h>

#include "queue.h"

/* Only for local pairs and tests: for shared pairs the creator sets it up. */
void vmci_queue_header_init(struct vmci_queue_header *hdr, struct vmci_handle handle)
{
	hdr->handle = handle;
	WRITE_ONCE(hdr->producer_tail, 0);
	WRITE_ONCE(hdr->consumer_head, 0);
}

/* A ring holds at least one byte and at most what the ABI lets a queue be. */
static bool queue_size_ok(u64 size)
{
	return size && size <= VMCI_QUEUE_MAX_SIZE;
}

/*
 * Ring pages are zeroed when @zero says a peer outside this kernel maps
 * them, so that it never sees old kernel data. A ring only this kernel
 * reads needs no zeroing: vmci_queue_dequeue() copies out nothing but
 * the bytes between consumer_head and producer_tail, and the producer
 * moves the tail past a byte only after writing it (see qpair_local.c
 * for why that holds for local pairs). Zeroing was most of a local
 * connect's cost (docs/performance.md, connection rate); kernels booted
 * with init_on_alloc zero every page anyway.
 * Everything is __GFP_ACCOUNT: a queue is made on behalf of a user, and
 * vmcix_qpair_alloc_for() points the charge at that user's memory cgroup
 * (kvcalloc's vmalloc fallback charges its pages the same way).
 */
struct vmci_queue *vmci_queue_alloc(u64 size, bool zero)
{
	gfp_t gfp = GFP_KERNEL_ACCOUNT | (zero ? __GFP_ZERO : 0);
	struct vmci_queue *q;
	unsigned int i;

	if (!queue_size_ok(size))
		return NULL;

	q = kzalloc(sizeof(*q), GFP_KERNEL_ACCOUNT);
	if (!q)
		return NULL;

	q->size = size;
	q->num_pages = DIV_ROUND_UP(size, PAGE_SIZE);
	q->pages = kvcalloc(q->num_pages, sizeof(*q->pages), GFP_KERNEL_ACCOUNT);
	if (!q->pages)
		goto fail;

	/* A lowmem page of its own: a guest pair hands its PFN to the device. */
	q->q_header = (struct vmci_queue_header *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!q->q_header)
		goto fail;

	for (i = 0; i < q->num_pages; i++) {
		q->pages[i] = alloc_page(gfp);
		if (!q->pages[i])
			goto fail;
	}
	return q;

fail:
	vmci_queue_free(q);
	return NULL;
}

/*
 * A local pair's entry and both its lazy queues are one allocation:
 * nothing outside this kernel maps a lazy queue's header, so it need not
 * be a page of its own, and its page array starts empty. Separate
 * allocations for the header, the page array, each queue and the entry
 * were a measurable part of a local connect (docs/performance.md).
 */
struct vmci_lazy_queue {
	struct vmci_queue q;
	/* Both ends write it: kept off the lines the struct's readers use. */
	struct vmci_queue_header hdr ____cacheline_aligned;
	struct page *pages[];
};

static void lazy_queue_init(struct vmci_lazy_queue *lq, u64 size, unsigned int n,
			    struct mem_cgroup *memcg)
{
	lq->q.q_header = &lq->hdr;
	lq->q.size = size;
	lq->q.num_pages = n;
	lq->q.pages = lq->pages;
	lq->q.lazy = true;
#ifdef CONFIG_MEMCG
	if (memcg) {
		css_get(&memcg->css);
		lq->q.memcg = memcg;
	}
#endif
}

void *vmci_queue_pair_alloc_lazy(size_t head, u64 produce_size, u64 consume_size,
				 struct mem_cgroup *memcg, struct vmci_queue **produce_q,
				 struct vmci_queue **consume_q)
{
	const size_t align = __alignof__(struct vmci_lazy_queue);
	struct vmci_lazy_queue *pq, *cq;
	size_t off_p, off_c, total;
	unsigned int np, nc;
	void *block;

	if (!queue_size_ok(produce_size) || !queue_size_ok(consume_size))
		return NULL;
	np = DIV_ROUND_UP(produce_size, PAGE_SIZE);
	nc = DIV_ROUND_UP(consume_size, PAGE_SIZE);
	off_p = ALIGN(head, align);
	off_c = ALIGN(off_p + struct_size(pq, pages, np), align);
	total = off_c + struct_size(cq, pages, nc);
	block = kvzalloc(total, GFP_KERNEL_ACCOUNT);
	if (!block)
		return NULL;
	pq = block + off_p;
	cq = block + off_c;
	lazy_queue_init(pq, produce_size, np, memcg);
	lazy_queue_init(cq, consume_size, nc, memcg);
	*produce_q = &pq->q;
	*consume_q = &cq->q;
	return block;
}

/*
 * A lazy queue's ring page for its first write, charged to the queue's
 * owner rather than to whoever writes (the peer fills our consume queue).
 */
static struct page *queue_page_alloc(const struct vmci_queue *q)
{
	struct mem_cgroup *old = NULL;
	struct page *page;

	if (q->memcg)
		old = set_active_memcg(q->memcg);
	page = alloc_page(GFP_KERNEL_ACCOUNT);
	if (q->memcg)
		set_active_memcg(old);
	return page;
}

/* The ring pages @q has, and its memory cgroup reference. */
static void queue_put_pages(struct vmci_queue *q)
{
	unsigned int i;

	if (q->pages) {
		for (i = 0; i < q->num_pages; i++) {
			if (q->pages[i])
				__free_page(q->pages[i]);
		}
	}
#ifdef CONFIG_MEMCG
	if (q->memcg)
		css_put(&q->memcg->css);
#endif
}

void vmci_queue_free(struct vmci_queue *q)
{
	if (!q)
		return;
	/* A lazy queue lives in its pair's block. */
	if (WARN_ON_ONCE(q->lazy))
		return;
	queue_put_pages(q);
	kvfree(q->pages);
	free_page((unsigned long)q->q_header);
	kfree(q);
}

void vmci_queue_pair_free_lazy(void *block, struct vmci_queue *produce_q,
			       struct vmci_queue *consume_q)
{
	if (!block)
		return;
	queue_put_pages(produce_q);
	queue_put_pages(consume_q);
	kvfree(block);
}

int vmci_queue_init(struct vmci_queue *q, struct vmci_queue_header *hdr,
		    struct page **pages, unsigned int num_pages, u64 size)
{
	if (!q || !hdr || !pages)
		return VMCI_ERROR_INVALID_ARGS;
	if (!queue_size_ok(size))
		return VMCI_ERROR_INVALID_SIZE;
	/* The copy loop indexes pages[] by offset; the two must agree. */
	if (num_pages != DIV_ROUND_UP(size, PAGE_SIZE))
		return VMCI_ERROR_INVALID_ARGS;

	q->q_header = hdr;
	q->size = size;
	q->num_pages = num_pages;
	q->pages = pages;
	return VMCI_SUCCESS;
}

/*
 * Bytes a producer may still write into a ring of @size: one byte always
 * stays empty so that tail == head can only mean "empty".
 */
static s64 vmci_ring_free(u64 tail, u64 head, u64 size)
{
	if (tail >= size || head >= size)
		return VMCI_ERROR_INVALID_SIZE;
	if (tail >= head)
		return size - (tail - head) - 1;
	return head - tail - 1;
}

/* Bytes written but not yet consumed; free + ready is always size - 1. */
static s64 vmci_ring_ready(u64 tail, u64 head, u64 size)
{
	if (tail >= size || head >= size)
		return VMCI_ERROR_INVALID_SIZE;
	if (tail >= head)
		return tail - head;
	return size - (head - tail);
}

/* @offset and @n are below @size, so the sum cannot overflow. */
static u64 vmci_ring_advance(u64 offset, u64 n, u64 size)
{
	offset += n;
	return offset >= size ? offset - size : offset;
}

s64 vmci_queue_free_space(const struct vmci_queue *produce_q,
			  const struct vmci_queue *consume_q)
{
	u64 tail = vmci_queue_header_producer_tail(produce_q->q_header);
	u64 head = vmci_queue_header_consumer_head(consume_q->q_header);

	return vmci_ring_free(tail, head, produce_q->size);
}

s64 vmci_queue_ready_bytes(const struct vmci_queue *produce_q,
			   const struct vmci_queue *consume_q)
{
	u64 tail = vmci_queue_header_producer_tail(consume_q->q_header);
	u64 head = vmci_queue_header_consumer_head(produce_q->q_header);

	return vmci_ring_ready(tail, head, consume_q->size);
}

/*
 * The ring page holding @offset; a lazy queue's writer allocates it on its
 * first visit. Only the producer stores into pages[] (one at a time, as
 * for the tail), and its release of producer_tail after the copy
 * publishes the pointer to the consumer, which reads only below that
 * tail. A reader that finds no page (nothing can lead it there but a
 * bug) gets NULL, not a crash.
 */
static struct page *vmci_ring_page(const struct vmci_queue *q, u64 offset, bool into_ring)
{
	struct page **slot = &q->pages[offset >> PAGE_SHIFT];
	struct page *page = READ_ONCE(*slot);

	if (!page && q->lazy && into_ring) {
		page = queue_page_alloc(q);
		WRITE_ONCE(*slot, page);
	}
	return page;
}

/*
 * Copies @len bytes between the ring, starting at @offset, and @iter, one
 * page at a time and wrapping at the end of the ring; @len is at most
 * size - 1, so the copy wraps at most once. Returns the bytes copied,
 * fewer than @len only when @iter faulted or a lazy page could not be
 * had, or VMCI_ERROR_NO_MEM when not even the first page could.
 */
static ssize_t vmci_ring_copy(const struct vmci_queue *q, u64 offset,
			      struct iov_iter *iter, size_t len, bool into_ring)
{
	size_t done = 0;

	while (done < len) {
		size_t in_page = offset_in_page(offset);
		size_t chunk = min3((u64)(PAGE_SIZE - in_page), (u64)(len - done),
				    q->size - offset);
		struct page *page = vmci_ring_page(q, offset, into_ring);
		void *va;
		size_t n;

		if (!page)
			return done ? done : VMCI_ERROR_NO_MEM;
		va = kmap_local_page(page);
		if (into_ring)
			n = copy_from_iter(va + in_page, chunk, iter);
		else
			n = copy_to_iter(va + in_page, chunk, iter);
		kunmap_local(va);

		done += n;
		if (n < chunk)
			break;
		offset = vmci_ring_advance(offset, n, q->size);
	}
	return done;
}

ssize_t vmci_queue_enqueue(struct vmci_queue *produce_q,
			   const struct vmci_queue *consume_q,
			   struct iov_iter *from, size_t len)
{
	struct vmci_queue_header *hdr = produce_q->q_header;
	u64 tail, head;
	size_t want;
	ssize_t done;
	s64 space;

	tail = vmci_queue_header_producer_tail(hdr);
	/*
	 * Acquire pairs with the peer's release of consumer_head: it has
	 * finished reading the bytes it gave back before we overwrite them.
	 */
	head = smp_load_acquire(&consume_q->q_header->consumer_head);

	space = vmci_ring_free(tail, head, produce_q->size);
	if (space < 0)
		return space;
	if (space == 0)
		return VMCI_ERROR_QUEUEPAIR_NOSPACE;

	want = min3((u64)space, (u64)len, (u64)iov_iter_count(from));
	if (!want)
		return 0;

	done = vmci_ring_copy(produce_q, tail, from, want, true);
	if (done < 0)
		return done;
	if (!done)
		return VMCI_ERROR_INVALID_ARGS;

	/* Release: the peer must see the data before the tail that covers it. */
	smp_store_release(&hdr->producer_tail,
			  vmci_ring_advance(tail, done, produce_q->size));
	return done;
}

ssize_t vmci_queue_dequeue(struct vmci_queue *produce_q,
			   const struct vmci_queue *consume_q,
			   struct iov_iter *to, size_t len, bool peek)
{
	struct vmci_queue_header *hdr = produce_q->q_header;
	u64 tail, head;
	size_t want;
	ssize_t done;
	s64 ready;

	/*
	 * Acquire pairs with the peer's release of producer_tail: the bytes
	 * below the tail are complete before we read them.
	 */
	tail = smp_load_acquire(&consume_q->q_header->producer_tail);
	head = vmci_queue_header_consumer_head(hdr);

	ready = vmci_ring_ready(tail, head, consume_q->size);
	if (ready < 0)
		return ready;
	if (ready == 0)
		return VMCI_ERROR_QUEUEPAIR_NODATA;

	want = min3((u64)ready, (u64)len, (u64)iov_iter_count(to));
	if (!want)
		return 0;

	done = vmci_ring_copy(consume_q, head, to, want, false);
	if (done < 0)
		return done;
	if (!done)
		return VMCI_ERROR_INVALID_ARGS;

	if (peek)
		return done;

	/*
	 * Release, not just a write barrier: our loads of the data must be
	 * done before the peer learns it may overwrite those bytes.
	 */
	smp_store_release(&hdr->consumer_head,
			  vmci_ring_advance(head, done, consume_q->size));
	return done;
}

ssize_t vmci_queue_enqueue_buf(struct vmci_queue *produce_q,
			       const struct vmci_queue *consume_q,
			       const void *buf, size_t len)
{
	struct kvec kv = { .iov_base = (void *)buf, .iov_len = len };
	struct iov_iter from;

	iov_iter_kvec(&from, ITER_SOURCE, &kv, 1, len);
	return vmci_queue_enqueue(produce_q, consume_q, &from, len);
}

ssize_t vmci_queue_dequeue_buf(struct vmci_queue *produce_q,
			       const struct vmci_queue *consume_q,
			       void *buf, size_t len, bool peek)
{
	struct kvec kv = { .iov_base = buf, .iov_len = len };
	struct iov_iter to;

	iov_iter_kvec(&to, ITER_DEST, &kv, 1, len);
	return vmci_queue_dequeue(produce_q, consume_q, &to, len, peek);
}
