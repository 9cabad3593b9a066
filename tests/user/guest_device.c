// SPDX-License-Identifier: GPL-2.0
/*
 * vmci.ko's guest personality on a VMCI device (the QEMU device model):
 * the local CID is the device's, and vmsock datagrams reach a host echo
 * program through the device and come back, in sizes that fit one page,
 * cross pages and fill a whole datagram.
 *
 * Usage: guest_device CID [ECHO_PORT [NEW_CID [CONTROL_PORT]]]
 *   CID        the context ID the device was given
 *   ECHO_PORT  a host (CID 2) port that echoes every datagram; ECHO_PORT+1
 *              passes the payload to the device model as a control command
 *   NEW_CID    afterwards, have the model change our CID to this, check
 *              that we follow (CTX_ID_UPDATE) and that a new socket works
 *   CONTROL_PORT  a host port that passes the payload to the device model
 *              and sends its answer back (dgram_echo.py); first, the model
 *              rewrites the size of a datagram in our DMA receive buffer
 *              after handing it over (junk dma-resize; with port I/O it is
 *              an ordinary datagram to nobody) and datagrams still echo
 * Without arguments (the ordinary test VMs, no device) it checks nothing.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "tap.h"
#include "vsock_addr.h"

#define MAX_PAYLOAD	69608

static void fill(unsigned char *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (unsigned char)(seed + i * 7 + (i >> 8));
}

static const size_t all_sizes[] = { 1, 100, 4000, 4072, 4096, 9000, 65536, MAX_PAYLOAD };

static void test_echo(unsigned int port, const size_t *sizes, unsigned int count,
		      const char *prefix)
{
	struct sockaddr_vm local = vm_addr(VMADDR_CID_ANY, VMADDR_PORT_ANY);
	struct sockaddr_vm host = vm_addr(VMADDR_CID_HOST, port), src;
	struct timeval tv = { .tv_sec = 5 };
	unsigned char *tx = malloc(MAX_PAYLOAD), *rx = malloc(MAX_PAYLOAD + 1);
	socklen_t len;
	char name[64];
	unsigned int i;
	ssize_t n;
	int fd;

	fd = socket(af, SOCK_DGRAM, 0);
	if (fd < 0 || !tx || !rx ||
	    bind(fd, (struct sockaddr *)&local, sizeof(local))) {
		tap_report(0, "dgram_setup", "%s", strerror(errno));
		goto out;
	}
	/* A lost datagram must fail the test, not hang the VM. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (i = 0; i < count; i++) {
		snprintf(name, sizeof(name), "%s_%zu", prefix, sizes[i]);
		fill(tx, sizes[i], i);
		n = sendto(fd, tx, sizes[i], 0, (struct sockaddr *)&host, sizeof(host));
		if (n != (ssize_t)sizes[i]) {
			tap_report(0, name, "sendto: %zd (%s)", n, strerror(errno));
			continue;
		}
		len = sizeof(src);
		memset(rx, 0, sizes[i]);
		n = recvfrom(fd, rx, MAX_PAYLOAD + 1, 0, (struct sockaddr *)&src, &len);
		tap_report(n == (ssize_t)sizes[i] && !memcmp(tx, rx, sizes[i]) &&
			   src.svm_cid == VMADDR_CID_HOST && src.svm_port == port, name,
			   "got %zd bytes (%s) from %u:%u", n, n < 0 ? strerror(errno) : "",
			   src.svm_cid, src.svm_port);
	}
out:
	if (fd >= 0)
		close(fd);
	free(tx);
	free(rx);
}

/*
 * The device rewrites a delivered datagram's payload_size in our DMA
 * buffer right after its interrupt. The model's OK comes back after it.
 */
static void test_dma_resize(unsigned int port, unsigned int ctl_port)
{
	struct sockaddr_vm any = vm_addr(VMADDR_CID_ANY, VMADDR_PORT_ANY);
	struct sockaddr_vm ctl = vm_addr(VMADDR_CID_HOST, ctl_port);
	static const char cmd[] = "junk dma-resize";
	struct timeval tv = { .tv_sec = 5 };
	char reply[16] = "";
	ssize_t n = -1;
	int fd;

	fd = socket(af, SOCK_DGRAM, 0);
	if (fd >= 0 && !bind(fd, (struct sockaddr *)&any, sizeof(any)) &&
	    !setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) &&
	    sendto(fd, cmd, strlen(cmd), 0, (struct sockaddr *)&ctl, sizeof(ctl)) ==
	    (ssize_t)strlen(cmd))
		n = recv(fd, reply, sizeof(reply) - 1, 0);
	tap_report(n == 2 && !memcmp(reply, "OK", 2), "dma_resize_injected",
		   "answer %zd '%s' (%s)", n, n > 0 ? reply : "", strerror(errno));
	if (fd >= 0)
		close(fd);
	test_echo(port, all_sizes, 3, "dgram_echo_after_dma_resize");
}

/* The host end hands the payload to the model's control socket. */
static void test_cid_change(unsigned int port, unsigned int new_cid)
{
	struct sockaddr_vm ctl = vm_addr(VMADDR_CID_HOST, port + 1);
	unsigned int i, cid = 0;
	char cmd[32];
	int fd;

	snprintf(cmd, sizeof(cmd), "cid %u", new_cid);
	fd = socket(af, SOCK_DGRAM, 0);
	tap_report(fd >= 0 && sendto(fd, cmd, strlen(cmd), 0, (struct sockaddr *)&ctl,
				     sizeof(ctl)) == (ssize_t)strlen(cmd),
		   "cid_change_sent", "%s", strerror(errno));
	if (fd >= 0)
		close(fd);
	for (i = 0; i < 50; i++) {
		cid = VMCISock_GetLocalCID();
		if (cid == new_cid)
			break;
		usleep(100 * 1000);
	}
	tap_report(cid == new_cid, "cid_change_followed", "got %u, want %u", cid, new_cid);
	test_echo(port, all_sizes, 2, "dgram_echo_after_cid_change");
}

int main(int argc, char **argv)
{
	unsigned int want, cid;
	int afd = -1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return 0;
	/*
	 * family and local_cid; one echo per size; test_cid_change() 2 + 2
	 * echoes; test_dma_resize() 1 + 3 echoes.
	 */
	tap_plan(2 + (argc > 2 ? (int)(sizeof(all_sizes) / sizeof(all_sizes[0])) : 0) +
		 (argc > 3 ? 4 : 0) + (argc > 4 ? 4 : 0));
	want = strtoul(argv[1], NULL, 0);
	af = VMCISock_GetAFValueFd(&afd);
	cid = VMCISock_GetLocalCID();
	tap_report(af >= 0, "family", "no vSockets family: %s", strerror(errno));
	tap_report(cid == want, "local_cid", "got %u, want %u", cid, want);
	if (af >= 0 && argc > 2)
		test_echo(strtoul(argv[2], NULL, 0), all_sizes,
			  sizeof(all_sizes) / sizeof(all_sizes[0]), "dgram_echo");
	if (af >= 0 && argc > 4)
		test_dma_resize(strtoul(argv[2], NULL, 0), strtoul(argv[4], NULL, 0));
	if (af >= 0 && argc > 3)
		test_cid_change(strtoul(argv[2], NULL, 0), strtoul(argv[3], NULL, 0));
	if (afd >= 0)
		VMCISock_ReleaseAFValueFd(afd);
	return tap_exit_code();
}
