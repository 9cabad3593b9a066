/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A bug planted on purpose, for the fuzzer's self-test (tests/fuzz): only
 * a build made with VMCI_FUZZ_PLANT=y has it; every other build compiles
 * it to nothing. It sits on a rare NOTIFY_RESOURCE path (a queue-pair
 * resource, which no VMX uses) behind three nested conditions, each its
 * own basic block, so coverage leads the fuzzer to it step by step; it
 * warns every time, so the reproducer can be replayed and minimised.
 * Each condition holds for a value the fuzzer's selectors pick often (the
 * invalid context, one pick in 4; the invalid resource ID): at the 5-10
 * programs a second the fuzzer runs under TCG, rarer values were not found
 * in time (resource 7: not in 420 s; the host's context, one pick in 16:
 * not in 903 s and 5,578 programs once the fuzzer had more operations).
 *
 * The second plant is for the hostile-device fuzzer (make fuzz-device): a
 * guest that is told a queue pair with the invalid handle lost its peer.
 * No host does that; only the device model's `junk detach-invalid` does,
 * so the target must pick that fault among the others to report it.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_FUZZ_PLANT_H
#define VMCI_FUZZ_PLANT_H

#include <linux/bug.h>
#include <linux/compiler.h>
#include <vmci/vmci_abi.h>

#ifdef VMCI_FUZZ_PLANT
static inline void vmci_fuzz_plant(const struct vmci_dbell_notify_resource_info *info)
{
	if (info->action != VMCI_NOTIFY_RESOURCE_ACTION_DESTROY)
		return;
	barrier();
	if (info->handle.context != VMCI_INVALID_ID)
		return;
	barrier();
	if (info->handle.resource != VMCI_INVALID_ID)
		return;
	WARN(1, "vmci: planted fuzz bug (VMCI_FUZZ_PLANT build)\n");
}

static inline void vmci_fuzz_plant_event(const struct vmci_event_data_max *ev)
{
	if (ev->event_data.event != VMCI_EVENT_QP_PEER_DETACH)
		return;
	if (!vmci_handle_is_invalid(ev->payload.qp_payload.handle))
		return;
	WARN(1, "vmci: planted device fuzz bug (VMCI_FUZZ_PLANT build)\n");
}
#else
static inline void vmci_fuzz_plant(const struct vmci_dbell_notify_resource_info *info)
{
}

static inline void vmci_fuzz_plant_event(const struct vmci_event_data_max *ev)
{
}
#endif

#endif
