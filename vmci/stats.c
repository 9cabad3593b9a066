// SPDX-License-Identifier: GPL-2.0
/*
 * Live object counts in debugfs, so tests can prove that closing files
 * and unloading clients tore everything down. One "name value" per line:
 *   vmm_contexts       VMM contexts (the host context is not counted)
 *   pending_datagrams  datagrams queued in all contexts together
 *   pending_bytes      their VMCI_DG_SIZE total
 *   datagram_handles   live datagram handles
 *   delayed_datagrams  datagrams waiting for a delayed callback
 *   host_doorbells     live doorbells of in-kernel clients
 *   vmm_doorbells      doorbells registered by VMM contexts
 *   pending_doorbells  of those, rung and not yet fetched by their VMX
 *   queue_pairs        live local queue pairs
 *   queue_pair_bytes   their ring bytes (produce + consume)
 *   queue_pair_charged what the local budget holds for them (page-rounded,
 *                      until their last detach)
 *   broker_queue_pairs live pairs in the host broker (VMM <-> host)
 *   broker_pinned_pages VMM pages pinned for them
 *   event_callbacks    event subscriber callbacks made since load
 *
 * The same counters, every VMM context and every broker queue pair are
 * also in /proc/driver/vmci/{stats,contexts,queue_pairs}, root only (they
 * describe other users' VMMs), for vmsockstat(8) on kernels without
 * debugfs mounted; docs/observing.md gives the formats.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/debugfs.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "context.h"
#include "datagram.h"
#include "doorbell.h"
#include "event.h"
#include "qpair.h"
#include "qpair_broker.h"
#include "stats.h"

static struct dentry *stats_dir;
static struct proc_dir_entry *proc_dir;

static int stats_show(struct seq_file *m, void *unused)
{
	u64 datagrams, bytes;

	vmci_ctx_pending_totals(&datagrams, &bytes);
	seq_printf(m, "vmm_contexts %u\n", vmci_ctx_vmm_count());
	seq_printf(m, "pending_datagrams %llu\n", datagrams);
	seq_printf(m, "pending_bytes %llu\n", bytes);
	seq_printf(m, "datagram_handles %u\n", vmci_datagram_handle_count());
	seq_printf(m, "delayed_datagrams %u\n", vmci_datagram_delayed_count());
	seq_printf(m, "host_doorbells %u\n", vmci_doorbell_host_count());
	seq_printf(m, "vmm_doorbells %u\n", vmci_doorbell_vmm_count());
	seq_printf(m, "pending_doorbells %u\n", vmci_doorbell_pending_count());
	seq_printf(m, "queue_pairs %u\n", vmci_qpair_local_count());
	seq_printf(m, "queue_pair_bytes %llu\n", vmci_qpair_local_memory());
	seq_printf(m, "queue_pair_charged %llu\n", vmci_qpair_local_charged());
	seq_printf(m, "broker_queue_pairs %u\n", vmci_qp_broker_count());
	seq_printf(m, "broker_pinned_pages %llu\n", vmci_qp_broker_pinned_pages());
	seq_printf(m, "event_callbacks %llu\n", vmci_event_callback_count());
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

static int contexts_show(struct seq_file *m, void *unused)
{
	vmci_ctx_show_all(m);
	return 0;
}

static int queue_pairs_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "local %u ring_bytes %llu charged %llu\n", vmci_qpair_local_count(),
		   vmci_qpair_local_memory(), vmci_qpair_local_charged());
	vmci_qp_broker_show_all(m);
	return 0;
}

/* /proc/driver/vmci; like debugfs, optional: the driver works without it. */
static void vmci_proc_init(void)
{
	proc_dir = proc_mkdir("driver/vmci", NULL);
	if (!proc_dir)
		return;
	proc_create_single("stats", 0400, proc_dir, stats_show);
	proc_create_single("contexts", 0400, proc_dir, contexts_show);
	proc_create_single("queue_pairs", 0400, proc_dir, queue_pairs_show);
}

void vmci_stats_init(void)
{
	stats_dir = debugfs_create_dir(KBUILD_MODNAME, NULL);
	debugfs_create_file("stats", 0400, stats_dir, NULL, &stats_fops);
	vmci_proc_init();
}

void vmci_stats_exit(void)
{
	proc_remove(proc_dir);
	proc_dir = NULL;
	debugfs_remove_recursive(stats_dir);
	stats_dir = NULL;
}
