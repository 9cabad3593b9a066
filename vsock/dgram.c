// SPDX-License-Identifier: GPL-2.0
/*
 * SOCK_DGRAM sockets: each socket owns one VMCI datagram handle whose
 * resource ID is its port. A received datagram is queued whole (header and
 * payload) as one skb; the header supplies the sender's address later.
 *
 * Locking (sock.h): the stream control worker never locks a datagram
 * socket, but the rule holds here too: sendmsg copies the payload in
 * before lock_sock(), and recvmsg copies out under the receive queue's
 * own locks only, never under lock_sock().
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/capability.h>
#include <linux/gfp.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/socket.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <net/sock.h>

#include <vmci/vmci_abi.h>
#include <vmci/vmcix.h>

#include "addr.h"
#include "dgram.h"
#include "diag.h"
#include "sock.h"
#include "vmci_errno.h"

static bool vmsock_dgram_bound(const struct vmsock_sock *vsk)
{
	return vsk->local_addr.svm_family != AF_UNSPEC;
}

static bool vmsock_dgram_connected(const struct vmsock_sock *vsk)
{
	return vsk->remote_addr.svm_family != AF_UNSPEC;
}

static void vmsock_dgram_ep_gone(void *client_data)
{
	struct vmsock_dgram_ep *ep = client_data;

	kfree_rcu(ep, rcu);
}

/* Up to this much payload shares the skb's head with the header. */
#define VMSOCK_DGRAM_LINEAR_MAX	2048U

/*
 * A copy of @dg, with @payload bytes of payload (the size the caller read
 * once and checked), as one skb. Large payloads go to page fragments: a
 * single 68 KiB buffer would be an order-5 atomic allocation, which fails
 * once memory is fragmented.
 */
static struct sk_buff *vmsock_dgram_skb(const struct vmci_datagram *dg, size_t payload)
{
	const u8 *src = VMCI_DG_PAYLOAD(dg);
	struct vmci_datagram *hdr;
	struct sk_buff *skb;
	int frag = 0;

	BUILD_BUG_ON(DIV_ROUND_UP(VMCI_MAX_DG_PAYLOAD_SIZE, PAGE_SIZE) > MAX_SKB_FRAGS);

	if (payload <= VMSOCK_DGRAM_LINEAR_MAX) {
		skb = alloc_skb(VMCI_DG_HEADERSIZE + payload, GFP_ATOMIC);
		if (!skb)
			return NULL;
		hdr = skb_put_data(skb, dg, VMCI_DG_HEADERSIZE + payload);
		/* recvmsg() trusts the queued header: it must say what we copied. */
		hdr->payload_size = payload;
		return skb;
	}
	skb = alloc_skb(VMCI_DG_HEADERSIZE, GFP_ATOMIC);
	if (!skb)
		return NULL;
	hdr = skb_put_data(skb, dg, VMCI_DG_HEADERSIZE);
	hdr->payload_size = payload;
	while (payload) {
		size_t chunk = min_t(size_t, payload, PAGE_SIZE);
		struct page *page = alloc_page(GFP_ATOMIC);

		if (!page) {
			kfree_skb(skb);
			return NULL;
		}
		memcpy(page_address(page), src, chunk);
		skb_add_rx_frag(skb, frag++, page, 0, chunk, PAGE_SIZE);
		src += chunk;
		payload -= chunk;
	}
	return skb;
}

/*
 * Runs in whatever context delivered the datagram, possibly atomic, and
 * possibly after release (see struct vmsock_dgram_ep). sk_rcvbuf bounds
 * what waits unread; the rest is dropped and counted in sk_drops, which
 * the reader sees with SO_RXQ_OVFL. A drop still reports success, as UDP
 * does: a local sender would otherwise see ENOMEM for a slow reader,
 * which a sender in a guest could never see. A blocking local sender of
 * the reader's own user waits for room before it gets here (dgram_room.c).
 */
static void vmsock_dgram_deliver(struct sock *sk, const struct vmci_datagram *dg,
				 u64 payload)
{
	struct sk_buff *skb;

	/* Cheap early drop: no allocation for a queue that is already full. */
	if (vmsock_dgram_rcvq_full(sk)) {
		atomic_inc(&sk->sk_drops);
		vmsock_note_dgram(false, true);
		return;
	}
	skb = vmsock_dgram_skb(dg, payload);
	if (!skb) {
		atomic_inc(&sk->sk_drops);
		vmsock_note_dgram(false, true);
		return;
	}
	/* Counts its own drops when the receive buffer is full. */
	if (sock_queue_rcv_skb(sk, skb) < 0) {
		kfree_skb(skb);
		vmsock_note_dgram(false, true);
	} else {
		vmsock_note_dgram(false, false);
	}
}

static int vmsock_dgram_recv_cb(void *client_data, struct vmci_datagram *dg)
{
	/* Read once: every later size comes from this check, not from @dg. */
	u64 payload = READ_ONCE(dg->payload_size);
	struct vmsock_dgram_ep *ep = client_data;
	unsigned long flags;

	if (payload > VMCI_MAX_DG_PAYLOAD_SIZE)
		return VMCI_ERROR_INVALID_ARGS;

	/* Holding @lock keeps release from finishing with the socket. */
	spin_lock_irqsave(&ep->lock, flags);
	if (ep->sk)
		vmsock_dgram_deliver(ep->sk, dg, payload);
	else
		vmsock_note_dgram(false, true);
	spin_unlock_irqrestore(&ep->lock, flags);
	return VMCI_SUCCESS;
}

/*
 * Creates the handle for port @port (VMADDR_PORT_ANY: a dynamic one) and
 * records the local address. Called with the socket locked.
 */
static int vmsock_dgram_do_bind(struct sock *sk, u32 cid, u32 port)
{
	struct vmsock_sock *vsk = vmsock_sk(sk);
	u32 flags = VMCI_FLAG_DG_NONE;
	u32 rid = VMCI_INVALID_ID;
	struct vmsock_dgram_ep *ep;
	struct vmci_handle handle;
	int ret;

	if (vmsock_dgram_bound(vsk))
		return -EINVAL;
	if (cid == VMADDR_CID_ANY)
		flags |= VMCI_FLAG_ANYCID_DG_HND;
	else if (cid != vmcix_get_context_id())
		return -EADDRNOTAVAIL;
	if (port != VMADDR_PORT_ANY) {
		if (port <= VMCI_RESERVED_RESOURCE_ID_MAX &&
		    !capable(CAP_NET_BIND_SERVICE))
			return -EACCES;
		rid = port;
	}

	ep = kmalloc(sizeof(*ep), GFP_KERNEL_ACCOUNT);
	if (!ep)
		return -ENOMEM;
	spin_lock_init(&ep->lock);
	ep->sk = sk;

	ret = VMCI_ERROR_NO_ACCESS;
	if (vsk->trusted)
		ret = vmcix_datagram_create_handle(rid, flags, VMCI_PRIVILEGE_FLAG_TRUSTED,
						   vmsock_dgram_recv_cb, ep, &handle);
	/* A guest cannot be trusted by the host; it is still a socket. */
	if (ret == VMCI_ERROR_NO_ACCESS)
		ret = vmcix_datagram_create_handle(rid, flags, VMCI_NO_PRIVILEGE_FLAGS,
						   vmsock_dgram_recv_cb, ep, &handle);
	if (ret < VMCI_SUCCESS) {
		kfree(ep);
		return vmsock_vmci_errno(ret);
	}

	vsk->dg_handle = handle;
	vsk->dg_ep = ep;
	ep->port = handle.resource;
	vmsock_dgram_room_publish(ep);
	vmsock_addr_init(&vsk->local_addr, sk->sk_family, cid, handle.resource);
	return 0;
}

static int vmsock_dgram_bind(struct socket *sock, struct sockaddr_unsized *addr, int len)
{
	return vmsock_addr_bind(sock, addr, len, vmsock_dgram_do_bind);
}

/* Called with the socket locked. */
static int vmsock_dgram_autobind(struct sock *sk)
{
	if (vmsock_dgram_bound(vmsock_sk(sk)))
		return 0;
	return vmsock_dgram_do_bind(sk, VMADDR_CID_ANY, VMADDR_PORT_ANY);
}

static int vmsock_dgram_connect(struct socket *sock, struct sockaddr_unsized *addr,
				int len, int flags)
{
	const struct sockaddr_vm *svm = (const struct sockaddr_vm *)addr;
	struct sock *sk = sock->sk;
	struct vmsock_sock *vsk = vmsock_sk(sk);
	int ret;

	/* Connecting to AF_UNSPEC forgets the peer, as for UDP. */
	if (addr && len >= (int)sizeof(addr->sa_family) &&
	    addr->sa_family == AF_UNSPEC) {
		lock_sock(sk);
		memset(&vsk->remote_addr, 0, sizeof(vsk->remote_addr));
		sock->state = SS_UNCONNECTED;
		release_sock(sk);
		return 0;
	}
	ret = vmsock_addr_check(addr, len, sk->sk_family);
	if (ret)
		return ret;
	if (!vmsock_dgram_dst_allowed(svm->svm_cid, svm->svm_port))
		return -EINVAL;

	lock_sock(sk);
	ret = vmsock_dgram_autobind(sk);
	if (!ret) {
		vmsock_addr_init(&vsk->remote_addr, sk->sk_family,
				 svm->svm_cid, svm->svm_port);
		sock->state = SS_CONNECTED;
	}
	release_sock(sk);
	return ret;
}

static int vmsock_dgram_getname(struct socket *sock, struct sockaddr *addr, int peer)
{
	struct sock *sk = sock->sk;
	struct vmsock_sock *vsk = vmsock_sk(sk);
	int ret;

	lock_sock(sk);
	ret = vmsock_addr_name(sk, (struct sockaddr_vm *)addr, peer,
			       vmsock_dgram_connected(vsk), vmsock_dgram_bound(vsk));
	release_sock(sk);
	return ret;
}

static int vmsock_dgram_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	struct sock *sk = sock->sk;
	struct vmsock_sock *vsk = vmsock_sk(sk);
	struct vmci_datagram *dg;
	u32 cid, port;
	bool named;
	int ret;

	if (msg->msg_flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (len > VMCI_MAX_DG_PAYLOAD_SIZE)
		return -EMSGSIZE;
	/*
	 * As classic vsock and Linux's AF_VSOCK do: an address that does not
	 * check out counts as none, so a connected socket sends to its peer.
	 */
	named = msg->msg_name &&
		!vmsock_addr_check(msg->msg_name, msg->msg_namelen, sk->sk_family);
	if (named) {
		const struct sockaddr_vm *svm = msg->msg_name;

		cid = svm->svm_cid;
		port = svm->svm_port;
	}

	/*
	 * Not zeroed: the header is written below and the payload copied in;
	 * only the padding to 8 bytes, which a VMM's queue may carry, is
	 * cleared.
	 */
	dg = kmalloc(VMCI_DG_HEADERSIZE + ALIGN(len, 8), GFP_KERNEL);
	if (!dg)
		return -ENOMEM;
	memset((u8 *)VMCI_DG_PAYLOAD(dg) + len, 0, ALIGN(len, 8) - len);
	if (!copy_from_iter_full(VMCI_DG_PAYLOAD(dg), len, &msg->msg_iter)) {
		ret = -EFAULT;
		goto free;
	}

	lock_sock(sk);
	if (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN) {
		ret = -EPIPE;
		goto unlock;
	}
	if (!named) {
		/* EINVAL, not ENOTCONN: what both classic vsock and Linux say. */
		if (!vmsock_dgram_connected(vsk)) {
			ret = -EINVAL;
			goto unlock;
		}
		cid = vsk->remote_addr.svm_cid;
		port = vsk->remote_addr.svm_port;
	}
	/* "Any" context is this one: the datagram is delivered locally. */
	if (cid == VMADDR_CID_ANY)
		cid = vmcix_get_context_id();
	if (port == VMADDR_PORT_ANY || !vmsock_dgram_dst_allowed(cid, port)) {
		ret = -EINVAL;
		goto unlock;
	}
	ret = vmsock_dgram_autobind(sk);
	if (ret)
		goto unlock;
	if (vmcix_is_local_cid(cid)) {
		long timeo = sock_sndtimeo(sk, msg->msg_flags & MSG_DONTWAIT);

		ret = vmsock_dgram_room_wait(sk, port, &timeo);
		if (ret)
			goto unlock;
	}

	dg->dst = vmci_make_handle(cid, port);
	dg->src = vmci_make_handle(vmcix_get_context_id(), vsk->dg_handle.resource);
	dg->payload_size = len;
	ret = vmcix_datagram_send(dg);
	ret = ret < VMCI_SUCCESS ? vmsock_vmci_errno(ret) : len;
	if (ret >= 0)
		vmsock_note_dgram(true, false);
unlock:
	release_sock(sk);
free:
	kfree(dg);
	return ret;
}

static int vmsock_dgram_recvmsg(struct socket *sock, struct msghdr *msg,
				size_t len, int flags)
{
	DECLARE_SOCKADDR(struct sockaddr_vm *, svm, msg->msg_name);
	struct sock *sk = sock->sk;
	const struct vmci_datagram *dg;
	struct sk_buff *skb;
	size_t payload;
	int ret;

	if (flags & (MSG_OOB | MSG_ERRQUEUE))
		return -EOPNOTSUPP;
	skb = skb_recv_datagram(sk, flags, &ret);
	if (!skb)
		return ret;

	dg = (const struct vmci_datagram *)skb->data;
	/* The callback checked this; a queued skb must still agree with it. */
	if (skb->len < VMCI_DG_HEADERSIZE ||
	    dg->payload_size != skb->len - VMCI_DG_HEADERSIZE) {
		ret = -EINVAL;
		goto out;
	}
	payload = dg->payload_size;
	if (len > payload)
		len = payload;
	else if (len < payload)
		msg->msg_flags |= MSG_TRUNC;

	ret = skb_copy_datagram_msg(skb, VMCI_DG_HEADERSIZE, msg, len);
	if (ret)
		goto out;
	if (svm) {
		vmsock_addr_init(svm, sk->sk_family, dg->src.context, dg->src.resource);
		msg->msg_namelen = sizeof(*svm);
	}
	/* SO_RXQ_OVFL: how many datagrams this socket dropped so far. */
	sock_recv_cmsgs(msg, sk, skb);
	/* Like UDP: MSG_TRUNC asks for the datagram's real length. */
	ret = flags & MSG_TRUNC ? payload : len;
out:
	skb_free_datagram(sk, skb);
	vmsock_dgram_room_made(sk);
	return ret;
}

/*
 * Datagram sockets have no connection to shut down, but shutdown() still
 * works as it does for UDP: it ends sends, and readers see end-of-file
 * once the queue is empty. On a socket without a peer it does the same
 * and then says ENOTCONN, as classic vsock and Linux do: programs use
 * that to kick a thread blocked in recv() out of it.
 */
static int vmsock_dgram_shutdown(struct socket *sock, int how)
{
	struct sock *sk = sock->sk;
	bool connected;
	int mask;

	/* SHUT_RD, SHUT_WR, SHUT_RDWR become RCV_SHUTDOWN, SEND_SHUTDOWN, both. */
	how++;
	if (how <= 0 || how > SHUTDOWN_MASK)
		return -EINVAL;
	mask = (how & 1 ? RCV_SHUTDOWN : 0) | (how & 2 ? SEND_SHUTDOWN : 0);

	lock_sock(sk);
	connected = vmsock_dgram_connected(vmsock_sk(sk));
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | mask);
	release_sock(sk);
	sk->sk_state_change(sk);
	return connected ? 0 : -ENOTCONN;
}

/*
 * Datagram sockets have no options of their own (SOL_SOCKET ones are the
 * core's): EOPNOTSUPP, as Linux says for a family without the call.
 */
static int vmsock_dgram_setsockopt(struct socket *sock, int level, int optname,
				   sockptr_t optval, unsigned int optlen)
{
	return -EOPNOTSUPP;
}

/* Only whether the socket is trusted, which VMware's header example reads. */
static int vmsock_dgram_getsockopt(struct socket *sock, int level, int optname,
				   char __user *optval, int __user *optlen)
{
	int len, val;

	if (level != sock->sk->sk_family || optname != SO_VM_SOCKETS_TRUSTED)
		return -EOPNOTSUPP;
	if (get_user(len, optlen))
		return -EFAULT;
	/* As for stream sockets: the whole value or nothing. */
	if (len < (int)sizeof(val))
		return -EINVAL;
	val = vmsock_sk(sock->sk)->trusted;
	if (copy_to_user(optval, &val, sizeof(val)) || put_user(sizeof(val), optlen))
		return -EFAULT;
	return 0;
}

static int vmsock_dgram_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct vmsock_sock *vsk;

	if (!sk)
		return 0;
	vsk = vmsock_sk(sk);
	if (vmsock_dgram_bound(vsk)) {
		struct vmsock_dgram_ep *ep = vsk->dg_ep;

		vmsock_dgram_room_unpublish(ep);
		/* After this no callback touches sk; the purge below is final. */
		spin_lock_irq(&ep->lock);
		ep->sk = NULL;
		spin_unlock_irq(&ep->lock);
		if (vmcix_datagram_destroy_handle_async(vsk->dg_handle,
							vmsock_dgram_ep_gone) < VMCI_SUCCESS)
			kfree_rcu(ep, rcu);
	}
	skb_queue_purge(&sk->sk_receive_queue);
	/* Senders waiting for room find it now, and then a closed port. */
	vmsock_dgram_room_made(sk);
	return vmsock_release(sock);
}

/* .family is left to af_vmsock.c, which copies this per reservation. */
const struct proto_ops vmsock_dgram_ops = {
	.owner = THIS_MODULE,
	.release = vmsock_dgram_release,
	.bind = vmsock_dgram_bind,
	.connect = vmsock_dgram_connect,
	.socketpair = sock_no_socketpair,
	.accept = sock_no_accept,
	.getname = vmsock_dgram_getname,
	.poll = datagram_poll,
	.ioctl = sock_no_ioctl,
	.listen = sock_no_listen,
	.shutdown = vmsock_dgram_shutdown,
	.setsockopt = vmsock_dgram_setsockopt,
	.getsockopt = vmsock_dgram_getsockopt,
	.sendmsg = vmsock_dgram_sendmsg,
	.recvmsg = vmsock_dgram_recvmsg,
	.mmap = sock_no_mmap,
};
