// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU glue for the VMCI device model: PCI identity, BARs, interrupts and
 * DMA. All behaviour lives in vmci_model_*.c, which knows nothing of QEMU.
 *
 *   -device vmci-model,cid=N,mmio=on|off,msix=on|off,msi=on|off,
 *           ppn64=on|off,notifications=on|off,host-dir=DIR |
 *           vmx=on[,vmx-dev=PATH][,vmx-restricted=on]
 *
 * mmio=on is the newer device (256 KiB BAR1, register window at 128 KiB,
 * three vectors, DMA datagrams); mmio=off the older one (8 KiB BAR1 with
 * MSI-X only, two vectors). With msix and msi off the device uses INTx.
 * host-dir: where the host context's Unix sockets live (vmci_bridge.h).
 * vmx=on: the host context is /dev/vmci (vmx-dev) of the kernel QEMU runs
 * on (vmci_vmx.h); guest RAM must be a shared memfd backend
 * (-object memory-backend-memfd,id=ram,size=..,share=on
 *  -machine memory-backend=ram), whose pages queue pairs are pinned from.
 * vmx-restricted=on: the context is created RESTRICTED, as an isolated
 * VMware VM's is; only trusted host endpoints may deal with it.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include "qemu/osdep.h"
#include "qemu/module.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "exec/address-spaces.h"
#include "exec/cpu-common.h"
#include "qapi/error.h"
#include "hw/pci/pci.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "qom/object.h"

#include "vmci_bridge.h"
#include "vmci_vmx.h"

#define TYPE_VMCI_MODEL "vmci-model"
OBJECT_DECLARE_SIMPLE_TYPE(VMCIModelState, VMCI_MODEL)

#define VMCI_MSI_CAP_OFFSET	0x40
#define VMCI_MSIX_CAP_OFFSET	0x58

struct VMCIModelState {
	PCIDevice parent_obj;

	MemoryRegion io_bar;
	MemoryRegion bar1;
	MemoryRegion mmio_window;

	uint32_t cid;
	bool mmio;
	bool use_msix;
	bool use_msi;
	bool ppn64;
	bool notifications;
	char *host_dir;
	bool vmx_mode;
	char *vmx_dev;
	/* The context is RESTRICTED: only trusted host endpoints reach it. */
	bool vmx_restricted;

	unsigned int vectors;
	struct vmci_model model;
	struct vmm_bridge bridge;
	struct vmm_vmx vmx;
	/* Retries a datagram the guest's full queue refused (vmm_vmx_poll). */
	QEMUTimer *vmx_retry;
	/* Runs vmm_stream_tick() while a closed host end waits for the guest. */
	QEMUTimer *stream_tick;
};

static int vmci_mem_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
	return pci_dma_read(PCI_DEVICE(opaque), gpa, buf, len) != MEMTX_OK;
}

static int vmci_mem_write(void *opaque, uint64_t gpa, const void *buf,
			  size_t len)
{
	return pci_dma_write(PCI_DEVICE(opaque), gpa, buf, len) != MEMTX_OK;
}

/*
 * With exclusive MSI-X vectors each cause has its own vector. A guest
 * that set up a single vector leaves the others masked, so a cause whose
 * vector is masked goes to vector 0, whose handler reads the ICR.
 */
static void vmci_irq(void *opaque, uint32_t causes, bool level)
{
	VMCIModelState *s = opaque;
	PCIDevice *pd = PCI_DEVICE(s);
	unsigned int i;

	if (msix_enabled(pd)) {
		for (i = 0; i < 3; i++) {
			if (!(causes & (1u << i)))
				continue;
			if (i < s->vectors && !msix_is_masked(pd, i))
				msix_notify(pd, i);
			else
				msix_notify(pd, 0);
		}
	} else if (msi_enabled(pd)) {
		if (causes)
			msi_notify(pd, 0);
	} else {
		pci_set_irq(pd, level);
	}
}

static int64_t vmci_host_datagram(void *opaque, const uint8_t *dg, size_t len)
{
	VMCIModelState *s = opaque;

	return vmm_bridge_from_guest(&s->bridge, dg, len);
}

static void vmci_dgram_readable(void *opaque)
{
	VMCIModelState *s = opaque;

	vmm_bridge_dgram_readable(&s->bridge);
}

static void vmci_stream_ready(void *opaque)
{
	vmm_stream_io(opaque);
}

static void vmci_stream_watch(struct vmm_stream *st, bool read, bool write)
{
	qemu_set_fd_handler(st->fd, read ? vmci_stream_ready : NULL,
			    write ? vmci_stream_ready : NULL, st);
}

static void vmci_stream_tick(void *opaque)
{
	VMCIModelState *s = opaque;

	if (vmm_stream_tick(&s->bridge))
		timer_mod(s->stream_tick, qemu_clock_get_ms(QEMU_CLOCK_REALTIME) +
					  VMM_STREAM_TICK_MS);
}

static void vmci_stream_want_tick(struct vmm_bridge *b)
{
	VMCIModelState *s = container_of(b, VMCIModelState, bridge);

	if (!timer_pending(s->stream_tick))
		timer_mod(s->stream_tick, qemu_clock_get_ms(QEMU_CLOCK_REALTIME) +
					  VMM_STREAM_TICK_MS);
}

static void vmci_qp_gone(void *opaque, uint32_t context, uint32_t resource)
{
	VMCIModelState *s = opaque;

	if (s->bridge.dgram_fd >= 0)
		vmm_stream_qp_gone(&s->bridge, context, resource);
}

static void vmci_stream_listen_ready(void *opaque)
{
	VMCIModelState *s = opaque;

	vmm_stream_accept(&s->bridge);
}

static void vmci_control_readable(void *opaque)
{
	VMCIModelState *s = opaque;

	vmm_bridge_control_readable(&s->bridge);
}

/* VMX mode: the model's hooks go to /dev/vmci. */
static int64_t vmci_vmx_datagram(void *opaque, const uint8_t *dg, size_t len)
{
	VMCIModelState *s = opaque;

	return vmm_vmx_from_guest(&s->vmx, dg, len);
}

static int64_t vmci_vmx_doorbell(void *opaque, uint32_t rid, uint32_t context,
				 uint32_t resource)
{
	VMCIModelState *s = opaque;

	return vmm_vmx_doorbell(&s->vmx, rid, context, resource);
}

static int64_t vmci_vmx_qp_alloc(void *opaque, const struct vmm_qpair *qp)
{
	VMCIModelState *s = opaque;

	return vmm_vmx_qp_alloc(&s->vmx, qp);
}

static int64_t vmci_vmx_qp_detach(void *opaque, const struct vmm_qpair *qp)
{
	VMCIModelState *s = opaque;

	return vmm_vmx_qp_detach(&s->vmx, qp);
}

/*
 * Guest-physical page GPA as a file and offset: the RAM block behind it
 * (aliases such as ram-below-4g resolved by the flat view). Only shared
 * RAM with a file descriptor qualifies: anonymous RAM cannot be mapped
 * twice, and a private mapping's pages are copies the file never sees.
 */
static int vmci_ram_lookup(void *opaque, uint64_t gpa, int *fd, uint64_t *offset)
{
	MemoryRegionSection sec = memory_region_find(get_system_memory(), gpa,
						     VMM_PAGE_SIZE);
	int ret = -1;

	if (!sec.mr)
		return -1;
	if (memory_region_is_ram(sec.mr) && sec.mr->ram_block &&
	    qemu_ram_is_shared(sec.mr->ram_block) &&
	    int128_get64(sec.size) == VMM_PAGE_SIZE) {
		*fd = memory_region_get_fd(sec.mr);
		*offset = sec.offset_within_region;
		ret = *fd < 0 ? -1 : 0;
	}
	memory_region_unref(sec.mr);
	return ret;
}

/*
 * The context has work: datagrams, events, rung doorbells. While a
 * datagram waits for room in the guest's queue the file is not watched
 * (it would stay readable and spin the main loop); a timer retries.
 */
static void vmci_vmx_readable(void *opaque)
{
	VMCIModelState *s = opaque;

	vmm_vmx_poll(&s->vmx);
	if (s->vmx.held_len) {
		qemu_set_fd_handler(s->vmx.fd, NULL, NULL, NULL);
		timer_mod(s->vmx_retry,
			  qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + 1);
	} else {
		qemu_set_fd_handler(s->vmx.fd, vmci_vmx_readable, NULL, s);
	}
}

static uint64_t vmci_reg_read(void *opaque, hwaddr addr, unsigned int size)
{
	VMCIModelState *s = opaque;

	return vmm_read(&s->model, addr, size);
}

static void vmci_reg_write(void *opaque, hwaddr addr, uint64_t val,
			   unsigned int size)
{
	VMCIModelState *s = opaque;

	vmm_write(&s->model, addr, val, size);
}

static uint64_t vmci_window_read(void *opaque, hwaddr addr, unsigned int size)
{
	VMCIModelState *s = opaque;

	if (addr >= VMM_REG_FILE_SIZE)
		return 0;
	return vmm_read(&s->model, addr, size);
}

static void vmci_window_write(void *opaque, hwaddr addr, uint64_t val,
			      unsigned int size)
{
	VMCIModelState *s = opaque;

	if (addr < VMM_REG_FILE_SIZE)
		vmm_write(&s->model, addr, val, size);
}

static const MemoryRegionOps vmci_io_ops = {
	.read = vmci_reg_read,
	.write = vmci_reg_write,
	.endianness = DEVICE_LITTLE_ENDIAN,
	.valid = { .min_access_size = 1, .max_access_size = 4 },
	.impl = { .min_access_size = 1, .max_access_size = 4 },
};

static const MemoryRegionOps vmci_window_ops = {
	.read = vmci_window_read,
	.write = vmci_window_write,
	.endianness = DEVICE_LITTLE_ENDIAN,
	.valid = { .min_access_size = 1, .max_access_size = 4 },
	.impl = { .min_access_size = 1, .max_access_size = 4 },
};

static void vmci_exit(PCIDevice *pd)
{
	VMCIModelState *s = VMCI_MODEL(pd);

	if (s->bridge.dgram_fd >= 0)
		qemu_set_fd_handler(s->bridge.dgram_fd, NULL, NULL, NULL);
	if (s->bridge.control_fd >= 0)
		qemu_set_fd_handler(s->bridge.control_fd, NULL, NULL, NULL);
	if (s->bridge.listen_fd >= 0)
		qemu_set_fd_handler(s->bridge.listen_fd, NULL, NULL, NULL);
	vmm_bridge_close(&s->bridge);
	if (s->stream_tick) {
		timer_free(s->stream_tick);
		s->stream_tick = NULL;
	}
	if (s->vmx_retry) {
		timer_free(s->vmx_retry);
		s->vmx_retry = NULL;
	}
	if (s->vmx.fd >= 0) {
		qemu_set_fd_handler(s->vmx.fd, NULL, NULL, NULL);
		vmm_vmx_close(&s->vmx);
	}
	if (s->use_msix)
		msix_uninit(pd, &s->bar1, &s->bar1);
	msi_uninit(pd);
	vmm_destroy(&s->model);
}

static void vmci_realize(PCIDevice *pd, Error **errp)
{
	VMCIModelState *s = VMCI_MODEL(pd);
	uint8_t *cfg = pd->config;
	uint64_t bar1_size;
	uint32_t caps;
	struct vmm_env env = {
		.opaque = s,
		.mem_read = vmci_mem_read,
		.mem_write = vmci_mem_write,
		.irq = vmci_irq,
		.host_datagram = vmci_host_datagram,
		.qp_gone = vmci_qp_gone,
	};
	unsigned int i;
	int ret;

	s->bridge.dgram_fd = -1;
	s->bridge.control_fd = -1;
	s->bridge.listen_fd = -1;
	s->vmx.fd = -1;
	if (s->vmx_restricted && !s->vmx_mode) {
		error_setg(errp, "vmci-model: vmx-restricted needs vmx=on");
		return;
	}
	if (s->vmx_mode && s->host_dir) {
		error_setg(errp, "vmci-model: vmx=on and host-dir exclude each other");
		return;
	}
	if (s->vmx_mode) {
		env.host_datagram = vmci_vmx_datagram;
		env.qp_gone = NULL;
		env.doorbell = vmci_vmx_doorbell;
		env.qp_alloc = vmci_vmx_qp_alloc;
		env.qp_detach = vmci_vmx_qp_detach;
	}
	/* 0-2 name the hypervisor, the obsolete well-known context and the host. */
	if (s->cid <= VMM_HOST_CID || s->cid == VMM_INVALID_ID) {
		error_setg(errp, "vmci-model: cid %u is reserved", s->cid);
		return;
	}
	caps = VMM_CAPS_DATAGRAM;
	if (s->ppn64)
		caps |= VMM_CAPS_PPN64;
	if (s->notifications)
		caps |= VMM_CAPS_NOTIFICATIONS;
	if (s->mmio)
		caps |= VMM_CAPS_DMA_DATAGRAM;
	/* Before vmm_init: its reset sets the INTx level, which needs the pin. */
	cfg[PCI_INTERRUPT_PIN] = 1;
	if (vmm_init(&s->model, &env, s->cid, caps)) {
		error_setg(errp, "vmci-model: out of memory");
		return;
	}

	memory_region_init_io(&s->io_bar, OBJECT(s), &vmci_io_ops, s,
			      "vmci-io", VMM_REG_FILE_SIZE);
	pci_register_bar(pd, 0, PCI_BASE_ADDRESS_SPACE_IO, &s->io_bar);

	bar1_size = s->mmio ? VMM_BAR1_MMIO_SIZE : VMM_BAR1_SMALL_SIZE;
	s->vectors = s->mmio ? 3 : 2;
	memory_region_init(&s->bar1, OBJECT(s), "vmci-bar1", bar1_size);
	if (s->mmio) {
		memory_region_init_io(&s->mmio_window, OBJECT(s),
				      &vmci_window_ops, s, "vmci-mmio",
				      VMM_MMIO_WINDOW_SIZE);
		memory_region_add_subregion(&s->bar1, VMM_MMIO_WINDOW,
					    &s->mmio_window);
	}
	pci_register_bar(pd, 1, PCI_BASE_ADDRESS_SPACE_MEMORY |
			 PCI_BASE_ADDRESS_MEM_TYPE_64, &s->bar1);

	if (s->use_msi && msi_init(pd, VMCI_MSI_CAP_OFFSET, 1, true, false,
				   errp)) {
		vmm_destroy(&s->model);
		return;
	}
	if (s->use_msix) {
		if (msix_init(pd, s->vectors, &s->bar1, 1, 0, &s->bar1, 1,
			      s->mmio ? VMM_MSIX_PBA_MMIO : VMM_MSIX_PBA_SMALL,
			      VMCI_MSIX_CAP_OFFSET, errp)) {
			msi_uninit(pd);
			vmm_destroy(&s->model);
			return;
		}
		for (i = 0; i < s->vectors; i++)
			msix_vector_use(pd, i);
	}
	if (s->host_dir) {
		ret = vmm_bridge_open(&s->bridge, &s->model, s->host_dir);
		if (ret) {
			error_setg_errno(errp, -ret, "vmci-model: host-dir %s",
					 s->host_dir);
			vmci_exit(pd);
			return;
		}
		s->bridge.watch = vmci_stream_watch;
		s->stream_tick = timer_new_ms(QEMU_CLOCK_REALTIME,
					      vmci_stream_tick, s);
		s->bridge.want_tick = vmci_stream_want_tick;
		qemu_set_fd_handler(s->bridge.dgram_fd, vmci_dgram_readable,
				    NULL, s);
		qemu_set_fd_handler(s->bridge.control_fd,
				    vmci_control_readable, NULL, s);
		qemu_set_fd_handler(s->bridge.listen_fd,
				    vmci_stream_listen_ready, NULL, s);
	}
	if (s->vmx_mode) {
		/* The driver may grant another CID; the model takes it. */
		ret = vmm_vmx_open(&s->vmx, &s->model,
				   s->vmx_dev ? s->vmx_dev : "/dev/vmci",
				   s->vmx_restricted ? VMX_PRIV_RESTRICTED : 0,
				   vmci_ram_lookup, s);
		if (ret) {
			error_setg_errno(errp, -ret, "vmci-model: vmx-dev %s",
					 s->vmx_dev ? s->vmx_dev : "/dev/vmci");
			vmci_exit(pd);
			return;
		}
		s->vmx_retry = timer_new_ms(QEMU_CLOCK_REALTIME,
					    vmci_vmx_readable, s);
		qemu_set_fd_handler(s->vmx.fd, vmci_vmx_readable, NULL, s);
	}
}

static void vmci_reset(DeviceState *dev)
{
	VMCIModelState *s = VMCI_MODEL(dev);

	vmm_reset(&s->model);
}

static Property vmci_properties[] = {
	DEFINE_PROP_UINT32("cid", VMCIModelState, cid, 100),
	DEFINE_PROP_BOOL("mmio", VMCIModelState, mmio, true),
	DEFINE_PROP_BOOL("msix", VMCIModelState, use_msix, true),
	DEFINE_PROP_BOOL("msi", VMCIModelState, use_msi, true),
	DEFINE_PROP_BOOL("ppn64", VMCIModelState, ppn64, true),
	DEFINE_PROP_BOOL("notifications", VMCIModelState, notifications, true),
	DEFINE_PROP_STRING("host-dir", VMCIModelState, host_dir),
	DEFINE_PROP_BOOL("vmx", VMCIModelState, vmx_mode, false),
	DEFINE_PROP_STRING("vmx-dev", VMCIModelState, vmx_dev),
	DEFINE_PROP_BOOL("vmx-restricted", VMCIModelState, vmx_restricted, false),
	DEFINE_PROP_END_OF_LIST(),
};

/* Guest memory holds queue pairs the device cannot move: no migration. */
static const VMStateDescription vmci_vmstate = {
	.name = TYPE_VMCI_MODEL,
	.unmigratable = 1,
};

static void vmci_class_init(ObjectClass *klass, void *data)
{
	DeviceClass *dc = DEVICE_CLASS(klass);
	PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

	k->realize = vmci_realize;
	k->exit = vmci_exit;
	k->vendor_id = 0x15ad;
	k->device_id = 0x0740;
	k->revision = 0x10;
	k->class_id = 0x0880;
	k->subsystem_vendor_id = 0x15ad;
	k->subsystem_id = 0x0740;
	dc->desc = "VMware VMCI device model (tests)";
	dc->reset = vmci_reset;
	dc->vmsd = &vmci_vmstate;
	device_class_set_props(dc, vmci_properties);
	set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo vmci_info = {
	.name = TYPE_VMCI_MODEL,
	.parent = TYPE_PCI_DEVICE,
	.instance_size = sizeof(VMCIModelState),
	.class_init = vmci_class_init,
	.interfaces = (InterfaceInfo[]) {
		{ INTERFACE_CONVENTIONAL_PCI_DEVICE },
		{ },
	},
};

static void vmci_register_types(void)
{
	type_register_static(&vmci_info);
}

type_init(vmci_register_types)
