// SPDX-License-Identifier: GPL-2.0
/*
 * Seeing vmsock's sockets (issue 18, "Seeing what is there"):
 *   vsock_observe check    /proc/net/vmsock lists a listener and both ends
 *                          of a connection with owner, queue pair and
 *                          bytes queued; another user sees only what ss
 *                          shows; sock_diag (what "ss --vsock" asks) lists
 *                          them with state, addresses and inode while
 *                          vmsock holds AF_VSOCK; /proc/net/vmsock_stat
 *                          counts the handshake.
 *   vsock_observe connect  one connection with data both ways, then a
 *                          connect to a port nobody has (reset), for the
 *                          tracepoint check in tests/vm/init.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/vm_sockets_diag.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "nobody.h"
#include "tap.h"

#define ANY	4294967295U
#define TCP_ESTABLISHED_STATE	1
#define TCP_LISTEN_STATE	10

#include "vsock_conn.h"

static unsigned int local_port(int fd)
{
	struct sockaddr_vm a;
	socklen_t len = sizeof(a);

	return getsockname(fd, (struct sockaddr *)&a, &len) ? 0 : a.svm_port;
}

static unsigned long inode_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/* One parsed line of /proc/net/vmsock; text fields as printed. */
struct proc_line {
	char type[16], state[16];
	unsigned int lcid, lport, pcid, pport;
	char rx[24], tx[24], size[24], uid[24], qp[32];
	unsigned long inode;
};

/* The line whose inode is @ino; 1 if found. */
static int proc_find(unsigned long ino, struct proc_line *out)
{
	FILE *f = fopen("/proc/net/vmsock", "r");
	struct proc_line l;
	int c, found = 0;

	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF && c != '\n')
		;
	while (fscanf(f, "%15s %15s %u %u %u %u %23s %23s %23s %23s %31s %lu",
		      l.type, l.state, &l.lcid, &l.lport, &l.pcid, &l.pport, l.rx, l.tx,
		      l.size, l.uid, l.qp, &l.inode) == 12) {
		if (l.inode == ino) {
			*out = l;
			found = 1;
		}
	}
	fclose(f);
	return found;
}

static long long proc_stat(const char *name)
{
	FILE *f = fopen("/proc/net/vmsock_stat", "r");
	long long value, found = -1;
	char key[64];

	if (!f)
		return -1;
	while (fscanf(f, "%63s %lld", key, &value) == 2)
		if (!strcmp(key, name))
			found = value;
	fclose(f);
	return found;
}

struct diag_seen {
	int found;
	struct vsock_diag_msg msg;
};

/* Asks sock_diag for every AF_VSOCK socket; fills @seen[i] for inode @ino[i]. */
static int diag_dump(const unsigned long *ino, struct diag_seen *seen, int n)
{
	struct {
		struct nlmsghdr nlh;
		struct vsock_diag_req req;
	} q;
	char buf[16384];
	int fd, i, done = 0, total = 0;
	ssize_t len;

	fd = socket(AF_NETLINK, SOCK_DGRAM, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -1;
	memset(&q, 0, sizeof(q));
	q.nlh.nlmsg_len = sizeof(q);
	q.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	q.req.sdiag_family = AF_VSOCK;
	q.req.vdiag_states = ~0U;
	if (send(fd, &q, sizeof(q), 0) != sizeof(q)) {
		close(fd);
		return -1;
	}
	while (!done && (len = recv(fd, buf, sizeof(buf), 0)) > 0) {
		struct nlmsghdr *h;

		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			const struct vsock_diag_msg *m = NLMSG_DATA(h);

			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = h->nlmsg_type == NLMSG_DONE ? 1 : -1;
				break;
			}
			total++;
			for (i = 0; i < n; i++)
				if (m->vdiag_ino == ino[i]) {
					seen[i].found = 1;
					seen[i].msg = *m;
				}
		}
	}
	close(fd);
	return done == 1 ? total : -1;
}

static int af_is_40(void)
{
	return af == 40;
}

static void check_diag(int lfd, unsigned int lport, int cfd, int afd)
{
	unsigned long ino[3] = { inode_of(lfd), inode_of(cfd), inode_of(afd) };
	struct diag_seen seen[3];
	int total;

	if (!af_is_40()) {
		tap_skip("diag_dump", "vmsock does not hold AF_VSOCK; ss asks for 40");
		tap_skip("diag_listener", "vmsock does not hold AF_VSOCK");
		tap_skip("diag_client", "vmsock does not hold AF_VSOCK");
		tap_skip("diag_accepted", "vmsock does not hold AF_VSOCK");
		return;
	}
	memset(seen, 0, sizeof(seen));
	total = diag_dump(ino, seen, 3);
	tap_report(total >= 3, "diag_dump", "dump gave %d sockets (errno %s)", total,
		   strerror(errno));
	tap_report(seen[0].found && seen[0].msg.vdiag_state == TCP_LISTEN_STATE &&
		   seen[0].msg.vdiag_type == SOCK_STREAM && seen[0].msg.vdiag_src_port == lport &&
		   seen[0].msg.vdiag_src_cid == ANY && seen[0].msg.vdiag_family == AF_VSOCK,
		   "diag_listener", "found %d state %u port %u cid %u", seen[0].found,
		   seen[0].msg.vdiag_state, seen[0].msg.vdiag_src_port, seen[0].msg.vdiag_src_cid);
	tap_report(seen[1].found && seen[1].msg.vdiag_state == TCP_ESTABLISHED_STATE &&
		   seen[1].msg.vdiag_dst_port == lport && seen[1].msg.vdiag_dst_cid == local_cid &&
		   seen[1].msg.vdiag_src_port == local_port(cfd),
		   "diag_client", "found %d state %u dst %u:%u src port %u", seen[1].found,
		   seen[1].msg.vdiag_state, seen[1].msg.vdiag_dst_cid, seen[1].msg.vdiag_dst_port,
		   seen[1].msg.vdiag_src_port);
	tap_report(seen[2].found && seen[2].msg.vdiag_state == TCP_ESTABLISHED_STATE &&
		   seen[2].msg.vdiag_src_port == lport &&
		   seen[2].msg.vdiag_dst_port == local_port(cfd),
		   "diag_accepted", "found %d state %u src port %u dst port %u", seen[2].found,
		   seen[2].msg.vdiag_state, seen[2].msg.vdiag_src_port, seen[2].msg.vdiag_dst_port);
}

/*
 * As nobody: root's sockets show their addresses but no owner, queues or
 * queue pair; nobody's own socket shows its owner. Exit status: a bit per
 * failed check (1: root's line missing, 2: root's details visible, 4:
 * own line wrong, 8: setup).
 */
static int nobody_view(unsigned long root_ino, unsigned int root_port)
{
	struct proc_line l;
	unsigned int port;
	int status = 0, fd;
	char want[16];

	if (drop_to_nobody())
		return 8;
	if (!proc_find(root_ino, &l) || l.lport != root_port)
		status |= 1;
	else if (strcmp(l.uid, "-") || strcmp(l.rx, "-") || strcmp(l.tx, "-") ||
		 strcmp(l.qp, "-"))
		status |= 2;
	fd = listener(&port, 4);
	snprintf(want, sizeof(want), "%d", NOBODY);
	if (fd < 0 || !proc_find(inode_of(fd), &l) || strcmp(l.uid, want))
		status |= 4;
	return status;
}

static int run_check(void)
{
	unsigned int lport;
	int lfd, cfd, afd, status;
	long long req_before, est_before, local_before;
	char data[1000];
	struct proc_line l;
	pid_t child;

	tap_plan(14);
	req_before = proc_stat("ctl_sent_request2");
	est_before = proc_stat("stream_established");
	local_before = proc_stat("stream_local_connects");
	lfd = listener(&lport, 4);
	cfd = lfd < 0 ? -1 : connect_to(lport);
	afd = cfd < 0 ? -1 : accept(lfd, NULL, NULL);
	tap_report(afd >= 0, "setup_connection", "listener %d client %d accepted %d: %s",
		   lfd, cfd, afd, strerror(errno));
	if (afd < 0)
		return 1;
	/* 1000 bytes the accepted end has not read yet. */
	memset(data, 'v', sizeof(data));
	tap_report(write(cfd, data, sizeof(data)) == sizeof(data), "setup_write", "%s",
		   strerror(errno));
	usleep(100000);

	tap_report(proc_find(inode_of(lfd), &l) && !strcmp(l.type, "stream") &&
		   !strcmp(l.state, "LISTEN") && l.lport == lport && !strcmp(l.uid, "0"),
		   "proc_listener", "listener line missing or wrong (state %s port %u uid %s)",
		   l.state, l.lport, l.uid);
	memset(&l, 0, sizeof(l));
	tap_report(proc_find(inode_of(afd), &l) && !strcmp(l.state, "ESTABLISHED") &&
		   !strcmp(l.rx, "1000") && strcmp(l.qp, "-") && l.pport == local_port(cfd),
		   "proc_accepted_queued", "state %s rx %s qp %s peer port %u", l.state, l.rx,
		   l.qp, l.pport);
	memset(&l, 0, sizeof(l));
	tap_report(proc_find(inode_of(cfd), &l) && !strcmp(l.state, "ESTABLISHED") &&
		   !strcmp(l.tx, "1000") && l.pport == lport && l.pcid == local_cid,
		   "proc_client_queued", "state %s tx %s peer %u:%u", l.state, l.tx, l.pcid,
		   l.pport);
	/* A local connect is made without packets unless the module is told not to. */
	tap_report(proc_stat("ctl_sent_request2") + proc_stat("stream_local_connects") >
		   req_before + local_before &&
		   proc_stat("stream_established") >= est_before + 2, "stat_counts_handshake",
		   "request2 %lld -> %lld, local connects %lld -> %lld, established %lld -> %lld",
		   req_before, proc_stat("ctl_sent_request2"), local_before,
		   proc_stat("stream_local_connects"), est_before, proc_stat("stream_established"));

	child = fork();
	if (child == 0)
		_exit(nobody_view(inode_of(afd), lport));
	status = -1;
	if (child > 0)
		waitpid(child, &status, 0);
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 16;
	tap_report(!(status & (8 | 16)), "nobody_setup", "status %d", status);
	tap_report(!(status & 1), "nobody_sees_addresses", "root's socket not listed");
	tap_report(!(status & 2), "nobody_no_details", "root's owner or queues shown");
	tap_report(!(status & 4), "nobody_sees_own", "own socket wrong");

	check_diag(lfd, lport, cfd, afd);
	close(cfd);
	close(afd);
	close(lfd);
	return tap_failures ? 1 : 0;
}

/* For the trace: echo 100 bytes over one connection, then a refused connect. */
static int run_connect(void)
{
	unsigned int lport;
	int lfd, cfd, afd, dead;
	char buf[100];

	lfd = listener(&lport, 4);
	cfd = lfd < 0 ? -1 : connect_to(lport);
	afd = cfd < 0 ? -1 : accept(lfd, NULL, NULL);
	if (afd < 0) {
		perror("connect");
		return 1;
	}
	memset(buf, 't', sizeof(buf));
	if (write(cfd, buf, sizeof(buf)) != sizeof(buf) ||
	    read(afd, buf, sizeof(buf)) != sizeof(buf) ||
	    write(afd, buf, sizeof(buf)) != sizeof(buf) ||
	    read(cfd, buf, sizeof(buf)) != sizeof(buf)) {
		perror("data");
		return 1;
	}
	close(cfd);
	close(afd);
	close(lfd);
	/* The listener's port is free now: the peer answers RST. */
	dead = connect_to(lport);
	printf("connection on port %u closed; connect to it again: %s\n", lport,
	       dead < 0 ? strerror(errno) : "connected?");
	return dead < 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	int afd = -1;

	af = VMCISock_GetAFValueFd(&afd);
	local_cid = VMCISock_GetLocalCID();
	if (argc != 2 || af < 0) {
		fprintf(stderr, "usage: vsock_observe check|connect (af %d)\n", af);
		return 2;
	}
	if (!strcmp(argv[1], "connect"))
		return run_connect();
	return run_check();
}
