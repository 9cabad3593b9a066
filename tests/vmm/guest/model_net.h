/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers the model VM's guest programs share: connections to the host
 * context, control commands for the device (through the host program on
 * CID 2 port CTL, tests/vmm/host/dgram_echo.py), and reads that give up
 * instead of hanging the VM.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef MODEL_NET_H
#define MODEL_NET_H

#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "../../user/tap.h"

static inline int model_connect(unsigned int port)
{
	struct sockaddr_vm to = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = port,
	};
	int s = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (s < 0)
		return -1;
	if (connect(s, (struct sockaddr *)&to, sizeof(to))) {
		close(s);
		return -1;
	}
	return s;
}

static inline unsigned int model_local_port(int s)
{
	struct sockaddr_vm a = { 0 };
	socklen_t len = sizeof(a);

	return getsockname(s, (struct sockaddr *)&a, &len) ? 0 : a.svm_port;
}

/*
 * Sends one command to the device's control socket and waits for its
 * answer; 0 if the device said OK. The answer is queued after anything
 * the command queued for us, so by then the guest stack has seen it.
 */
static inline int model_control(unsigned int ctl_port, const char *cmd)
{
	struct sockaddr_vm to = {
		.svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = ctl_port,
	};
	struct timeval tv = { .tv_sec = 10 };
	int s = socket(AF_VSOCK, SOCK_DGRAM, 0), ret = -1;
	char answer[32];
	ssize_t r;

	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(s, cmd, strlen(cmd), 0, (struct sockaddr *)&to, sizeof(to)) ==
	    (ssize_t)strlen(cmd)) {
		r = recv(s, answer, sizeof(answer) - 1, 0);
		ret = r == 2 && !memcmp(answer, "OK", 2) ? 0 : -1;
		if (r >= 0) {
			answer[r] = 0;
			printf("# control \"%s\": %s\n", cmd, answer);
		} else {
			printf("# control \"%s\": no answer (%s)\n", cmd, strerror(errno));
		}
	}
	close(s);
	return ret;
}

static void model_alarm(int sig)
{
	(void)sig;
}

/* SIGALRM interrupts a blocked call (EINTR) instead of killing us. */
static inline void model_timeouts(void)
{
	struct sigaction sa = { .sa_handler = model_alarm };

	sigaction(SIGALRM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* read() that fails with EINTR after SECS seconds. */
static inline ssize_t model_read(int s, void *buf, size_t len, unsigned int secs)
{
	ssize_t r;

	alarm(secs);
	r = read(s, buf, len);
	alarm(0);
	return r;
}

/* Writes all of BUF; 0, or -1 with errno. */
static inline int model_write_all(int s, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	ssize_t w;

	while (len) {
		w = send(s, p, len, MSG_NOSIGNAL);
		if (w <= 0)
			return -1;
		p += w;
		len -= w;
	}
	return 0;
}

#endif
