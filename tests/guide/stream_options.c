// SPDX-License-Identifier: GPL-2.0
/*
 * The socket options and names of the Programming Guide's stream
 * chapter, used the way it shows them: the three SO_VMCI_BUFFER_* sizes
 * (64-bit values at the family's level, set before listen() or
 * connect()), the connect timeout, bind() to VMADDR_PORT_ANY with
 * getsockname(), and a connection whose two ends must agree on names.
 *
 * Usage: stream_options   (exit status 0 when everything holds)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include "../../include/uapi/vmci_sockets.h"
#define BACKLOG 5

static int afVMCI;

static int get_size(int sockfd, int option, unsigned long long *getBuf)
{
	socklen_t len = sizeof *getBuf;

	if (getsockopt(sockfd, afVMCI, option, (void *)getBuf, &len) == -1) {
		perror("getsockopt");
		return -1;
	}
	if (len != sizeof *getBuf) {
		fprintf(stderr, "getsockopt %d: %u bytes, not 8\n", option, (unsigned int)len);
		return -1;
	}
	return 0;
}

/* The Guide's set-then-check sequence, for any of the three sizes. */
static int set_size(int sockfd, int option, unsigned long long setBuf)
{
	unsigned long long getBuf;

	if (setsockopt(sockfd, afVMCI, option, (void *)&setBuf, sizeof setBuf) == -1) {
		perror("setsockopt");
		return -1;
	}
	if (get_size(sockfd, option, &getBuf))
		return -1;
	if (getBuf != setBuf) {
		fprintf(stderr, "option %d not set to size requested: %llu, not %llu\n",
			option, getBuf, setBuf);
		return -1;
	}
	return 0;
}

static int buffer_sizes(int sockfd)
{
	unsigned long long size, min, max;

	if (get_size(sockfd, SO_VMCI_BUFFER_SIZE, &size) ||
	    get_size(sockfd, SO_VMCI_BUFFER_MIN_SIZE, &min) ||
	    get_size(sockfd, SO_VMCI_BUFFER_MAX_SIZE, &max))
		return -1;
	printf("default buffer size %llu, min %llu, max %llu\n", size, min, max);
	if (min > size || size > max || min == 0) {
		fprintf(stderr, "defaults out of order\n");
		return -1;
	}
	/* Halve to 32768 as the Guide does, then narrow the range around it. */
	if (set_size(sockfd, SO_VMCI_BUFFER_SIZE, 32768) ||
	    set_size(sockfd, SO_VMCI_BUFFER_MIN_SIZE, 1024) ||
	    set_size(sockfd, SO_VMCI_BUFFER_MAX_SIZE, 131072) ||
	    get_size(sockfd, SO_VMCI_BUFFER_SIZE, &size))
		return -1;
	if (size != 32768) {
		fprintf(stderr, "setting min and max moved the size to %llu\n", size);
		return -1;
	}
	return 0;
}

static int connect_timeout(int sockfd)
{
	struct timeval setTv = {3, 500000}, getTv;
	socklen_t len = sizeof getTv;

	if (setsockopt(sockfd, afVMCI, SO_VMCI_CONNECT_TIMEOUT, (void *)&setTv,
		       sizeof setTv) == -1) {
		perror("setsockopt SO_VMCI_CONNECT_TIMEOUT");
		return -1;
	}
	if (getsockopt(sockfd, afVMCI, SO_VMCI_CONNECT_TIMEOUT, (void *)&getTv, &len) == -1) {
		perror("getsockopt SO_VMCI_CONNECT_TIMEOUT");
		return -1;
	}
	if (len != sizeof getTv || getTv.tv_sec != setTv.tv_sec ||
	    getTv.tv_usec != setTv.tv_usec) {
		fprintf(stderr, "connect timeout reads back as %ld.%06ld (%u bytes)\n",
			(long)getTv.tv_sec, (long)getTv.tv_usec, (unsigned int)len);
		return -1;
	}
	return 0;
}

static int same_addr(const char *what, const struct sockaddr_vm *a,
		     const struct sockaddr_vm *b)
{
	if (a->svm_family == b->svm_family && a->svm_cid == b->svm_cid &&
	    a->svm_port == b->svm_port)
		return 1;
	fprintf(stderr, "%s: cid %u port %u against cid %u port %u\n", what,
		a->svm_cid, a->svm_port, b->svm_cid, b->svm_port);
	return 0;
}

int main(void)
{
	int sockfd, clientfd = -1, newfd = -1;
	int vmciFd, rc = 1;
	struct sockaddr_vm my_addr = {0};
	struct sockaddr_vm their_addr = {0};
	struct sockaddr_vm client_name, client_peer, new_name, new_peer;
	socklen_t my_addr_size;
	unsigned int localCID;

	afVMCI = VMCISock_GetAFValueFd(&vmciFd);
	if (afVMCI == -1) {
		perror("VMCISock_GetAFValueFd");
		return 1;
	}
	if ((sockfd = socket(afVMCI, SOCK_STREAM, 0)) == -1 ||
	    (clientfd = socket(afVMCI, SOCK_STREAM, 0)) == -1) {
		perror("socket");
		goto close;
	}
	localCID = VMCISock_GetLocalCID();
	printf("family %d, local cid %u\n", afVMCI, localCID);
	if (localCID == VMADDR_CID_ANY) {
		fprintf(stderr, "VMCISock_GetLocalCID failed\n");
		goto close;
	}

	if (buffer_sizes(sockfd) || connect_timeout(sockfd))
		goto close;

	my_addr.svm_family = afVMCI;
	my_addr.svm_cid = VMADDR_CID_ANY;
	my_addr.svm_port = VMADDR_PORT_ANY;
	if (bind(sockfd, (struct sockaddr *) &my_addr, sizeof my_addr) == -1) {
		perror("bind");
		goto close;
	}
	my_addr_size = sizeof my_addr;
	if (getsockname(sockfd, (struct sockaddr *) &my_addr, &my_addr_size) == -1) {
		perror("getsockname");
		goto close;
	}
	/* The Guide promises an ephemeral port from the nonreserved range. */
	if (my_addr_size != sizeof my_addr || my_addr.svm_family != afVMCI ||
	    my_addr.svm_port < 1024 || my_addr.svm_port == VMADDR_PORT_ANY ||
	    (my_addr.svm_cid != VMADDR_CID_ANY && my_addr.svm_cid != localCID)) {
		fprintf(stderr, "bound to family %d cid %u port %u\n",
			my_addr.svm_family, my_addr.svm_cid, my_addr.svm_port);
		goto close;
	}
	if (listen(sockfd, BACKLOG) == -1) {
		perror("listen");
		goto close;
	}

	/* A client inside the listener's range, set before connect(). */
	if (set_size(clientfd, SO_VMCI_BUFFER_SIZE, 16384))
		goto close;
	their_addr.svm_family = afVMCI;
	their_addr.svm_cid = localCID;
	their_addr.svm_port = my_addr.svm_port;
	if (connect(clientfd, (struct sockaddr *) &their_addr, sizeof their_addr) == -1) {
		perror("connect");
		goto close;
	}
	my_addr_size = sizeof new_peer;
	if ((newfd = accept(sockfd, (struct sockaddr *) &new_peer, &my_addr_size)) == -1) {
		perror("accept");
		goto close;
	}
	my_addr_size = sizeof client_name;
	if (getsockname(clientfd, (struct sockaddr *) &client_name, &my_addr_size) == -1) {
		perror("getsockname client");
		goto close;
	}
	my_addr_size = sizeof client_peer;
	if (getpeername(clientfd, (struct sockaddr *) &client_peer, &my_addr_size) == -1) {
		perror("getpeername client");
		goto close;
	}
	my_addr_size = sizeof new_name;
	if (getsockname(newfd, (struct sockaddr *) &new_name, &my_addr_size) == -1) {
		perror("getsockname accepted");
		goto close;
	}
	printf("client cid %u port %u, accepted cid %u port %u\n",
	       client_name.svm_cid, client_name.svm_port, new_name.svm_cid, new_name.svm_port);
	if (!same_addr("accept() against client getsockname()", &new_peer, &client_name) ||
	    !same_addr("client getpeername() against connect()", &client_peer, &their_addr) ||
	    !same_addr("accepted getsockname() against connect()", &new_name, &their_addr))
		goto close;
	if (client_name.svm_port == their_addr.svm_port) {
		fprintf(stderr, "client got the listener's port\n");
		goto close;
	}

	/* The Guide: the server address must exist. Nobody listens now. */
	close(sockfd);
	sockfd = socket(afVMCI, SOCK_STREAM, 0);
	if (sockfd == -1) {
		perror("socket");
		goto close;
	}
	close(newfd);
	newfd = -1;
	if (connect(sockfd, (struct sockaddr *) &their_addr, sizeof their_addr) != -1) {
		fprintf(stderr, "connect to a closed listener succeeded\n");
		goto close;
	}
	printf("connect to a closed listener: %s\n", strerror(errno));
	rc = 0;

close:
	VMCISock_ReleaseAFValueFd(vmciFd);
	if (newfd != -1)
		close(newfd);
	if (clientfd != -1)
		close(clientfd);
	if (sockfd != -1)
		close(sockfd);
	return rc;
}
