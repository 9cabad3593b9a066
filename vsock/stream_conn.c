// SPDX-License-Identifier: GPL-2.0
/*
 * SOCK_STREAM connections: VMware's control-packet handshake, teardown,
 * and the module-wide control handle every packet arrives on.
 *
 * States (sk_state; sock->state in brackets):
 *   TCP_CLOSE        unconnected, bound or not, or after a failed connect
 *                    [SS_UNCONNECTED]
 *   TCP_LISTEN       listener; children on st.pending, then st.accept_q
 *   TCP_SYN_SENT     client: REQUEST2 sent, waiting for NEGOTIATE2, then
 *                    (queue pair allocated, OFFER sent) for ATTACH
 *                    [SS_CONNECTING]
 *   TCP_SYN_RECV     child: NEGOTIATE2 sent, waiting for OFFER
 *   TCP_ESTABLISHED  queue pair shared [SS_CONNECTED]; stays so after the
 *                    peer shuts down, resets or detaches: st.peer_shutdown
 *                    and SOCK_DONE say so, and the data left can be read
 *
 * Old peers: a listener answers the old REQUEST with NEGOTIATE, and a
 * client whose REQUEST2 gets INVALID asks again with REQUEST; either way
 * the connection then also runs the packet notification protocol
 * (st.notify_pkt, see stream_io.c).
 *
 * Locking and lifetime:
 * - Socket fields are under lock_sock(). A listener is locked before its
 *   children (lock_sock_nested); nothing locks a child first.
 * - The control handle's callback may run in atomic context (it runs in
 *   the sender's context, which for local peers is our own code holding
 *   a socket lock): it checks the packet, wakes the socket a WROTE or
 *   READ is for straight from the connection table, and copies and
 *   queues everything else for vmsock_stream_rx_work(). That worker, the
 *   connect/child timeouts and the peer-detach work all run on one
 *   ordered workqueue, so packets that change state are handled in
 *   arrival order and never concurrently with each other.
 * - That worker serves every connection on the machine, so it never
 *   sleeps on a socket lock a task owns: a task may hold one for as long
 *   as a page fault takes (the core's SOL_SOCKET options copy under it).
 *   What is due for a socket (packets in st.backlog, in arrival order; a
 *   detach or timeout in st.work_flags) runs in vmsock_ctl_run() only if
 *   the socket's and its listener's locks can be had without sleeping.
 *   If not, the socket waits on vmsock_deferred and the owner's
 *   release_sock() (vmsock_stream_release_cb) queues a retry, as TCP
 *   leaves work to a socket's owner. The backlogs and the deferred list
 *   belong to the worker alone and need no lock; a deferred socket holds
 *   a reference for the list.
 * - One module-wide QP_PEER_DETACH subscription serves every socket: its
 *   callback runs on whichever task detaches (possibly holding the peer's
 *   socket lock), finds the sockets on that pair in the queue-pair table
 *   (stream_ports.c), takes a reference and queues detach_work. A socket
 *   leaves that table before it detaches, and before its last reference
 *   can go. One subscription, not one per socket, keeps a close from
 *   costing a walk over every connection's subscription.
 * - Every queued work item holds a socket reference; release never waits
 *   for work (the work may be waiting for the socket lock), it cancels
 *   what has not started and lets the rest find the socket closed.
 * - vmcix_qpair_alloc/detach raise events on the calling task; our event
 *   callback takes only the table spinlock (a leaf), so calling them
 *   under a socket lock is safe.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/list.h>
#include <linux/memcontrol.h>
#include <linux/moduleparam.h>
#include <linux/notifier.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/sock.h>
#include <net/tcp_states.h>

#include <vmci/fuzz_kcov.h>
#include <vmci/vmci_abi.h>
#include <vmci/vmcix.h>

#include "addr.h"
#include "diag.h"
#include "packet.h"
#include "stream.h"
#include "vmci_errno.h"

/* Bound on packets waiting for the worker; beyond it they are dropped. */
#define VMSOCK_RX_QUEUE_MAX	16384
/* Bound on packets one socket's owner holds up (listeners take the most). */
#define VMSOCK_BACKLOG_MAX	256

/*
 * st.work_flags. DETACH_DUE and TIMEOUT_DUE are events waiting for
 * vmsock_ctl_run(); KICK asks this socket's release_sock() for a retry.
 */
enum {
	VMSOCK_DETACH_QUEUED, VMSOCK_RESET_PENDING, VMSOCK_DETACH_DUE,
	VMSOCK_TIMEOUT_DUE, VMSOCK_KICK,
};

struct vmsock_rx_pkt {
	struct list_head node;
	bool unknown_type;
	bool requeued;		/* looked up again once already */
	int local_bucket;	/* vmsock_local_pkt_queued()'s, for _done() */
	struct vmsock_packet pkt;
};

/* Every queued packet leaves through here, so the local count stays right. */
static void vmsock_rx_free(struct vmsock_rx_pkt *rx)
{
	if (!rx)
		return;
	vmsock_local_pkt_done(rx->local_bucket);
	kfree(rx);
}

/* What vmsock_ctl_packet() did with a packet. */
enum vmsock_ctl_result { VMSOCK_CTL_DONE, VMSOCK_CTL_CHILD_GONE, VMSOCK_CTL_STRAY };

static bool vmsock_old_request;
module_param_named(stream_old_request, vmsock_old_request, bool, 0644);
MODULE_PARM_DESC(stream_old_request,
		 "Clients send the old REQUEST (packet notification protocol), as old peers do; for tests (default N)");

static struct workqueue_struct *vmsock_stream_wq;
static struct vmci_handle vmsock_ctl_handle;
static bool vmsock_ctl_ready;

static DEFINE_SPINLOCK(vmsock_rx_lock);
static LIST_HEAD(vmsock_rx_list);
static unsigned int vmsock_rx_count;
static unsigned long vmsock_rx_dropped;

static void vmsock_stream_rx_work(struct work_struct *work);
static DECLARE_WORK(vmsock_rx_work, vmsock_stream_rx_work);

/*
 * Sockets whose due work waits for a lock a task holds; worker only. An
 * owner's release_sock() sets vmsock_retry_due and queues vmsock_retry;
 * the packet loop also looks at the flag after every packet, so a socket
 * its owner held only briefly (a listener in accept()) is served at once,
 * not after a burst of packets has drained.
 */
static LIST_HEAD(vmsock_deferred);
static unsigned long vmsock_retry_due;
static void vmsock_retry_work(struct work_struct *work);
static DECLARE_WORK(vmsock_retry, vmsock_retry_work);

bool vmsock_stream_local_peer(const struct vmsock_sock *vsk)
{
	return vsk->remote_addr.svm_cid == vmcix_get_context_id();
}

static int vmsock_send_packet(struct vmsock_packet *pkt)
{
	int ret;

	/* Noted first: a local peer receives it before the send returns. */
	vmsock_note_ctl_send(pkt);
	ret = vmcix_datagram_send(&pkt->dg);
	if (ret >= VMCI_SUCCESS)
		return 0;
	vmsock_note_ctl_drop(pkt->dg.src.context, pkt, VMSOCK_DROP_SEND_FAILED);
	return vmsock_vmci_errno(ret);
}

/* Answers @in with a packet of @type (RST or INVALID), whoever sent it. */
static void vmsock_reply(const struct vmsock_packet *in, u8 type)
{
	struct vmsock_packet pkt;

	vmsock_packet_init(&pkt, type, in->dst_port, in->dg.src.context, in->src_port);
	vmsock_send_packet(&pkt);
}

int vmsock_stream_send_ctl(struct sock *sk, u8 type, u64 arg)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);
	struct vmsock_packet pkt;

	/*
	 * A socket out of the connection table has no peer to talk to: its
	 * port pair may already be a new connection's (vmsock_stale_for_request()).
	 */
	if (!vsk->st.in_conn)
		return 0;
	vmsock_packet_init(&pkt, type, vsk->local_addr.svm_port,
			   vsk->remote_addr.svm_cid, vsk->remote_addr.svm_port);
	switch (type) {
	case VMSOCK_PKT_REQUEST2:
	case VMSOCK_PKT_NEGOTIATE2:
		pkt.proto = VMSOCK_PROTO_QUEUE_STATE;
		fallthrough;
	case VMSOCK_PKT_REQUEST:
	case VMSOCK_PKT_NEGOTIATE:
		pkt.u.size = arg;
		break;
	case VMSOCK_PKT_OFFER:
	case VMSOCK_PKT_ATTACH:
		pkt.u.handle = vsk->st.qp_handle;
		break;
	case VMSOCK_PKT_SHUTDOWN:
		pkt.u.mode = arg;
		break;
	}
	return vmsock_send_packet(&pkt);
}

/*
 * Whether @sk may deal with context @cid. A RESTRICTED context (an
 * isolated VM) may reach only trusted sockets, the rule VMCI applies to
 * datagrams (vSockets Programming Guide, chapter 5, "Trusted vSockets"):
 * stream control packets all travel on our one trusted handle, so the
 * core cannot apply it for us.
 */
bool vmsock_peer_allowed(const struct sock *sk, u32 cid)
{
	return vmsock_sk((struct sock *)sk)->trusted ||
	       !(vmcix_context_priv_flags(cid) & VMCI_PRIVILEGE_FLAG_RESTRICTED);
}

static void vmsock_queue_timeout(struct sock *sk, unsigned long delay)
{
	sock_hold(sk);
	if (!queue_delayed_work(vmsock_stream_wq, &vmsock_sk(sk)->st.timeout_work, delay))
		sock_put(sk);
}

/*
 * Locked: the timeout's reference goes with it. Only a locked socket
 * queues its timeout, so a timeout that is not pending now cannot become
 * so; the test spares most connections the cancel, which locks the
 * timer's base even when there is nothing to cancel.
 */
static void vmsock_cancel_timeout(struct sock *sk)
{
	struct delayed_work *dw = &vmsock_sk(sk)->st.timeout_work;

	if (delayed_work_pending(dw) && cancel_delayed_work(dw))
		sock_put(sk);
}

/*
 * Any context: runs detach_work, which holds a reference. @reset also
 * ends a connect still waiting for NEGOTIATE, which has no pair yet.
 */
static void vmsock_queue_detach(struct sock *sk, bool reset)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);

	if (reset)
		set_bit(VMSOCK_RESET_PENDING, &vsk->st.work_flags);
	if (test_and_set_bit(VMSOCK_DETACH_QUEUED, &vsk->st.work_flags))
		return;
	sock_hold(sk);
	if (!queue_work(vmsock_stream_wq, &vsk->st.detach_work))
		sock_put(sk);
}

/*
 * Under the table lock, not the socket's. A connection already ended
 * (a local close told this end directly, an RST, a corrupt queue) has
 * nothing left for the detach work to do, so it is not woken for it:
 * a local close would otherwise cost every peer a worker run. Read
 * without the lock: a stale miss only queues the work as before, and
 * once both are seen the work would find nothing to do until the
 * socket closes, which takes it out of the table.
 */
static void vmsock_peer_left(struct sock *sk)
{
	if (READ_ONCE(sk->sk_state) == TCP_ESTABLISHED && sock_flag(sk, SOCK_DONE))
		return;
	vmsock_queue_detach(sk, false);
}

static void vmsock_peer_detach_cb(u32 sub_id, const struct vmci_event_data *ed,
				  void *client_data)
{
	const struct vmci_event_data_max *evt =
		container_of(ed, const struct vmci_event_data_max, event_data);

	vmsock_stream_visit_qp(evt->payload.qp_payload.handle, vmsock_peer_left);
}

static void vmsock_reset_one(struct sock *sk)
{
	vmsock_queue_detach(sk, true);
}

/*
 * After a resume or a change of our context ID every peer is gone or
 * addresses us by a stale CID, local pairs included (their packets name
 * the old CID): every connection ends as if its peer had detached.
 */
static void vmsock_reset_all(void)
{
	unsigned int n = vmsock_stream_visit_conns(vmsock_reset_one);

	if (n)
		pr_info("context changed: resetting %u stream connection(s)\n", n);
}

static void vmsock_context_event_cb(u32 sub_id, const struct vmci_event_data *ed,
				    void *client_data)
{
	vmsock_reset_all();
}

static int vmsock_personality_cb(struct notifier_block *nb, unsigned long event, void *data)
{
	if (event == VMCIX_GUEST_DOWN)
		vmsock_reset_all();
	return NOTIFY_DONE;
}

static struct notifier_block vmsock_personality_nb = {
	.notifier_call = vmsock_personality_cb,
};

/*
 * Whom a socket's pair is charged to: its uid's share of vmci's budgets
 * (unless trusted, i.e. CAP_NET_ADMIN) and its memory cgroup. We may run
 * in a worker: name the socket's user, not the worker.
 */
static struct vmcix_qp_owner vmsock_qp_owner(struct sock *sk)
{
	return (struct vmcix_qp_owner) {
		.memcg = sk->sk_memcg,
		.uid = sk->sk_uid,
		.privileged = vmsock_sk(sk)->trusted,
	};
}

/*
 * Locked: allocates (client) or attaches to (server) the queue pair. The
 * socket enters the queue-pair table before its peer can know the pair:
 * an attacher before attaching (the creator may leave at once), a
 * creator before its OFFER names the pair. So no detach goes unseen.
 * Whatever it allocates is charged to the socket's owner
 * (vmsock_qp_owner()).
 */
int vmsock_qpair_open(struct sock *sk, struct vmci_handle handle, bool attach)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);
	const struct vmcix_qp_owner owner = vmsock_qp_owner(sk);
	u32 flags = attach ? VMCI_QPFLAG_ATTACH_ONLY : 0;
	u32 priv = VMCI_NO_PRIVILEGE_FLAGS;
	int ret;

	/*
	 * The broker pairs a restricted end only with a trusted one. A local
	 * pair has both ends in this kernel and no broker, so no lookup.
	 */
	if (vmsock_stream_local_peer(vsk))
		flags |= VMCI_QPFLAG_LOCAL;
	else if (vsk->trusted && (vmcix_context_priv_flags(vsk->remote_addr.svm_cid) &
				  VMCI_PRIVILEGE_FLAG_RESTRICTED))
		priv = VMCI_PRIVILEGE_FLAG_TRUSTED;
	if (attach) {
		vsk->st.qp_handle = handle;
		vmsock_stream_qp_insert(sk);
	}
	ret = vmcix_qpair_alloc_for(&owner, &vsk->st.qpair, &handle, vsk->st.queue_size,
				    vsk->st.queue_size, vsk->remote_addr.svm_cid, flags, priv);
	if (ret < VMCI_SUCCESS) {
		vmsock_stream_qp_remove(sk);
		vsk->st.qp_handle = VMCI_INVALID_HANDLE;
		vsk->st.qpair = NULL;
		return vmsock_vmci_errno(ret);
	}
	if (!attach) {
		vsk->st.qp_handle = handle;
		vmsock_stream_qp_insert(sk);
	}
	vsk->st.peer_local = flags & VMCI_QPFLAG_LOCAL;
	return 0;
}

/*
 * Locked client and its new child, both of this kernel: one call makes
 * both ends of their local pair, charged to the client's owner as its
 * create is on the packet path. Neither end can leave before both are in
 * the queue-pair table: their locks are held.
 */
int vmsock_qpair_open_local(struct sock *sk, struct sock *child)
{
	struct vmsock_sock *vsk = vmsock_sk(sk), *cvsk = vmsock_sk(child);
	const struct vmcix_qp_owner owner = vmsock_qp_owner(sk);
	struct vmci_handle handle = VMCI_INVALID_HANDLE;
	int ret;

	ret = vmcix_qpair_alloc_local_pair(&owner, &vsk->st.qpair, &cvsk->st.qpair, &handle,
					   vsk->st.queue_size, vsk->st.queue_size);
	if (ret < VMCI_SUCCESS)
		return vmsock_vmci_errno(ret);
	vsk->st.qp_handle = handle;
	cvsk->st.qp_handle = handle;
	vsk->st.peer_local = true;
	cvsk->st.peer_local = true;
	vmsock_stream_qp_insert_both(sk, child);
	return 0;
}

/*
 * Locked. Leaves the connection: no more packets, events or timeouts
 * reach the socket through it, and the peer learns from the detach. With
 * @unbind its port goes too, in the same hold of the table lock. The
 * caller holds a reference besides any this drops.
 */
static void vmsock_stream_teardown(struct sock *sk, bool unbind)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);

	vmsock_stream_unhash(sk, unbind);
	vmsock_cancel_timeout(sk);
	clear_bit(VMSOCK_TIMEOUT_DUE, &vsk->st.work_flags);
	if (vsk->st.qpair)
		vmcix_qpair_detach(&vsk->st.qpair);
	vsk->st.qpair = NULL;
	vsk->st.peer_local = false;
}

/*
 * Locked client whose attempt failed: a port connect() chose goes back.
 * Packets of the failed attempt may still be on their way (the peer's
 * RST for an OFFER that came after our timeout, a late NEGOTIATE), and
 * nothing on the wire tells one attempt from the next on the same port
 * pair, so a new attempt from the same port could take them for its own.
 * A port the user bound stays bound, as for TCP (which also lets an
 * automatic one go when a connect fails).
 */
static void vmsock_connect_unbind(struct sock *sk)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);

	if (!vsk->st.autobound)
		return;
	vmsock_stream_unbind_port(sk);
	memset(&vsk->local_addr, 0, sizeof(vsk->local_addr));
	vsk->st.autobound = false;
}

/* Locked client: the connect attempt ends with @err. */
static void vmsock_connect_fail(struct sock *sk, int err, bool tell_peer)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);

	if (tell_peer)
		vmsock_stream_send_ctl(sk, VMSOCK_PKT_RST, 0);
	vmsock_stream_teardown(sk, false);
	/* Before the peer is forgotten: the trace names whom it failed with. */
	vmsock_stream_set_state(sk, TCP_CLOSE);
	vmsock_connect_unbind(sk);
	memset(&vsk->remote_addr, 0, sizeof(vsk->remote_addr));
	vsk->st.qp_handle = VMCI_INVALID_HANDLE;
	if (sk->sk_socket)
		sk->sk_socket->state = SS_UNCONNECTED;
	sk->sk_err = err;
	sk_error_report(sk);
	vmsock_stream_wake(sk);
}

/*
 * Listener and child locked. Takes @child off @listener's lists; the
 * caller still owns the reference the list held and drops it after
 * unlocking the child.
 */
void vmsock_child_destroy(struct sock *listener, struct sock *child)
{
	struct vmsock_sock *cvsk = vmsock_sk(child);

	list_del_init(&cvsk->st.accept_node);
	sk_acceptq_removed(listener);
	vmsock_stream_set_listener(child, NULL);
	sock_put(listener);
	vmsock_stream_teardown(child, false);
	vmsock_stream_set_state(child, TCP_CLOSE);
	sock_set_flag(child, SOCK_DEAD);
}

/*
 * The worker makes a child on its listener's behalf, so the child is the
 * listener's user's: its memory goes to the listener's memory cgroup,
 * and the uid and cgroup it charges a queue pair to later are the
 * listener's (sk_alloc() here would leave root's). Trust comes with
 * vmsock_sk_alloc_child(). Unaccepted children, pending or ready, count
 * against the listener's backlog together (sk_acceptq_added below).
 */
static struct sock *vmsock_child_alloc(struct sock *listener)
{
	struct mem_cgroup *old = set_active_memcg(listener->sk_memcg);
	struct sock *child = vmsock_sk_alloc_child(listener);

	set_active_memcg(old);
	if (!child)
		return NULL;
	child->sk_uid = listener->sk_uid;
#ifdef CONFIG_MEMCG
	/* sk_free() puts the reference; sk_alloc() took none in a worker. */
	if (!child->sk_memcg && listener->sk_memcg) {
		css_get(&listener->sk_memcg->css);
		child->sk_memcg = listener->sk_memcg;
	}
#endif
	return child;
}

/* What a child's queue is when its client asks for @asked bytes. */
u64 vmsock_child_queue_size(struct sock *listener, u64 asked)
{
	const struct vmsock_sock *lvsk = vmsock_sk(listener);

	if (asked < lvsk->st.buffer_min || asked > lvsk->st.buffer_max)
		return lvsk->st.buffer_size;
	return asked;
}

/*
 * Locked listener: a pending child for the client at @remote_cid:
 * @remote_port, reached at @local_cid on the listener's port, with a
 * queue of @size. Returned locked (with @subclass), in TCP_SYN_RECV, on
 * the listener's pending list (which owns the reference sk_alloc() gave)
 * and in the connection table; NULL when there is no memory.
 */
struct sock *vmsock_child_new(struct sock *listener, u32 local_cid, u32 remote_cid,
			      u32 remote_port, u64 size, bool notify_pkt, int subclass)
{
	struct vmsock_sock *lvsk = vmsock_sk(listener);
	struct vmsock_sock *cvsk;
	struct sock *child;

	child = vmsock_child_alloc(listener);
	if (!child)
		return NULL;
	vmsock_stream_sock_init(child, listener);
	cvsk = vmsock_sk(child);
	vmsock_addr_init(&cvsk->local_addr, listener->sk_family, local_cid,
			 lvsk->local_addr.svm_port);
	vmsock_addr_init(&cvsk->remote_addr, listener->sk_family, remote_cid, remote_port);
	cvsk->st.queue_size = size;
	cvsk->st.notify_pkt = notify_pkt;
	vmsock_stream_set_state(child, TCP_SYN_RECV);

	lock_sock_nested(child, subclass);
	sock_hold(listener);
	list_add_tail(&cvsk->st.accept_node, &lvsk->st.pending);
	sk_acceptq_added(listener);
	vmsock_stream_child_insert(child, listener);
	return child;
}

/*
 * Listener and child locked, the child attached to its client's pair:
 * connected, and ready for accept() (the caller wakes the listener).
 */
void vmsock_child_ready(struct sock *listener, struct sock *child)
{
	struct vmsock_sock *cvsk = vmsock_sk(child);

	vmsock_stream_set_state(child, TCP_ESTABLISHED);
	list_move_tail(&cvsk->st.accept_node, &vmsock_sk(listener)->st.accept_q);
	vmsock_cancel_timeout(child);
}

/* Locked listener: a REQUEST2 makes a pending child. */
static void vmsock_listen_rx(struct sock *listener, const struct vmsock_packet *pkt)
{
	struct vmsock_sock *cvsk;
	struct sock *child;
	u64 size;

	if (pkt->type == VMSOCK_PKT_RST)
		return;
	if ((pkt->type != VMSOCK_PKT_REQUEST2 && pkt->type != VMSOCK_PKT_REQUEST) ||
	    (pkt->type == VMSOCK_PKT_REQUEST2 && !(pkt->proto & VMSOCK_PROTO_ALL_SUPPORTED)) ||
	    sk_acceptq_is_full(listener) ||
	    (listener->sk_shutdown & RCV_SHUTDOWN)) {
		vmsock_reply(pkt, VMSOCK_PKT_RST);
		return;
	}
	size = vmsock_child_queue_size(listener, pkt->u.size);
	/* An old peer knows only the packet protocol. */
	child = vmsock_child_new(listener, pkt->dg.dst.context, pkt->dg.src.context,
				 pkt->src_port, size, pkt->type == VMSOCK_PKT_REQUEST,
				 SINGLE_DEPTH_NESTING);
	if (!child) {
		vmsock_reply(pkt, VMSOCK_PKT_RST);
		return;
	}
	cvsk = vmsock_sk(child);
	if (vmsock_stream_send_ctl(child, cvsk->st.notify_pkt ? VMSOCK_PKT_NEGOTIATE :
				   VMSOCK_PKT_NEGOTIATE2, size)) {
		vmsock_child_destroy(listener, child);
		release_sock(child);
		sock_put(child);
		return;
	}
	vmsock_queue_timeout(child, VMSOCK_STREAM_CHILD_TIMEOUT);
	release_sock(child);
}

/* Listener and child locked (returns whether the child was destroyed). */
static bool vmsock_pending_rx(struct sock *listener, struct sock *child,
			      const struct vmsock_packet *pkt)
{
	struct vmsock_sock *cvsk = vmsock_sk(child);

	if (pkt->type != VMSOCK_PKT_OFFER) {
		if (pkt->type != VMSOCK_PKT_RST)
			vmsock_reply(pkt, VMSOCK_PKT_RST);
		vmsock_child_destroy(listener, child);
		return true;
	}
	/* The creator's pair lives in the creator's context. */
	if (pkt->u.handle.context != cvsk->remote_addr.svm_cid ||
	    vmsock_qpair_open(child, pkt->u.handle, true)) {
		vmsock_reply(pkt, VMSOCK_PKT_RST);
		vmsock_child_destroy(listener, child);
		return true;
	}
	/* Connected before ATTACH goes out: the client may write at once. */
	vmsock_child_ready(listener, child);
	vmsock_stream_send_ctl(child, VMSOCK_PKT_ATTACH, 0);
	/*
	 * A readable-event wakeup, not a state change: it wakes one
	 * EPOLLEXCLUSIVE waiter, not all of them, as for TCP and AF_VSOCK.
	 */
	listener->sk_data_ready(listener);
	return false;
}

/* Locked client in TCP_SYN_SENT. */
static void vmsock_connecting_rx(struct sock *sk, const struct vmsock_packet *pkt)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);
	bool old = pkt->type == VMSOCK_PKT_NEGOTIATE;
	int err;

	switch (pkt->type) {
	case VMSOCK_PKT_NEGOTIATE:
	case VMSOCK_PKT_NEGOTIATE2:
		/* The answer must match the question we asked. */
		if (vsk->st.qpair || pkt->u.size < vsk->st.buffer_min ||
		    pkt->u.size > vsk->st.buffer_max || old != vsk->st.sent_old_request ||
		    (!old && pkt->proto != VMSOCK_PROTO_QUEUE_STATE)) {
			vmsock_connect_fail(sk, EPROTO, true);
			return;
		}
		vsk->st.notify_pkt = old;
		if (vsk->local_addr.svm_cid == VMADDR_CID_ANY)
			vsk->local_addr.svm_cid = pkt->dg.dst.context;
		vsk->st.queue_size = pkt->u.size;
		err = vmsock_qpair_open(sk, VMCI_INVALID_HANDLE, false);
		if (!err)
			err = vmsock_stream_send_ctl(sk, VMSOCK_PKT_OFFER, 0);
		if (err)
			vmsock_connect_fail(sk, -err, true);
		return;
	case VMSOCK_PKT_ATTACH:
		if (!vsk->st.qpair ||
		    !vmci_handle_equal(pkt->u.handle, vsk->st.qp_handle)) {
			vmsock_connect_fail(sk, EPROTO, true);
			return;
		}
		vmsock_cancel_timeout(sk);
		vmsock_stream_set_state(sk, TCP_ESTABLISHED);
		if (sk->sk_socket)
			sk->sk_socket->state = SS_CONNECTED;
		vmsock_stream_wake(sk);
		return;
	case VMSOCK_PKT_RST:
		if (vsk->st.ignore_rst) {
			vsk->st.ignore_rst = false;
			return;
		}
		vmsock_connect_fail(sk, ECONNRESET, false);
		return;
	case VMSOCK_PKT_INVALID:
		/*
		 * A peer that predates REQUEST2 says INVALID, and some then
		 * reset as well: ask the old way and forgive one RST.
		 */
		if (!vsk->st.sent_old_request && !vsk->st.qpair) {
			vsk->st.sent_old_request = true;
			vsk->st.ignore_rst = true;
			if (!vmsock_stream_send_ctl(sk, VMSOCK_PKT_REQUEST, vsk->st.buffer_size))
				return;
		}
		vmsock_connect_fail(sk, EPROTO, true);
		return;
	default:
		vmsock_connect_fail(sk, EPROTO, true);
		return;
	}
}

/*
 * Locked, TCP_ESTABLISHED: the peer is gone (RST, detach, or a local
 * peer's close). An orderly end: what is queued can still be read.
 */
void vmsock_stream_peer_gone(struct sock *sk)
{
	vmsock_sk(sk)->st.peer_shutdown = VMSOCK_SHUTDOWN_ALL;
	sock_set_flag(sk, SOCK_DONE);
	vmsock_stream_wake(sk);
}

/* Locked, TCP_ESTABLISHED. */
static void vmsock_connected_rx(struct sock *sk, const struct vmsock_packet *pkt)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);

	switch (pkt->type) {
	case VMSOCK_PKT_SHUTDOWN:
		vsk->st.peer_shutdown |= pkt->u.mode;
		break;
	case VMSOCK_PKT_RST:
		vmsock_stream_peer_gone(sk);
		return;
	case VMSOCK_PKT_WAITING_READ:
	case VMSOCK_PKT_WAITING_WRITE:
		vmsock_stream_peer_waiting(sk, pkt->type);
		return;
	default:
		/* Stale handshake or packet-protocol hints: nothing to do. */
		return;
	}
	vmsock_stream_wake(sk);
}

/* Locked: whether @pkt comes from the socket's peer and is for its port. */
static bool vmsock_pkt_from_peer(struct sock *sk, const struct vmsock_packet *pkt)
{
	const struct vmsock_sock *vsk = vmsock_sk(sk);

	return vsk->remote_addr.svm_cid == pkt->dg.src.context &&
	       vsk->remote_addr.svm_port == pkt->src_port &&
	       vsk->local_addr.svm_port == pkt->dst_port;
}

/*
 * Locked. A connection request from the peer of a connection that peer
 * already left (detached or reset: SOCK_DONE) means the peer closed and
 * bound the same port again, as a client may (bind, connect, close,
 * bind, connect). The old socket, still open here until its owner closes
 * it, must not hold the port pair like TCP's TIME_WAIT: it leaves the
 * connection table, so the request reaches the listener. What it has
 * queued can still be read.
 */
static bool vmsock_stale_for_request(struct sock *sk, int state,
				     const struct vmsock_packet *pkt)
{
	return state == TCP_ESTABLISHED && sock_flag(sk, SOCK_DONE) &&
	       (pkt->type == VMSOCK_PKT_REQUEST || pkt->type == VMSOCK_PKT_REQUEST2);
}

/* A packet no socket takes: counted, and answered with RST. */
static void vmsock_no_socket(const struct vmsock_packet *pkt, enum vmsock_drop_reason reason)
{
	vmsock_note_ctl_drop(pkt->dg.src.context, pkt, reason);
	/* Never answer a RST, or two hosts could bounce them forever. */
	if (pkt->type != VMSOCK_PKT_RST)
		vmsock_reply(pkt, VMSOCK_PKT_RST);
}

/*
 * @sk (and @listener, if any) locked: one packet. CHILD_GONE when @sk, a
 * child, was destroyed. STRAY when the packet is no longer @sk's: @sk left
 * the connection table or has another peer since the packet was looked up
 * (a failed connect and a new one, a child reset), or it is a REQUEST from
 * the peer of a connection that peer already left. Unless @requeued, the
 * caller looks it up again, since another socket may have it now (a new
 * REQUEST from the port of a child just reset is its listener's);
 * otherwise it is answered as if no socket had it. A listener's packets
 * come here only through vmsock_listener_pkt(), freshly looked up.
 */
static enum vmsock_ctl_result vmsock_ctl_packet(struct sock *sk, struct sock *listener,
						const struct vmsock_packet *pkt, bool requeued)
{
	int state = sk->sk_state;

	if (state != TCP_LISTEN &&
	    (!vmsock_sk(sk)->st.in_conn || !vmsock_pkt_from_peer(sk, pkt)))
		state = TCP_CLOSE;
	if (vmsock_stale_for_request(sk, state, pkt)) {
		/*
		 * Its peer starts again from the same port: that is the
		 * listener's. Out of the table, the next lookup finds it.
		 */
		vmsock_stream_conn_remove(sk);
		return VMSOCK_CTL_STRAY;
	}
	switch (state) {
	case TCP_LISTEN:
		vmsock_listen_rx(sk, pkt);
		break;
	case TCP_SYN_SENT:
		vmsock_connecting_rx(sk, pkt);
		break;
	case TCP_SYN_RECV:
		if (listener && vmsock_pending_rx(listener, sk, pkt))
			return VMSOCK_CTL_CHILD_GONE;
		break;
	case TCP_ESTABLISHED:
		vmsock_connected_rx(sk, pkt);
		break;
	default:
		if (!requeued)
			return VMSOCK_CTL_STRAY;
		vmsock_no_socket(pkt, VMSOCK_DROP_STRAY);
		break;
	}
	return VMSOCK_CTL_DONE;
}

/*
 * lock_sock_nested() that never sleeps: false when a task owns @sk. With
 * @owe_retry the owner then owes the worker a retry from its
 * release_sock(); the flag is set under the spinlock release_sock()
 * holds, so no retry is lost.
 */
bool vmsock_stream_trylock(struct sock *sk, int subclass, bool owe_retry)
{
	bool owned;

	spin_lock_bh(&sk->sk_lock.slock);
	owned = sock_owned_by_user_nocheck(sk);
	if (owned && owe_retry)
		set_bit(VMSOCK_KICK, &vmsock_sk(sk)->st.work_flags);
	else if (!owned)
		sk->sk_lock.owned = 1;
	spin_unlock_bh(&sk->sk_lock.slock);
	if (owned)
		return false;
	/* What lock_sock_nested() tells lockdep, as a trylock. */
	mutex_acquire(&sk->sk_lock.dep_map, subclass, 1, _RET_IP_);
	return true;
}

/*
 * release_sock() calls it under sk_lock.slock, the socket still owned.
 * Every release of a vmsock socket comes here, a datagram socket's too
 * (its flags stay zero): the plain test keeps the common case (no retry
 * owed) to a read.
 */
void vmsock_stream_release_cb(struct sock *sk)
{
	unsigned long *flags = &vmsock_sk(sk)->st.work_flags;

	if (test_bit(VMSOCK_KICK, flags) && test_and_clear_bit(VMSOCK_KICK, flags)) {
		set_bit(0, &vmsock_retry_due);
		queue_work(vmsock_stream_wq, &vmsock_retry);
	}
}

/*
 * Worker: locks @sk and its listener, if any, without sleeping. Sets
 * *@listener to the listener it locked (with a reference) or NULL; false,
 * with nothing held, when a task owns either lock.
 */
static bool vmsock_ctl_lock(struct sock *sk, struct sock **listener)
{
	struct sock *l = vmsock_stream_get_listener(sk);

	*listener = NULL;
	if (l && !vmsock_stream_trylock(l, 0, true)) {
		sock_put(l);
		return false;
	}
	if (!vmsock_stream_trylock(sk, l ? SINGLE_DEPTH_NESTING : 0, true)) {
		if (l) {
			release_sock(l);
			sock_put(l);
		}
		return false;
	}
	if (l && vmsock_sk(sk)->st.listener != l) {
		/* Accepted or dropped since we looked. */
		release_sock(l);
		sock_put(l);
		l = NULL;
	}
	*listener = l;
	return true;
}

static void vmsock_detach(struct sock *sk);
static bool vmsock_timeout(struct sock *sk, struct sock *listener);

/*
 * Worker: stray packets go back to the head of the packet queue, in
 * order, for one more lookup; they were counted there before.
 */
static void vmsock_rx_requeue(struct list_head *stray, unsigned int n)
{
	spin_lock_irq(&vmsock_rx_lock);
	list_splice(stray, &vmsock_rx_list);
	vmsock_rx_count += n;
	spin_unlock_irq(&vmsock_rx_lock);
	queue_work(vmsock_stream_wq, &vmsock_rx_work);
}

/*
 * Listener locked, in TCP_LISTEN: one packet from its backlog, looked up
 * again now, since the packets before it may have changed whose it is (a
 * REQUEST made the child the RST behind it is for; a child reset leaves
 * its peer's next REQUEST to the listener). The listener's own packets
 * and its children's run here, under the listener's lock, so a listener
 * and its children see the packets of each peer in arrival order, as
 * one queue. False when the packet is now another socket's: the caller
 * hands it, and every packet behind it, back to the packet queue.
 */
static bool vmsock_listener_pkt(struct sock *listener, const struct vmsock_packet *pkt)
{
	enum vmsock_ctl_result ret;
	bool again = false;
	struct sock *sk;

retry:
	sk = vmsock_stream_lookup(pkt->dg.src.context, pkt->src_port, pkt->dst_port);
	if (!sk) {
		vmsock_no_socket(pkt, VMSOCK_DROP_NO_SOCKET);
		return true;
	}
	if (sk == listener) {
		vmsock_ctl_packet(listener, NULL, pkt, true);
		sock_put(sk);
		return true;
	}
	/*
	 * A child's lock is taken only with its listener's, which we hold;
	 * a child with packets of its own has them first.
	 */
	if (vmsock_sk(sk)->st.listener != listener || !list_empty(&vmsock_sk(sk)->st.backlog) ||
	    !vmsock_stream_trylock(sk, SINGLE_DEPTH_NESTING, true)) {
		sock_put(sk);
		return false;
	}
	ret = vmsock_ctl_packet(sk, listener, pkt, again);
	release_sock(sk);
	/* The reference the listener's list held. */
	if (ret == VMSOCK_CTL_CHILD_GONE)
		sock_put(sk);
	sock_put(sk);
	/* A child that left the table for a new REQUEST: once more, at most. */
	if (ret == VMSOCK_CTL_STRAY && !again) {
		again = true;
		goto retry;
	}
	return true;
}

/* Worker: moves the packets (not the marks) left in @vsk's backlog to @to. */
static unsigned int vmsock_backlog_take(struct vmsock_sock *vsk, struct list_head *to)
{
	struct list_head *node, *tmp;
	unsigned int n = 0;

	list_for_each_safe(node, tmp, &vsk->st.backlog) {
		if (node == &vsk->st.detach_mark || node == &vsk->st.timeout_mark)
			continue;
		list_move_tail(node, to);
		n++;
	}
	vsk->st.backlog_len -= n;
	return n;
}

/*
 * Worker, holding a reference to @sk: runs what is due for it in arrival
 * order (packets, and a peer detach or timeout where its mark stands in
 * st.backlog); or, when a task owns a lock it needs, leaves it all on
 * vmsock_deferred. A packet that is no longer this socket's goes back to
 * the head of the packet queue, and with it every packet behind it, so
 * that no later packet of the same peer overtakes it.
 */
static void vmsock_ctl_run(struct sock *sk)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);
	enum vmsock_ctl_result ret;
	struct vmsock_rx_pkt *rx;
	unsigned int n_stray = 0;
	struct list_head *node;
	struct sock *listener;
	bool put_child = false;
	LIST_HEAD(stray);

	if (!vmsock_ctl_lock(sk, &listener)) {
		if (list_empty(&vsk->st.defer_node)) {
			sock_hold(sk);
			list_add_tail(&vsk->st.defer_node, &vmsock_deferred);
		}
		return;
	}
	while ((node = vsk->st.backlog.next) != &vsk->st.backlog) {
		list_del_init(node);
		if (node == &vsk->st.detach_mark) {
			if (test_and_clear_bit(VMSOCK_DETACH_DUE, &vsk->st.work_flags))
				vmsock_detach(sk);
			continue;
		}
		if (node == &vsk->st.timeout_mark) {
			if (test_and_clear_bit(VMSOCK_TIMEOUT_DUE, &vsk->st.work_flags))
				put_child |= vmsock_timeout(sk, listener);
			continue;
		}
		rx = list_entry(node, struct vmsock_rx_pkt, node);
		vsk->st.backlog_len--;
		if (sk->sk_state == TCP_LISTEN) {
			if (vmsock_listener_pkt(sk, &rx->pkt)) {
				vmsock_rx_free(rx);
				continue;
			}
		} else {
			ret = vmsock_ctl_packet(sk, listener, &rx->pkt, rx->requeued);
			if (ret != VMSOCK_CTL_STRAY) {
				put_child |= ret == VMSOCK_CTL_CHILD_GONE;
				vmsock_rx_free(rx);
				continue;
			}
			rx->requeued = true;
		}
		list_add_tail(&rx->node, &stray);
		n_stray += 1 + vmsock_backlog_take(vsk, &stray);
	}
	release_sock(sk);
	if (listener) {
		release_sock(listener);
		sock_put(listener);
	}
	/* The reference the listener's list held. */
	if (put_child)
		sock_put(sk);
	if (n_stray)
		vmsock_rx_requeue(&stray, n_stray);
}

/*
 * Worker: the event @bit is due for @sk. Its mark goes behind the packets
 * @sk holds, unless the same event is due already and waits there.
 */
static void vmsock_ctl_due(struct sock *sk, int bit, struct list_head *mark)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);

	if (!test_and_set_bit(bit, &vsk->st.work_flags) || list_empty(mark))
		list_move_tail(mark, &vsk->st.backlog);
	vmsock_ctl_run(sk);
}

/* Worker: tries every deferred socket again once an owner released one. */
static void vmsock_retry_deferred(void)
{
	struct vmsock_sock *vsk, *tmp;
	LIST_HEAD(retry);

	if (!test_bit(0, &vmsock_retry_due) || !test_and_clear_bit(0, &vmsock_retry_due))
		return;
	list_splice_init(&vmsock_deferred, &retry);
	list_for_each_entry_safe(vsk, tmp, &retry, st.defer_node) {
		list_del_init(&vsk->st.defer_node);
		vmsock_ctl_run(&vsk->sk);
		sock_put(&vsk->sk);
	}
}

static void vmsock_retry_work(struct work_struct *work)
{
	bool kcov = vmci_fuzz_work_start();

	vmsock_retry_deferred();
	vmci_fuzz_work_stop(kcov);
}

/* Worker. Takes @rx (true) when it is for a socket; else the caller frees it. */
static bool vmsock_stream_rx(struct vmsock_rx_pkt *rx)
{
	const struct vmsock_packet *pkt = &rx->pkt;
	struct vmsock_sock *vsk;
	struct sock *sk;

	sk = vmsock_stream_lookup(pkt->dg.src.context, pkt->src_port, pkt->dst_port);
	if (!sk) {
		vmsock_no_socket(pkt, VMSOCK_DROP_NO_SOCKET);
		return false;
	}
	/* Dropped unanswered, as classic vsock and Linux drop them. */
	if (!vmsock_peer_allowed(sk, pkt->dg.src.context)) {
		sock_put(sk);
		return false;
	}
	/* A listener's port, or a socket that connected since the callback looked. */
	if (pkt->type == VMSOCK_PKT_WROTE || pkt->type == VMSOCK_PKT_READ) {
		vmsock_stream_wake(sk);
		sock_put(sk);
		return false;
	}
	vsk = vmsock_sk(sk);
	if (vsk->st.backlog_len >= VMSOCK_BACKLOG_MAX) {
		/* Its owner holds it up; its peer must not fill memory meanwhile. */
		vmsock_note_ctl_drop(pkt->dg.src.context, pkt, VMSOCK_DROP_QUEUE_FULL);
		spin_lock_irq(&vmsock_rx_lock);
		vmsock_rx_dropped++;
		spin_unlock_irq(&vmsock_rx_lock);
		sock_put(sk);
		return false;
	}
	/* Behind whatever is still deferred for the same socket. */
	list_add_tail(&rx->node, &vsk->st.backlog);
	vsk->st.backlog_len++;
	vmsock_ctl_run(sk);
	sock_put(sk);
	return true;
}

static void vmsock_stream_rx_work(struct work_struct *work)
{
	bool kcov = vmci_fuzz_work_start();
	struct vmsock_rx_pkt *rx;

	for (;;) {
		spin_lock_irq(&vmsock_rx_lock);
		rx = list_first_entry_or_null(&vmsock_rx_list, struct vmsock_rx_pkt, node);
		if (rx) {
			list_del(&rx->node);
			vmsock_rx_count--;
		}
		spin_unlock_irq(&vmsock_rx_lock);
		if (!rx)
			break;
		if (rx->unknown_type)
			vmsock_reply(&rx->pkt, VMSOCK_PKT_INVALID);
		else if (vmsock_stream_rx(rx))
			rx = NULL;
		vmsock_rx_free(rx);
		vmsock_retry_deferred();
		cond_resched();
	}
	vmci_fuzz_work_stop(kcov);
}

/*
 * WROTE and READ only wake a connected socket, which needs neither its
 * lock nor ordering against other packets: doing it here saves the
 * reader a round trip through the worker. Anything else, and a packet no
 * connection claims (it may need a RST), goes to the worker.
 */
static bool vmsock_ctl_wake_now(const struct vmsock_packet *pkt)
{
	if (pkt->type != VMSOCK_PKT_WROTE && pkt->type != VMSOCK_PKT_READ)
		return false;
	return vmsock_stream_wake_conn(pkt->dg.src.context, pkt->src_port, pkt->dst_port);
}

/* May run in atomic context: check, then wake or copy and queue. */
static int vmsock_ctl_recv_cb(void *client_data, struct vmci_datagram *dg)
{
	/* Read as a packet only once vmsock_packet_check() allows it. */
	const struct vmsock_packet *pkt = (const struct vmsock_packet *)dg;
	struct vmsock_rx_pkt *rx;
	unsigned long flags;
	int ret;

	ret = vmsock_packet_check(dg, VMCI_DG_SIZE(dg));
	if (ret == -EBADMSG) {
		vmsock_note_ctl_drop(dg->src.context, NULL, VMSOCK_DROP_MALFORMED);
		return VMCI_SUCCESS;
	}
	if (ret)
		vmsock_note_ctl_drop(dg->src.context, pkt, VMSOCK_DROP_UNKNOWN_TYPE);
	if (!ret && vmsock_ctl_wake_now(pkt)) {
		vmsock_note_ctl_recv(pkt);
		return VMCI_SUCCESS;
	}
	rx = kmalloc(sizeof(*rx), GFP_ATOMIC);
	if (!rx) {
		vmsock_note_ctl_drop(dg->src.context, pkt, VMSOCK_DROP_NO_MEMORY);
		return VMCI_ERROR_NO_MEM;
	}
	rx->unknown_type = ret == -EPROTONOSUPPORT;
	rx->requeued = false;
	rx->local_bucket = -1;
	memcpy(&rx->pkt, dg, sizeof(rx->pkt));

	spin_lock_irqsave(&vmsock_rx_lock, flags);
	if (vmsock_rx_count >= VMSOCK_RX_QUEUE_MAX) {
		vmsock_rx_dropped++;
		spin_unlock_irqrestore(&vmsock_rx_lock, flags);
		vmsock_note_ctl_drop(dg->src.context, pkt, VMSOCK_DROP_QUEUE_FULL);
		vmsock_rx_free(rx);
		return VMCI_ERROR_NO_RESOURCES;
	}
	/* Counted before the worker can see it, so it cannot be done first. */
	rx->local_bucket = vmsock_local_pkt_queued(&rx->pkt);
	list_add_tail(&rx->node, &vmsock_rx_list);
	vmsock_rx_count++;
	spin_unlock_irqrestore(&vmsock_rx_lock, flags);
	if (!ret)
		vmsock_note_ctl_recv(pkt);
	queue_work(vmsock_stream_wq, &vmsock_rx_work);
	return VMCI_SUCCESS;
}

/* Locked: the peer left the pair, or our context changed (a reset). */
static void vmsock_detach(struct sock *sk)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);
	bool reset = test_and_clear_bit(VMSOCK_RESET_PENDING, &vsk->st.work_flags);

	if ((vsk->st.qpair || reset) && sk->sk_state == TCP_SYN_SENT)
		vmsock_connect_fail(sk, ECONNRESET, false);
	else if (vsk->st.qpair && sk->sk_state == TCP_ESTABLISHED)
		vmsock_stream_peer_gone(sk);
}

static void vmsock_detach_work(struct work_struct *work)
{
	struct vmsock_sock *vsk = container_of(work, struct vmsock_sock, st.detach_work);
	bool kcov = vmci_fuzz_work_start();

	clear_bit(VMSOCK_DETACH_QUEUED, &vsk->st.work_flags);
	vmsock_ctl_due(&vsk->sk, VMSOCK_DETACH_DUE, &vsk->st.detach_mark);
	sock_put(&vsk->sk);
	vmci_fuzz_work_stop(kcov);
}

/*
 * Locked, with its listener if it has one: a client's connect timeout,
 * or a child that never got its OFFER. True when the child was destroyed.
 */
static bool vmsock_timeout(struct sock *sk, struct sock *listener)
{
	if (listener && sk->sk_state == TCP_SYN_RECV) {
		vmsock_stream_send_ctl(sk, VMSOCK_PKT_RST, 0);
		vmsock_child_destroy(listener, sk);
		return true;
	}
	if (!listener && sk->sk_state == TCP_SYN_SENT)
		vmsock_connect_fail(sk, ETIMEDOUT, true);
	return false;
}

static void vmsock_timeout_work(struct work_struct *work)
{
	struct vmsock_sock *vsk = container_of(to_delayed_work(work), struct vmsock_sock,
					       st.timeout_work);
	bool kcov = vmci_fuzz_work_start();

	vmsock_ctl_due(&vsk->sk, VMSOCK_TIMEOUT_DUE, &vsk->st.timeout_mark);
	sock_put(&vsk->sk);
	vmci_fuzz_work_stop(kcov);
}

void vmsock_stream_sock_init(struct sock *sk, struct sock *parent)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);

	INIT_LIST_HEAD(&vsk->st.accept_node);
	INIT_LIST_HEAD(&vsk->st.pending);
	INIT_LIST_HEAD(&vsk->st.accept_q);
	INIT_LIST_HEAD(&vsk->st.backlog);
	INIT_LIST_HEAD(&vsk->st.defer_node);
	INIT_LIST_HEAD(&vsk->st.detach_mark);
	INIT_LIST_HEAD(&vsk->st.timeout_mark);
	INIT_DELAYED_WORK(&vsk->st.timeout_work, vmsock_timeout_work);
	INIT_WORK(&vsk->st.detach_work, vmsock_detach_work);
	vsk->st.qp_handle = VMCI_INVALID_HANDLE;
	if (parent) {
		const struct vmsock_sock *pvsk = vmsock_sk(parent);

		vsk->st.buffer_size = pvsk->st.buffer_size;
		vsk->st.buffer_min = pvsk->st.buffer_min;
		vsk->st.buffer_max = pvsk->st.buffer_max;
		vsk->st.connect_timeout = pvsk->st.connect_timeout;
	} else {
		vsk->st.buffer_size = VMSOCK_STREAM_DEFAULT_BUFFER;
		vsk->st.buffer_min = VMSOCK_STREAM_DEFAULT_MIN;
		vsk->st.buffer_max = VMSOCK_STREAM_DEFAULT_MAX;
		vsk->st.connect_timeout = VMSOCK_STREAM_CONNECT_TIMEOUT;
	}
}

int vmsock_stream_connect(struct socket *sock, struct sockaddr_unsized *addr, int len, int flags)
{
	const struct sockaddr_vm *svm = (const struct sockaddr_vm *)addr;
	struct sock *sk = sock->sk;
	struct vmsock_sock *vsk = vmsock_sk(sk);
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	long timeo;
	int ret;

	ret = vmsock_addr_check(addr, len, sk->sk_family);
	if (ret)
		return ret;
	lock_sock(sk);
	switch (sock->state) {
	case SS_CONNECTED:
		ret = -EISCONN;
		goto out;
	case SS_CONNECTING:
		if (flags & O_NONBLOCK) {
			ret = -EALREADY;
			goto out;
		}
		break;
	case SS_UNCONNECTED:
		if (sk->sk_state == TCP_LISTEN) {
			ret = -EINVAL;
			goto out;
		}
		/* No stream socket lives at CID 1 or anywhere "any". */
		if (svm->svm_cid == VMADDR_CID_LOCAL || svm->svm_cid == VMADDR_CID_ANY) {
			ret = -ENETUNREACH;
			goto out;
		}
		if (!vmsock_ctl_ready) {
			ret = -ENETDOWN;
			goto out;
		}
		if (!vmsock_peer_allowed(sk, svm->svm_cid)) {
			ret = -EPERM;
			goto out;
		}
		if (!vmsock_stream_bound(vsk)) {
			ret = vmsock_stream_bind_port(sk, VMADDR_CID_ANY, VMADDR_PORT_ANY);
			if (ret)
				goto out;
			vsk->st.autobound = true;
		}
		vmsock_addr_init(&vsk->remote_addr, sk->sk_family, svm->svm_cid,
				 svm->svm_port);
		vsk->st.peer_shutdown = 0;
		sk->sk_err = 0;
		vmsock_stream_set_state(sk, TCP_SYN_SENT);
		sock->state = SS_CONNECTING;
		vmsock_stream_conn_insert(sk);
		vsk->st.sent_old_request = READ_ONCE(vmsock_old_request);
		vsk->st.ignore_rst = false;
		vsk->st.notify_pkt = false;
		/*
		 * A listener in this kernel: both ends made here and now,
		 * unless stream_local.c leaves it to the packets (-EAGAIN).
		 * Non-blocking callers keep the EINPROGRESS they expect.
		 */
		if (!(flags & O_NONBLOCK) && !vsk->st.sent_old_request &&
		    vmsock_stream_local_peer(vsk)) {
			ret = vmsock_stream_connect_local(sk);
			if (ret != -EAGAIN) {
				if (ret) {
					vmsock_connect_fail(sk, -ret, false);
					ret = sock_error(sk);
				}
				goto out;
			}
		}
		ret = vmsock_stream_send_ctl(sk, vsk->st.sent_old_request ? VMSOCK_PKT_REQUEST :
					     VMSOCK_PKT_REQUEST2, vsk->st.buffer_size);
		if (ret) {
			vmsock_stream_conn_remove(sk);
			memset(&vsk->remote_addr, 0, sizeof(vsk->remote_addr));
			vmsock_stream_set_state(sk, TCP_CLOSE);
			sock->state = SS_UNCONNECTED;
			goto out;
		}
		vmsock_queue_timeout(sk, vsk->st.connect_timeout);
		if (flags & O_NONBLOCK) {
			ret = -EINPROGRESS;
			goto out;
		}
		break;
	default:
		ret = -EINVAL;
		goto out;
	}

	/* The timeout work ends the attempt; a signal only ends our wait. */
	timeo = MAX_SCHEDULE_TIMEOUT;
	add_wait_queue(sk_sleep(sk), &wait);
	while (sk->sk_state == TCP_SYN_SENT && !sk->sk_err) {
		if (signal_pending(current)) {
			ret = sock_intr_errno(timeo);
			break;
		}
		sk_wait_event(sk, &timeo, sk->sk_state != TCP_SYN_SENT || sk->sk_err, &wait);
	}
	remove_wait_queue(sk_sleep(sk), &wait);
	if (!ret && sk->sk_err)
		ret = sock_error(sk);
	else if (!ret && sk->sk_state != TCP_ESTABLISHED)
		ret = -ECONNRESET;
out:
	release_sock(sk);
	return ret;
}

int vmsock_stream_listen(struct socket *sock, int backlog)
{
	struct sock *sk = sock->sk;
	int ret = 0;

	lock_sock(sk);
	if (sock->state != SS_UNCONNECTED || !vmsock_stream_bound(vmsock_sk(sk)))
		ret = -EINVAL;
	else if (!vmsock_ctl_ready)
		ret = -ENETDOWN;
	if (!ret) {
		WRITE_ONCE(sk->sk_max_ack_backlog, backlog);
		vmsock_stream_set_state(sk, TCP_LISTEN);
	}
	release_sock(sk);
	return ret;
}

/*
 * Unlocked: waits until @listener has a child to accept or has stopped
 * listening; 0, -EAGAIN or a signal's error. The accept queue is read
 * without the lock, so whoever wakes may find it emptied by another
 * accept() and wait again; what it finds is decided under the lock. A
 * blocking accept() that waits thus locks its listener once, after the
 * wait, instead of before and again after it.
 */
static int vmsock_accept_wait(struct sock *listener, long *timeo)
{
	struct list_head *accept_q = &vmsock_sk(listener)->st.accept_q;
	DEFINE_WAIT_FUNC(wait, woken_wake_function);
	int ret = 0;

	/* As vmsock_sleep(): a child already queued costs no wait entry. */
	if (!list_empty(accept_q) || READ_ONCE(listener->sk_state) != TCP_LISTEN)
		return 0;
	add_wait_queue(sk_sleep(listener), &wait);
	while (list_empty(accept_q) && READ_ONCE(listener->sk_state) == TCP_LISTEN) {
		if (!*timeo) {
			ret = -EAGAIN;
			break;
		}
		if (signal_pending(current)) {
			ret = sock_intr_errno(*timeo);
			break;
		}
		*timeo = wait_woken(&wait, TASK_INTERRUPTIBLE, *timeo);
	}
	remove_wait_queue(sk_sleep(listener), &wait);
	return ret;
}

int vmsock_stream_do_accept(struct socket *sock, struct socket *newsock, int flags, bool kern)
{
	struct sock *listener = sock->sk;
	struct vmsock_sock *lvsk = vmsock_sk(listener);
	long timeo = sock_rcvtimeo(listener, flags & O_NONBLOCK);
	struct vmsock_sock *cvsk;
	struct sock *child;
	int ret;

	for (;;) {
		ret = vmsock_accept_wait(listener, &timeo);
		if (ret)
			return ret;
		lock_sock(listener);
		if (listener->sk_state != TCP_LISTEN) {
			ret = -EINVAL;
			goto out;
		}
		if (!list_empty(&lvsk->st.accept_q))
			break;
		release_sock(listener);
	}

	cvsk = list_first_entry(&lvsk->st.accept_q, struct vmsock_sock, st.accept_node);
	child = &cvsk->sk;
	lock_sock_nested(child, SINGLE_DEPTH_NESTING);
	list_del_init(&cvsk->st.accept_node);
	sk_acceptq_removed(listener);
	vmsock_stream_set_listener(child, NULL);
	sock_put(listener);
	/* The accept queue's reference becomes newsock's. */
	sock_graft(child, newsock);
	newsock->state = SS_CONNECTED;
	release_sock(child);
out:
	release_sock(listener);
	return ret;
}

/* Listener locked: every child not yet accepted goes, pending ones told so. */
static void vmsock_listener_flush(struct sock *listener)
{
	struct vmsock_sock *lvsk = vmsock_sk(listener);
	struct list_head *lists[] = { &lvsk->st.pending, &lvsk->st.accept_q };
	struct vmsock_sock *cvsk;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lists); i++) {
		while ((cvsk = list_first_entry_or_null(lists[i], struct vmsock_sock,
							st.accept_node))) {
			struct sock *child = &cvsk->sk;

			lock_sock_nested(child, SINGLE_DEPTH_NESTING);
			if (child->sk_state == TCP_SYN_RECV)
				vmsock_stream_send_ctl(child, VMSOCK_PKT_RST, 0);
			vmsock_child_destroy(listener, child);
			release_sock(child);
			sock_put(child);
		}
	}
}

int vmsock_stream_release(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (!sk)
		return 0;
	lock_sock(sk);
	if (sk->sk_state == TCP_LISTEN)
		vmsock_listener_flush(sk);
	/* A peer that never got our OFFER has no pair to see us leave. */
	if (sk->sk_state == TCP_SYN_SENT && !vmsock_sk(sk)->st.qpair)
		vmsock_stream_send_ctl(sk, VMSOCK_PKT_RST, 0);
	vmsock_local_close(sk);
	vmsock_stream_teardown(sk, true);
	vmsock_stream_set_state(sk, TCP_CLOSE);
	/* Before sock_orphan() takes the wait queue away; one lock for all. */
	vmsock_stream_wake(sk);
	vmsock_release_locked(sock);
	return 0;
}

static u32 vmsock_detach_sub = VMCI_INVALID_ID;
static u32 vmsock_context_subs[2] = { VMCI_INVALID_ID, VMCI_INVALID_ID };
static bool vmsock_personality_watched;

/*
 * Best effort: without these, connections only learn of a resume through
 * their peers' detach events, as they did before; nothing else breaks.
 */
static void vmsock_watch_context(void)
{
	static const u32 events[] = { VMCI_EVENT_CTX_ID_UPDATE, VMCI_EVENT_QP_RESUMED };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(events); i++)
		if (vmcix_event_subscribe(events[i], vmsock_context_event_cb, NULL,
					  &vmsock_context_subs[i]) < VMCI_SUCCESS) {
			pr_warn("cannot watch VMCI event %u; connections outlive it\n",
				events[i]);
			vmsock_context_subs[i] = VMCI_INVALID_ID;
		}
	vmsock_personality_watched = !vmcix_personality_watch(&vmsock_personality_nb);
}

static void vmsock_unwatch_context(void)
{
	unsigned int i;

	if (vmsock_personality_watched)
		vmcix_personality_unwatch(&vmsock_personality_nb);
	vmsock_personality_watched = false;
	for (i = 0; i < ARRAY_SIZE(vmsock_context_subs); i++) {
		if (vmsock_context_subs[i] != VMCI_INVALID_ID)
			vmcix_event_unsubscribe(vmsock_context_subs[i]);
		vmsock_context_subs[i] = VMCI_INVALID_ID;
	}
}

int vmsock_stream_init(void)
{
	int ret;

	vmsock_stream_wq = alloc_ordered_workqueue("vmsock_stream", 0);
	if (!vmsock_stream_wq)
		return -ENOMEM;
	/* Before any socket can have a pair; it lasts until unload. */
	ret = vmcix_event_subscribe(VMCI_EVENT_QP_PEER_DETACH, vmsock_peer_detach_cb, NULL,
				    &vmsock_detach_sub);
	if (ret < VMCI_SUCCESS) {
		vmsock_detach_sub = VMCI_INVALID_ID;
		pr_warn("cannot watch queue-pair detaches (VMCI error %d); SOCK_STREAM unavailable\n",
			ret);
		return 0;
	}
	ret = vmcix_datagram_create_handle(VMSOCK_PACKET_RID, VMCI_FLAG_ANYCID_DG_HND,
					   VMCI_PRIVILEGE_FLAG_TRUSTED, vmsock_ctl_recv_cb,
					   NULL, &vmsock_ctl_handle);
	if (ret == VMCI_ERROR_NO_ACCESS)
		ret = vmcix_datagram_create_handle(VMSOCK_PACKET_RID, VMCI_FLAG_ANYCID_DG_HND,
						   VMCI_NO_PRIVILEGE_FLAGS, vmsock_ctl_recv_cb,
						   NULL, &vmsock_ctl_handle);
	if (ret < VMCI_SUCCESS) {
		/* Datagram sockets still work; stream ones say ENETDOWN. */
		pr_warn("no stream control handle (VMCI error %d); SOCK_STREAM unavailable\n",
			ret);
		vmcix_event_unsubscribe(vmsock_detach_sub);
		vmsock_detach_sub = VMCI_INVALID_ID;
		return 0;
	}
	vmsock_ctl_ready = true;
	vmsock_watch_context();
	return 0;
}

/* Every socket is gone (each holds the module); packets may still wait. */
void vmsock_stream_exit(void)
{
	struct vmsock_rx_pkt *rx, *tmp;

	vmsock_unwatch_context();
	if (vmsock_ctl_ready)
		vmcix_datagram_destroy_handle(vmsock_ctl_handle);
	vmsock_ctl_ready = false;
	/* Returns once no detach callback runs; it may have queued work. */
	if (vmsock_detach_sub != VMCI_INVALID_ID)
		vmcix_event_unsubscribe(vmsock_detach_sub);
	vmsock_detach_sub = VMCI_INVALID_ID;
	/* Runs what is queued; no socket is left for the packets to find. */
	destroy_workqueue(vmsock_stream_wq);
	list_for_each_entry_safe(rx, tmp, &vmsock_rx_list, node)
		vmsock_rx_free(rx);
	INIT_LIST_HEAD(&vmsock_rx_list);
	vmsock_rx_count = 0;
	if (vmsock_rx_dropped)
		pr_info("%lu stream control packets were dropped (queue full)\n",
			vmsock_rx_dropped);
}
