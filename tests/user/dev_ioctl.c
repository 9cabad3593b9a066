// SPDX-License-Identifier: GPL-2.0
/*
 * The version and context-ID ioctls of /dev/vmci and /dev/vsock, as a VMX
 * process and a program built with vmci_sockets.h issue them.
 *
 * Usage: dev_ioctl [vmci-device|-] [vsock-device|-]
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../include/vmci/version_info.h"
#include "tap.h"

/* ABI numbers, restated here so a wrong value in the driver is caught. */
#define VMCI_VERSION_CURRENT	0x000B0000
#define VMCI_VERSION_OLD_VMX	0x00080000
#define IOC_VMCI_VERSION	1951
#define IOC_VMCI_VERSION2	1959
#define IOC_VMCI_GET_CID	1971
#define IOC_VSOCK_VERSION	1972
#define IOC_VSOCK_GET_LOCAL_CID	1977
#define HOST_CID		2
#define BAD_POINTER		((void *)16)

static void test_vmci(const char *path)
{
	struct stat st = { 0 };
	uint32_t cid = 0;
	int version, fd, fd2;

	tap_report(stat(path, &st) == 0 && S_ISCHR(st.st_mode) &&
		   (st.st_mode & 0777) == 0600, "vmci_dev_is_root_only_chardev",
		   "mode %o", (unsigned int)st.st_mode);

	fd = open(path, O_RDWR);
	tap_report(fd >= 0, "vmci_open", "%s: %s", path, strerror(errno));
	if (fd < 0)
		return;

	CHECK_EQ("vmci_version", ioctl(fd, IOC_VMCI_VERSION, 0), VMCI_VERSION_CURRENT);

	version = VMCI_VERSION_CURRENT;
	CHECK_EQ("vmci_version2_current", ioctl(fd, IOC_VMCI_VERSION2, &version),
		 VMCI_VERSION_CURRENT);
	CHECK_ERRNO("vmci_version2_bad_pointer",
		    ioctl(fd, IOC_VMCI_VERSION2, BAD_POINTER), EFAULT);

	CHECK_EQ("vmci_get_context_id_ret", ioctl(fd, IOC_VMCI_GET_CID, &cid), 0);
	CHECK_EQ("vmci_get_context_id_is_host", cid, HOST_CID);
	CHECK_ERRNO("vmci_get_context_id_bad_pointer",
		    ioctl(fd, IOC_VMCI_GET_CID, BAD_POINTER), EFAULT);
	CHECK_ERRNO("vmci_unknown_ioctl_einval", ioctl(fd, 0x7ff, 0), EINVAL);

	/* An old VMX pins its dialect on its own fd only. */
	fd2 = open(path, O_RDWR);
	version = VMCI_VERSION_OLD_VMX;
	CHECK_EQ("vmci_version2_old_vmx", ioctl(fd2, IOC_VMCI_VERSION2, &version),
		 VMCI_VERSION_OLD_VMX);
	CHECK_EQ("vmci_version_after_old_vmx", ioctl(fd2, IOC_VMCI_VERSION, 0),
		 VMCI_VERSION_OLD_VMX);
	CHECK_EQ("vmci_version_other_fd_unaffected", ioctl(fd, IOC_VMCI_VERSION, 0),
		 VMCI_VERSION_CURRENT);
	close(fd2);
	close(fd);
}

static void test_vsock(const char *path)
{
	uint32_t value = 0xdeadbeef;
	uint32_t want = (VMCI_VMSOCK_VERSION_MAJOR & 0xFF) << 24 |
			(VMCI_VMSOCK_VERSION_MINOR & 0xFF) << 16 |
			VMCI_VMSOCK_VERSION_PATCH;
	int fd;

	fd = open(path, O_RDONLY);
	tap_report(fd >= 0, "vsock_open", "%s: %s", path, strerror(errno));
	if (fd < 0)
		return;

	CHECK_EQ("vsock_version_ret", ioctl(fd, IOC_VSOCK_VERSION, &value), 0);
	CHECK_EQ("vsock_version_value", value, want);
	CHECK_ERRNO("vsock_version_bad_pointer",
		    ioctl(fd, IOC_VSOCK_VERSION, BAD_POINTER), EFAULT);

	value = 0xdeadbeef;
	CHECK_EQ("vsock_get_local_cid_ret", ioctl(fd, IOC_VSOCK_GET_LOCAL_CID, &value), 0);
	CHECK_EQ("vsock_get_local_cid_is_host", value, HOST_CID);
	CHECK_ERRNO("vsock_unknown_ioctl_enotty", ioctl(fd, 0x7ff, 0), ENOTTY);
	close(fd);
}

int main(int argc, char **argv)
{
	const char *vmci = argc > 1 ? argv[1] : "/dev/vmci";
	const char *vsock = argc > 2 ? argv[2] : "/dev/vsock";

	/* test_vmci() reports 12 checks, test_vsock() 7. */
	tap_plan((strcmp(vmci, "-") ? 12 : 0) + (strcmp(vsock, "-") ? 7 : 0));
	if (strcmp(vmci, "-"))
		test_vmci(vmci);
	if (strcmp(vsock, "-"))
		test_vsock(vsock);
	return tap_exit_code();
}
