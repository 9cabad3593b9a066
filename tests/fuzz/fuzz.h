/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small coverage-guided fuzzer for vmci.ko and vmsock.ko (issue 13).
 *
 * A program is a short list of calls; each call names an operation, the
 * thread that runs it and six raw 64-bit arguments. Everything a call does
 * follows from those numbers alone, so a program written to a file replays
 * the same calls (the thread interleaving is up to the scheduler).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_TESTS_FUZZ_H
#define VMCI_TESTS_FUZZ_H

#include <stdint.h>
#include <stdio.h>

#define MAX_CALLS	32
#define NARGS		6
#define NTHREADS	3
#define NSLOTS		16

enum op {
	OP_VMCI_OPEN,		/* open /dev/vmci, VERSION2, INIT_CONTEXT */
	OP_VMCI_DG_SEND,
	OP_VMCI_DG_RECV,
	OP_VMCI_NOTIFY_RES,	/* doorbell create/destroy/ring */
	OP_VMCI_NOTIFY_RECV,
	OP_VMCI_CTX_NOTIFY,	/* add/remove a context-death subscription */
	OP_VMCI_SET_NOTIFY,
	OP_VMCI_QP_ALLOC,
	OP_VMCI_QP_SETVA,
	OP_VMCI_QP_DETACH,
	OP_VMCI_CPT,		/* GET/SET_CPT_STATE */
	OP_VMCI_MISC,		/* any ioctl number near the VMCI block */
	OP_VMCI_CTL_PKT,	/* hostile VMM: a vSockets control packet */
	OP_MMAP,
	OP_MUNMAP,
	OP_CLOSE,
	OP_VSOCK_DEV,		/* open /dev/vsock and ask it something */
	OP_SOCKET,
	OP_BIND,
	OP_CONNECT,
	OP_LISTEN,
	OP_ACCEPT,
	OP_SEND,
	OP_RECV,
	OP_SETSOCKOPT,
	OP_GETSOCKOPT,
	OP_SHUTDOWN,
	OP_POLL,
	OP_EPOLL,		/* create, add/mod/del, wait */
	OP_SOCKNAME,
	OP_FORK,		/* a child process runs this thread's next calls */
	OP_PAIR,		/* a connected pair of host sockets, and the listener */
	OP_COUNT
};

struct call {
	uint8_t op;
	uint8_t thread;
	uint64_t a[NARGS];
};

struct prog {
	int n;
	struct call c[MAX_CALLS];
};

/* prog.c */
extern const char *const op_names[OP_COUNT];
uint64_t rnd(void);
void rnd_seed(uint64_t seed);
void prog_generate(struct prog *p);
void prog_mutate(struct prog *p, const struct prog *other);
void prog_write(FILE *f, const struct prog *p);
int prog_read(FILE *f, struct prog *p);
void prog_remove(struct prog *p, int i);

/*
 * exec.c: an executor is a process that runs program after program, each
 * in the page it shares with the fuzzer, on NTHREADS threads that live as
 * long as it does (KCOV on each); between programs everything a program
 * opened is closed. The fuzzer writes a byte to ask for a run and reads
 * one back when the program is over; the times of the calls add up here.
 */
struct exec_shared {
	struct prog prog;
	uint64_t op_ns[OP_COUNT];
	uint64_t op_n[OP_COUNT];
};

void exec_setup(void);
void exec_serve(int req_fd, int done_fd, struct exec_shared *sh, const int *kcov_fds);

/* cover.c */
#define KCOV_WORDS	(64 << 10)
int cover_open(int *fds, uint64_t **areas, int n);
int cover_ranges(void);
int cover_merge(uint64_t *const *areas, int n);
void cover_counts(unsigned long *vmci, unsigned long *vmsock, unsigned long *other);
void cover_functions(FILE *out);
uint64_t *cover_remote_open(uint32_t id);

/* kmsg.c: kernel reports since the last call, into @buf; 0 when none. */
int kmsg_open(void);
int kmsg_poll(char *buf, size_t size);
int is_report(const char *msg);

#endif
