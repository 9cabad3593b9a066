// SPDX-License-Identifier: GPL-2.0
/*
 * In the model VM: the device injects malformed datagrams (the `junk`
 * control command, tests/vmm/vmci_model_junk.c) and the in-tree guest
 * stack must drop each and keep working: after every kind, a datagram
 * still makes the round trip through the echo program on the host. The
 * harness checks the kernel log for oopses and warnings afterwards.
 *
 * Usage: model_junk ECHO_PORT CONTROL_PORT
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include "model_net.h"

/* One datagram to the echo port and back, retried a few times. */
static int echo_round_trip(unsigned int echo, const char *msg)
{
	struct sockaddr_vm to = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = echo,
	};
	struct timeval tv = { .tv_sec = 3 };
	char buf[64];
	ssize_t r;
	int s, i, ok = 0;

	s = socket(AF_VSOCK, SOCK_DGRAM, 0);
	if (s < 0)
		return 0;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (i = 0; i < 5 && !ok; i++) {
		if (sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
			usleep(200000);
			continue;
		}
		r = recv(s, buf, sizeof(buf), 0);
		ok = r == (ssize_t)strlen(msg) && !memcmp(buf, msg, r);
	}
	close(s);
	return ok;
}

int main(int argc, char **argv)
{
	static const char *const kinds[] = {
		"event-short", "event-long", "event-unknown", "event-bare",
		"detach-unknown", "detach-invalid", "dgram-unknown", "vsock-short",
		"vsock-garbage", "oversize",
	};
	unsigned int echo, ctl;
	char cmd[48], name[48];
	int accepted, all = 1;
	size_t i;

	if (argc != 3) {
		printf("usage: model_junk ECHO_PORT CONTROL_PORT\n");
		return 2;
	}
	/* One per kind, then all at once. */
	tap_plan((int)(sizeof(kinds) / sizeof(kinds[0])) + 1);
	echo = strtoul(argv[1], NULL, 0);
	ctl = strtoul(argv[2], NULL, 0);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(cmd, sizeof(cmd), "junk %s", kinds[i]);
		snprintf(name, sizeof(name), "%s_survived", kinds[i]);
		accepted = !model_control(ctl, cmd);
		tap_report(accepted && echo_round_trip(echo, kinds[i]), name, "%s",
			   accepted ? "no echo after the junk" : "the device did not inject it");
	}
	/* All of them at once, then a stream still works. */
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		snprintf(cmd, sizeof(cmd), "junk %s", kinds[i]);
		all &= !model_control(ctl, cmd);
	}
	tap_report(all && echo_round_trip(echo, "after-all"), "all_kinds_survived", "%s",
		   all ? "no echo" : "the device did not inject them all");
	return tap_exit_code();
}
