// SPDX-License-Identifier: GPL-2.0
/*
 * In a guest-model VM: streams to the hypervisor (CID 0) the way VMware
 * Tools open them, against the device's hypervisor endpoints
 * (tests/vmm/host/tools_host.py). Written with vmci_sockets.h, as a
 * classic vSockets program is.
 *
 * - Guest RPC channel (port 976) from a privileged local port, counting
 *   down from 1023 as vmtoolsd does: info-set then info-get, a missing
 *   key, a value larger than a page each way, a trailing NUL, FAST_CLOSE,
 *   and the host's view of the caller (privileged).
 * - A user without CAP_NET_BIND_SERVICE: the privileged bind is refused
 *   here in the guest (EACCES), the connection from an ordinary port
 *   works and the host sees it as unprivileged (the facts give the host
 *   no rule that refuses it).
 * - Command channel (port 975), non-blocking connect and 64 KiB socket
 *   buffers as vmtoolsd sets them; the host speaks first: reset, ping and
 *   an unknown command are answered as the daemon answers them, and the
 *   host's verdict is read back over the RPC channel.
 * - No endpoint on another hypervisor port: the connection is reset.
 *
 * Usage: model_tools [blocking-tclo]
 *
 * blocking-tclo connects the command channel with a blocking connect, for
 * Linux's in-tree stack (the model VMs). That stack hands each control
 * packet to its own work item on the system workqueue: when another task
 * holds the socket lock, as a poll() of the connecting socket does, the
 * host's WROTE (sent with its first command, right behind ATTACH) can be
 * handled before the ATTACH, and the in-tree client then fails the
 * connect with EPROTO. A blocking connect leaves nobody to take the lock
 * in that window. Our vmsock handles WROTE without looking at the
 * connection state, so the guest-model VMs keep vmtoolsd's non-blocking
 * sequence.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "../../../include/uapi/vmci_sockets.h"
#include "../../user/nobody.h"
#include "model_net.h"

#define RPCI_PORT	976
#define TCLO_PORT	975
#define F_TYPE		1
#define F_PAYLOAD	2
#define F_FAST_CLOSE	3
#define KIND_DATA	1
#define MAX_REPLY	(1u << 20)
#define BIG_VALUE	(48 * 1024)

static int af;
/* Ours, asked while we may still open /dev/vsock (the child may not). */
static unsigned int local_cid;

static uint8_t *put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
	return p + 4;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* An integer entry: two big-endian words, low word first. */
static uint8_t *put_int(uint8_t *p, uint32_t field, uint32_t value)
{
	p = put_be32(p, 1);
	p = put_be32(p, field);
	p = put_be32(p, value);
	return put_be32(p, 0);
}

/* Sends one data packet carrying LEN bytes of TEXT; 0 or -1. */
static int send_packet(int s, const char *text, size_t len, int fast_close)
{
	size_t cap = len + 64;
	uint8_t *buf = malloc(cap), *p;
	int ret;

	if (!buf)
		return -1;
	p = put_int(buf + 4, F_TYPE, KIND_DATA);
	p = put_be32(p, 2);
	p = put_be32(p, F_PAYLOAD);
	p = put_be32(p, len);
	memcpy(p, text, len);
	p += len;
	if (fast_close)
		p = put_int(p, F_FAST_CLOSE, 1);
	put_be32(buf, p - buf - 4);
	ret = model_write_all(s, buf, p - buf);
	free(buf);
	return ret;
}

static int read_all(int s, void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t r;

	while (len) {
		r = model_read(s, p, len, 20);
		if (r <= 0)
			return -1;
		p += r;
		len -= r;
	}
	return 0;
}

/*
 * Reads one packet; returns its PAYLOAD as a C string (malloc'd; "" when
 * absent), or NULL on EOF, timeout or a malformed packet.
 */
static char *read_packet(int s)
{
	uint8_t hdr[4], *body;
	char *text = NULL;
	uint32_t n, off = 0, type, field, len;

	if (read_all(s, hdr, 4) || get_be32(hdr) > MAX_REPLY)
		return NULL;
	n = get_be32(hdr);
	body = malloc(n + 1);
	if (!body || read_all(s, body, n))
		goto bad;
	while (n - off >= 8) {
		type = get_be32(body + off);
		field = get_be32(body + off + 4);
		off += 8;
		if (type == 1 && n - off >= 8) {
			off += 8;
		} else if (type == 2 && n - off >= 4 && get_be32(body + off) <= n - off - 4) {
			len = get_be32(body + off);
			if (field == F_PAYLOAD && !text) {
				text = malloc(len + 1);
				if (!text)
					goto bad;
				memcpy(text, body + off + 4, len);
				text[len] = 0;
			}
			off += 4 + len;
		} else {
			goto bad;
		}
	}
	if (off != n)
		goto bad;
	free(body);
	return text ? text : strdup("");
bad:
	free(body);
	free(text);
	return NULL;
}

/* One RPC; the reply's payload (malloc'd) or NULL. */
static char *rpc(int s, const char *command)
{
	if (send_packet(s, command, strlen(command), 0))
		return NULL;
	return read_packet(s);
}

/* Checks that the reply to COMMAND is WANT. */
static void check_rpc(const char *name, int s, const char *command, const char *want)
{
	char *got = rpc(s, command);

	tap_report(got && !strcmp(got, want), name, "\"%s\" answered \"%.60s\", want \"%.60s\"",
		   command, got ? got : "(nothing)", want);
	free(got);
}

static int hv_connect(int s, unsigned int port)
{
	struct sockaddr_vm to = {
		.svm_family = af, .svm_cid = VMADDR_CID_HYPERVISOR, .svm_port = port,
	};

	return connect(s, (struct sockaddr *)&to, sizeof(to));
}

static int bind_port(int s, unsigned int port)
{
	struct sockaddr_vm me = {
		.svm_family = af, .svm_cid = VMADDR_CID_ANY, .svm_port = port,
	};

	return bind(s, (struct sockaddr *)&me, sizeof(me));
}

/* vmtoolsd's search: 1023 down, the next port while one is in use. */
static int bind_privileged(int s, unsigned int *port)
{
	for (*port = 1023; *port >= 512; (*port)--) {
		if (!bind_port(s, *port))
			return 0;
		if (errno != EADDRINUSE)
			return -1;
	}
	return -1;
}

static void check_channel(const char *name, int s, const char *kind)
{
	char want[80];

	snprintf(want, sizeof(want), "1 %u %u %s", local_cid,
		 model_local_port(s), kind);
	check_rpc(name, s, "info-get guestinfo.vmm.channel", want);
}

static void rpci_privileged(void)
{
	static char cmd[BIG_VALUE + 64], want[BIG_VALUE + 8];
	unsigned int port = 0;
	int s = socket(af, SOCK_STREAM, 0), i;
	char *got;

	tap_report(s >= 0 && !bind_privileged(s, &port), "bind_privileged_port", "%s",
		   strerror(errno));
	tap_report(!hv_connect(s, RPCI_PORT), "connect_hypervisor_rpci", "%s", strerror(errno));
	tap_check_int("local_port_kept", model_local_port(s), port);
	check_rpc("info_set", s, "info-set guestinfo.model.greeting hello there", "1 ");
	check_rpc("info_get", s, "info-get guestinfo.model.greeting", "1 hello there");
	check_rpc("info_get_missing", s, "info-get guestinfo.model.absent", "0 No value found");
	check_channel("host_sees_privileged", s, "privileged");
	/* A trailing NUL is the C string's, not part of the key. */
	got = send_packet(s, "info-get guestinfo.model.greeting", 34, 0) ? NULL : read_packet(s);
	tap_report(got && !strcmp(got, "1 hello there"), "trailing_nul_stripped", "got \"%s\"",
		   got ? got : "(nothing)");
	free(got);
	/* More than a page each way, and a pattern that shows any reordering. */
	i = snprintf(cmd, sizeof(cmd), "info-set guestinfo.model.big ");
	for (int j = 0; j < BIG_VALUE; j++)
		cmd[i + j] = 'a' + (j * 7 + j / 4096) % 26;
	cmd[i + BIG_VALUE] = 0;
	check_rpc("large_value_set", s, cmd, "1 ");
	snprintf(want, sizeof(want), "1 %s", cmd + i);
	check_rpc("large_value_get", s, "info-get guestinfo.model.big", want);
	check_rpc("reserved_key_refused", s, "info-set guestinfo.vmm.channel x",
		  "0 Read-only key");
	/* A one-shot sender asks the host to close after the reply. */
	got = send_packet(s, "info-get guestinfo.model.greeting", 33, 1) ? NULL : read_packet(s);
	tap_report(got && !strcmp(got, "1 hello there") && model_read(s, cmd, 1, 20) == 0,
		   "fast_close_then_eof", "got \"%s\"", got ? got : "(nothing)");
	free(got);
	close(s);
}

/* A child without privilege; its checks print like ours. */
static void rpci_unprivileged(void)
{
	pid_t pid = fork();
	int s, status = -1;

	if (pid == 0) {
		if (drop_to_nobody())
			_exit(3);
		s = socket(af, SOCK_STREAM, 0);
		CHECK_ERRNO("unprivileged_bind_refused", bind_port(s, 1023), EACCES);
		tap_report(!hv_connect(s, RPCI_PORT), "unprivileged_connect", "%s",
			   strerror(errno));
		tap_report(model_local_port(s) >= 1024, "unprivileged_ordinary_port", "port %u",
			   model_local_port(s));
		check_channel("host_sees_unprivileged", s, "unprivileged");
		check_rpc("unprivileged_info_get", s, "info-get guestinfo.model.greeting",
			  "1 hello there");
		close(s);
		_exit(tap_exit_code());
	}
	waitpid(pid, &status, 0);
	tap_report(WIFEXITED(status) && WEXITSTATUS(status) == 0, "unprivileged_child",
		   "status %#x", status);
}

/* The host's command, and our answer to it as the daemon gives it. */
static void tclo_exchange(const char *name, int s, const char *want, const char *answer)
{
	char *got = read_packet(s);

	tap_report(got && !strcmp(got, want) && !send_packet(s, answer, strlen(answer), 0),
		   name, "host sent \"%s\", want \"%s\"", got ? got : "(nothing)", want);
	free(got);
}

static void command_channel(bool blocking)
{
	int s = socket(af, SOCK_STREAM, 0), r, err = -1, size = 65536, ctl;
	socklen_t len = sizeof(err);
	struct pollfd p = { .events = POLLOUT };
	char key[64], *got = NULL;

	/* As the daemon: an ephemeral port, a connect that does not block. */
	if (!blocking)
		fcntl(s, F_SETFL, O_NONBLOCK);
	r = hv_connect(s, TCLO_PORT);
	p.fd = s;
	if (r && errno == EINPROGRESS && poll(&p, 1, 20000) == 1)
		r = getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) || err;
	tap_report(r == 0, blocking ? "tclo_connect_blocking" : "tclo_connect_nonblocking",
		   "r %d err %d (%s)", r, err, strerror(r ? (err > 0 ? err : errno) : 0));
	fcntl(s, F_SETFL, 0);
	tap_report(!setsockopt(s, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)) &&
		   !setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)),
		   "tclo_socket_buffers", "%s", strerror(errno));
	tclo_exchange("tclo_reset", s, "reset", "OK ATR toolbox");
	tclo_exchange("tclo_ping", s, "ping", "OK ");
	tclo_exchange("tclo_unknown_command", s, "vmm.no-such-command", "ERROR Unknown Command");

	/* The host's own verdict on our answers, over the RPC channel. */
	ctl = socket(af, SOCK_STREAM, 0);
	snprintf(key, sizeof(key), "info-get guestinfo.vmm.tclo.%u", model_local_port(s));
	if (ctl >= 0 && !hv_connect(ctl, RPCI_PORT)) {
		/* The host judges our last answer after we sent it. */
		for (int tries = 0; tries < 50; tries++) {
			free(got);
			got = rpc(ctl, key);
			if (!got || strcmp(got, "0 No value found"))
				break;
			usleep(100000);
		}
	}
	tap_report(got && !strcmp(got, "1 pass"), "tclo_host_verdict", "\"%s\" answered \"%s\"",
		   key, got ? got : "(nothing)");
	free(got);
	close(ctl);
	close(s);
}

int main(int argc, char **argv)
{
	bool blocking_tclo = argc > 1 && !strcmp(argv[1], "blocking-tclo");
	int afd = -1, s;

	tap_plan(27);
	model_timeouts();
	af = VMCISock_GetAFValueFd(&afd);
	tap_check_int("af_value", af, 40);
	local_cid = VMCISock_GetLocalCID();
	tap_report(local_cid != VMADDR_CID_ANY, "local_cid", "no CID");
	rpci_privileged();
	rpci_unprivileged();
	command_channel(blocking_tclo);
	/* Nothing listens on 977: the hypervisor resets the request. */
	s = socket(af, SOCK_STREAM, 0);
	CHECK_ERRNO("no_endpoint_reset", hv_connect(s, 977), ECONNRESET);
	close(s);
	VMCISock_ReleaseAFValueFd(afd);
	return tap_exit_code();
}
