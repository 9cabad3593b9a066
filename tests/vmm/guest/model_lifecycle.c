// SPDX-License-Identifier: GPL-2.0
/*
 * In the model VM: how the in-tree vSockets stack sees the ends of a
 * stream to the host context, against tests/vmm/host/stream_lifecycle.py
 * (each connection first names what the host program does with it) and
 * the device's control commands.
 *
 *  host close       QP_PEER_DETACH: read gives EOF, a write EPIPE at once
 *  host shutdown    SHUTDOWN {SEND}: read gives EOF, writes still arrive
 *  guest close      the host program sees the bytes, then EOF
 *  qpdetach         the device detaches the host end of a live stream
 *  junk qhead       garbage queue offsets: reads and writes fail, no hang
 *  cid NEW          the connection ends; new ones work with the new CID
 *
 * Usage: model_lifecycle PORT CONTROL_PORT NEW_CID
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <fcntl.h>
#include <sys/ioctl.h>

#include "model_net.h"

static unsigned int port, ctl;

/* A connection whose host end was told MODE ("close", "shut", ...). */
static int open_mode(const char *mode)
{
	char line[16];
	int s = model_connect(port);

	snprintf(line, sizeof(line), "%s\n", mode);
	if (s >= 0 && model_write_all(s, line, strlen(line))) {
		close(s);
		return -1;
	}
	return s;
}

/* One echo round trip proves the connection is live. */
static int echo_ok(int s)
{
	char buf[8];

	return !model_write_all(s, "ping", 4) && model_read(s, buf, 4, 20) == 4 &&
	       !memcmp(buf, "ping", 4);
}

/* After the host end left: EOF, and the very next write is EPIPE. */
static void expect_detached(int s, const char *prefix)
{
	char buf[16], name[64];
	ssize_t r;

	r = model_read(s, buf, sizeof(buf), 20);
	snprintf(name, sizeof(name), "%s_read_eof", prefix);
	tap_report(r == 0, name, "read %zd (%s)", r, strerror(errno));
	r = send(s, "x", 1, MSG_NOSIGNAL);
	snprintf(name, sizeof(name), "%s_write_epipe", prefix);
	CHECK_ERRNO(name, r, EPIPE);
}

static void host_close(void)
{
	int s = open_mode("close");

	tap_report(s >= 0, "host_close_connect", "%s", strerror(errno));
	if (s < 0)
		return;
	expect_detached(s, "host_close");
	close(s);
}

static void host_shutdown(void)
{
	char buf[16];
	ssize_t r;
	int s = open_mode("shut");

	tap_report(s >= 0, "host_shutdown_connect", "%s", strerror(errno));
	if (s < 0)
		return;
	r = model_read(s, buf, sizeof(buf), 20);
	tap_report(r == 0, "host_shutdown_read_eof", "read %zd (%s)", r, strerror(errno));
	/* Only the host's sending side is shut: ours still carries data. */
	tap_report(!model_write_all(s, "after-shutdown", 14), "host_shutdown_write_ok",
		   "%s", strerror(errno));
	shutdown(s, SHUT_WR);
	r = model_read(s, buf, sizeof(buf), 20);
	tap_report(r == 0, "host_shutdown_then_guest_shutdown", "read %zd (%s)", r,
		   strerror(errno));
	close(s);
}

static void guest_close(void)
{
	static char data[1000];
	int s = open_mode("hold");

	memset(data, 'g', sizeof(data));
	tap_report(s >= 0 && !model_write_all(s, data, sizeof(data)), "guest_close_write",
		   "%s", strerror(errno));
	if (s >= 0)
		close(s);
	/* The host program reports what it saw (RESULT lines). */
}

static void qpdetach(void)
{
	char cmd[48];
	int s = open_mode("echo");

	tap_report(s >= 0 && echo_ok(s), "qpdetach_live", "%s", strerror(errno));
	if (s < 0)
		return;
	snprintf(cmd, sizeof(cmd), "qpdetach %u %u", model_local_port(s), port);
	tap_report(!model_control(ctl, cmd), "qpdetach_accepted", "device said no");
	expect_detached(s, "qpdetach");
	close(s);
}

static void garbage_offsets(void)
{
	char cmd[48], buf[64];
	ssize_t r;
	int s = open_mode("echo"), err;

	tap_report(s >= 0 && echo_ok(s), "qhead_live", "%s", strerror(errno));
	if (s < 0)
		return;
	snprintf(cmd, sizeof(cmd), "junk qhead %u %u", model_local_port(s), port);
	tap_report(!model_control(ctl, cmd), "qhead_accepted", "device said no");
	/* Either an error or EOF is fine; hanging or data is not. */
	r = model_read(s, buf, sizeof(buf), 20);
	err = errno;
	printf("# garbage offsets: read %zd (%s)\n", r, r < 0 ? strerror(err) : "");
	tap_report(r == 0 || (r < 0 && err != EINTR), "qhead_read_fails",
		   "read %zd (%s)", r, strerror(err));
	alarm(20);
	r = send(s, "x", 1, MSG_NOSIGNAL);
	err = errno;
	alarm(0);
	printf("# garbage offsets: write %zd (%s)\n", r, r < 0 ? strerror(err) : "");
	tap_report(r < 0 && err != EINTR, "qhead_write_fails", "write %zd (%s)", r,
		   strerror(err));
	close(s);
}

static unsigned int local_cid(void)
{
	unsigned int cid = ~0u;
	int fd = open("/dev/vsock", O_RDONLY);

	if (fd >= 0) {
		ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid);
		close(fd);
	}
	return cid;
}

static void cid_change(unsigned int new_cid)
{
	char cmd[32], buf[16];
	ssize_t r;
	int s = open_mode("echo"), i, err;

	tap_report(s >= 0 && echo_ok(s), "cid_change_live", "%s", strerror(errno));
	if (s < 0)
		return;
	snprintf(cmd, sizeof(cmd), "cid %u", new_cid);
	tap_report(!model_control(ctl, cmd), "cid_change_accepted", "device said no");
	r = model_read(s, buf, sizeof(buf), 20);
	err = errno;
	tap_report(r == 0 || (r < 0 && err == ECONNRESET), "cid_change_resets",
		   "read %zd (%s)", r, strerror(err));
	close(s);
	for (i = 0; i < 100 && local_cid() != new_cid; i++)
		usleep(50000);
	CHECK_EQ("cid_change_new_cid", local_cid(), new_cid);
	s = open_mode("echo");
	tap_report(s >= 0 && echo_ok(s), "cid_change_new_connection", "%s",
		   strerror(errno));
	if (s >= 0)
		close(s);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		printf("usage: model_lifecycle PORT CONTROL_PORT NEW_CID\n");
		return 2;
	}
	/*
	 * host_close 3, host_shutdown 4, guest_close 1, qpdetach 4,
	 * garbage_offsets 4, cid_change 5.
	 */
	tap_plan(21);
	port = strtoul(argv[1], NULL, 0);
	ctl = strtoul(argv[2], NULL, 0);
	model_timeouts();
	host_close();
	host_shutdown();
	guest_close();
	qpdetach();
	garbage_offsets();
	cid_change(strtoul(argv[3], NULL, 0));
	return tap_exit_code();
}
