// SPDX-License-Identifier: GPL-2.0
/*
 * A stream server in the shape the vSockets Programming Guide's chapter
 * "Creating Stream vSockets" gives one: buffer size set and checked
 * before listen(), bind to any CID, getsockname(), listen(), accept(),
 * then recv() and send() until the client closes. Every byte goes back
 * to the client, so the client (ours or socat) can verify the stream.
 *
 * Usage: stream_server PORT [CONNECTIONS]   (default one connection; PORT
 *        -1 is VMADDR_PORT_ANY, and with CONNECTIONS 0 the server only
 *        reports where it listens and the local CID)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../include/uapi/vmci_sockets.h"
#define BUFSIZE 4096
#define BACKLOG 5

/* send() may take less than asked; the Guide leaves that to the reader. */
static int send_all(int fd, const char *buf, ssize_t len)
{
	ssize_t numbytes;

	while (len > 0) {
		if ((numbytes = send(fd, buf, len, 0)) == -1) {
			perror("send");
			return -1;
		}
		buf += numbytes;
		len -= numbytes;
	}
	return 0;
}

/* Echoes one connection until EOF; returns the byte count or -1. */
static long long echo_connection(int newfd, unsigned int *sum)
{
	char recv_buf[BUFSIZE];
	ssize_t numbytes, i;
	long long total = 0;

	for (;;) {
		if ((numbytes = recv(newfd, recv_buf, sizeof recv_buf, 0)) == -1) {
			perror("recv");
			return -1;
		}
		if (numbytes == 0)
			return total;
		/* FNV-1a, printed so a log shows what went through. */
		for (i = 0; i < numbytes; i++)
			*sum = (*sum ^ (unsigned char)recv_buf[i]) * 16777619U;
		if (send_all(newfd, recv_buf, numbytes))
			return -1;
		total += numbytes;
	}
}

int main(int argc, char **argv)
{
	int sockfd, newfd;
	int afVMCI, vmciFd;
	struct sockaddr_vm my_addr = {0};
	struct sockaddr_vm their_addr;
	socklen_t my_addr_size, their_addr_len;
	unsigned long long setBuf = 32768, getBuf = 0;
	int connections = 1, served;
	long long total;
	unsigned int sum;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s PORT [CONNECTIONS]\n", argv[0]);
		return 2;
	}
	if (argc == 3)
		connections = atoi(argv[2]);

	afVMCI = VMCISock_GetAFValueFd(&vmciFd);
	if (afVMCI == -1) {
		perror("VMCISock_GetAFValueFd");
		return 1;
	}
	if ((sockfd = socket(afVMCI, SOCK_STREAM, 0)) == -1) {
		perror("socket");
		VMCISock_ReleaseAFValueFd(vmciFd);
		return 1;
	}
	VMCISock_ReleaseAFValueFd(vmciFd);

	/* Before listen(), so that every accepted socket inherits it. */
	if (setsockopt(sockfd, afVMCI, SO_VMCI_BUFFER_SIZE, (void *)&setBuf, sizeof setBuf) == -1) {
		perror("setsockopt");
		goto close;
	}
	my_addr_size = sizeof getBuf;
	if (getsockopt(sockfd, afVMCI, SO_VMCI_BUFFER_SIZE, (void *)&getBuf, &my_addr_size) == -1) {
		perror("getsockopt");
		goto close;
	}
	if (getBuf != setBuf) {
		fprintf(stderr, "SO_VMCI_BUFFER_SIZE is %llu, not %llu\n", getBuf, setBuf);
		goto close;
	}

	my_addr.svm_family = afVMCI;
	my_addr.svm_cid = VMADDR_CID_ANY;
	my_addr.svm_port = atoi(argv[1]);
	if (bind(sockfd, (struct sockaddr *) &my_addr, sizeof my_addr) == -1) {
		perror("bind");
		goto close;
	}
	my_addr_size = sizeof my_addr;
	if (getsockname(sockfd, (struct sockaddr *) &my_addr, &my_addr_size) == -1) {
		perror("getsockname");
		goto close;
	}
	if (listen(sockfd, BACKLOG) == -1) {
		perror("listen");
		goto close;
	}
	printf("server bound to cid %u port %u, local cid %u\n",
	       my_addr.svm_cid, my_addr.svm_port, VMCISock_GetLocalCID());
	fflush(stdout);

	for (served = 0; served < connections; served++) {
		their_addr_len = sizeof their_addr;
		if ((newfd = accept(sockfd, (struct sockaddr *) &their_addr,
		    &their_addr_len)) == -1) {
			perror("accept");
			goto close;
		}
		if (their_addr_len != sizeof their_addr || their_addr.svm_family != afVMCI) {
			fprintf(stderr, "accept: peer address of family %d, %u bytes\n",
				their_addr.svm_family, (unsigned int)their_addr_len);
			close(newfd);
			goto close;
		}
		sum = 2166136261U;
		total = echo_connection(newfd, &sum);
		close(newfd);
		if (total < 0)
			goto close;
		printf("server echoed %lld bytes (fnv1a %08x) to cid %u port %u\n",
		       total, sum, their_addr.svm_cid, their_addr.svm_port);
		fflush(stdout);
	}
	return close(sockfd);

close:
	close(sockfd);
	return 1;
}
