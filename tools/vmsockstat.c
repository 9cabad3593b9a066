// SPDX-License-Identifier: GPL-2.0
/*
 * vmsockstat: what vmsock and vmci hold right now. Reads only the files
 * docs/observing.md describes:
 *   /proc/net/vmsock           every vmsock socket of this namespace
 *   /proc/net/vmsock_stat      vmsock's counters
 *   /proc/driver/vmci/stats    vmci's object counts and budget use (root)
 *   /proc/driver/vmci/contexts VMM contexts (root)
 *   /proc/driver/vmci/queue_pairs  queue pairs (root)
 * A section whose file is missing or unreadable says why and the rest
 * still prints; the exit status is 1 only when nothing could be read.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROC_SOCKETS	"/proc/net/vmsock"
#define PROC_COUNTERS	"/proc/net/vmsock_stat"
#define PROC_VMCI	"/proc/driver/vmci/"
#define ANY		4294967295UL	/* VMADDR_CID_ANY, VMADDR_PORT_ANY */

enum { SHOW_SOCKETS = 1, SHOW_QPAIRS = 2, SHOW_CONTEXTS = 4, SHOW_COUNTERS = 8 };

/* One line of /proc/net/vmsock; numbers stay text ("-" is hidden). */
struct sock_line {
	char type[16], state[16];
	unsigned long lcid, lport, pcid, pport;
	char rx[24], tx[24], size[24], uid[24], qp[32], inode[24];
};

static int sections_read;

static FILE *open_or_say(const char *path, const char *what)
{
	FILE *f = fopen(path, "r");

	if (!f)
		printf("  (%s: %s: %s)\n", what, path,
		       errno == EACCES ? "root only" :
		       errno == ENOENT ? "not there; is the module loaded?" : strerror(errno));
	else
		sections_read++;
	return f;
}

static void addr_text(char *buf, size_t len, unsigned long cid, unsigned long port)
{
	char c[16], p[16];

	snprintf(c, sizeof(c), cid == ANY ? "*" : "%lu", cid);
	snprintf(p, sizeof(p), port == ANY ? "*" : "%lu", port);
	snprintf(buf, len, "%s:%s", c, p);
}

static int read_sock_line(FILE *f, struct sock_line *s)
{
	return fscanf(f, "%15s %15s %lu %lu %lu %lu %23s %23s %23s %23s %31s %23s",
		      s->type, s->state, &s->lcid, &s->lport, &s->pcid, &s->pport,
		      s->rx, s->tx, s->size, s->uid, s->qp, s->inode) == 12;
}

/* Skips the header line; NULL when the file cannot be read. */
static FILE *open_sockets(void)
{
	FILE *f = open_or_say(PROC_SOCKETS, "sockets");
	int c;

	if (f)
		while ((c = fgetc(f)) != EOF && c != '\n')
			;
	return f;
}

static void show_sockets(void)
{
	struct sock_line s;
	char local[32], peer[32];
	int n = 0;
	FILE *f;

	printf("Sockets\n");
	f = open_sockets();
	if (!f)
		return;
	printf("  %-6s %-11s %-22s %-22s %8s %8s %8s %6s %s\n", "Type", "State",
	       "Local", "Peer", "Recv-Q", "Send-Q", "QSize", "UID", "Inode");
	while (read_sock_line(f, &s)) {
		addr_text(local, sizeof(local), s.lcid, s.lport);
		addr_text(peer, sizeof(peer), s.pcid, s.pport);
		/* An unconnected datagram socket is UNCONN, as ss says. */
		if (!strcmp(s.type, "dgram") && !strcmp(s.state, "CLOSE"))
			strcpy(s.state, "UNCONN");
		printf("  %-6s %-11s %-22s %-22s %8s %8s %8s %6s %s\n", s.type, s.state,
		       local, peer, s.rx, s.tx, s.size, s.uid, s.inode);
		n++;
	}
	fclose(f);
	printf("  %d socket%s\n", n, n == 1 ? "" : "s");
}

/* Stream sockets' pairs (owner: the socket's user), then vmci's view. */
static void show_qpairs(void)
{
	char line[256], local[32], peer[32];
	struct sock_line s;
	FILE *f;

	printf("Queue pairs\n");
	f = open_sockets();
	if (f) {
		printf("  %-23s %-22s %-22s %6s %10s %8s %8s\n", "Handle", "Socket", "Peer",
		       "Owner", "Size", "Recv-Q", "Send-Q");
		while (read_sock_line(f, &s)) {
			if (!strcmp(s.qp, "-"))
				continue;
			addr_text(local, sizeof(local), s.lcid, s.lport);
			addr_text(peer, sizeof(peer), s.pcid, s.pport);
			printf("  %-23s %-22s %-22s %6s %10s %8s %8s\n", s.qp, local, peer,
			       s.uid, s.size, s.rx, s.tx);
		}
		fclose(f);
	}
	f = open_or_say(PROC_VMCI "queue_pairs", "vmci queue pairs");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		printf("  vmci: %s", line);
	fclose(f);
}

static void copy_file(const char *path, const char *what, const char *prefix)
{
	char line[256];
	FILE *f = open_or_say(path, what);

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		printf("  %s%s", prefix, line);
	fclose(f);
}

static void show_contexts(void)
{
	printf("VMM contexts\n");
	copy_file(PROC_VMCI "contexts", "contexts", "");
}

/* "name value" lines; zero counters are left out unless @all. */
static void show_counter_file(const char *path, const char *what, int all)
{
	char name[64];
	unsigned long long value;
	int shown = 0;
	FILE *f = open_or_say(path, what);

	if (!f)
		return;
	while (fscanf(f, "%63s %llu", name, &value) == 2) {
		if (!value && !all)
			continue;
		printf("  %-28s %llu\n", name, value);
		shown++;
	}
	fclose(f);
	if (!shown)
		printf("  (all zero)\n");
}

static void show_counters(int all)
{
	printf("vmsock counters%s\n", all ? "" : " (non-zero)");
	show_counter_file(PROC_COUNTERS, "vmsock counters", all);
	printf("vmci counts and budgets%s\n", all ? "" : " (non-zero)");
	show_counter_file(PROC_VMCI "stats", "vmci counters", all);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmsockstat [-s] [-q] [-c] [-n] [-a]\n"
		"  -s  sockets     -q  queue pairs     -c  VMM contexts\n"
		"  -n  counters    -a  counters that are zero too\n"
		"Without -s/-q/-c/-n: everything. See vmsockstat(8).\n");
}

int main(int argc, char **argv)
{
	int show = 0, all = 0, opt;

	while ((opt = getopt(argc, argv, "sqcnah")) != -1) {
		switch (opt) {
		case 's': show |= SHOW_SOCKETS; break;
		case 'q': show |= SHOW_QPAIRS; break;
		case 'c': show |= SHOW_CONTEXTS; break;
		case 'n': show |= SHOW_COUNTERS; break;
		case 'a': all = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!show)
		show = SHOW_SOCKETS | SHOW_QPAIRS | SHOW_CONTEXTS | SHOW_COUNTERS;
	if (show & SHOW_SOCKETS)
		show_sockets();
	if (show & SHOW_QPAIRS)
		show_qpairs();
	if (show & SHOW_CONTEXTS)
		show_contexts();
	if (show & SHOW_COUNTERS)
		show_counters(all);
	return sections_read ? 0 : 1;
}
