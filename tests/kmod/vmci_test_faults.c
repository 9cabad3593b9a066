// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module that plants one kernel fault when loaded, so the test
 * harness can prove its kernel-log and kmemleak scanners catch each kind
 * (tests/vm/init's self-test section, checked by check_selftest in
 * tests/lib/report.sh). Never loaded during the real run.
 *
 *   fault=warn     a WARN() splat
 *   fault=kasan    a one-byte read past a kmalloc'd buffer (KASAN report)
 *   fault=lockdep  two mutexes taken in both orders (lockdep splat)
 *   fault=leak     kmalloc'd buffers, slab and page-backed, whose pointers
 *                  are dropped (kmemleak)
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *fault = "";
module_param(fault, charp, 0444);
MODULE_PARM_DESC(fault, "Fault to plant at load: warn, kasan, lockdep or leak");

/* A parameter, so the compiler cannot see the read is out of bounds. */
static unsigned int size = 24;
module_param(size, uint, 0444);
MODULE_PARM_DESC(size, "Size of the buffer the kasan fault reads one byte past");

static DEFINE_MUTEX(faults_a);
static DEFINE_MUTEX(faults_b);

static noinline void faults_kasan(void)
{
	char *buf = kmalloc(size, GFP_KERNEL);

	if (!buf)
		return;
	pr_info("vmci_test_faults: byte past the buffer: %d\n",
		READ_ONCE(buf[size]));
	kfree(buf);
}

/* A before B, then B before A: lockdep sees a possible AB-BA deadlock. */
static noinline void faults_lockdep(void)
{
	mutex_lock(&faults_a);
	mutex_lock(&faults_b);
	mutex_unlock(&faults_b);
	mutex_unlock(&faults_a);

	mutex_lock(&faults_b);
	mutex_lock(&faults_a);
	mutex_unlock(&faults_a);
	mutex_unlock(&faults_b);
}

/*
 * Buffers whose pointers are dropped, eight slab objects (kmalloc-128 to
 * kmalloc-1k) and eight page-backed ones (past KMALLOC_MAX_CACHE_SIZE,
 * which kmalloc takes from the page allocator; kmemleak tracks both).
 * Since 7.0 every slab cache hands objects out of per-CPU arrays
 * (sheaves) that keep a copy of each pointer until the slot is reused,
 * and kmemleak, scanning those arrays, takes the copy for a reference:
 * a fresh slab leak may stay hidden there. Page-backed buffers hide
 * another way: kmemleak also scans every struct page in use, and a page
 * that was a slab most likely keeps its last freelist pointer, which
 * points into the page, in a word the page allocator does not clear
 * (page->index on 6.12). After a run that has churned slabs, 6.12 named
 * none of the eight (and seven slab ones), so the harness wants one of
 * either kind. Eight of each, so a stale copy left on some stack cannot
 * hide them all.
 */
static noinline void faults_leak(void)
{
	unsigned int i;
	size_t len;
	void *p;

	for (i = 0; i < 8; i++) {
		len = 128 + 64 * i;
		p = kmalloc(len, GFP_KERNEL);
		if (p)
			memset(p, 0x5a, len);
		len = KMALLOC_MAX_CACHE_SIZE + PAGE_SIZE * (i + 1);
		p = kmalloc(len, GFP_KERNEL);
		if (p)
			memset(p, 0x5b, len);
	}
}

static int __init faults_init(void)
{
	if (!strcmp(fault, "warn"))
		WARN(1, "vmci_test_faults: planted warning\n");
	else if (!strcmp(fault, "kasan"))
		faults_kasan();
	else if (!strcmp(fault, "lockdep"))
		faults_lockdep();
	else if (!strcmp(fault, "leak"))
		faults_leak();
	else
		return -EINVAL;
	return 0;
}

static void __exit faults_exit(void)
{
}

module_init(faults_init);
module_exit(faults_exit);

MODULE_DESCRIPTION("Test-only: plants a WARN, KASAN, lockdep or kmemleak fault for the harness self-test");
MODULE_AUTHOR("The vmci-vmsock authors");
MODULE_LICENSE("GPL");
