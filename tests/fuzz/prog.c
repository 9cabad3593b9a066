// SPDX-License-Identifier: GPL-2.0
/*
 * Programs: making them up, changing them, writing and reading them.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <string.h>

#include "fuzz.h"

const char *const op_names[OP_COUNT] = {
	[OP_VMCI_OPEN] = "vmci_open",
	[OP_VMCI_DG_SEND] = "vmci_dg_send",
	[OP_VMCI_DG_RECV] = "vmci_dg_recv",
	[OP_VMCI_NOTIFY_RES] = "vmci_notify_res",
	[OP_VMCI_NOTIFY_RECV] = "vmci_notify_recv",
	[OP_VMCI_CTX_NOTIFY] = "vmci_ctx_notify",
	[OP_VMCI_SET_NOTIFY] = "vmci_set_notify",
	[OP_VMCI_QP_ALLOC] = "vmci_qp_alloc",
	[OP_VMCI_QP_SETVA] = "vmci_qp_setva",
	[OP_VMCI_QP_DETACH] = "vmci_qp_detach",
	[OP_VMCI_CPT] = "vmci_cpt",
	[OP_VMCI_MISC] = "vmci_misc",
	[OP_VMCI_CTL_PKT] = "vmci_ctl_pkt",
	[OP_MMAP] = "mmap",
	[OP_MUNMAP] = "munmap",
	[OP_CLOSE] = "close",
	[OP_VSOCK_DEV] = "vsock_dev",
	[OP_SOCKET] = "socket",
	[OP_BIND] = "bind",
	[OP_CONNECT] = "connect",
	[OP_LISTEN] = "listen",
	[OP_ACCEPT] = "accept",
	[OP_SEND] = "send",
	[OP_RECV] = "recv",
	[OP_SETSOCKOPT] = "setsockopt",
	[OP_GETSOCKOPT] = "getsockopt",
	[OP_SHUTDOWN] = "shutdown",
	[OP_POLL] = "poll",
	[OP_EPOLL] = "epoll",
	[OP_SOCKNAME] = "sockname",
	[OP_FORK] = "fork",
	[OP_PAIR] = "pair",
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

void rnd_seed(uint64_t seed)
{
	rng_state = seed ? seed : 1;
}

/* xorshift64*: small, fast, and the same sequence for the same seed. */
uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

/*
 * Arguments are raw numbers that each operation reads through its own
 * selectors (exec.c): the low bits choose a kind of value, the rest give
 * it. Small numbers make the common choices likely.
 */
static uint64_t gen_arg(void)
{
	switch (rnd() % 4) {
	case 0:
		return rnd() % 64;
	case 1:
		return rnd() % 4096;
	default:
		return rnd();
	}
}

/* Operations that make something the others use come first more often. */
static uint8_t gen_op(int index)
{
	static const uint8_t makers[] = { OP_VMCI_OPEN, OP_SOCKET, OP_SOCKET, OP_MMAP,
					  OP_VSOCK_DEV, OP_PAIR };

	if (index < 3 || rnd() % 5 == 0)
		return makers[rnd() % sizeof(makers)];
	return rnd() % OP_COUNT;
}

static void gen_call(struct call *c, int index)
{
	int i;

	c->op = gen_op(index);
	c->thread = rnd() % NTHREADS;
	for (i = 0; i < NARGS; i++)
		c->a[i] = gen_arg();
}

void prog_generate(struct prog *p)
{
	int i;

	p->n = 2 + rnd() % (MAX_CALLS / 2);
	for (i = 0; i < p->n; i++)
		gen_call(&p->c[i], i);
}

void prog_remove(struct prog *p, int i)
{
	memmove(&p->c[i], &p->c[i + 1], (p->n - i - 1) * sizeof(p->c[0]));
	p->n--;
}

static void mutate_arg(uint64_t *a)
{
	int shift;

	switch (rnd() % 6) {
	case 0:
		*a = gen_arg();
		break;
	case 5:
		/* A new value in one selector field (exec.c reads 2-4 bit fields). */
		shift = rnd() % 61;
		*a = (*a & ~(0xfull << shift)) | (rnd() & 0xf) << shift;
		break;
	case 1:
		*a ^= 1ull << (rnd() % 16);
		break;
	case 2:
		*a += 1;
		break;
	case 3:
		*a -= 1;
		break;
	default:
		*a ^= 1ull << (rnd() % 64);
		break;
	}
}

/* One to three changes; @other (may be @p) lends calls for splicing. */
void prog_mutate(struct prog *p, const struct prog *other)
{
	int changes = 1 + rnd() % 3;

	while (changes--) {
		int i = p->n ? rnd() % p->n : 0;

		switch (rnd() % 8) {
		case 0:
			if (p->n < MAX_CALLS) {
				memmove(&p->c[i + 1], &p->c[i], (p->n - i) * sizeof(p->c[0]));
				gen_call(&p->c[i], i);
				p->n++;
			}
			break;
		case 1:
			if (p->n > 1)
				prog_remove(p, i);
			break;
		case 2:
			if (p->n < MAX_CALLS && other->n) {
				memmove(&p->c[i + 1], &p->c[i], (p->n - i) * sizeof(p->c[0]));
				p->c[i] = other->c[rnd() % other->n];
				p->n++;
			}
			break;
		case 3:
			if (p->n)
				p->c[i].thread = rnd() % NTHREADS;
			break;
		default:
			if (p->n)
				mutate_arg(&p->c[i].a[rnd() % NARGS]);
			break;
		}
	}
}

/* One line per call: name thread a0 .. a5 (hex). */
void prog_write(FILE *f, const struct prog *p)
{
	int i, j;

	for (i = 0; i < p->n; i++) {
		fprintf(f, "%s %u", op_names[p->c[i].op], p->c[i].thread);
		for (j = 0; j < NARGS; j++)
			fprintf(f, " 0x%llx", (unsigned long long)p->c[i].a[j]);
		fputc('\n', f);
	}
}

/* Lines starting with '#' are comments. 0 on success. */
int prog_read(FILE *f, struct prog *p)
{
	char line[512], name[64];

	p->n = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a[NARGS];
		unsigned int thread;
		struct call *c;
		int op;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (p->n == MAX_CALLS)
			return -1;
		if (sscanf(line, "%63s %u %llx %llx %llx %llx %llx %llx", name, &thread, &a[0],
			   &a[1], &a[2], &a[3], &a[4], &a[5]) != 8)
			return -1;
		for (op = 0; op < OP_COUNT; op++)
			if (!strcmp(name, op_names[op]))
				break;
		if (op == OP_COUNT || thread >= NTHREADS)
			return -1;
		c = &p->c[p->n++];
		c->op = op;
		c->thread = thread;
		memcpy(c->a, a, sizeof(c->a));
	}
	return p->n ? 0 : -1;
}
