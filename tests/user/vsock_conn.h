/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Local stream sockets for the socket test programs: a listener on a
 * dynamic port, a client connected to it, and a connected pair. They use
 * the family and CID the program stored in vsock_addr.h's statics.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VSOCK_CONN_H
#define VSOCK_CONN_H

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vsock_addr.h"

/* A listener on {ANY, dynamic port} with @backlog; its port in *port. */
static inline int listener(unsigned int *port, int backlog)
{
	struct sockaddr_vm a = vm_addr(VMADDR_CID_ANY, VMADDR_PORT_ANY);
	socklen_t len = sizeof(a);
	int fd = socket(af, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len) || listen(fd, backlog)) {
		close(fd);
		return -1;
	}
	*port = a.svm_port;
	return fd;
}

/* A client connected to {local_cid, @port}, or -1 with connect()'s errno. */
static inline int connect_to(unsigned int port)
{
	struct sockaddr_vm a = vm_addr(local_cid, port);
	int fd = socket(af, SOCK_STREAM, 0), err;

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/*
 * @client (a connected socket, or -1) and the end @lfd accepts for it:
 * *a and *b, or -1 with both closed.
 */
static inline int accept_pair(int lfd, int client, int *a, int *b)
{
	*a = client;
	if (client < 0)
		return -1;
	*b = accept(lfd, NULL, NULL);
	if (*b < 0) {
		close(client);
		return -1;
	}
	return 0;
}

/* A connected pair through a fresh listener: *a the client, *b the accepted end. */
static inline int make_pair(int *a, int *b)
{
	unsigned int port;
	int lfd = listener(&port, 8);

	if (lfd < 0)
		return -1;
	*a = connect_to(port);
	*b = *a < 0 ? -1 : accept(lfd, NULL, NULL);
	close(lfd);
	if (*b < 0) {
		if (*a >= 0)
			close(*a);
		return -1;
	}
	return 0;
}

#endif
