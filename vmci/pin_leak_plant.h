/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A leak planted on purpose, for the nested run's negative control
 * (tests/nested/run, NESTED_PLANT=pin_leak): only a build made with
 * VMCI_PLANT_PIN_LEAK=y has it; every other build compiles it away. When
 * the broker lets go of a VMM's queue-pair pages it keeps the first one
 * pinned, the bug the nested run's pin checks exist to catch. Those checks
 * read the core mm's FOLL_PIN counters, not ours, so the plant leaves our
 * own RLIMIT_MEMLOCK charge correct: only an independent count can see it.
 *
 * Copyright (C) 2026 The vmci-vmsock authors
 */
#ifndef VMCI_PIN_LEAK_PLANT_H
#define VMCI_PIN_LEAK_PLANT_H

#ifdef VMCI_PLANT_PIN_LEAK
#define VMCI_PAGES_KEPT_PINNED 1U
#else
#define VMCI_PAGES_KEPT_PINNED 0U
#endif

#endif /* VMCI_PIN_LEAK_PLANT_H */
