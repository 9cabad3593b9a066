// SPDX-License-Identifier: GPL-2.0
/*
 * The one place vmci.ko's tracepoints (vmci_trace.h) are instantiated.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#define CREATE_TRACE_POINTS
#include "vmci_trace.h"
