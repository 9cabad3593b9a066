// SPDX-License-Identifier: GPL-2.0
/*
 * How many connects one user's queue-pair hoarding refuses to everyone
 * else (issue 12, item 3). uid 65534 asks for the largest buffers it may
 * and opens connections to its own listener until the kernel refuses,
 * and holds them; meanwhile root and uid 65533 each try ROUNDS default
 * connect+accept+close rounds against listeners of their own. Last,
 * uid 65534 alone runs ROUNDS connect+close rounds with its largest
 * queues (a closed pair's charge must come back when it closes). Counts,
 * not times: run it on the code before and after a change.
 *
 * Usage: budget_bench [rounds]   (as root, vmci and vmsock loaded)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"

#define HOARDER		65534
#define BYSTANDER	65533
#define HOARD_MAX	256
#define BIG		(64ULL * 1024 * 1024)

static int af;
static unsigned int cid;

static int become(uid_t uid)
{
	if (!uid)
		return 0;
	return setgroups(0, NULL) || setresgid(uid, uid, uid) || setresuid(uid, uid, uid);
}

static int stream(unsigned long long size)
{
	int fd = socket(af, SOCK_STREAM, 0);

	if (fd >= 0 && size) {
		setsockopt(fd, af, SO_VMCI_BUFFER_MAX_SIZE, &size, sizeof(size));
		setsockopt(fd, af, SO_VMCI_BUFFER_SIZE, &size, sizeof(size));
	}
	return fd;
}

/* A listener on a dynamic port of this machine, its address in *@to. */
static int listen_here(unsigned long long size, struct sockaddr_vm *to)
{
	socklen_t len = sizeof(*to);
	int fd = stream(size);

	memset(to, 0, sizeof(*to));
	to->svm_family = af;
	to->svm_cid = VMADDR_CID_ANY;
	to->svm_port = VMADDR_PORT_ANY;
	if (fd < 0 || bind(fd, (struct sockaddr *)to, sizeof(*to)) ||
	    getsockname(fd, (struct sockaddr *)to, &len) || listen(fd, 16))
		return -1;
	to->svm_cid = cid;
	return fd;
}

struct result {
	int made;
	int refused;
	int err;	/* the first refusal's errno */
};

/*
 * @rounds connects of @size to a listener of the caller's, each accepted
 * and closed at once; with @hold, kept open instead, until the first
 * refusal.
 */
static struct result rounds_of(int rounds, unsigned long long size, int hold)
{
	struct result r = { 0, 0, 0 };
	struct sockaddr_vm to;
	int lfd = listen_here(size, &to);
	int i, c, a;

	if (lfd < 0) {
		r.refused = rounds;
		r.err = errno;
		return r;
	}
	for (i = 0; i < rounds; i++) {
		c = stream(size);
		if (c < 0 || connect(c, (struct sockaddr *)&to, sizeof(to))) {
			if (!r.err)
				r.err = errno;
			r.refused++;
			if (c >= 0)
				close(c);
			if (hold)
				break;
			continue;
		}
		r.made++;
		a = accept(lfd, NULL, NULL);
		if (!hold) {
			if (a >= 0)
				close(a);
			close(c);
		}
	}
	return r;
}

/* Runs rounds_of() as @uid in a child; with @hold, keeps it alive until @release closes. */
static pid_t spawn(uid_t uid, int rounds, unsigned long long size, int hold, int *report,
		   int *release)
{
	int rep[2], rel[2];
	pid_t pid;

	if (pipe(rep) || pipe(rel))
		return -1;
	pid = fork();
	if (!pid) {
		struct result r = { 0, rounds, EPERM };
		char ch;

		close(rep[0]);
		close(rel[1]);
		if (!become(uid))
			r = rounds_of(rounds, size, hold);
		if (write(rep[1], &r, sizeof(r)) != sizeof(r))
			_exit(2);
		if (read(rel[0], &ch, 1) < 0)
			_exit(2);
		_exit(0);
	}
	close(rep[1]);
	close(rel[0]);
	*report = rep[0];
	*release = rel[1];
	return pid;
}

static struct result run(uid_t uid, int rounds, unsigned long long size, int hold,
			 int *release, pid_t *pid)
{
	struct result r = { -1, -1, 0 };
	int report, rel;

	*pid = spawn(uid, rounds, size, hold, &report, &rel);
	if (*pid < 0)
		return r;
	if (read(report, &r, sizeof(r)) != sizeof(r))
		r.refused = -1;
	close(report);
	if (release) {
		*release = rel;
	} else {
		close(rel);
		waitpid(*pid, NULL, 0);
	}
	return r;
}

static void line(const char *who, struct result r)
{
	printf("%-50s %6d %8d   %s\n", who, r.made, r.refused,
	       r.refused > 0 ? strerror(r.err) : "-");
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 && atoi(argv[1]) > 0 ? atoi(argv[1]) : 100;
	struct result hoard, root, other, churn;
	int fd = -1, release;
	pid_t holder, pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	af = VMCISock_GetAFValueFd(&fd);
	cid = VMCISock_GetLocalCID();
	if (af <= 0 || cid == VMADDR_CID_ANY) {
		fprintf(stderr, "no vSockets family\n");
		return 1;
	}
	hoard = run(HOARDER, HOARD_MAX, BIG, 1, &release, &holder);
	root = run(0, rounds, 0, 0, NULL, &pid);
	other = run(BYSTANDER, rounds, 0, 0, NULL, &pid);
	close(release);
	waitpid(holder, NULL, 0);
	churn = run(HOARDER, rounds, BIG, 0, NULL, &pid);

	printf("%-50s %6s %8s   %s\n", "", "made", "refused", "first refusal");
	line("uid 65534 hoards (largest queues, held)", hoard);
	line("root, default sizes, meanwhile", root);
	line("uid 65533, default sizes, meanwhile", other);
	line("uid 65534 alone, connect+close, largest queues", churn);
	VMCISock_ReleaseAFValueFd(fd);
	return 0;
}
