#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 The vmci-vmsock authors
"""Host end of the model VM's stream test: a guest connection to CID 2
port PORT arrives on DIR/stream-PORT; echo every byte, and when the guest
stops sending, stop too.

Usage: stream_echo.py DIR PORT
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
server.listen(256)


def echo(conn):
    total = 0
    with conn:
        while True:
            data = conn.recv(1 << 16)
            if not data:
                break
            conn.sendall(data)
            total += len(data)
        conn.shutdown(socket.SHUT_WR)
    log("echoed", total, "bytes")


while True:
    c, _ = server.accept()
    threading.Thread(target=echo, args=(c,), daemon=True).start()
