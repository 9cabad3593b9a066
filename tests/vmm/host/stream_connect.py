#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 The vmci-vmsock authors
"""Host end of the model VM's host-to-guest stream test: opens connections
to guest port PORT through DIR/vmci-stream ("CONNECT PORT" / "OK <port>"),
sends SIZE bytes, half-closes and checks the echo byte for byte. Retries
until the guest listens. Prints RESULT lines for the harness.

Usage: stream_connect.py DIR PORT SIZE...
"""
import os
import socket
import sys
import threading
import time

directory, port, sizes = sys.argv[1], int(sys.argv[2]), [int(x) for x in sys.argv[3:]]
path = os.path.join(directory, "vmci-stream")


def pattern(size, seed):
    return bytes((i * 7 + seed + (i >> 10)) & 0xFF for i in range(size))


def connect(deadline):
    while time.time() < deadline:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            # A request the guest never answers (not listening yet) is
            # withdrawn by closing; then try again.
            s.settimeout(3)
            s.sendall(b"CONNECT %d\n" % port)
            line = b""
            while not line.endswith(b"\n"):
                chunk = s.recv(1)
                if not chunk:
                    break
                line += chunk
            if line.startswith(b"OK "):
                s.settimeout(None)
                return s, line.strip().decode()
            s.close()
        except OSError:
            pass
        time.sleep(0.5)
    return None, None


deadline = time.time() + 240
for n, size in enumerate(sizes):
    name = "host_connect:echo_%d" % size
    s, ok = connect(deadline)
    if s is None:
        print("RESULT FAIL", name, "# no OK from the device", flush=True)
        continue
    data = pattern(size, n)

    def send():
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)

    t = threading.Thread(target=send)
    start = time.time()
    t.start()
    got = bytearray()
    while True:
        chunk = s.recv(1 << 16)
        if not chunk:
            break
        got += chunk
    t.join()
    secs = time.time() - start
    s.close()
    if bytes(got) == data:
        print("RESULT PASS", name, flush=True)
    else:
        print("RESULT FAIL", name, "# got %d bytes, want %d" % (len(got), size), flush=True)
    print("# throughput: host->guest->host %d bytes in %.3f s (%s)" % (size, secs, ok), flush=True)
