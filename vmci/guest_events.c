// SPDX-License-Identifier: GPL-2.0
/*
 * The hypervisor events the guest personality itself acts on: a new
 * context ID (after a migration or a clone) and the loss of every queue
 * pair on resume. Subscriptions are local, like everybody else's.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/pci.h>

#include "event.h"
#include "guest.h"

static void cid_updated(u32 sub_id, const struct vmci_event_data *ed, void *client_data)
{
	const struct vmci_event_data_max *ev = (const struct vmci_event_data_max *)ed;
	struct vmci_guest *g = client_data;
	u32 cid = ev->payload.context_payload.context_id;

	/* The same rule as at probe: a CID we cannot be is not taken. */
	if (!vmci_guest_cid_usable(cid)) {
		dev_warn_ratelimited(&g->pdev->dev,
				     "ignoring a context ID update to unusable ID %u\n", cid);
		return;
	}
	dev_info(&g->pdev->dev, "context ID changed from %u to %u\n", READ_ONCE(g->cid), cid);
	WRITE_ONCE(g->cid, cid);
}

static void qp_resumed(u32 sub_id, const struct vmci_event_data *ed, void *client_data)
{
	vmci_guest_qpair_resumed();
}

int vmci_guest_events_subscribe(struct vmci_guest *g)
{
	int result;

	result = vmci_event_subscribe(VMCI_EVENT_CTX_ID_UPDATE, cid_updated, g,
				      &g->sub_cid_update);
	if (result < VMCI_SUCCESS)
		goto fail;
	result = vmci_event_subscribe(VMCI_EVENT_QP_RESUMED, qp_resumed, g, &g->sub_qp_resumed);
	if (result < VMCI_SUCCESS)
		goto fail;
	return 0;

fail:
	vmci_guest_events_unsubscribe(g);
	dev_err(&g->pdev->dev, "event subscription failed: %d\n", result);
	return -ENOMEM;
}

void vmci_guest_events_unsubscribe(struct vmci_guest *g)
{
	if (g->sub_qp_resumed)
		vmci_event_unsubscribe(g->sub_qp_resumed);
	if (g->sub_cid_update)
		vmci_event_unsubscribe(g->sub_cid_update);
	g->sub_qp_resumed = 0;
	g->sub_cid_update = 0;
}
