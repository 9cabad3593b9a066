// SPDX-License-Identifier: GPL-2.0
/*
 * vmsock's local connect (vsock/stream_local.c): a blocking connect() to
 * a listener in this kernel is made by connect() itself, without control
 * packets, and behaves as the packet handshake does; the module parameter
 * stream_local_connect=0 brings the packets back.
 *
 * - on: connects count in stream_local_connects and send no REQUEST2 or
 *   OFFER; data goes both ways; either end's close is the other's EOF;
 * - off: the same connects send REQUEST2, and work the same;
 * - a non-blocking connect still says EINPROGRESS;
 * - a listener whose backlog is full refuses the same number of connects
 *   with the same errno either way;
 * - stale packets: a SHUTDOWN an earlier connection on the same port pair
 *   sent, still waiting for the control worker when the port is bound
 *   and connected again, must not shut the new connection down (the
 *   reason stream_local.c counts queued packets per port pair). Both
 *   directions, ROUNDS rounds each; the rounds that raced are printed.
 *
 * Usage: vsock_local_connect   (as root, vmsock loaded, nothing else
 * making stream connections meanwhile)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"
#include "vsock_conn.h"

#define PARAM	"/sys/module/vmsock/parameters/stream_local_connect"
#define CONNS	20
#define ROUNDS	300
#define BIG	(64 * 1024)

#include "vmsock_switch.h"

/* Reads exactly @n bytes; 0 when they all came. */
static int read_full(int fd, char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, buf + got, n - got);
		if (r <= 0)
			return -1;
		got += r;
	}
	return 0;
}

/*
 * One connection through @lfd: a byte each way, BIG bytes from the client,
 * then the end @close_client names closes and the other must read EOF.
 * 0 when all of it held.
 */
static int one_conn(int lfd, unsigned int port, int close_client, const char **why)
{
	static char out[BIG], in[BIG];
	int c, s, ret = -1;
	char x = 'q', y = 0;

	*why = "connect/accept";
	if (accept_pair(lfd, connect_to(port), &c, &s))
		return -1;
	*why = "byte each way";
	if (write(c, &x, 1) != 1 || read(s, &y, 1) != 1 || y != x ||
	    write(s, &x, 1) != 1 || read(c, &y, 1) != 1 || y != x)
		goto out;
	*why = "64 KiB";
	memset(out, 'b', sizeof(out));
	if (write(c, out, sizeof(out)) != (ssize_t)sizeof(out) || read_full(s, in, sizeof(in)) ||
	    memcmp(in, out, sizeof(in)))
		goto out;
	*why = "EOF after close";
	if (close_client) {
		close(c);
		c = -1;
		ret = read(s, &y, 1) == 0 ? 0 : -1;
	} else {
		close(s);
		s = -1;
		ret = read(c, &y, 1) == 0 ? 0 : -1;
	}
out:
	if (c >= 0)
		close(c);
	if (s >= 0)
		close(s);
	return ret;
}

struct counts {
	long local, request2, offer;
};

static void counts_read(struct counts *c)
{
	c->local = vmsock_stat("stream_local_connects");
	c->request2 = vmsock_stat("ctl_sent_request2");
	c->offer = vmsock_stat("ctl_sent_offer");
}

/* CONNS connections on one listener; fills *d with what the counters did. */
static int run_conns(struct counts *d, const char **why)
{
	struct counts before, after;
	unsigned int port;
	int lfd = listener(&port, 8), i, ret = 0;

	*why = "listener";
	if (lfd < 0)
		return -1;
	counts_read(&before);
	for (i = 0; i < CONNS && !ret; i++)
		ret = one_conn(lfd, port, i & 1, why);
	counts_read(&after);
	close(lfd);
	d->local = after.local - before.local;
	d->request2 = after.request2 - before.request2;
	d->offer = after.offer - before.offer;
	return ret;
}

/* Connects, never accepted, until one fails: how many got in, and the errno. */
static int fill_backlog(int *refused_errno)
{
	int fds[64], n = 0, i, fd;
	unsigned int port;
	int lfd = listener(&port, 2);

	*refused_errno = 0;
	if (lfd < 0)
		return -1;
	while (n < (int)(sizeof(fds) / sizeof(fds[0]))) {
		fd = connect_to(port);
		if (fd < 0) {
			*refused_errno = errno;
			break;
		}
		fds[n++] = fd;
	}
	for (i = 0; i < n; i++)
		close(fds[i]);
	close(lfd);
	return n;
}

/* A client bound to @port before connecting to @lport; -1 on any failure. */
static int connect_from(unsigned int port, unsigned int lport)
{
	struct sockaddr_vm from = vm_addr(VMADDR_CID_ANY, port);
	struct sockaddr_vm to = vm_addr(local_cid, lport);
	int fd = socket(af, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&from, sizeof(from)) ||
	    connect(fd, (struct sockaddr *)&to, sizeof(to))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* One stale_rounds() result as a check named @name. */
static void report_stale(const char *name, int bad, const char *why)
{
	if (bad < 0)
		tap_report(0, name, "setup failed at %s", why);
	else
		tap_report(!bad, name, "%d rounds: the new connection saw the old SHUTDOWN", bad);
}

/* Whether @fd shows EOF or hang-up within 20 ms (it must not). */
static int shows_eof(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };

	return poll(&p, 1, 20) > 0;
}

/*
 * ROUNDS rounds on one port pair: connect, shut down one side's writing
 * (@client_shuts: the client's, else the accepted end's), close both at
 * once, bind the same client port again and connect; the new connection
 * must not see EOF. Returns the rounds that did; *connect_fail counts
 * second connects refused (the old SHUTDOWN's RST may reset a connect that
 * took the packet path, as before this change), *direct the second
 * connects made without packets.
 */
static int stale_rounds(int client_shuts, int *connect_fail, long *direct, const char **why)
{
	unsigned int lport, port = 0;
	int lfd = listener(&lport, 8), r, bad = 0, c, s;
	struct sockaddr_vm me;
	socklen_t len = sizeof(me);
	long before;

	*connect_fail = 0;
	*direct = 0;
	*why = "listener";
	if (lfd < 0)
		return -1;
	for (r = 0; r < ROUNDS; r++) {
		/* The first client picks the port; every later one reuses it. */
		c = port ? connect_from(port, lport) : connect_to(lport);
		if (c < 0 && port) {
			(*connect_fail)++;
			continue;
		}
		*why = "first connect";
		if (accept_pair(lfd, c, &c, &s))
			goto fail;
		if (!port) {
			if (getsockname(c, (struct sockaddr *)&me, &len))
				goto fail;
			port = me.svm_port;
		}
		shutdown(client_shuts ? c : s, SHUT_WR);
		close(s);
		close(c);
		before = vmsock_stat("stream_local_connects");
		c = connect_from(port, lport);
		if (c < 0) {
			(*connect_fail)++;
			continue;
		}
		*direct += vmsock_stat("stream_local_connects") - before;
		s = accept(lfd, NULL, NULL);
		*why = "second accept";
		if (s < 0) {
			close(c);
			goto fail;
		}
		bad += shows_eof(client_shuts ? s : c);
		close(s);
		close(c);
	}
	close(lfd);
	return bad;
fail:
	close(lfd);
	return -1;
}

int main(void)
{
	int afd = -1, ret, n_on, n_off, e_on, e_off, fails;
	struct counts d;
	const char *why;
	long direct;
	int fd, bad;

	tap_plan(16);
	signal(SIGPIPE, SIG_IGN);
	af = VMCISock_GetAFValueFd(&afd);
	local_cid = VMCISock_GetLocalCID();
	tap_report(af >= 0 && local_cid != (unsigned int)-1, "setup_family", "af %d cid %u", af,
		   local_cid);
	tap_report(vmsock_stat("stream_local_connects") >= 0 &&
		   vmsock_stat("ctl_sent_request2") >= 0, "setup_stat",
		   "no stream_local_connects or ctl_sent_request2 in %s", STAT);
	tap_report(param_read() == 'Y', "default_on", "%s reads %c", PARAM, param_read());

	ret = run_conns(&d, &why);
	tap_report(!ret, "on_conns_work", "failed at %s", why);
	tap_report(d.local == CONNS && d.request2 == 0 && d.offer == 0, "on_no_packets",
		   "%ld local connects, %ld REQUEST2, %ld OFFER for %d connections", d.local,
		   d.request2, d.offer, CONNS);

	/* Non-blocking: the answer programs expect, the connection all the same. */
	{
		unsigned int port;
		int lfd = listener(&port, 2), err = 0, s = -1;
		struct sockaddr_vm to = vm_addr(local_cid, port);
		struct pollfd p;
		socklen_t len = sizeof(err);

		fd = socket(af, SOCK_STREAM, 0);
		fcntl(fd, F_SETFL, O_NONBLOCK);
		ret = connect(fd, (struct sockaddr *)&to, sizeof(to));
		tap_report(lfd >= 0 && ret == -1 && errno == EINPROGRESS, "nonblock_inprogress",
			   "connect returned %d (%s)", ret, strerror(errno));
		p.fd = fd;
		p.events = POLLOUT;
		ret = poll(&p, 1, 5000);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (ret == 1)
			s = accept(lfd, NULL, NULL);
		tap_report(ret == 1 && err == 0 && s >= 0, "nonblock_connects",
			   "poll %d, SO_ERROR %d, accept %d", ret, err, s);
		if (s >= 0)
			close(s);
		close(fd);
		close(lfd);
	}

	n_on = fill_backlog(&e_on);
	/* The other end of the comparison, with packets, comes below. */

	bad = stale_rounds(1, &fails, &direct, &why);
	printf("# client's SHUTDOWN: %d of %d second connects refused, %ld made directly\n",
	       fails, ROUNDS, direct);
	report_stale("stale_client_shutdown", bad, why);
	tap_report(direct > 0, "stale_rounds_some_direct",
		   "no second connect was made directly: the rounds tested nothing");
	bad = stale_rounds(0, &fails, &direct, &why);
	printf("# server's SHUTDOWN: %d of %d second connects refused, %ld made directly\n",
	       fails, ROUNDS, direct);
	report_stale("stale_server_shutdown", bad, why);

	tap_report(!param_write("0") && param_read() == 'N', "switch_off", "%s",
		   strerror(errno));
	ret = run_conns(&d, &why);
	tap_report(!ret, "off_conns_work", "failed at %s", why);
	tap_report(d.local == 0 && d.request2 >= CONNS, "off_sends_request2",
		   "%ld local connects, %ld REQUEST2 for %d connections", d.local, d.request2,
		   CONNS);
	n_off = fill_backlog(&e_off);
	tap_report(n_on > 0 && n_on == n_off && e_on == e_off && e_on != 0, "backlog_refusal_same",
		   "local: %d in, then %s; packets: %d in, then %s", n_on, strerror(e_on), n_off,
		   strerror(e_off));
	tap_report(!param_write("1") && param_read() == 'Y', "switch_back_on", "%s",
		   strerror(errno));
	ret = run_conns(&d, &why);
	tap_report(!ret && d.local == CONNS, "on_again", "failed at %s, %ld local connects",
		   ret ? why : "-", d.local);
	if (afd >= 0)
		VMCISock_ReleaseAFValueFd(afd);
	return tap_exit_code();
}
