// SPDX-License-Identifier: GPL-2.0
/*
 * The client half of dgram_server.c, in the Programming Guide's style:
 * sendto() and recvfrom() first, then connect() and send(), checking that
 * each echo comes back whole, then "quit".
 *
 * Usage: dgram_client PORT   (the server runs on this machine)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../include/uapi/vmci_sockets.h"
#define BUFSIZE 4096

static int echo_matches(int sockfd, const char *send_buf)
{
	char buf[BUFSIZE];
	struct sockaddr_vm from;
	socklen_t from_size = sizeof from;
	ssize_t numbytes;

	if ((numbytes = recvfrom(sockfd, buf, sizeof buf, 0,
	    (struct sockaddr *) &from, &from_size)) == -1) {
		perror("recvfrom");
		return 0;
	}
	return numbytes == BUFSIZE && memcmp(buf, send_buf, BUFSIZE) == 0;
}

int main(int argc, char **argv)
{
	int sockfd;
	int afVMCI;
	struct sockaddr_vm their_addr = {0};
	struct timeval tv = {5, 0};
	char send_buf[BUFSIZE];
	ssize_t numbytes;
	int i;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	for (i = 0; i < BUFSIZE; i++)
		send_buf[i] = (char)(i * 7 + 3);

	afVMCI = VMCISock_GetAFValue();
	if ((sockfd = socket(afVMCI, SOCK_DGRAM, 0)) == -1) {
		perror("socket");
		return 1;
	}
	/* Not in the Guide: a lost echo must end the test, not hang it. */
	setsockopt(sockfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

	their_addr.svm_family = afVMCI;
	their_addr.svm_cid = VMCISock_GetLocalCID();
	their_addr.svm_port = atoi(argv[1]);
	if ((numbytes = sendto(sockfd, send_buf, BUFSIZE, 0,
	    (struct sockaddr *) &their_addr, sizeof their_addr)) == -1) {
		perror("sendto");
		goto close;
	}
	if (!echo_matches(sockfd, send_buf)) {
		fprintf(stderr, "sendto: echo differs\n");
		goto close;
	}

	if ((connect(sockfd, (struct sockaddr *) &their_addr, sizeof their_addr)) == -1) {
		perror("connect");
		goto close;
	}
	send_buf[0] ^= 0x55;
	if ((numbytes = send(sockfd, send_buf, BUFSIZE, 0)) == -1) {
		perror("send");
		goto close;
	}
	if (!echo_matches(sockfd, send_buf)) {
		fprintf(stderr, "send: echo differs\n");
		goto close;
	}
	if (send(sockfd, "quit", 4, 0) != 4) {
		perror("send quit");
		goto close;
	}
	printf("client: both echoes came back whole\n");
	return close(sockfd);

close:
	close(sockfd);
	return 1;
}
