// SPDX-License-Identifier: GPL-2.0
/*
 * iopl_exec PROGRAM ARGS...: runs PROGRAM with I/O privilege level 3.
 *
 * VMware Tools refuse to start unless the backdoor port answers its
 * version call, and they read that port from user mode. On VMware the
 * hypervisor lets such reads through; under QEMU's TCG, whose vmport
 * device answers the call, a user-mode port read faults unless the
 * process has I/O privilege. Granting it here, and nothing else, lets
 * Debian's unmodified vmtoolsd pass its own check (needs root and a
 * kernel with CONFIG_X86_IOPL_IOPERM, as Debian's have).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdio.h>
#include <sys/io.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: iopl_exec PROGRAM ARGS...\n");
		return 2;
	}
	if (iopl(3)) {
		perror("iopl_exec: iopl(3)");
		return 126;
	}
	execv(argv[1], argv + 1);
	perror("iopl_exec: execv");
	return 127;
}
