// SPDX-License-Identifier: GPL-2.0
/*
 * In the model VM: the context ID the in-tree guest stack learned from
 * the device model, through both ways an application can ask.
 *
 * Usage: model_cid EXPECTED_CID [NEW_CID CONTROL_PORT]
 * With NEW_CID, asks the host (through CONTROL_PORT on CID 2, see
 * tests/vmm/host/dgram_echo.py) to change the context ID and waits for the
 * guest stack to report it: the CTX_ID_UPDATE event reached the driver.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "../../user/tap.h"

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

static void change_cid(unsigned int new_cid, unsigned int port)
{
	struct sockaddr_vm to = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = port,
	};
	char cmd[32];
	int s, i;

	s = socket(AF_VSOCK, SOCK_DGRAM, 0);
	snprintf(cmd, sizeof(cmd), "cid %u", new_cid);
	tap_report(s >= 0 && sendto(s, cmd, strlen(cmd), 0, (struct sockaddr *)&to,
				    sizeof(to)) == (ssize_t)strlen(cmd),
		   "cid_change_requested", "%s", strerror(errno));
	for (i = 0; i < 100 && local_cid() != new_cid; i++)
		usleep(50000);
	CHECK_EQ("cid_update_event_seen", local_cid(), new_cid);
	if (s >= 0)
		close(s);
}

int main(int argc, char **argv)
{
	unsigned int cid = 0;
	struct sockaddr_vm addr = { 0 };
	socklen_t alen = sizeof(addr);
	unsigned long want;
	int fd, s;

	if (argc != 2 && argc != 4) {
		printf("usage: model_cid EXPECTED_CID [NEW_CID CONTROL_PORT]\n");
		return 2;
	}
	/* Four checks, and change_cid()'s two with a new CID. */
	tap_plan(4 + (argc == 4 ? 2 : 0));
	want = strtoul(argv[1], NULL, 0);

	fd = open("/dev/vsock", O_RDONLY);
	tap_report(fd >= 0, "dev_vsock_open", "%s", strerror(errno));
	if (fd >= 0) {
		CHECK_EQ("get_local_cid_ioctl",
			 ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) ? ~0u : cid, want);
		close(fd);
	}

	/* A socket bound to CID ANY reports the local CID once bound. */
	s = socket(AF_VSOCK, SOCK_DGRAM, 0);
	tap_report(s >= 0, "dgram_socket", "%s", strerror(errno));
	if (s >= 0) {
		addr.svm_family = AF_VSOCK;
		addr.svm_cid = VMADDR_CID_ANY;
		addr.svm_port = VMADDR_PORT_ANY;
		if (bind(s, (struct sockaddr *)&addr, sizeof(addr)) == 0 &&
		    getsockname(s, (struct sockaddr *)&addr, &alen) == 0)
			tap_report(addr.svm_port != VMADDR_PORT_ANY, "dgram_bind",
				   "no port assigned");
		else
			tap_report(0, "dgram_bind", "%s", strerror(errno));
		close(s);
	}
	if (argc == 4)
		change_cid(strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0));
	return tap_exit_code();
}
