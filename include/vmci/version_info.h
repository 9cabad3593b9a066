/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Release version of vmci.ko and vmsock.ko. Keep in step with
 * PACKAGE_VERSION in dkms.conf (tests/static/check-version.sh checks).
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_VERSION_INFO_H
#define VMCI_VERSION_INFO_H

#define VMCI_VMSOCK_VERSION_MAJOR	0
#define VMCI_VMSOCK_VERSION_MINOR	1
#define VMCI_VMSOCK_VERSION_PATCH	0
#define VMCI_VMSOCK_VERSION_STRING	"0.1.0"

#endif
