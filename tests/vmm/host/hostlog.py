# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 The vmci-vmsock authors
"""One output line at a time for the host programs' threads.

print() writes its words and its newline separately, so two threads
printing together can splice a line into another, and the harness then
misses a RESULT line that does not start its own line (seen: a model
VM's host_results check failing on "connection:RESULT PASS ...").
"""
import threading

_lock = threading.Lock()


def log(*words):
    with _lock:
        print(*words, flush=True)
