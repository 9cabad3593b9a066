// SPDX-License-Identifier: GPL-2.0
/*
 * The VMCI PCI device (15ad:0740): probe, capability negotiation, power
 * management and removal. Probe follows the device's documented order:
 * registers, buffers, bus mastering, capabilities, DMA setup, bitmap,
 * capability check with the hypervisor, context ID, events, interrupts,
 * and only then do we become the core's way to the hypervisor.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "guest.h"
#include "guest_pci.h"
#include "route.h"

static char *irq_mode = "auto";
module_param(irq_mode, charp, 0444);
MODULE_PARM_DESC(irq_mode, "Interrupts: auto (default), msix, msix1 (one MSI-X vector), msi, intx");

static bool use_mmio = true;
module_param(use_mmio, bool, 0444);
MODULE_PARM_DESC(use_mmio, "Use the MMIO window and DMA datagrams when the device has them (default Y)");

static bool disable_guest;
module_param(disable_guest, bool, 0444);
MODULE_PARM_DESC(disable_guest, "Do not drive the VMCI PCI device (host personality only)");

static const char vmci_region_name[] = "vmci";

/* The one device; the route ops reach it through this while registered. */
static struct vmci_guest *guest_dev;

static int route_send(struct vmci_datagram *dg)
{
	struct vmci_guest *g = READ_ONCE(guest_dev);

	return g ? vmci_guest_send(g, dg) : VMCI_ERROR_DST_UNREACHABLE;
}

static u32 route_context_id(void)
{
	struct vmci_guest *g = READ_ONCE(guest_dev);

	return g ? READ_ONCE(g->cid) : VMCI_INVALID_ID;
}

static const struct vmci_hypervisor_ops guest_route_ops = {
	.send = route_send,
	.context_id = route_context_id,
};

static bool bar1_is_mmio_window(struct pci_dev *pdev)
{
	return (pci_resource_flags(pdev, 1) & IORESOURCE_MEM) &&
	       pci_resource_len(pdev, 1) == VMCI_MMIO_BAR_SIZE;
}

static void unmap_registers(struct vmci_guest *g)
{
	if (!g->regs)
		return;
	pci_iounmap(g->pdev, g->regs);
	pci_release_region(g->pdev, g->mmio ? 1 : 0);
	g->regs = NULL;
}

static int map_registers(struct vmci_guest *g, bool mmio)
{
	struct pci_dev *pdev = g->pdev;
	int bar = mmio ? 1 : 0;
	int err;

	if (!mmio && !(pci_resource_flags(pdev, 0) & IORESOURCE_IO))
		return -ENODEV;
	err = pci_request_region(pdev, bar, vmci_region_name);
	if (err) {
		dev_err(&pdev->dev, "BAR%d is claimed by another driver (vmw_vmci?): %d\n",
			bar, err);
		return err;
	}
	if (mmio)
		g->regs = pci_iomap_range(pdev, 1, VMCI_MMIO_ACCESS_OFFSET, VMCI_MMIO_ACCESS_SIZE);
	else
		g->regs = pci_iomap(pdev, 0, 0);
	if (!g->regs) {
		pci_release_region(pdev, bar);
		return -ENOMEM;
	}
	g->mmio = mmio;
	return 0;
}

/*
 * Maps the registers and picks the capabilities: the MMIO window when
 * there is one and it comes with DMA datagrams, else the I/O ports.
 */
static int map_and_negotiate(struct vmci_guest *g, u32 *offered)
{
	bool try_mmio = use_mmio && bar1_is_mmio_window(g->pdev);
	int err;

	if (try_mmio) {
		err = map_registers(g, true);
		if (!err) {
			*offered = vmci_guest_read(g, VMCI_CAPS_ADDR);
			err = vmci_guest_caps_choose(*offered, true, true, &g->caps);
			if (!err)
				return 0;
			unmap_registers(g);
			dev_info(&g->pdev->dev, "MMIO window unusable (caps 0x%x), trying I/O ports\n",
				 *offered);
		}
	}
	err = map_registers(g, false);
	if (err)
		return err;
	*offered = vmci_guest_read(g, VMCI_CAPS_ADDR);
	err = vmci_guest_caps_choose(*offered, false, true, &g->caps);
	if (err) {
		dev_err(&g->pdev->dev, "device offers no datagrams (caps 0x%x)\n", *offered);
		unmap_registers(g);
	}
	return err;
}

static void free_buffers(struct vmci_guest *g)
{
	struct device *dev = &g->pdev->dev;
	size_t size = VMCI_MAX_DG_SIZE + PAGE_SIZE;

	if (g->tx_dma)
		dma_free_coherent(dev, size, g->tx_dma, g->tx_dma_addr);
	if (g->rx_dma)
		dma_free_coherent(dev, size, g->rx_dma, g->rx_dma_addr);
	vfree(g->rx_buf);
	g->tx_dma = NULL;
	g->rx_dma = NULL;
	g->rx_buf = NULL;
}

static int alloc_buffers(struct vmci_guest *g)
{
	struct device *dev = &g->pdev->dev;
	size_t size = VMCI_MAX_DG_SIZE + PAGE_SIZE;

	/* Both modes: DMA receive copies out of device memory into it. */
	g->rx_buf = vmalloc(VMCI_MAX_DG_SIZE);
	if (!g->rx_buf)
		return -ENOMEM;
	if (!(g->caps & VMCI_CAPS_DMA_DATAGRAM))
		return 0;
	g->tx_dma = dma_alloc_coherent(dev, size, &g->tx_dma_addr, GFP_KERNEL);
	g->rx_dma = dma_alloc_coherent(dev, size, &g->rx_dma_addr, GFP_KERNEL);
	if (!g->tx_dma || !g->rx_dma) {
		free_buffers(g);
		return -ENOMEM;
	}
	return 0;
}

/*
 * What the device must be told after probe and again after a reset or
 * resume: the capabilities in use, the DMA buffer addresses, the bitmap.
 */
static int program_device(struct vmci_guest *g)
{
	vmci_guest_write(g, VMCI_CAPS_ADDR, g->caps);
	if (g->caps & VMCI_CAPS_DMA_DATAGRAM) {
		vmci_guest_write(g, VMCI_GUEST_PAGE_SHIFT, PAGE_SHIFT);
		vmci_guest_write(g, VMCI_DATA_IN_HIGH_ADDR, upper_32_bits(g->rx_dma_addr));
		vmci_guest_write(g, VMCI_DATA_OUT_HIGH_ADDR, upper_32_bits(g->tx_dma_addr));
	}
	if (g->caps & VMCI_CAPS_NOTIFICATIONS)
		return vmci_guest_notify_register(g);
	return 0;
}

static void enable_interrupts(struct vmci_guest *g)
{
	vmci_guest_write(g, VMCI_IMR_ADDR, vmci_guest_imr(g->caps));
	vmci_guest_write(g, VMCI_CONTROL_ADDR, VMCI_CONTROL_INT_ENABLE);
	vmci_guest_watch_start(g);
	/* Datagrams may have been queued before we listened. */
	vmci_guest_queue_rx(g);
}

/* The hypervisor must answer GET_CONTEXT_ID, or nothing else will work. */
static int check_hypervisor(struct vmci_guest *g)
{
	struct {
		struct vmci_resource_query_hdr q;
		u32 resources[1];
	} msg = {};
	int result;

	msg.q.num_resources = 1;
	msg.resources[0] = VMCI_GET_CONTEXT_ID;
	result = vmci_guest_hypercall(g, &msg.q.hdr, VMCI_RESOURCES_QUERY,
				      sizeof(msg) - VMCI_DG_HEADERSIZE);
	if (result != 0x1) {
		dev_err(&g->pdev->dev, "hypervisor lacks GET_CONTEXT_ID (query result %d)\n",
			result);
		return -ENXIO;
	}
	return 0;
}

static int query_context_id(struct vmci_guest *g)
{
	struct vmci_datagram dg = {};
	u32 cid;

	cid = (u32)vmci_guest_hypercall(g, &dg, VMCI_GET_CONTEXT_ID, 0);
	if (cid == VMCI_INVALID_ID || cid <= VMCI_HOST_CONTEXT_ID) {
		dev_err(&g->pdev->dev, "hypervisor gave no usable context ID (%u)\n", cid);
		return -ENXIO;
	}
	WRITE_ONCE(g->cid, cid);
	return 0;
}

/* Quiet, work drained; the device keeps its state unless reset after. */
static void stop_device(struct vmci_guest *g)
{
	vmci_guest_irq_quiesce(g);
	/* The reset also ends a DMA receive the work might be waiting for. */
	vmci_guest_write(g, VMCI_CONTROL_ADDR, VMCI_CONTROL_RESET);
	wake_up_all(&g->dma_wait);
	cancel_work_sync(&g->rx_work);
	cancel_work_sync(&g->notify_work);
}

static int vmci_guest_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vmci_guest *g;
	u32 offered;
	int err;

	if (READ_ONCE(guest_dev)) {
		dev_err(&pdev->dev, "a VMCI device is already driven; ignoring this one\n");
		return -EBUSY;
	}
	g = kzalloc(sizeof(*g), GFP_KERNEL);
	if (!g)
		return -ENOMEM;
	g->pdev = pdev;
	g->cid = VMCI_INVALID_ID;
	spin_lock_init(&g->send_lock);
	init_waitqueue_head(&g->dma_wait);
	INIT_WORK(&g->rx_work, vmci_guest_rx_work);
	INIT_WORK(&g->notify_work, vmci_guest_notify_work);
	INIT_WORK(&g->recover_work, vmci_guest_recover_work);
	vmci_guest_watch_init(g);
	pci_set_drvdata(pdev, g);

	err = pci_enable_device(pdev);
	if (err)
		goto err_free;
	err = map_and_negotiate(g, &offered);
	if (err)
		goto err_disable;
	err = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(vmci_guest_dma_bits(g->caps)));
	if (err)
		goto err_unmap;
	if ((g->caps & VMCI_CAPS_NOTIFICATIONS) && vmci_guest_notify_alloc(g)) {
		dev_warn(&pdev->dev, "no memory for the notification bitmap: doorbells unavailable\n");
		vmci_guest_caps_choose(offered, g->mmio, false, &g->caps);
	}
	err = alloc_buffers(g);
	if (err)
		goto err_bitmap;
	pci_set_master(pdev);

	err = program_device(g);
	if (err)
		goto err_reset;
	err = check_hypervisor(g);
	if (err)
		goto err_reset;
	err = query_context_id(g);
	if (err)
		goto err_reset;
	err = vmci_guest_events_subscribe(g);
	if (err)
		goto err_reset;
	err = vmci_guest_irq_setup(g, irq_mode);
	if (err)
		goto err_events;
	enable_interrupts(g);

	WRITE_ONCE(guest_dev, g);
	err = vmci_route_register_hypervisor(&guest_route_ops);
	if (err)
		goto err_irq;
	g->route_registered = true;
	err = vmci_guest_notify_start(g);
	if (err)
		goto err_route;
	vmci_guest_qpair_attach_device(g);

	dev_info(&pdev->dev, "guest personality active: CID %u, caps 0x%x of 0x%x, %s\n",
		 g->cid, g->caps, offered, g->mmio ? "MMIO + DMA datagrams" : "I/O ports");
	return 0;

err_route:
	vmci_route_unregister_hypervisor(&guest_route_ops);
	g->route_registered = false;
err_irq:
	WRITE_ONCE(guest_dev, NULL);
	stop_device(g);
	vmci_guest_irq_teardown(g);
err_events:
	vmci_guest_events_unsubscribe(g);
err_reset:
	vmci_guest_write(g, VMCI_CONTROL_ADDR, VMCI_CONTROL_RESET);
	pci_clear_master(pdev);
	free_buffers(g);
err_bitmap:
	vmci_guest_notify_free(g);
err_unmap:
	unmap_registers(g);
err_disable:
	pci_disable_device(pdev);
err_free:
	kfree(g);
	return err;
}

/* Once removal started, a recovery finishing late must not allow another. */
static void set_no_recover(struct vmci_guest *g, bool no_recover)
{
	spin_lock_irq(&g->send_lock);
	g->no_recover = no_recover || g->removing;
	spin_unlock_irq(&g->send_lock);
}

static void vmci_guest_remove(struct pci_dev *pdev)
{
	struct vmci_guest *g = pci_get_drvdata(pdev);

	/* A recovery would register the route again under our feet. */
	spin_lock_irq(&g->send_lock);
	g->removing = true;
	g->no_recover = true;
	spin_unlock_irq(&g->send_lock);
	cancel_work_sync(&g->recover_work);
	/* Pairs and doorbells are given back while the device still answers. */
	vmci_guest_qpair_detach_device(g);
	vmci_guest_notify_stop(g);
	vmci_route_unregister_hypervisor(&guest_route_ops);
	WRITE_ONCE(guest_dev, NULL);
	vmci_guest_events_unsubscribe(g);
	stop_device(g);
	vmci_guest_irq_teardown(g);
	pci_clear_master(pdev);
	free_buffers(g);
	vmci_guest_notify_free(g);
	unmap_registers(g);
	pci_disable_device(pdev);
	dev_info(&pdev->dev, "guest personality stopped\n");
	kfree(g);
}

/* Leaves the device clean for whatever runs next (kexec, reboot). */
static void vmci_guest_shutdown(struct pci_dev *pdev)
{
	struct vmci_guest *g = pci_get_drvdata(pdev);

	vmci_guest_irq_quiesce(g);
	vmci_guest_write(g, VMCI_CONTROL_ADDR, VMCI_CONTROL_RESET);
}

static int vmci_guest_suspend(struct device *dev)
{
	struct vmci_guest *g = dev_get_drvdata(dev);

	vmci_guest_irq_quiesce(g);
	cancel_work_sync(&g->rx_work);
	cancel_work_sync(&g->notify_work);
	return 0;
}

/* The device may have lost everything: tell it all again. */
static int vmci_guest_resume(struct device *dev)
{
	struct vmci_guest *g = dev_get_drvdata(dev);
	int err;

	pci_set_master(g->pdev);
	err = program_device(g);
	if (err)
		return err;
	vmci_guest_notify_relink_all(g);
	if (query_context_id(g))
		dev_warn(dev, "context ID unknown after resume; keeping %u\n", g->cid);
	enable_interrupts(g);
	return 0;
}

/*
 * A send timed out or the watch saw STATUS.INT_ON gone, most likely
 * because the device was reset behind our back: it forgot our
 * capabilities, buffers, bitmap and every queue pair. Clients see the
 * personality go down (vmsock resets its connections) and come back once
 * the device is set up as after a resume.
 */
void vmci_guest_recover_work(struct work_struct *work)
{
	struct vmci_guest *g = container_of(work, struct vmci_guest, recover_work);
	struct device *dev = &g->pdev->dev;
	bool wedged;
	int err;

	/* Before DOWN: the detaches it causes must not name forgotten pairs. */
	vmci_guest_qpair_resumed();
	vmci_route_unregister_hypervisor(&guest_route_ops);
	g->route_registered = false;
	stop_device(g);

	/* A device that times out again stays wedged: no loop of 1 s spins. */
	spin_lock_irq(&g->send_lock);
	g->no_recover = true;
	g->wedged = false;
	spin_unlock_irq(&g->send_lock);
	err = vmci_guest_resume(dev);
	spin_lock_irq(&g->send_lock);
	if (err)
		g->wedged = true;
	wedged = g->wedged;
	spin_unlock_irq(&g->send_lock);

	if (!wedged && !vmci_route_register_hypervisor(&guest_route_ops)) {
		g->route_registered = true;
		dev_info(dev, "device set up again: CID %u\n", READ_ONCE(g->cid));
		set_no_recover(g, false);
	} else {
		dev_err(dev, "device does not answer after a reset; unbind and bind it to retry\n");
	}
}

static DEFINE_SIMPLE_DEV_PM_OPS(vmci_guest_pm, vmci_guest_suspend, vmci_guest_resume);

static const struct pci_device_id vmci_guest_ids[] = {
	{ PCI_DEVICE(VMCI_PCI_VENDOR_ID, VMCI_PCI_DEVICE_ID) },
	{}
};
MODULE_DEVICE_TABLE(pci, vmci_guest_ids);

static struct pci_driver vmci_guest_driver = {
	.name = KBUILD_MODNAME,
	.id_table = vmci_guest_ids,
	.probe = vmci_guest_probe,
	.remove = vmci_guest_remove,
	.shutdown = vmci_guest_shutdown,
	.driver.pm = pm_sleep_ptr(&vmci_guest_pm),
};

/* The PCI core never offers a bound device to a second driver: say who has it. */
static void report_foreign_owner(void)
{
	struct pci_dev *pdev = NULL;

	while ((pdev = pci_get_device(VMCI_PCI_VENDOR_ID, VMCI_PCI_DEVICE_ID, pdev))) {
		device_lock(&pdev->dev);
		if (pdev->dev.driver && pdev->dev.driver != &vmci_guest_driver.driver)
			pr_warn("%s is driven by %s; unload it (or blacklist it) and reload vmci for the guest personality\n",
				pci_name(pdev), pdev->dev.driver->name);
		device_unlock(&pdev->dev);
	}
}

int vmci_guest_init(void)
{
	int err;

	if (disable_guest)
		return 0;
	err = pci_register_driver(&vmci_guest_driver);
	if (err)
		return err;
	report_foreign_owner();
	return 0;
}

void vmci_guest_exit(void)
{
	if (!disable_guest)
		pci_unregister_driver(&vmci_guest_driver);
	vmci_guest_qpair_exit();
}
