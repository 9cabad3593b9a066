#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 The vmci-vmsock authors
"""Host end of the model VM's tests, on the device's host-dir sockets.

CID 2 port ECHO: every datagram goes back to the guest port it came from.
CID 2 port ECHO+1: the payload is a device control command (vmci_bridge.h),
so a guest test can ask for a fault or a CID change at the moment it wants.
The device's answer ("OK" or "ERR ...") goes back to the guest port that
sent the command, after whatever the command queued for the guest.

Usage: dgram_echo.py DIR ECHO_PORT
"""
import os
import select
import socket
import struct
import sys

directory, port = sys.argv[1], int(sys.argv[2])
device = os.path.join(directory, "vmci-dgram")
control = os.path.join(directory, "vmci-control")


def bound(p):
    path = os.path.join(directory, "dgram-%d" % p)
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    return s


echo, ctl = bound(port), bound(port + 1)
print("listening on ports", port, port + 1, flush=True)
asker = None
while True:
    for s in select.select([echo, ctl], [], [])[0]:
        data, sender = s.recvfrom(1 << 20)
        if s is ctl and str(sender).endswith("vmci-control"):
            print("control answered:", data.decode(errors="replace"), flush=True)
            if asker is not None:
                s.sendto(struct.pack("<II", asker, port + 1) + data, device)
            continue
        if len(data) < 8:
            continue
        guest_port, host_port = struct.unpack_from("<II", data)
        if s is echo:
            # The reply names the guest port first, then the port it comes from.
            s.sendto(struct.pack("<II", guest_port, host_port) + data[8:], device)
        else:
            print("control:", data[8:].decode(errors="replace"), flush=True)
            asker = guest_port
            s.sendto(data[8:], control)
