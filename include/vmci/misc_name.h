/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_MISC_NAME_H
#define VMCI_MISC_NAME_H

#include <linux/namei.h>
#include <linux/path.h>

/*
 * The in-tree vmw_vmci and vsock drivers register misc devices named
 * "vmci" and "vsock". Registering a second device with the same name makes
 * sysfs print a stack dump and fail, so ask sysfs first and let the caller
 * pick its fallback name with a clear log line instead.
 */
static inline bool vmci_misc_name_taken(const char *name)
{
	char sysfs_path[64];
	struct path path;

	snprintf(sysfs_path, sizeof(sysfs_path), "/sys/class/misc/%s", name);
	if (kern_path(sysfs_path, LOOKUP_FOLLOW, &path))
		return false;
	path_put(&path);
	return true;
}

#endif /* VMCI_MISC_NAME_H */
