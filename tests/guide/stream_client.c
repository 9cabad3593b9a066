// SPDX-License-Identifier: GPL-2.0
/*
 * The client half of stream_server.c, as the Programming Guide's
 * "Having the Client Request a Connection" writes it: socket(),
 * connect() to this machine's CID, then send() and recv() in BUFSIZE
 * pieces. Each piece carries a known pattern and its echo must come back
 * whole; after shutdown() the server's close must read as end of stream.
 *
 * Usage: stream_client PORT [BYTES]   (default 64 KiB; the server runs on
 *        this machine)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include "../../include/uapi/vmci_sockets.h"
#define BUFSIZE 4096

/* Every offset of the stream has its own byte, so a lost piece shows. */
static void fill(char *buf, long long offset, ssize_t len)
{
	ssize_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)((offset + i) * 31 + (offset + i) / 251);
}

/* The echo of one piece may arrive split; gather all of it. */
static int recv_all(int sockfd, char *buf, ssize_t len)
{
	ssize_t numbytes;

	while (len > 0) {
		if ((numbytes = recv(sockfd, buf, len, 0)) == -1) {
			perror("recv");
			return -1;
		}
		if (numbytes == 0) {
			fprintf(stderr, "recv: end of stream with %zd bytes missing\n", len);
			return -1;
		}
		buf += numbytes;
		len -= numbytes;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int sockfd;
	int afVMCI, vmciFd;
	struct sockaddr_vm their_addr = {0};
	struct sockaddr_vm my_addr;
	socklen_t my_addr_size = sizeof my_addr;
	struct timeval tv = {30, 0};
	char send_buf[BUFSIZE], recv_buf[BUFSIZE];
	long long bytes = 64 * 1024, done = 0;
	ssize_t numbytes, len;

	if (argc != 2 && argc != 3) {
		fprintf(stderr, "usage: %s PORT [BYTES]\n", argv[0]);
		return 2;
	}
	if (argc == 3)
		bytes = atoll(argv[2]);

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
	/* Not in the Guide: a lost echo must end the test, not hang it. */
	setsockopt(sockfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

	their_addr.svm_family = afVMCI;
	their_addr.svm_cid = VMCISock_GetLocalCID();
	their_addr.svm_port = atoi(argv[1]);
	if ((connect(sockfd, (struct sockaddr *) &their_addr, sizeof their_addr)) == -1) {
		perror("connect");
		goto close;
	}
	if (getsockname(sockfd, (struct sockaddr *) &my_addr, &my_addr_size) == -1) {
		perror("getsockname");
		goto close;
	}
	printf("client cid %u port %u connected to cid %u port %u\n", my_addr.svm_cid,
	       my_addr.svm_port, their_addr.svm_cid, their_addr.svm_port);
	fflush(stdout);

	while (done < bytes) {
		len = bytes - done < BUFSIZE ? bytes - done : BUFSIZE;
		fill(send_buf, done, len);
		if ((numbytes = send(sockfd, send_buf, len, 0)) == -1) {
			perror("send");
			goto close;
		}
		/* A short send is legal; the rest goes in the next round. */
		if (recv_all(sockfd, recv_buf, numbytes))
			goto close;
		if (memcmp(recv_buf, send_buf, numbytes) != 0) {
			fprintf(stderr, "echo differs at offset %lld\n", done);
			goto close;
		}
		done += numbytes;
	}

	if (shutdown(sockfd, SHUT_WR) == -1) {
		perror("shutdown");
		goto close;
	}
	if ((numbytes = recv(sockfd, recv_buf, sizeof recv_buf, 0)) != 0) {
		fprintf(stderr, "after shutdown: recv returned %zd, not end of stream\n",
			numbytes);
		if (numbytes == -1)
			perror("recv");
		goto close;
	}
	printf("client: %lld bytes echoed whole\n", done);
	return close(sockfd);

close:
	close(sockfd);
	return 1;
}
