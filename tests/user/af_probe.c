// SPDX-License-Identifier: GPL-2.0
/*
 * What a program sees on a machine with the package's module policy:
 * socket(40) works with no module loaded by hand (the kernel's request for
 * net-pf-40 must load vmsock), and the header's functions agree with it.
 * Usage: af_probe EXPECTED_CID.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "tap.h"

int main(int argc, char **argv)
{
	unsigned int want_cid = argc > 1 ? (unsigned int)strtoul(argv[1], NULL, 0) : 0;
	int fd = -1, s, af;

	tap_plan(4);
	s = socket(40, SOCK_STREAM, 0);
	tap_report(s >= 0, "socket_40_stream", "errno %d (%s)", errno, strerror(errno));
	if (s >= 0)
		close(s);
	s = socket(40, SOCK_DGRAM, 0);
	tap_report(s >= 0, "socket_40_dgram", "errno %d (%s)", errno, strerror(errno));
	if (s >= 0)
		close(s);
	af = VMCISock_GetAFValueFd(&fd);
	tap_check_int("get_af_value_is_40", af, 40);
	VMCISock_ReleaseAFValueFd(fd);
	tap_check_int("local_cid", VMCISock_GetLocalCID(), want_cid);
	return tap_exit_code();
}
