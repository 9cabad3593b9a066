// SPDX-License-Identifier: GPL-2.0
/*
 * Which vSockets exist: one list of every vmsock socket, read by two
 * interfaces.
 *
 * - sock_diag (NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY, AF_VSOCK) with the
 *   request and reply of <linux/vm_sockets_diag.h>, so that iproute2's
 *   "ss --vsock" lists our sockets as it lists the in-tree family's. Only
 *   while we hold family 40: the family number is what ss asks for.
 * - /proc/net/vmsock, one line per socket with what ss cannot carry
 *   (queue sizes, bytes queued, owner), for vmsockstat(8). Another user's
 *   socket shows only what ss shows; its owner and queues read "-".
 *
 * Both walk the list in batches: under the list lock they take a
 * reference on up to VMSOCK_DIAG_BATCH sockets, then report them with the
 * lock dropped, because reporting may sleep (the socket lock, inode
 * lookups) and the list lock is taken from socket destructors, which may
 * run in atomic context. A socket's position is its index on the list, so
 * a dump that resumes may miss or repeat a socket that came or went
 * meanwhile, as the in-tree vsock_diag may.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/list.h>
#include <linux/netlink.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/sock_diag.h>
#include <linux/spinlock.h>
#include <linux/uidgid.h>
#include <linux/vm_sockets.h>
#include <linux/vm_sockets_diag.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include <vmci/vmcix.h>

#include "diag.h"
#include "sock.h"

#define VMSOCK_DIAG_BATCH	16

/* Every vmsock socket, from creation to its destructor. */
static DEFINE_SPINLOCK(vmsock_all_lock);	/* IRQ-safe: destructors */
static LIST_HEAD(vmsock_all);			/* vmsock_sock.all_node */

void vmsock_diag_track(struct sock *sk)
{
	unsigned long flags;

	spin_lock_irqsave(&vmsock_all_lock, flags);
	list_add_tail(&vmsock_sk(sk)->all_node, &vmsock_all);
	spin_unlock_irqrestore(&vmsock_all_lock, flags);
}

void vmsock_diag_untrack(struct sock *sk)
{
	unsigned long flags;

	spin_lock_irqsave(&vmsock_all_lock, flags);
	list_del(&vmsock_sk(sk)->all_node);
	spin_unlock_irqrestore(&vmsock_all_lock, flags);
}

struct vmsock_diag_batch {
	struct sock *sk[VMSOCK_DIAG_BATCH];
	unsigned long pos[VMSOCK_DIAG_BATCH];	/* each one's index in @net */
	unsigned int n;
};

/*
 * Takes a reference on the sockets of @net from index @from on, up to a
 * batch; a socket whose last reference is already gone is skipped (its
 * destructor is waiting for our lock).
 */
static void vmsock_diag_collect(struct net *net, unsigned long from,
				struct vmsock_diag_batch *b)
{
	struct vmsock_sock *vsk;
	unsigned long index = 0, flags;

	b->n = 0;
	spin_lock_irqsave(&vmsock_all_lock, flags);
	list_for_each_entry(vsk, &vmsock_all, all_node) {
		if (!net_eq(sock_net(&vsk->sk), net))
			continue;
		if (index++ < from || !refcount_inc_not_zero(&vsk->sk.sk_refcnt))
			continue;
		b->sk[b->n] = &vsk->sk;
		b->pos[b->n] = index - 1;
		if (++b->n == VMSOCK_DIAG_BATCH)
			break;
	}
	spin_unlock_irqrestore(&vmsock_all_lock, flags);
}

static void vmsock_diag_release(struct vmsock_diag_batch *b)
{
	while (b->n)
		sock_put(b->sk[--b->n]);
}

/* --- sock_diag ------------------------------------------------------------ */

/*
 * No socket lock here: on kernels before 6.9 the first dump runs under
 * sock_diag's table mutex, which our family lock already nests outside,
 * and the family lock nests inside socket locks (child sockets). The
 * fields are copied as the in-tree vsock_diag copies them: a racing
 * connect may show an address half old, half new, never freed memory.
 */
static int vmsock_diag_fill(struct sk_buff *skb, struct netlink_callback *cb,
			    struct sock *sk)
{
	const struct vmsock_sock *vsk = vmsock_sk(sk);
	struct vsock_diag_msg *rep;
	struct nlmsghdr *nlh;

	nlh = nlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			SOCK_DIAG_BY_FAMILY, sizeof(*rep), NLM_F_MULTI);
	if (!nlh)
		return -EMSGSIZE;
	rep = nlmsg_data(nlh);
	memset(rep, 0, sizeof(*rep));
	rep->vdiag_family = AF_VSOCK;
	rep->vdiag_type = sk->sk_type;
	rep->vdiag_state = READ_ONCE(sk->sk_state);
	rep->vdiag_shutdown = READ_ONCE(sk->sk_shutdown);
	rep->vdiag_src_cid = READ_ONCE(vsk->local_addr.svm_cid);
	rep->vdiag_src_port = READ_ONCE(vsk->local_addr.svm_port);
	rep->vdiag_dst_cid = READ_ONCE(vsk->remote_addr.svm_cid);
	rep->vdiag_dst_port = READ_ONCE(vsk->remote_addr.svm_port);
	rep->vdiag_ino = sock_i_ino(sk);
	sock_diag_save_cookie(sk, rep->vdiag_cookie);
	nlmsg_end(skb, nlh);
	return 0;
}

/* cb->args[0]: index of the next socket to report. */
static int vmsock_diag_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	const struct vsock_diag_req *req = nlmsg_data(cb->nlh);
	struct net *net = sock_net(skb->sk);
	unsigned long next = cb->args[0];
	struct vmsock_diag_batch b;
	unsigned int i;
	int err = 0;

	do {
		vmsock_diag_collect(net, next, &b);
		for (i = 0; i < b.n && !err; i++) {
			struct sock *sk = b.sk[i];

			if (req->vdiag_states & (1U << READ_ONCE(sk->sk_state)))
				err = vmsock_diag_fill(skb, cb, sk);
			if (!err)
				next = b.pos[i] + 1;
		}
		vmsock_diag_release(&b);
	} while (!err && i == VMSOCK_DIAG_BATCH);
	cb->args[0] = next;
	return skb->len;
}

static int vmsock_diag_handler_dump(struct sk_buff *skb, struct nlmsghdr *h)
{
	struct netlink_dump_control c = { .dump = vmsock_diag_dump };

	if (nlmsg_len(h) < (int)sizeof(struct vsock_diag_req))
		return -EINVAL;
	/* As in-tree: single-socket queries (by cookie) are not offered. */
	if (!(h->nlmsg_flags & NLM_F_DUMP))
		return -EOPNOTSUPP;
	return netlink_dump_start(sock_net(skb->sk)->diag_nlsk, skb, h, &c);
}

static const struct sock_diag_handler vmsock_diag_handler = {
	COMPAT_SOCK_DIAG_OWNER
	.family = AF_VSOCK,
	.dump = vmsock_diag_handler_dump,
};

/* Under the family lock, which serializes every call of the two. */
static bool vmsock_diag_registered;

void vmsock_diag_register(void)
{
	int err = sock_diag_register(&vmsock_diag_handler);

	/* -EBUSY: the in-tree vsock_diag answers for family 40; it may. */
	vmsock_diag_registered = !err;
	if (err && err != -EBUSY)
		pr_info("no sock_diag for AF_VSOCK (%d); ss --vsock will not list vmsock sockets\n",
			err);
}

void vmsock_diag_unregister(void)
{
	/* sock_diag_unregister() BUGs on a slot that is not ours. */
	if (vmsock_diag_registered)
		sock_diag_unregister(&vmsock_diag_handler);
	vmsock_diag_registered = false;
}

/* --- /proc/net/vmsock ------------------------------------------------------ */

/* Bytes waiting in each direction and the queue size; locked. */
static void vmsock_queue_figures(struct sock *sk, u64 *rx, u64 *tx, u64 *size)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);
	s64 ready;

	*rx = 0;
	*tx = 0;
	if (sk->sk_type != SOCK_STREAM) {
		*rx = sk_rmem_alloc_get(sk);
		*size = READ_ONCE(sk->sk_rcvbuf);
		return;
	}
	*size = vsk->st.qpair ? vsk->st.queue_size : vsk->st.buffer_size;
	if (!vsk->st.qpair)
		return;
	ready = vmcix_qpair_consume_buf_ready(vsk->st.qpair);
	*rx = ready > 0 ? ready : 0;
	ready = vmcix_qpair_produce_buf_ready(vsk->st.qpair);
	*tx = ready > 0 ? ready : 0;
}

static void vmsock_proc_show_one(struct seq_file *m, struct sock *sk)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);
	struct net *net = sock_net(sk);
	unsigned long ino = sock_i_ino(sk);
	kuid_t uid = sk_uid(sk);
	u64 rx, tx, size;
	bool all;

	/* The opener's rights, not the reader's: the file may be passed on. */
	all = uid_eq(uid, m->file->f_cred->fsuid) ||
	      file_ns_capable(m->file, net->user_ns, CAP_NET_ADMIN);
	lock_sock(sk);
	seq_printf(m, "%-6s %-11s %10u %10u %10u %10u",
		   sk->sk_type == SOCK_STREAM ? "stream" : "dgram",
		   sk->sk_state < TCP_MAX_STATES ? vmsock_state_name(sk->sk_state) : "?",
		   vsk->local_addr.svm_cid, vsk->local_addr.svm_port,
		   vsk->remote_addr.svm_cid, vsk->remote_addr.svm_port);
	if (all) {
		vmsock_queue_figures(sk, &rx, &tx, &size);
		seq_printf(m, " %10llu %10llu %10llu %10u", rx, tx, size,
			   from_kuid_munged(seq_user_ns(m), uid));
	} else {
		seq_printf(m, " %10s %10s %10s %10s", "-", "-", "-", "-");
	}
	if (all && sk->sk_type == SOCK_STREAM && vsk->st.qpair)
		seq_printf(m, " %10u:%-10u", vsk->st.qp_handle.context,
			   vsk->st.qp_handle.resource);
	else
		seq_printf(m, " %21s", "-");
	release_sock(sk);
	seq_printf(m, " %10lu\n", ino);
}

static int vmsock_proc_show(struct seq_file *m, void *v)
{
	struct net *net = seq_file_single_net(m);
	struct vmsock_diag_batch b;
	unsigned long next = 0;
	unsigned int i;

	seq_printf(m, "%-6s %-11s %10s %10s %10s %10s %10s %10s %10s %10s %21s %10s\n",
		   "type", "state", "local_cid", "local_port", "peer_cid", "peer_port",
		   "rx_queued", "tx_queued", "queue_size", "uid", "queue_pair", "inode");
	do {
		vmsock_diag_collect(net, next, &b);
		for (i = 0; i < b.n; i++) {
			vmsock_proc_show_one(m, b.sk[i]);
			next = b.pos[i] + 1;
		}
		vmsock_diag_release(&b);
	} while (i == VMSOCK_DIAG_BATCH && !seq_has_overflowed(m));
	return 0;
}

static int vmsock_proc_stat_show(struct seq_file *m, void *v)
{
	vmsock_counters_show(m);
	return 0;
}

static int __net_init vmsock_diag_net_init(struct net *net)
{
	if (!proc_create_net_single("vmsock", 0444, net->proc_net,
				    vmsock_proc_show, NULL))
		return -ENOMEM;
	if (!proc_create_net_single("vmsock_stat", 0444, net->proc_net,
				    vmsock_proc_stat_show, NULL)) {
		remove_proc_entry("vmsock", net->proc_net);
		return -ENOMEM;
	}
	return 0;
}

static void __net_exit vmsock_diag_net_exit(struct net *net)
{
	remove_proc_entry("vmsock_stat", net->proc_net);
	remove_proc_entry("vmsock", net->proc_net);
}

static struct pernet_operations vmsock_diag_net_ops = {
	.init = vmsock_diag_net_init,
	.exit = vmsock_diag_net_exit,
};

int vmsock_diag_init(void)
{
	return register_pernet_subsys(&vmsock_diag_net_ops);
}

void vmsock_diag_exit(void)
{
	unregister_pernet_subsys(&vmsock_diag_net_ops);
}
