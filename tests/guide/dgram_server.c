// SPDX-License-Identifier: GPL-2.0
/*
 * A datagram server written the way the vSockets Programming Guide's
 * chapter "Creating Datagram vSockets" writes one: it echoes every
 * datagram to its sender until one says "quit".
 *
 * Usage: dgram_server PORT
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../../include/uapi/vmci_sockets.h"
#define BUFSIZE 4096

int main(int argc, char **argv)
{
	int sockfd;
	int afVMCI;
	struct sockaddr_vm my_addr = {0};
	struct sockaddr_vm their_addr;
	socklen_t my_addr_size;
	char buf[BUFSIZE];
	ssize_t numbytes;
	int echoed = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}

	afVMCI = VMCISock_GetAFValue();
	if ((sockfd = socket(afVMCI, SOCK_DGRAM, 0)) == -1) {
		perror("socket");
		return 1;
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
	printf("server bound to cid %u port %u\n", my_addr.svm_cid, my_addr.svm_port);
	fflush(stdout);

	for (;;) {
		my_addr_size = sizeof their_addr;
		if ((numbytes = recvfrom(sockfd, buf, sizeof buf, 0,
		    (struct sockaddr *) &their_addr, &my_addr_size)) == -1) {
			perror("recvfrom");
			goto close;
		}
		if (numbytes == 4 && memcmp(buf, "quit", 4) == 0)
			break;
		if (sendto(sockfd, buf, numbytes, 0,
		    (struct sockaddr *) &their_addr, sizeof their_addr) != numbytes) {
			perror("sendto");
			goto close;
		}
		echoed++;
	}
	printf("server echoed %d datagrams\n", echoed);
	return close(sockfd);

close:
	close(sockfd);
	return 1;
}
