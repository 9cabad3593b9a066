#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 The vmci-vmsock authors
"""Host end of the guest benchmark's datagram row, on a device's host-dir.

CID 2 port PORT counts the datagrams whose payload starts with "D". A
datagram whose payload is "Q" is answered, to the guest port that sent
it, with the count since the last "Q" in ASCII; the count starts again.

Usage: dgram_sink.py DIR PORT
"""
import os
import socket
import struct
import sys

directory, port = sys.argv[1], int(sys.argv[2])
device = os.path.join(directory, "vmci-dgram")
path = os.path.join(directory, "dgram-%d" % port)
if os.path.exists(path):
    os.unlink(path)
sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
# The model refuses a datagram (NO_RESOURCES to the guest) while this is full.
sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
sink.bind(path)
print("counting on port", port, flush=True)
count = 0
while True:
    data = sink.recv(1 << 20)
    if len(data) < 9:
        continue
    if data[8:9] == b"D":
        count += 1
    elif data[8:] == b"Q":
        guest_port, host_port = struct.unpack_from("<II", data)
        sink.sendto(struct.pack("<II", guest_port, host_port) + b"%d" % count, device)
        print("guest port", guest_port, "asked: counted", count, flush=True)
        count = 0
