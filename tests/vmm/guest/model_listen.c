// SPDX-License-Identifier: GPL-2.0
/*
 * In the model VM: the in-tree vSockets stack accepts connections the
 * host opens through the device's bridge (tests/vmm/host/stream_connect.py)
 * and echoes each until the host half-closes.
 *
 * Usage: model_listen PORT CONNECTIONS
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "../../user/tap.h"

int main(int argc, char **argv)
{
	struct sockaddr_vm addr = { .svm_family = AF_VSOCK }, peer;
	static unsigned char buf[65536];
	socklen_t plen;
	int s, c, i, n, count, ok;
	ssize_t r;
	long long total;
	char name[32];

	if (argc != 3) {
		printf("usage: model_listen PORT CONNECTIONS\n");
		return 2;
	}
	addr.svm_cid = VMADDR_CID_ANY;
	addr.svm_port = strtoul(argv[1], NULL, 0);
	count = atoi(argv[2]);
	/* accept_ and echo_ per connection; listen only on failure. */
	tap_plan(2 * count);
	s = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof(addr)) || listen(s, 8)) {
		tap_report(0, "listen", "%s", strerror(errno));
		return 1;
	}
	/* The host keeps retrying until this listens; give it 60 s. */
	alarm(60);
	for (i = 0; i < count; i++) {
		plen = sizeof(peer);
		c = accept(s, (struct sockaddr *)&peer, &plen);
		snprintf(name, sizeof(name), "accept_%d", i);
		tap_report(c >= 0 && peer.svm_cid == VMADDR_CID_HOST, name, "%s cid %u",
			   c < 0 ? strerror(errno) : "", peer.svm_cid);
		if (c < 0)
			continue;
		total = 0;
		ok = 1;
		while ((r = read(c, buf, sizeof(buf))) > 0) {
			for (n = 0; n < r; )  {
				ssize_t w = write(c, buf + n, r - n);

				if (w <= 0) {
					ok = 0;
					break;
				}
				n += w;
			}
			total += r;
		}
		printf("# echoed %lld bytes\n", total);
		snprintf(name, sizeof(name), "echo_%d", i);
		tap_report(ok && r == 0, name, "read %zd (%s)", r, strerror(errno));
		close(c);
	}
	close(s);
	return tap_exit_code();
}
