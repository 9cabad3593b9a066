/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VMCI events: local subscriptions, and delivery of the events the
 * hypervisor sends to resource VMCI_EVENT_HANDLER or that the driver
 * raises itself (local queue pairs, contexts, resume).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_EVENT_H
#define VMCI_EVENT_H

#include <linux/types.h>
#include <vmci/vmci_abi.h>

/*
 * @ed points at a zeroed struct vmci_event_data_max holding the event, so
 * the payload of any event type may be read through it in bounds.
 * Called in process context with no lock of the caller's held: it may
 * sleep, subscribe, unsubscribe (see vmci_event_unsubscribe()) and raise
 * further events.
 */
typedef void (*vmci_event_cb)(u32 sub_id, const struct vmci_event_data *ed, void *client_data);

/*
 * Context rules:
 * - Every function here sleeps, so only process context may call them.
 * - Callbacks run on the task that dispatches or raises the event, one
 *   task at a time: deliveries are serialised, and a callback's own
 *   nested raise runs inline on the same task.
 * - vmci_event_unsubscribe() returns only when the callback is not running
 *   and never will be again, except when called from the subscription's
 *   own callback: it then returns at once, and the subscription is freed
 *   when that callback returns. Unsubscribing another subscription from a
 *   callback never waits, since no other delivery can be in progress.
 * - Because deliveries are serialised, a callback must not wait for
 *   another task that dispatches or raises an event, and nobody may raise
 *   or dispatch while holding a lock that a callback takes.
 */
int vmci_event_init(void);
void vmci_event_exit(void);

/* Subscription IDs are never 0 or VMCI_INVALID_ID; either can mean "none". */
int vmci_event_subscribe(u32 event, vmci_event_cb cb, void *client_data, u32 *subscription_id);
int vmci_event_unsubscribe(u32 subscription_id);

/* An event datagram from the hypervisor; VMCI_DG_SIZE(dg) bytes must be readable. */
int vmci_event_dispatch(const struct vmci_datagram *dg);
/* Delivers @event with @payload (the event-specific part only) locally. */
int vmci_event_raise(u32 event, const void *payload, size_t payload_size);
/*
 * Whether anyone subscribes to @event now: a raiser may skip building a
 * payload nobody would get. Only a hint; the raise itself checks again.
 */
bool vmci_event_wanted(u32 event);

/* For the KUnit suite: where the search for the next subscription ID starts. */
void vmci_event_set_next_id(u32 id);
/* Subscriber callbacks made since load (stats). */
u64 vmci_event_callback_count(void);

#endif /* VMCI_EVENT_H */
