#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 The vmci-vmsock authors
"""Host end of the model VM's bulk stream test (guest/model_bulk.c) on
DIR/stream-PORT. Each connection starts with one line:

  recv N   read until EOF; answer "<count> <crc32 hex>\\n" and close
  send N   answer "N <crc32 hex>\\n", send N pseudo-random bytes, close

Usage: stream_bulk.py DIR PORT
"""
import os
import random
import socket
import sys
import threading
import zlib

from hostlog import log

directory, port = sys.argv[1], int(sys.argv[2])
path = os.path.join(directory, "stream-%d" % port)
if os.path.exists(path):
    os.unlink(path)
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(8)


def read_line(conn):
    line = b""
    while not line.endswith(b"\n") and len(line) < 64:
        c = conn.recv(1)
        if not c:
            break
        line += c
    return line.decode(errors="replace").split()


def serve(conn):
    with conn:
        words = read_line(conn)
        if len(words) != 2 or words[0] not in ("recv", "send"):
            log("bad request", words)
            return
        size = int(words[1])
        if words[0] == "recv":
            count, crc = 0, 0
            while True:
                data = conn.recv(1 << 20)
                if not data:
                    break
                count += len(data)
                crc = zlib.crc32(data, crc)
            conn.sendall(b"%d %08x\n" % (count, crc))
            log("received", count, "bytes crc %08x" % crc)
        else:
            data = random.Random(size).randbytes(size)
            conn.sendall(b"%d %08x\n" % (size, zlib.crc32(data)))
            conn.sendall(data)
            log("sent", size, "bytes")


while True:
    c, _ = server.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
