// SPDX-License-Identifier: GPL-2.0
/*
 * Strangers against a stream connection and against the kernel log.
 *
 * Usage: vsock_hostile MODE   (run as root; vmsock loaded)
 *   steal  an unprivileged user connects to a root client's local port
 *          and closes: the root connection must carry data both ways.
 *   vmm    VMM contexts on /dev/vmci that are not a socket's peer send it
 *          RST and SHUTDOWN (one of them RESTRICTED): ignored. The same
 *          packets from its real peer still end a connect.
 *   retry  a connect to a VMM context times out, the same socket tries
 *          again, and the peer's RST for the first attempt comes late:
 *          the second attempt must go on, and the peer's RST for it end it.
 *   churn  an unprivileged user opens /dev/vsock, asks GET_AF_VALUE and
 *          closes, 1000 times: the kernel log grows by a few lines at most.
 *          vmsock must be loaded so that no number is held from load
 *          (prefer_af_vsock=N, or the in-tree vsock owns 40).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "tap.h"
#include "nobody.h"
#include "vsock_ctl.h"

#define CHURN_ROUNDS	1000
#define CHURN_MAX_LINES	4

/* /dev/vmci (facts section 6) and control packets (section 7), restated. */
#define IOC_VMCI_INIT_CONTEXT	1952
#define IOC_VMCI_VERSION2	1959
#define IOC_VMCI_DG_SEND	1963
#define IOC_VMCI_DG_RECEIVE	1964
#define IOC_GET_AF_VALUE	1976
#define VMCI_VERSION_NOVMVM	0x000B0000
#define CTX_FLAG_RESTRICTED	1u
#define INVALID_ID		0xffffffffu
#define PKT_RID			1u
#define PKT_RST			7
#define PKT_SHUTDOWN		8
#define PKT_REQUEST2		11
#define SHUTDOWN_ALL		3
#define VMM_PEER_PORT		7100u

#include "vsock_addr.h"

static unsigned int local_port(int fd)
{
	struct sockaddr_vm a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len))
		return 0;
	return a.svm_port;
}

/* A connected local pair: *c the client, *s the accepted end; *lfd listens. */
static int local_pair(int *lfd, int *c, int *s)
{
	struct sockaddr_vm a = vm_addr(VMADDR_CID_ANY, VMADDR_PORT_ANY);
	socklen_t len = sizeof(a);

	*c = *s = -1;
	*lfd = socket(af, SOCK_STREAM, 0);
	if (*lfd < 0 || bind(*lfd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(*lfd, (struct sockaddr *)&a, &len) || listen(*lfd, 4))
		return -1;
	a = vm_addr(local_cid, a.svm_port);
	*c = socket(af, SOCK_STREAM, 0);
	if (*c < 0 || connect(*c, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	*s = accept(*lfd, NULL, NULL);
	return *s < 0 ? -1 : 0;
}

/* One message from @from arrives whole at @to. */
static int carries(int from, int to)
{
	char out[64], in[64] = "";
	struct pollfd p = { .fd = to, .events = POLLIN };
	ssize_t n;

	snprintf(out, sizeof(out), "hello from fd %d", from);
	if (send(from, out, strlen(out), MSG_NOSIGNAL) != (ssize_t)strlen(out))
		return 0;
	if (poll(&p, 1, 2000) != 1)
		return 0;
	n = recv(to, in, sizeof(in) - 1, MSG_DONTWAIT);
	return n == (ssize_t)strlen(out) && !memcmp(in, out, n);
}

/* Nothing to read and no end of stream: recv says EAGAIN. */
static int not_at_eof(int fd)
{
	char c;

	return recv(fd, &c, 1, MSG_DONTWAIT) == -1 && errno == EAGAIN;
}

/* The three checks every victim gets. */
static void check_victim(const char *what, int c, int s)
{
	char name[96];

	snprintf(name, sizeof(name), "%s_victim_not_shut_down", what);
	tap_report(not_at_eof(c) && not_at_eof(s), name, "a read saw %s",
		   errno == EAGAIN ? "data" : strerror(errno));
	snprintf(name, sizeof(name), "%s_victim_client_to_server", what);
	tap_report(carries(c, s), name, "%s", strerror(errno));
	snprintf(name, sizeof(name), "%s_victim_server_to_client", what);
	tap_report(carries(s, c), name, "%s", strerror(errno));
}

/* --- steal: an unprivileged user on a root client's port ---------------- */

static void nobody_connects_to(unsigned int port)
{
	struct sockaddr_vm a = vm_addr(local_cid, port);
	int fd;

	if (drop_to_nobody())
		_exit(2);
	/* Closed while connecting: the release sends RST... */
	fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		_exit(3);
	connect(fd, (struct sockaddr *)&a, sizeof(a));
	close(fd);
	/* ...and a blocking attempt sends one when it gives up. */
	fd = socket(af, SOCK_STREAM, 0);
	if (fd < 0)
		_exit(3);
	connect(fd, (struct sockaddr *)&a, sizeof(a));
	close(fd);
	_exit(0);
}

static void test_steal(void)
{
	int lfd, c, s, status = -1;
	pid_t pid;

	tap_plan(5);
	tap_report(!local_pair(&lfd, &c, &s), "steal_root_pair", "%s", strerror(errno));
	pid = fork();
	if (pid == 0)
		nobody_connects_to(local_port(c));
	waitpid(pid, &status, 0);
	tap_report(WIFEXITED(status) && WEXITSTATUS(status) == 0, "steal_attacker_ran",
		   "status %#x", status);
	/* The attacker's packets are handled by a worker: let it catch up. */
	usleep(300000);
	check_victim("steal", c, s);
	close(c);
	close(s);
	close(lfd);
}

/* --- vmm: forged control packets from /dev/vmci -------------------------- */

static int vmm_open(uint32_t flags, uint32_t *cid)
{
	struct vmm_init_blk blk = { .cid = 0, .flags = flags };
	int version = VMCI_VERSION_NOVMVM;
	int fd = open("/dev/vmci", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (ioctl(fd, IOC_VMCI_VERSION2, &version) < 0 ||
	    ioctl(fd, IOC_VMCI_INIT_CONTEXT, &blk)) {
		close(fd);
		return -1;
	}
	*cid = blk.cid;
	return fd;
}

/*
 * Sends a control packet from @vfd's context: 0 once it is on its way,
 * else the VMCI error or -1000 - errno.
 */
static int vmm_send(int vfd, uint8_t type, uint32_t src_port, uint32_t dst_port, uint64_t u0)
{
	struct ctl_packet p = {
		.dst_cid = local_cid, .dst_rid = PKT_RID,
		.src_cid = INVALID_ID, .src_rid = PKT_RID,
		.payload_size = sizeof(p) - 24,
		.version = 1, .type = type,
		.src_port = src_port, .dst_port = dst_port, .u0 = u0,
	};
	struct vmm_dg_info info = { .addr = (uintptr_t)&p, .len = sizeof(p) };

	if (ioctl(vfd, IOC_VMCI_DG_SEND, &info))
		return -1000 - errno;
	/* Success is the number of bytes sent. */
	return info.result == (int)sizeof(p) ? 0 : info.result;
}

/* Waits up to 2 s for a REQUEST2 from local port @port; 0 when it came. */
static int vmm_wait_request(int vfd, unsigned int port)
{
	unsigned char buf[4096];
	struct ctl_packet p;
	int i;

	for (i = 0; i < 200; i++) {
		struct vmm_dg_info info = { .addr = (uintptr_t)buf, .len = sizeof(buf) };

		if (ioctl(vfd, IOC_VMCI_DG_RECEIVE, &info) == 0 && info.result == 0) {
			memcpy(&p, buf, sizeof(p));
			if (p.type == PKT_REQUEST2 && p.src_port == port)
				return 0;
			continue;
		}
		usleep(10000);
	}
	return -1;
}

/* A nonblocking connect to {@cid, VMM_PEER_PORT} left waiting (10 s timeout). */
static int connect_pending(unsigned int cid)
{
	struct sockaddr_vm a = vm_addr(cid, VMM_PEER_PORT);
	struct timeval tv = { .tv_sec = 10 };
	int fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, af, SO_VMCI_CONNECT_TIMEOUT, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0 || errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}

/* 0 while the connect is still pending, else its error (SO_ERROR). */
static int connect_state(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	int err = 0;

	usleep(300000);
	if (poll(&p, 1, 0) == 0)
		return 0;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
	return err ? err : -1;
}

/* Waits up to 2 s for a REQUEST2 from any port; its source port, or 0. */
static unsigned int vmm_next_request(int vfd)
{
	unsigned char buf[4096];
	struct ctl_packet p;
	int i;

	for (i = 0; i < 200; i++) {
		struct vmm_dg_info info = { .addr = (uintptr_t)buf, .len = sizeof(buf) };

		if (ioctl(vfd, IOC_VMCI_DG_RECEIVE, &info) == 0 && info.result == 0) {
			memcpy(&p, buf, sizeof(p));
			if (p.type == PKT_REQUEST2)
				return p.src_port;
			continue;
		}
		usleep(10000);
	}
	return 0;
}

static void forge_all(const int *forgers, int n, unsigned int src_port, unsigned int dst_port,
		      int *sent)
{
	int i;

	for (i = 0; i < n; i++) {
		sent[i] += vmm_send(forgers[i], PKT_SHUTDOWN, src_port, dst_port,
				    SHUTDOWN_ALL) == 0;
		sent[i] += vmm_send(forgers[i], PKT_RST, src_port, dst_port, 0) == 0;
	}
}

static void test_vmm(void)
{
	uint32_t peer_cid = 0, forger_cid = 0, restricted_cid = 0;
	int forgers[2], sent[2] = { 0, 0 };
	int peer, fd1, fd2, lfd, c, s, ret;

	/* 10 here, 3 in check_victim. */
	tap_plan(13);
	peer = vmm_open(0, &peer_cid);
	forgers[0] = vmm_open(0, &forger_cid);
	forgers[1] = vmm_open(CTX_FLAG_RESTRICTED, &restricted_cid);
	tap_report(peer >= 0 && forgers[0] >= 0 && forgers[1] >= 0, "vmm_contexts",
		   "%s", strerror(errno));
	if (peer < 0 || forgers[0] < 0 || forgers[1] < 0)
		return;

	/* Connecting sockets: the forgers claim to be the peer's port. */
	fd1 = connect_pending(peer_cid);
	ret = fd1 >= 0 ? vmm_wait_request(peer, local_port(fd1)) : -1;
	fd2 = connect_pending(peer_cid);
	if (!ret)
		ret = fd2 >= 0 ? vmm_wait_request(peer, local_port(fd2)) : -1;
	tap_report(!ret, "vmm_connects_reach_peer", "fds %d %d", fd1, fd2);
	forge_all(forgers, 2, VMM_PEER_PORT, local_port(fd1), sent);
	forge_all(forgers, 2, VMM_PEER_PORT, local_port(fd2), sent);
	ret = connect_state(fd1);
	tap_report(ret == 0, "vmm_forged_ignored_while_connecting", "connect ended: %s",
		   ret > 0 ? strerror(ret) : "?");
	ret = connect_state(fd2);
	tap_report(ret == 0, "vmm_forged_ignored_while_connecting_2", "connect ended: %s",
		   ret > 0 ? strerror(ret) : "?");

	/* The real peer's RST and SHUTDOWN still end the attempt. */
	ret = vmm_send(peer, PKT_RST, VMM_PEER_PORT, local_port(fd1), 0);
	tap_report(ret == 0, "vmm_peer_rst_sent", "VMCI result %d", ret);
	ret = connect_state(fd1);
	tap_report(ret == ECONNRESET, "vmm_peer_rst_resets_connect", "got %d (%s)", ret,
		   ret > 0 ? strerror(ret) : "still pending");
	ret = vmm_send(peer, PKT_SHUTDOWN, VMM_PEER_PORT, local_port(fd2), SHUTDOWN_ALL);
	tap_report(ret == 0, "vmm_peer_shutdown_sent", "VMCI result %d", ret);
	ret = connect_state(fd2);
	tap_report(ret == EPROTO, "vmm_peer_shutdown_ends_connect", "got %d (%s)", ret,
		   ret > 0 ? strerror(ret) : "still pending");
	close(fd1);
	close(fd2);

	/* An established local pair: forgers claim to be either end. */
	tap_report(!local_pair(&lfd, &c, &s), "vmm_local_pair", "%s", strerror(errno));
	forge_all(forgers, 2, local_port(lfd), local_port(c), sent);
	forge_all(forgers, 2, local_port(c), local_port(lfd), sent);
	/* Only the unrestricted forger must have got through for this to mean much. */
	tap_report(sent[0] == 8, "vmm_forgeries_delivered", "%d of 8 sent (restricted: %d)",
		   sent[0], sent[1]);
	usleep(300000);
	check_victim("vmm", c, s);
	close(c);
	close(s);
	close(lfd);
	close(peer);
	close(forgers[0]);
	close(forgers[1]);
}

/* --- retry: a late packet of a failed connect ---------------------------- */

/*
 * Nothing in a control packet tells one attempt from the next on the
 * same port pair, so a straggler of a failed attempt (the peer's RST for
 * an OFFER that reached it after our timeout) must not find the next one
 * there: cve_classes' connect_signal_reuse failed so on the debug kernel.
 */
static void test_retry(void)
{
	struct timeval tv = { .tv_usec = 200000 };
	struct sockaddr_vm a;
	unsigned int old_port = 0, new_port = 0;
	uint32_t peer_cid = 0;
	int peer, fd, ret;

	tap_plan(5);
	peer = vmm_open(0, &peer_cid);
	fd = socket(af, SOCK_STREAM, 0);
	tap_report(peer >= 0 && fd >= 0 &&
		   !setsockopt(fd, af, SO_VMCI_CONNECT_TIMEOUT, &tv, sizeof(tv)),
		   "retry_setup", "%s", strerror(errno));
	a = vm_addr(peer_cid, VMM_PEER_PORT);
	/* The peer does not answer: the first attempt times out. */
	ret = connect(fd, (struct sockaddr *)&a, sizeof(a)) ? errno : 0;
	old_port = peer >= 0 ? vmm_next_request(peer) : 0;
	tap_report(ret == ETIMEDOUT && old_port, "retry_first_times_out", "%s, port %u",
		   strerror(ret), old_port);
	tv.tv_sec = 10;
	tv.tv_usec = 0;
	setsockopt(fd, af, SO_VMCI_CONNECT_TIMEOUT, &tv, sizeof(tv));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	ret = connect(fd, (struct sockaddr *)&a, sizeof(a)) ? errno : 0;
	new_port = ret == EINPROGRESS && peer >= 0 ? vmm_next_request(peer) : 0;
	tap_report(new_port, "retry_second_reaches_peer", "%s, port %u", strerror(ret), new_port);
	/* The first attempt's straggler. */
	ret = vmm_send(peer, PKT_RST, VMM_PEER_PORT, old_port, 0);
	ret = ret ? -1 : connect_state(fd);
	tap_report(ret == 0, "retry_old_rst_spares_new_attempt",
		   "ports %u then %u; connect ended: %s", old_port, new_port,
		   ret > 0 ? strerror(ret) : ret ? "?" : "no");
	ret = vmm_send(peer, PKT_RST, VMM_PEER_PORT, new_port, 0);
	ret = ret ? -1 : connect_state(fd);
	tap_report(ret == ECONNRESET, "retry_new_rst_resets", "got %d (%s)", ret,
		   ret > 0 ? strerror(ret) : "still pending");
	if (fd >= 0)
		close(fd);
	if (peer >= 0)
		close(peer);
}

/* --- churn: /dev/vsock open, ask, close ---------------------------------- */

static int kmsg_open_at_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* Records logged since @fd was opened at the end; each is echoed. */
static int kmsg_count_new(int fd)
{
	char record[8192];
	int count = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	for (;;) {
		n = read(fd, record, sizeof(record) - 1);
		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		record[n] = '\0';
		if (count < 8)
			printf("    kmsg: %s", record);
		count++;
	}
	close(fd);
	return count;
}

static void churn(const char *dev)
{
	int i, fd, value;

	if (drop_to_nobody())
		_exit(2);
	for (i = 0; i < CHURN_ROUNDS; i++) {
		fd = open(dev, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "open %s: %s\n", dev, strerror(errno));
			_exit(3);
		}
		value = -1;
		if (ioctl(fd, IOC_GET_AF_VALUE, &value) || value <= 0)
			_exit(4);
		close(fd);
	}
	_exit(0);
}

static void test_churn(const char *dev)
{
	int kmsg, status = -1, lines;
	pid_t pid;

	tap_plan(3);
	/* As in real installs; the test VM's devtmpfs root is not searchable by all. */
	tap_report(chmod(dev, 0666) == 0 && chmod("/dev", 0755) == 0, "churn_dev_world_usable",
		   "%s: %s", dev, strerror(errno));
	kmsg = kmsg_open_at_end();
	pid = fork();
	if (pid == 0)
		churn(dev);
	waitpid(pid, &status, 0);
	tap_report(WIFEXITED(status) && WEXITSTATUS(status) == 0, "churn_as_nobody",
		   "status %#x", status);
	lines = kmsg_count_new(kmsg);
	tap_report(lines >= 0 && lines <= CHURN_MAX_LINES, "churn_log_bounded",
		   "%d new kernel log lines for %d rounds", lines, CHURN_ROUNDS);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	int afd = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "churn")) {
		test_churn(argc > 2 ? argv[2] : "/dev/vsock");
		return tap_exit_code();
	}
	af = VMCISock_GetAFValueFd(&afd);
	local_cid = VMCISock_GetLocalCID();
	if (af < 0 || local_cid == VMADDR_CID_ANY) {
		tap_plan(1);
		tap_report(0, "setup", "af %d cid %u", af, local_cid);
		return 1;
	}
	if (!strcmp(mode, "steal")) {
		test_steal();
	} else if (!strcmp(mode, "vmm")) {
		test_vmm();
	} else if (!strcmp(mode, "retry")) {
		test_retry();
	} else {
		tap_plan(1);
		tap_report(0, "usage", "vsock_hostile steal|vmm|retry|churn [dev]");
	}
	return tap_exit_code();
}
