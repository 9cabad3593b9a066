// SPDX-License-Identifier: GPL-2.0
/*
 * vmsock SOCK_DGRAM sockets between two sockets of this machine: data
 * integrity up to the largest datagram, addresses, truncation, bind and
 * connect rules, errors, poll, and a receive queue that stays bounded.
 *
 * Usage: vsock_dgram   (vmsock loaded with defaults, run as root)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "nobody.h"
#include "stress_mem.h"
#include "tap.h"
#include "vsock_addr.h"

#define MAX_PAYLOAD	69608
#define FLOOD_COUNT	8000
#define FLOOD_SIZE	4096

static unsigned char *txbuf, *rxbuf;

/* A datagram socket bound to {ANY, dynamic port}; its port in *port. */
static int bound_socket(unsigned int *port)
{
	struct sockaddr_vm a = vm_addr(VMADDR_CID_ANY, VMADDR_PORT_ANY);
	struct timeval tv = { .tv_sec = 2 };
	socklen_t len = sizeof(a);
	int fd = socket(af, SOCK_DGRAM, 0);

	if (fd < 0)
		return -1;
	/* A broken receive path must fail the test, not hang the VM. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		close(fd);
		return -1;
	}
	*port = a.svm_port;
	return fd;
}

static void fill_random(unsigned char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = rand();
}

static int addr_is(const struct sockaddr_vm *a, socklen_t len, unsigned int cid,
		   unsigned int port)
{
	struct sockaddr_vm want = vm_addr(cid, port);

	return len == sizeof(want) && !memcmp(a, &want, sizeof(want));
}

/* Sends @len random bytes from @from to @to_port; checks what arrives at @to. */
static void one_trip(const char *name, int from, unsigned int from_port, int to,
		     unsigned int to_port, size_t len)
{
	struct sockaddr_vm dst = vm_addr(local_cid, to_port), src;
	socklen_t slen = sizeof(src);
	ssize_t n;

	fill_random(txbuf, len);
	n = sendto(from, txbuf, len, 0, (struct sockaddr *)&dst, sizeof(dst));
	if (n != (ssize_t)len) {
		tap_report(0, name, "sendto %zu bytes: %zd (%s)", len, n, strerror(errno));
		return;
	}
	memset(rxbuf, 0, MAX_PAYLOAD + 1);
	memset(&src, 0xff, sizeof(src));
	n = recvfrom(to, rxbuf, MAX_PAYLOAD + 1, 0, (struct sockaddr *)&src, &slen);
	if (n != (ssize_t)len) {
		tap_report(0, name, "recvfrom: %zd (%s), want %zu", n, strerror(errno), len);
		return;
	}
	if (memcmp(txbuf, rxbuf, len)) {
		tap_report(0, name, "payload of %zu bytes differs", len);
		return;
	}
	tap_report(addr_is(&src, slen, local_cid, from_port), name,
		   "source {family %u cid %u port %u} len %u, want {%d %u %u}",
		   src.svm_family, src.svm_cid, src.svm_port, slen, af, local_cid, from_port);
}

static void test_echo(void)
{
	static const size_t sizes[] = { 1, 100, 4096, 65536, MAX_PAYLOAD };
	unsigned int pa, pb;
	int a = bound_socket(&pa), b = bound_socket(&pb);
	char name[64];
	size_t i;

	tap_report(a >= 0 && b >= 0, "bind_any", "bind: %s", strerror(errno));
	if (a < 0 || b < 0)
		return;
	tap_report(pa >= 1024 && pa != VMADDR_PORT_ANY && pb >= 1024 && pa != pb,
		   "dynamic_ports", "ports %u and %u", pa, pb);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(name, sizeof(name), "echo_%zu_there", sizes[i]);
		one_trip(name, a, pa, b, pb, sizes[i]);
		snprintf(name, sizeof(name), "echo_%zu_back", sizes[i]);
		one_trip(name, b, pb, a, pa, sizes[i]);
	}

	{
		struct sockaddr_vm dst = vm_addr(local_cid, pb);

		CHECK_ERRNO("too_big_emsgsize",
			    sendto(a, txbuf, MAX_PAYLOAD + 1, 0, (struct sockaddr *)&dst,
				   sizeof(dst)), EMSGSIZE);
		CHECK_ERRNO("send_oob_eopnotsupp",
			    sendto(a, txbuf, 1, MSG_OOB, (struct sockaddr *)&dst, sizeof(dst)),
			    EOPNOTSUPP);
		CHECK_ERRNO("recv_oob_eopnotsupp", recv(b, rxbuf, 1, MSG_OOB), EOPNOTSUPP);
		CHECK_ERRNO("recv_errqueue_eopnotsupp", recv(b, rxbuf, 1, MSG_ERRQUEUE),
			    EOPNOTSUPP);
		CHECK_ERRNO("empty_dontwait_eagain", recv(b, rxbuf, 1, MSG_DONTWAIT), EAGAIN);
	}
	close(a);
	close(b);
}

static void test_trunc_peek(void)
{
	unsigned int pa, pb;
	int a = bound_socket(&pa), b = bound_socket(&pb);
	struct sockaddr_vm dst = vm_addr(local_cid, pb);
	struct iovec iov = { .iov_base = rxbuf, .iov_len = 10 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (a < 0 || b < 0) {
		tap_report(0, "trunc_setup", "bind: %s", strerror(errno));
		return;
	}
	fill_random(txbuf, 100);
	sendto(a, txbuf, 100, 0, (struct sockaddr *)&dst, sizeof(dst));
	sendto(a, txbuf, 100, 0, (struct sockaddr *)&dst, sizeof(dst));

	n = recv(b, rxbuf, MAX_PAYLOAD, MSG_PEEK);
	tap_report(n == 100 && !memcmp(rxbuf, txbuf, 100), "peek", "peek returned %zd", n);

	n = recvmsg(b, &msg, 0);
	tap_report(n == 10 && (msg.msg_flags & MSG_TRUNC) && !memcmp(rxbuf, txbuf, 10),
		   "trunc_flag", "returned %zd flags %#x", n, msg.msg_flags);

	msg.msg_flags = 0;
	n = recvmsg(b, &msg, MSG_TRUNC);
	tap_report(n == 100 && (msg.msg_flags & MSG_TRUNC), "trunc_real_length",
		   "returned %zd flags %#x", n, msg.msg_flags);

	/* A truncated datagram is consumed whole. */
	CHECK_ERRNO("trunc_consumed", recv(b, rxbuf, 1, MSG_DONTWAIT), EAGAIN);
	close(a);
	close(b);
}

/* Binds a socket to {our CID, dynamic port}; @c must not get {ANY, that port}. */
static void test_bind_any_on_cid_port(int c)
{
	struct sockaddr_vm addr = vm_addr(local_cid, VMADDR_PORT_ANY);
	socklen_t len = sizeof(addr);
	int d = socket(af, SOCK_DGRAM, 0);

	if (d < 0 || bind(d, (struct sockaddr *)&addr, sizeof(addr)) ||
	    getsockname(d, (struct sockaddr *)&addr, &len) || addr.svm_cid != local_cid) {
		tap_report(0, "bind_any_on_cid_port", "setup: %s", strerror(errno));
	} else {
		addr = vm_addr(VMADDR_CID_ANY, addr.svm_port);
		CHECK_ERRNO("bind_any_on_cid_port",
			    bind(c, (struct sockaddr *)&addr, sizeof(addr)), EADDRINUSE);
	}
	if (d >= 0)
		close(d);
}

static void test_bind_errors(void)
{
	unsigned int pa, pb;
	int a = bound_socket(&pa), b = bound_socket(&pb);
	int c = socket(af, SOCK_DGRAM, 0);
	struct sockaddr_vm addr;
	pid_t pid;
	int status;

	if (a < 0 || b < 0 || c < 0) {
		tap_report(0, "bind_setup", "socket/bind: %s", strerror(errno));
		return;
	}
	addr = vm_addr(VMADDR_CID_ANY, pa);
	CHECK_ERRNO("bind_port_in_use", bind(c, (struct sockaddr *)&addr, sizeof(addr)),
		    EADDRINUSE);
	/* {ANY, P} and {our CID, P} name the same port: one excludes the other. */
	addr = vm_addr(local_cid, pa);
	CHECK_ERRNO("bind_cid_on_any_port", bind(c, (struct sockaddr *)&addr, sizeof(addr)),
		    EADDRINUSE);
	test_bind_any_on_cid_port(c);
	addr = vm_addr(VMADDR_CID_ANY, VMADDR_PORT_ANY);
	CHECK_ERRNO("bind_twice", bind(a, (struct sockaddr *)&addr, sizeof(addr)), EINVAL);
	addr = vm_addr(local_cid + 1000, VMADDR_PORT_ANY);
	CHECK_ERRNO("bind_foreign_cid", bind(c, (struct sockaddr *)&addr, sizeof(addr)),
		    EADDRNOTAVAIL);
	addr = vm_addr(VMADDR_CID_ANY, VMADDR_PORT_ANY);
	CHECK_ERRNO("bind_short", bind(c, (struct sockaddr *)&addr, sizeof(addr) - 1),
		    EINVAL);
	addr.svm_family = AF_INET;
	CHECK_ERRNO("bind_wrong_family", bind(c, (struct sockaddr *)&addr, sizeof(addr)),
		    EINVAL);

	pid = fork();
	if (pid == 0) {
		int fd = socket(af, SOCK_DGRAM, 0);

		addr = vm_addr(VMADDR_CID_ANY, 1000);
		if (fd < 0 || drop_to_nobody())
			_exit(2);
		_exit(bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1 &&
		      errno == EACCES ? 0 : 1);
	}
	status = -1;
	if (pid > 0)
		waitpid(pid, &status, 0);
	tap_report(WIFEXITED(status) && WEXITSTATUS(status) == 0, "bind_reserved_unprivileged",
		   "child status %#x (1: not EACCES, 2: setup)", status);

	/* Each failed bind above must have left c unbound. */
	addr = vm_addr(local_cid, 1000);
	tap_report(bind(c, (struct sockaddr *)&addr, sizeof(addr)) == 0,
		   "bind_reserved_root", "bind port 1000: %s", strerror(errno));
	{
		socklen_t len = sizeof(addr);

		memset(&addr, 0xff, sizeof(addr));
		getsockname(c, (struct sockaddr *)&addr, &len);
		tap_report(addr_is(&addr, len, local_cid, 1000), "getsockname",
			   "{%u %u %u} len %u", addr.svm_family, addr.svm_cid,
			   addr.svm_port, len);
	}
	close(a);
	close(b);
	close(c);
}

static void test_connect(void)
{
	unsigned int pb;
	int b = bound_socket(&pb);
	int c = socket(af, SOCK_DGRAM, 0);
	struct sockaddr_vm addr, src;
	socklen_t len = sizeof(addr);
	struct pollfd pfd;
	ssize_t n;

	if (b < 0 || c < 0) {
		tap_report(0, "connect_setup", "socket/bind: %s", strerror(errno));
		return;
	}
	CHECK_ERRNO("getpeername_unconnected",
		    getpeername(c, (struct sockaddr *)&addr, &len), ENOTCONN);
	CHECK_ERRNO("send_unconnected", send(c, "x", 1, 0), EINVAL);
	{
		/* Its own socket: the shutdown takes effect (Linux's "kick"). */
		int k = socket(af, SOCK_DGRAM, 0);

		CHECK_ERRNO("shutdown_unconnected", shutdown(k, SHUT_WR), ENOTCONN);
		close(k);
	}
	CHECK_ERRNO("listen", listen(c, 1), EOPNOTSUPP);
	{
		int v = 0;

		CHECK_ERRNO("setsockopt_eopnotsupp",
			    setsockopt(c, af, SO_VMCI_BUFFER_SIZE, &v, sizeof(v)), EOPNOTSUPP);
	}
	addr = vm_addr(VMADDR_CID_HYPERVISOR, 13);
	CHECK_ERRNO("sendto_hypervisor_port",
		    sendto(c, "x", 1, 0, (struct sockaddr *)&addr, sizeof(addr)), EINVAL);

	addr = vm_addr(local_cid, pb);
	tap_report(connect(c, (struct sockaddr *)&addr, sizeof(addr)) == 0, "connect",
		   "%s", strerror(errno));
	len = sizeof(addr);
	memset(&addr, 0xff, sizeof(addr));
	getpeername(c, (struct sockaddr *)&addr, &len);
	tap_report(addr_is(&addr, len, local_cid, pb), "getpeername",
		   "{%u %u %u} len %u", addr.svm_family, addr.svm_cid, addr.svm_port, len);

	pfd.fd = b;
	pfd.events = POLLIN | POLLOUT;
	tap_report(poll(&pfd, 1, 0) == 1 && pfd.revents == POLLOUT, "poll_empty",
		   "revents %#x", pfd.revents);

	fill_random(txbuf, 333);
	tap_report(send(c, txbuf, 333, 0) == 333, "connected_send", "%s", strerror(errno));
	tap_report(poll(&pfd, 1, 1000) == 1 && (pfd.revents & POLLIN), "poll_readable",
		   "revents %#x", pfd.revents);

	len = sizeof(addr);
	getsockname(c, (struct sockaddr *)&addr, &len);
	len = sizeof(src);
	n = recvfrom(b, rxbuf, MAX_PAYLOAD, 0, (struct sockaddr *)&src, &len);
	tap_report(n == 333 && !memcmp(rxbuf, txbuf, 333) &&
		   addr_is(&src, len, local_cid, addr.svm_port) && addr.svm_port >= 1024,
		   "connected_recv", "n %zd from port %u, autobound port %u", n,
		   src.svm_port, addr.svm_port);

	memset(&addr, 0, sizeof(addr));
	addr.svm_family = AF_UNSPEC;
	tap_report(connect(c, (struct sockaddr *)&addr, sizeof(addr)) == 0, "disconnect",
		   "%s", strerror(errno));
	len = sizeof(addr);
	CHECK_ERRNO("getpeername_disconnected",
		    getpeername(c, (struct sockaddr *)&addr, &len), ENOTCONN);
	close(b);
	close(c);
}

/* A reader that never reads must cost at most its receive buffer. */
static void test_bounded_queue(void)
{
	unsigned int pa, pb;
	int a = bound_socket(&pa), b = bound_socket(&pb);
	struct sockaddr_vm dst = vm_addr(local_cid, pb);
	int rcvbuf = 16384, sent = 0, refused = 0, received = 0, i;
	socklen_t len = sizeof(rcvbuf);
	static struct mem_snap before, after;
	long long raw_before, raw_after;

	if (a < 0 || b < 0) {
		tap_report(0, "flood_setup", "bind: %s", strerror(errno));
		return;
	}
	setsockopt(b, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	getsockopt(b, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len);
	fill_random(txbuf, FLOOD_SIZE);
	/*
	 * Every send is a short-lived kmalloc-8k: 64 MiB of them pass here,
	 * and what the kernel keeps of freed memory for a while (KASAN's
	 * quarantine, SLUB's per-CPU caches and empty slabs, the page
	 * allocator's per-CPU lists) is no memory of ours. On 7.2's debug
	 * kernel the raw MemAvailable fell 29 MB while the queue held at
	 * most 20 KiB. So both figures are read settled, as the stress tests
	 * read theirs (stress_mem.h), and the raw ones are printed beside.
	 */
	raw_before = proc_field("/proc/meminfo", "MemAvailable:");
	mem_settle(&before);
	for (i = 0; i < FLOOD_COUNT; i++) {
		if (sendto(a, txbuf, FLOOD_SIZE, MSG_DONTWAIT, (struct sockaddr *)&dst,
			   sizeof(dst)) == FLOOD_SIZE)
			sent++;
		else
			refused++;
	}
	raw_after = proc_field("/proc/meminfo", "MemAvailable:");
	mem_settle(&after);
	while (recv(b, rxbuf, MAX_PAYLOAD, MSG_DONTWAIT) == FLOOD_SIZE)
		received++;
	printf("# rcvbuf %d: %d sent, %d refused, %d queued; raw MemAvailable %lld -> %lld KiB\n",
	       rcvbuf, sent, refused, received, raw_before, raw_after);
	mem_print("before flood", &before);
	mem_print("after flood", &after);
	mem_explain(&before, &after, 1024);
	/*
	 * A sender that does not wait drops, as UDP does: every send succeeds.
	 * (A blocking one of the reader's own user would wait for room:
	 * vsock_dgram_room.)
	 */
	tap_report(sent == FLOOD_COUNT, "flood_sends_succeed", "%d of %d refused",
		   refused, FLOOD_COUNT);
	tap_report(received >= 1 && (long)received * FLOOD_SIZE <= rcvbuf + FLOOD_SIZE,
		   "flood_bounded", "%d datagrams of %d queued with SO_RCVBUF %d",
		   received, FLOOD_SIZE, rcvbuf);
	/* Unbounded queueing would keep over 32 MiB (the margin is as before). */
	tap_report(mem_readable(&before) && mem_readable(&after) &&
		   before.avail_kib - after.avail_kib < 12288, "flood_memory",
		   "settled MemAvailable fell by %lld KiB", before.avail_kib - after.avail_kib);
	close(a);
	close(b);
}

int main(void)
{
	int afd = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	srand(time(NULL) ^ getpid());
	af = VMCISock_GetAFValueFd(&afd);
	local_cid = VMCISock_GetLocalCID();
	txbuf = malloc(MAX_PAYLOAD + 1);
	rxbuf = malloc(MAX_PAYLOAD + 1);
	if (af < 0 || local_cid == VMADDR_CID_ANY || !txbuf || !rxbuf) {
		tap_report(0, "setup", "af %d cid %u", af, local_cid);
		return 1;
	}
	printf("# family %d, local CID %u\n", af, local_cid);
	/*
	 * Checks on the passing path: echo 17, trunc/peek 4, bind errors 10,
	 * connect 14, bounded queue 3. A *_setup failure replaces its block.
	 */
	tap_plan(48);

	test_echo();
	test_trunc_peek();
	test_bind_errors();
	test_connect();
	test_bounded_queue();

	VMCISock_ReleaseAFValueFd(afd);
	free(txbuf);
	free(rxbuf);
	return tap_exit_code();
}
