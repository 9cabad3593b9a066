/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest personality: vmci.ko driving the VMCI PCI device of a VMware
 * virtual machine. One device per VM, so there is one struct vmci_guest.
 *
 * Files, one job each:
 *   guest_pci.c      probe/remove, BARs, capabilities, PM hooks, recovery,
 *                    the route
 *   guest_watch.c    noticing a device reset we did not ask for
 *   guest_irq.c      vector allocation and interrupt handlers
 *   guest_dg_send.c  datagrams to the device (port I/O or DMA)
 *   guest_dg_recv.c  datagrams from the device, handed to the core
 *   guest_notify.c   notification bitmap and doorbell hypercalls
 *   guest_events.c   CTX_ID_UPDATE and QP_RESUMED
 *   guest_qpair.c    queue pairs with the hypervisor (alloc/detach hypercalls)
 *   guest_logic.c    the value-only decisions (KUnit-tested, no PCI)
 *
 * Locking:
 * - send_lock (spinlock, taken with interrupts off) serialises every use of
 *   DATA_OUT / the DMA send buffer and the RESULT register: the device
 *   processes one datagram at a time.
 * - Receive runs from rx_work only (one at a time by construction of a
 *   work item), so the receive buffers need no lock.
 * - Notification scanning runs from notify_work only.
 * - @cid is written by the CTX_ID_UPDATE callback and read anywhere with
 *   READ_ONCE.
 * - @wedged, @no_recover and @removing are read and written under send_lock only.
 * - @status_trusted: WRITE_ONCE/READ_ONCE; set while interrupts are on and
 *   STATUS showed it (guest_watch.c).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_GUEST_H
#define VMCI_GUEST_H

#include <linux/io.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <vmci/vmci_abi.h>

#include "guest_logic.h"

struct pci_dev;

struct vmci_guest {
	struct pci_dev *pdev;
	void __iomem *regs;		/* BAR0 ports or the MMIO window */
	bool mmio;
	u32 caps;			/* in use, as written to CAPS */
	u32 cid;			/* READ_ONCE: see above */

	spinlock_t send_lock;		/* see above */
	/*
	 * A DMA send timed out: the device no longer answers (a reset we did
	 * not ask for, or worse). Sends fail at once instead of spinning with
	 * interrupts off again, until recover_work has set the device up anew.
	 */
	bool wedged;
	bool no_recover;		/* removal or recovery under way */
	bool removing;			/* no_recover for good */
	struct work_struct recover_work;
	bool status_trusted;		/* STATUS.INT_ON means what it says */
	struct delayed_work watch_work;

	/*
	 * Private receive buffer (vmalloc), VMCI_MAX_DG_SIZE bytes: port I/O
	 * reads into it, DMA receive copies each datagram into it.
	 */
	u8 *rx_buf;

	/* DMA datagrams: coherent buffers, header page + data area each. */
	void *tx_dma;
	dma_addr_t tx_dma_addr;
	void *rx_dma;
	dma_addr_t rx_dma_addr;
	wait_queue_head_t dma_wait;	/* woken on ICR_DMA_DATAGRAM */

	/* Notification bitmap page shared with the device. */
	u8 *bitmap;
	dma_addr_t bitmap_addr;

	enum vmci_irq_mode irq_mode;
	unsigned int nvec;
	struct work_struct rx_work;
	struct work_struct notify_work;

	u32 sub_cid_update;		/* event subscriptions, 0 when none */
	u32 sub_qp_resumed;
	bool route_registered;
};

/* Register access; the same offsets through either BAR. */
static inline u32 vmci_guest_read(struct vmci_guest *g, unsigned int reg)
{
	return ioread32(g->regs + reg);
}

static inline void vmci_guest_write(struct vmci_guest *g, unsigned int reg, u32 val)
{
	iowrite32(val, g->regs + reg);
}

/* guest_dg_send.c: any context; returns the device's result. */
int vmci_guest_send(struct vmci_guest *g, struct vmci_datagram *dg);
/* A hypercall with @payload_size bytes after the header, already filled in. */
int vmci_guest_hypercall(struct vmci_guest *g, struct vmci_datagram *dg, u32 rid,
			 u64 payload_size);

/* guest_pci.c: runs after a send or the watch found the device wedged. */
void vmci_guest_recover_work(struct work_struct *work);

/* guest_watch.c */
bool vmci_guest_mark_lost(struct vmci_guest *g);
bool vmci_guest_reset_seen(struct vmci_guest *g);
void vmci_guest_watch_init(struct vmci_guest *g);
void vmci_guest_watch_start(struct vmci_guest *g);
void vmci_guest_watch_stop(struct vmci_guest *g);

/* guest_dg_recv.c: process context. */
void vmci_guest_rx_work(struct work_struct *work);

typedef void (*vmci_guest_deliver_fn)(void *ctx, struct vmci_datagram *dg, size_t size);

/*
 * Hands every datagram in the DMA data area @area (VMCI_MAX_DG_SIZE bytes
 * the device filled, and may still write) to @deliver as a copy in @copy,
 * a private buffer of VMCI_MAX_DG_SIZE bytes that the next datagram
 * overwrites. False when the device broke the buffer rules.
 */
bool vmci_guest_dma_walk(const u8 *area, u8 *copy, vmci_guest_deliver_fn deliver, void *ctx);

/*
 * Every socket wakeup from the device waits for rx_work, so it runs on
 * the high-priority pool: a normal worker can wait behind the very task
 * it is about to wake. (The in-tree driver uses an RT IRQ thread.)
 */
static inline void vmci_guest_queue_rx(struct vmci_guest *g)
{
	queue_work(system_highpri_wq, &g->rx_work);
}

/* guest_irq.c */
int vmci_guest_irq_setup(struct vmci_guest *g, const char *mode_param);
void vmci_guest_irq_teardown(struct vmci_guest *g);
void vmci_guest_irq_quiesce(struct vmci_guest *g);

/* guest_notify.c */
int vmci_guest_notify_alloc(struct vmci_guest *g);
void vmci_guest_notify_free(struct vmci_guest *g);
int vmci_guest_notify_register(struct vmci_guest *g);
void vmci_guest_notify_work(struct work_struct *work);
/* Doorbell hooks of the core (doorbell.h), process context. */
int vmci_guest_notify_start(struct vmci_guest *g);
void vmci_guest_notify_stop(struct vmci_guest *g);
void vmci_guest_notify_relink_all(struct vmci_guest *g);

/* guest_events.c: process context. */
int vmci_guest_events_subscribe(struct vmci_guest *g);
void vmci_guest_events_unsubscribe(struct vmci_guest *g);

/* guest_qpair.c */
void vmci_guest_qpair_attach_device(struct vmci_guest *g);
void vmci_guest_qpair_detach_device(struct vmci_guest *g);
void vmci_guest_qpair_resumed(void);
void vmci_guest_qpair_exit(void);

#endif /* VMCI_GUEST_H */
