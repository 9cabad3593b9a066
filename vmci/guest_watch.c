// SPDX-License-Identifier: GPL-2.0
/*
 * Noticing a device reset we did not ask for. The reset makes the device
 * forget our capabilities, buffers, bitmap and queue pairs, and clears
 * STATUS.INT_ON. A DMA send notices by timing out; a port I/O send never
 * does, because the device still answers it, only no interrupt comes any
 * more and every connection hangs. So once interrupts are on, a delayed
 * work reads STATUS every watch_ms and, when INT_ON is gone, starts the
 * recovery a timed-out send would start.
 *
 * STATUS is trusted only if it showed INT_ON right after we enabled
 * interrupts: a device that does not report the bit is never taken for
 * reset, it just goes unwatched.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/jiffies.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>

#include "guest.h"

static unsigned int watch_ms = 1000;
module_param(watch_ms, uint, 0644);
MODULE_PARM_DESC(watch_ms,
		 "How often to check that the VMCI device was not reset behind our back, ms (0: never)");

/*
 * send_lock held. The device no longer knows us: sends fail at once from
 * now on. Returns true when the caller must schedule recover_work, which
 * it does after dropping the lock.
 */
bool vmci_guest_mark_lost(struct vmci_guest *g)
{
	if (g->wedged)
		return false;
	g->wedged = true;
	return !g->no_recover;
}

bool vmci_guest_reset_seen(struct vmci_guest *g)
{
	return READ_ONCE(g->status_trusted) &&
	       !(vmci_guest_read(g, VMCI_STATUS_ADDR) & VMCI_STATUS_INT_ON);
}

static void arm(struct vmci_guest *g)
{
	unsigned int ms = READ_ONCE(watch_ms);

	if (ms)
		schedule_delayed_work(&g->watch_work, msecs_to_jiffies(ms));
}

static void vmci_guest_watch_work(struct work_struct *work)
{
	struct vmci_guest *g = container_of(to_delayed_work(work), struct vmci_guest, watch_work);
	bool recover;

	if (!vmci_guest_reset_seen(g)) {
		arm(g);
		return;
	}
	spin_lock_irq(&g->send_lock);
	recover = vmci_guest_mark_lost(g);
	spin_unlock_irq(&g->send_lock);
	if (recover) {
		dev_warn(&g->pdev->dev, "device was reset behind our back: setting it up again\n");
		schedule_work(&g->recover_work);
	}
}

void vmci_guest_watch_init(struct vmci_guest *g)
{
	INIT_DELAYED_WORK(&g->watch_work, vmci_guest_watch_work);
}

/* Interrupts were just enabled. */
void vmci_guest_watch_start(struct vmci_guest *g)
{
	bool on = vmci_guest_read(g, VMCI_STATUS_ADDR) & VMCI_STATUS_INT_ON;

	WRITE_ONCE(g->status_trusted, on);
	if (on)
		arm(g);
	else
		dev_info(&g->pdev->dev, "device does not report INT_ON: resets go unwatched\n");
}

/* Before interrupts go off on purpose; not from the watch work itself. */
void vmci_guest_watch_stop(struct vmci_guest *g)
{
	WRITE_ONCE(g->status_trusted, false);
	cancel_delayed_work_sync(&g->watch_work);
}
