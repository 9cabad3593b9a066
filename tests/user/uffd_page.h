/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One page that stays missing until the test says so, for holding a
 * kernel copy inside a page fault: a userfaultfd (root only), two
 * anonymous pages with the first present, the second registered and
 * never touched. The caller serves the fault with uffd_page_fill().
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_TESTS_UFFD_PAGE_H
#define VMCI_TESTS_UFFD_PAGE_H

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The missing page, and its userfaultfd in *@uffd; NULL on failure. */
static inline void *uffd_page(int *uffd)
{
	long size = sysconf(_SC_PAGESIZE);
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	char *page;

	*uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (*uffd < 0 || ioctl(*uffd, UFFDIO_API, &api))
		return NULL;
	page = mmap(NULL, 2 * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return NULL;
	memset(page, 0, size);
	page += size;
	reg.range.start = (unsigned long)page;
	reg.range.len = size;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	return ioctl(*uffd, UFFDIO_REGISTER, &reg) ? NULL : page;
}

/* 0 once a task faults on the page, within @ms milliseconds. */
static inline int uffd_page_wait_fault(int uffd, int ms)
{
	struct pollfd pfd = { .fd = uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&pfd, 1, ms) != 1 || read(uffd, &msg, sizeof(msg)) != sizeof(msg))
		return -1;
	return msg.event == UFFD_EVENT_PAGEFAULT ? 0 : -1;
}

/* Serves the fault: the page gets a copy of @src (a page long). */
static inline int uffd_page_fill(int uffd, void *page, const void *src)
{
	struct uffdio_copy copy = {
		.dst = (unsigned long)page,
		.src = (unsigned long)src,
		.len = sysconf(_SC_PAGESIZE),
	};

	return ioctl(uffd, UFFDIO_COPY, &copy);
}

#define UFFD_SYSCTL	"/proc/sys/vm/unprivileged_userfaultfd"

/*
 * Sets vm.unprivileged_userfaultfd to @val (0 or 1), for a child that
 * drops its privileges before it makes the page; returns the old value,
 * or -1.
 */
static inline int uffd_sysctl_set(int val)
{
	char old = 0, new = '0' + val;
	int fd = open(UFFD_SYSCTL, O_RDWR);
	int ret = -1;

	if (fd < 0)
		return -1;
	if (read(fd, &old, 1) == 1 && lseek(fd, 0, SEEK_SET) == 0 && write(fd, &new, 1) == 1)
		ret = old - '0';
	close(fd);
	return ret;
}

#endif
