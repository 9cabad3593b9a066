#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 The vmci-vmsock authors
"""Host end of the model VM's stream lifecycle test (guest/model_lifecycle.c)
on DIR/stream-PORT. Each connection starts with one line naming what this
end does:

  close   close at once (the guest must see the host end detach)
  shut    shut the sending side, then read until EOF: the guest's
          "after-shutdown" must arrive (RESULT line)
  hold    read until EOF: the 1000 bytes the guest wrote before its
          close, then EOF (RESULT line)
  echo    echo until EOF

Prints RESULT lines for the harness.

Usage: stream_lifecycle.py DIR PORT
"""
import os
import socket
import sys
import threading

from hostlog import log

directory, port = sys.argv[1], int(sys.argv[2])
path = os.path.join(directory, "stream-%d" % port)
if os.path.exists(path):
    os.unlink(path)
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(8)


def read_all(conn, first):
    data = bytearray(first)
    while True:
        chunk = conn.recv(1 << 16)
        if not chunk:
            return bytes(data)
        data += chunk


def result(ok, name, detail):
    log("RESULT %s lifecycle:%s%s" % ("PASS" if ok else "FAIL", name,
                                      "" if ok else " # " + detail))


def serve(conn):
    with conn:
        buf = b""
        while b"\n" not in buf:
            chunk = conn.recv(64)
            if not chunk:
                return
            buf += chunk
        mode, rest = buf.split(b"\n", 1)
        mode = mode.decode(errors="replace")
        log("connection:", mode)
        if mode == "close":
            return
        if mode == "shut":
            conn.shutdown(socket.SHUT_WR)
            got = read_all(conn, rest)
            result(got == b"after-shutdown", "host_shutdown_guest_still_sends",
                   "got %r" % got[:40])
        elif mode == "hold":
            got = read_all(conn, rest)
            result(got == b"g" * 1000, "guest_close_data_then_eof",
                   "got %d bytes" % len(got))
        elif mode == "echo":
            data = rest
            while True:
                if data:
                    conn.sendall(data)
                data = conn.recv(1 << 16)
                if not data:
                    break


while True:
    c, _ = server.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
