// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts of the guest device. Best first: MSI-X with one vector per
 * cause (the vector says why, ICR is never read), then one vector of
 * MSI-X, MSI or INTx, where the handler reads ICR (read-to-clear) to learn
 * the causes. The handlers only queue work or wake the DMA waiter: receive
 * and notification processing sleep, so they run from work items.
 *
 * No IRQF_ONESHOT anywhere: a DMA receive waits inside rx_work for a
 * completion interrupt, which a masked line would never deliver.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/interrupt.h>
#include <linux/pci.h>

#include "guest.h"

static const char vmci_irq_name[] = "vmci";

static void handle_causes(struct vmci_guest *g, u32 causes)
{
	if (causes & VMCI_ICR_DMA_DATAGRAM)
		wake_up_all(&g->dma_wait);
	if (causes & VMCI_ICR_DATAGRAM)
		vmci_guest_queue_rx(g);
	if (causes & VMCI_ICR_NOTIFICATION)
		queue_work(system_wq, &g->notify_work);
}

static irqreturn_t shared_vector(int irq, void *data)
{
	struct vmci_guest *g = data;
	u32 causes = vmci_guest_icr_causes(vmci_guest_read(g, VMCI_ICR_ADDR));

	if (!causes)
		return IRQ_NONE;
	handle_causes(g, causes);
	return IRQ_HANDLED;
}

static irqreturn_t datagram_vector(int irq, void *data)
{
	handle_causes(data, VMCI_ICR_DATAGRAM);
	return IRQ_HANDLED;
}

static irqreturn_t notification_vector(int irq, void *data)
{
	handle_causes(data, VMCI_ICR_NOTIFICATION);
	return IRQ_HANDLED;
}

static irqreturn_t dma_vector(int irq, void *data)
{
	handle_causes(data, VMCI_ICR_DMA_DATAGRAM);
	return IRQ_HANDLED;
}

static irq_handler_t exclusive_handler(unsigned int vec)
{
	switch (vec) {
	case VMCI_INTR_DATAGRAM:
		return datagram_vector;
	case VMCI_INTR_NOTIFICATION:
		return notification_vector;
	default:
		return dma_vector;
	}
}

static void free_vectors(struct vmci_guest *g, unsigned int requested)
{
	while (requested--)
		free_irq(pci_irq_vector(g->pdev, requested), g);
	pci_free_irq_vectors(g->pdev);
	g->nvec = 0;
}

static int try_mode(struct vmci_guest *g, enum vmci_irq_mode mode)
{
	unsigned int want = 1, flags, i;
	irq_handler_t handler;
	int nvec, err;

	switch (mode) {
	case VMCI_IRQ_MSIX_EXCLUSIVE:
		want = vmci_guest_exclusive_vectors(g->caps);
		flags = PCI_IRQ_MSIX;
		break;
	case VMCI_IRQ_MSIX_SHARED:
		flags = PCI_IRQ_MSIX;
		break;
	case VMCI_IRQ_MSI:
		flags = PCI_IRQ_MSI;
		break;
	default:
		flags = PCI_IRQ_INTX;
		break;
	}
	nvec = pci_alloc_irq_vectors(g->pdev, want, want, flags);
	if (nvec < 0)
		return nvec;
	g->nvec = nvec;

	for (i = 0; i < g->nvec; i++) {
		handler = mode == VMCI_IRQ_MSIX_EXCLUSIVE ? exclusive_handler(i) : shared_vector;
		/* INTx may be shared with other devices; ICR tells ours apart. */
		err = request_irq(pci_irq_vector(g->pdev, i), handler,
				  mode == VMCI_IRQ_INTX ? IRQF_SHARED : 0, vmci_irq_name, g);
		if (err) {
			free_vectors(g, i);
			return err;
		}
	}
	g->irq_mode = mode;
	return 0;
}

int vmci_guest_irq_setup(struct vmci_guest *g, const char *mode_param)
{
	enum vmci_irq_mode modes[VMCI_IRQ_MODES];
	int n, i, err = -ENODEV;

	n = vmci_guest_irq_modes(mode_param, modes);
	if (n < 0) {
		dev_err(&g->pdev->dev, "irq_mode=%s unknown: use auto, msix, msix1, msi or intx\n",
			mode_param);
		return n;
	}
	for (i = 0; i < n; i++) {
		err = try_mode(g, modes[i]);
		if (!err) {
			dev_info(&g->pdev->dev, "interrupts: %s, %u vector(s)\n",
				 vmci_guest_irq_mode_name(modes[i]), g->nvec);
			return 0;
		}
		dev_dbg(&g->pdev->dev, "interrupt mode %s unavailable: %d\n",
			vmci_guest_irq_mode_name(modes[i]), err);
	}
	dev_err(&g->pdev->dev, "no usable interrupt: %d\n", err);
	return err;
}

/* The device raises nothing more once masked; handlers may still be running. */
void vmci_guest_irq_quiesce(struct vmci_guest *g)
{
	unsigned int i;

	/* INT_ON goes away now, and that is not a reset. */
	vmci_guest_watch_stop(g);
	vmci_guest_write(g, VMCI_IMR_ADDR, 0);
	vmci_guest_write(g, VMCI_CONTROL_ADDR, VMCI_CONTROL_INT_DISABLE);
	for (i = 0; i < g->nvec; i++)
		synchronize_irq(pci_irq_vector(g->pdev, i));
}

void vmci_guest_irq_teardown(struct vmci_guest *g)
{
	if (g->nvec)
		free_vectors(g, g->nvec);
}
