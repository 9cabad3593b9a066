// SPDX-License-Identifier: GPL-2.0
/*
 * vmsock's address family as programs see it: which number
 * VMCISock_GetAFValueFd() returns, which sockets it creates, how long the
 * number stays registered, and that the module cannot go while used.
 *
 * Usage: vsock_family alone              default load, 40 free
 *        vsock_family coexist DEVICE     in-tree vsock holds 40
 *        vsock_family pinned N           loaded with af=N prefer_af_vsock=N
 *        vsock_family busy N             loaded with af=N, N in use elsewhere
 *        vsock_family no-40              loaded with prefer_af_vsock=N
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../include/uapi/vmci_sockets.h"
#include "tap.h"

#define AF_VALUE_PATH		"/sys/module/vmsock/parameters/af_value"
#define AF_FIXED		40
/* AF_NETBEUI: the first of the never-implemented numbers vmsock tries. */
#define FIRST_UNUSED_AF		13
#define IOC_GET_AF_VALUE	1976
#define BAD_POINTER		((void *)16)

static int read_af_value(void)
{
	FILE *f = fopen(AF_VALUE_PATH, "r");
	int value = -100;

	if (!f)
		return -101;
	if (fscanf(f, "%d", &value) != 1)
		value = -102;
	fclose(f);
	return value;
}

/* The last socket's release is deferred to a work item: give it 2 s. */
static int wait_af_value(int want)
{
	int i;

	for (i = 0; i < 200 && read_af_value() != want; i++)
		usleep(10000);
	return read_af_value();
}

/* /dev/kmsg positioned after the newest record. */
static int kmsg_open_at_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

static int kmsg_count_new(int fd, const char *needle)
{
	char record[8192];
	int count = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	for (;;) {
		n = read(fd, record, sizeof(record) - 1);
		if (n < 0 && errno == EPIPE)	/* overwritten under us */
			continue;
		if (n <= 0)
			break;
		record[n] = '\0';
		if (strstr(record, needle))
			count++;
	}
	close(fd);
	return count;
}

static int get_af_value_raw(const char *dev, int *af)
{
	int fd = open(dev, O_RDONLY);

	*af = -100;
	if (fd >= 0 && ioctl(fd, IOC_GET_AF_VALUE, af) < 0)
		*af = -errno;
	return fd;
}

static void expect_unload_refused(const char *name)
{
	long ret = syscall(SYS_delete_module, "vmsock", O_NONBLOCK);

	tap_report(ret == -1 && (errno == EWOULDBLOCK || errno == EBUSY), name,
		   "delete_module ret %ld errno %d (%s)", ret, errno, strerror(errno));
}

static void check_socket(const char *name, int af, int type)
{
	int s = socket(af, type, 0), domain = -1, got_type = -1;
	socklen_t len = sizeof(int);
	char domain_name[64];

	tap_report(s >= 0, name, "socket(%d, %d, 0): %s", af, type, strerror(errno));
	if (s < 0)
		return;
	getsockopt(s, SOL_SOCKET, SO_DOMAIN, &domain, &len);
	len = sizeof(int);
	getsockopt(s, SOL_SOCKET, SO_TYPE, &got_type, &len);
	/* The socket's own family is the number it was created with. */
	snprintf(domain_name, sizeof(domain_name), "%s_domain", name);
	tap_report(domain == af && got_type == type, domain_name,
		   "SO_DOMAIN %d SO_TYPE %d, want %d %d", domain, got_type, af, type);
	close(s);
}

static void check_socket_fails(const char *name, int af, int type, int protocol,
			       int want)
{
	int s = socket(af, type, protocol);

	CHECK_ERRNO(name, s, want);
	if (s >= 0)
		close(s);
}

static void check_socket_types(int af)
{
	check_socket("socket_stream", af, SOCK_STREAM);
	check_socket("socket_dgram", af, SOCK_DGRAM);
	check_socket_fails("socket_stream_protocol_1", af, SOCK_STREAM, 1, EPROTONOSUPPORT);
	check_socket_fails("socket_dgram_protocol_1", af, SOCK_DGRAM, 1, EPROTONOSUPPORT);
	check_socket_fails("socket_seqpacket", af, SOCK_SEQPACKET, 0, ESOCKTNOSUPPORT);
	check_socket_fails("socket_raw", af, SOCK_RAW, 0, ESOCKTNOSUPPORT);
}

/* GET_AF_VALUE with a bad pointer, and commands nobody defined. */
static void check_bad_requests(int fd)
{
	static const unsigned long unknown[] = { 0x7ff, 1973, 1975, 1978, 1991, 0xc0045601 };
	int kmsg, ret, value, bad = 0;
	unsigned int i;

	ret = ioctl(fd, IOC_GET_AF_VALUE, BAD_POINTER);
	CHECK_ERRNO("get_af_value_bad_pointer_efault", ret, EFAULT);

	kmsg = kmsg_open_at_end();
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		ret = ioctl(fd, unknown[i], &value);
		if (ret != -1 || errno != ENOTTY) {
			printf("# ioctl %#lx: ret %d errno %d\n", unknown[i], ret, errno);
			bad++;
		}
	}
	tap_report(!bad, "unknown_ioctls_enotty", "%d commands answered otherwise", bad);
	ret = kmsg_count_new(kmsg, "vmsock");
	tap_report(ret == 0, "unknown_ioctls_not_logged", "%d new vmsock log lines", ret);
}

static void test_alone(void)
{
	int fd = -2, af, dev, value, s;

	/* 9 single checks, check_bad_requests() 3, check_socket_types() 8. */
	tap_plan(20);

	CHECK_EQ("af_value_40_from_load", read_af_value(), AF_FIXED);

	af = VMCISock_GetAFValueFd(&fd);
	CHECK_EQ("get_af_value_fd_is_40", af, AF_FIXED);
	/* socket(40, SOCK_DGRAM, 0) reached us: nothing to hold open. */
	CHECK_EQ("get_af_value_fd_no_fd", fd, -1);
	VMCISock_ReleaseAFValueFd(fd);

	dev = get_af_value_raw("/dev/vsock", &value);
	tap_report(dev >= 0, "dev_open", "/dev/vsock: %s", strerror(errno));
	if (dev < 0)
		return;
	CHECK_EQ("ioctl_get_af_value_40", value, AF_FIXED);
	check_bad_requests(dev);
	expect_unload_refused("unload_refused_with_dev_fd");
	close(dev);

	check_socket_types(AF_FIXED);
	s = socket(AF_FIXED, SOCK_STREAM, 0);
	tap_report(s >= 0, "socket_for_unload", "%s", strerror(errno));
	expect_unload_refused("unload_refused_with_socket");
	close(s);
	/* Held by the module itself, not by what just closed. */
	usleep(100000);
	CHECK_EQ("af_value_40_until_unload", read_af_value(), AF_FIXED);
}

static void test_coexist(const char *devpath)
{
	int fd = -2, af, af2, dev, value, value2, s, ret, kmsg_ours, kmsg_net;

	/* 21 single checks, check_socket_types() 8, check_bad_requests() 3. */
	tap_plan(32);

	CHECK_EQ("af_value_none_at_load", read_af_value(), -1);

	af = VMCISock_GetAFValueFd(&fd);
	tap_report(af > 0 && af != AF_FIXED, "get_af_value_fd_not_40",
		   "af %d: %s", af, strerror(errno));
	CHECK_EQ("get_af_value_fd_first_unused", af, FIRST_UNUSED_AF);
	tap_report(fd >= 0, "get_af_value_fd_holds_fd", "fd %d", fd);
	if (af <= 0 || fd < 0)
		return;
	CHECK_EQ("af_value_reserved", read_af_value(), af);
	check_socket_types(af);
	expect_unload_refused("unload_refused_with_dev_fd");

	/* A socket keeps the number after the fd is gone... */
	s = socket(af, SOCK_DGRAM, 0);
	tap_report(s >= 0, "socket_before_release", "%s", strerror(errno));
	VMCISock_ReleaseAFValueFd(fd);
	CHECK_EQ("socket_keeps_family", read_af_value(), af);
	expect_unload_refused("unload_refused_with_socket");
	close(s);
	CHECK_EQ("released_after_last_socket", wait_af_value(-1), -1);
	ret = socket(af, SOCK_STREAM, 0);
	CHECK_ERRNO("socket_after_release_eafnosupport", ret, EAFNOSUPPORT);

	/* ...and the fd keeps it after the socket is gone. */
	fd = -2;
	kmsg_ours = kmsg_open_at_end();
	kmsg_net = kmsg_open_at_end();
	af2 = VMCISock_GetAFValueFd(&fd);
	CHECK_EQ("second_reservation", af2, af);
	/* One line of ours; 40, found taken a moment ago, is not probed again. */
	ret = kmsg_count_new(kmsg_ours, "vmsock: address family");
	tap_report(ret == 1, "second_reservation_logged_once", "%d lines", ret);
	ret = kmsg_count_new(kmsg_net, "PF_VSOCK");
	tap_report(ret == 0, "second_reservation_no_probe_of_40", "%d lines", ret);
	s = socket(af2, SOCK_STREAM, 0);
	tap_report(s >= 0, "second_reservation_socket", "%s", strerror(errno));
	close(s);
	usleep(100000);
	CHECK_EQ("dev_fd_keeps_family", read_af_value(), af);
	VMCISock_ReleaseAFValueFd(fd);
	CHECK_EQ("released_with_last_fd", read_af_value(), -1);

	/* Asking twice on one fd is one hold: closing it releases. */
	dev = get_af_value_raw(devpath, &value);
	value2 = -100;
	ret = ioctl(dev, IOC_GET_AF_VALUE, &value2);
	tap_report(ret == 0 && value == af && value2 == af, "one_fd_asks_twice",
		   "ret %d values %d %d", ret, value, value2);
	close(dev);
	CHECK_EQ("one_fd_one_hold", read_af_value(), -1);

	dev = open(devpath, O_RDONLY);
	tap_report(dev >= 0, "dev_open", "%s: %s", devpath, strerror(errno));
	if (dev < 0)
		return;
	check_bad_requests(dev);
	CHECK_EQ("bad_pointer_reserves_nothing", read_af_value(), -1);
	close(dev);
}

static void test_pinned(int pinned)
{
	int dev, value;

	/* 4 single checks and check_socket_types() 8. */
	tap_plan(12);

	CHECK_EQ("af_value_none_at_load", read_af_value(), -1);
	dev = get_af_value_raw("/dev/vsock", &value);
	CHECK_EQ("ioctl_get_af_value_pinned", value, pinned);
	CHECK_EQ("af_value_pinned", read_af_value(), pinned);
	if (value == pinned)
		check_socket_types(pinned);
	close(dev);
	CHECK_EQ("released_with_fd", read_af_value(), -1);
}

static void test_busy(int pinned)
{
	char needle[32];
	int kmsg, dev, value, lines;

	/* Five checks. */
	tap_plan(5);

	snprintf(needle, sizeof(needle), "af=%d", pinned);
	kmsg = kmsg_open_at_end();
	dev = get_af_value_raw("/dev/vsock", &value);
	CHECK_EQ("get_af_value_fails", value, -EAFNOSUPPORT);
	lines = kmsg_count_new(kmsg, needle);
	tap_report(lines == 1, "failure_logged", "%d log lines with \"%s\"", lines, needle);
	CHECK_EQ("af_value_none", read_af_value(), -1);
	close(dev);

	/* Asking again does not probe (and log "NET: Registered") again. */
	kmsg = kmsg_open_at_end();
	dev = get_af_value_raw("/dev/vsock", &value);
	CHECK_EQ("get_af_value_fails_again", value, -EAFNOSUPPORT);
	lines = kmsg_count_new(kmsg, "NET: Registered");
	tap_report(lines == 0, "busy_number_not_probed_again", "%d lines", lines);
	close(dev);
}

static void test_no_40(void)
{
	int fd = -2, af;

	/* Five checks. */
	tap_plan(5);

	CHECK_EQ("af_value_none_at_load", read_af_value(), -1);
	af = VMCISock_GetAFValueFd(&fd);
	CHECK_EQ("get_af_value_fd_first_unused", af, FIRST_UNUSED_AF);
	tap_report(fd >= 0, "get_af_value_fd_holds_fd", "fd %d", fd);
	CHECK_EQ("af_value_reserved", read_af_value(), af);
	VMCISock_ReleaseAFValueFd(fd);
	CHECK_EQ("released_with_fd", read_af_value(), -1);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "alone";
	const char *arg = argc > 2 ? argv[2] : NULL;

	if (!strcmp(mode, "alone"))
		test_alone();
	else if (!strcmp(mode, "coexist") && arg)
		test_coexist(arg);
	else if (!strcmp(mode, "pinned") && arg)
		test_pinned(atoi(arg));
	else if (!strcmp(mode, "busy") && arg)
		test_busy(atoi(arg));
	else if (!strcmp(mode, "no-40"))
		test_no_40();
	else {
		fprintf(stderr, "usage: %s alone|coexist DEV|pinned N|busy N|no-40\n", argv[0]);
		return 2;
	}
	return tap_exit_code();
}
