#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 The vmci-vmsock authors
"""The hostile device (make fuzz-device): while the guest's own stack runs
traffic (tests/vmm/guest/fuzz_traffic.c), send the device model's fault
commands (vmci_bridge.c) at random, from a seeded generator, for SECS
seconds. The same seed draws the same random numbers; which stream a
qpdetach hits, whether a reset is due, and what the guest is doing when a
command lands depend on timing, so a replay is close, not exact.

  CID 2 port STREAM (DIR/stream-STREAM): the guest's streams. Each starts
      with a line naming the guest's port, so that qpdetach and junk qhead
      can name a live connection; then everything is echoed.
  CID 2 port CTL (DIR/dgram-CTL): "start" begins the faults (once) and is
      answered "started SEED"; "status" is answered "running N" or
      "stopped N" (N commands sent). The guest retries both: a fault may
      eat a datagram.

Commands go straight to DIR/vmci-control; the answers are counted. Prints
"# device fuzz: ..." lines for the harness (seed, counts, rate).

Usage: device_fuzz.py DIR SEED SECS STREAM_PORT CTL_PORT BASE_CID
"""
import os
import random
import socket
import struct
import sys
import threading
import time

directory = sys.argv[1]
seed, secs = int(sys.argv[2]), float(sys.argv[3])
stream_port, ctl_port, base_cid = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])

# The junk kinds of tests/vmm/vmci_model_junk.c.
JUNK = ["event-short", "event-long", "event-unknown", "event-bare", "detach-unknown",
        "detach-invalid", "dgram-unknown", "vsock-short", "vsock-garbage", "oversize",
        "dma-resize"]
# Events the model raises bare (no payload): the ones that need one arrive short.
EVENTS = [0, 1, 2, 3, 4, 7, 8]
# Hypercalls a running guest makes again: doorbells and queue pairs. Not
# SET_NOTIFY_BITMAP (2): only the set-up after a reset sends it, and a
# device that refuses that set-up is left alone until an unbind and bind,
# by design (vmci_guest_recover_work()), so the check after the faults
# would fail on a refusal, not on a bug.
FAIL_RIDS = [3, 4, 5, 10, 11]
# A refused QUEUEPAIR_DETACH (11) parks the pair's pages, and their charge
# on the guest's 128 MiB queue-pair budget, until the module goes: by
# design (vmci/guest_qpair.c), since the device may still write them.
# Some 250 refusals (520 KiB each, a 600 s run) exhaust that budget, and
# the fresh stream after the faults then fails on the design, not on a
# bug (2026-12-06, seed 3100813032). So at most this many; after that a
# refused QUEUEPAIR_ALLOC (10) instead.
MAX_DETACH_REFUSALS = 100
FAIL_RESULTS = [-1, -3, -19, -20]
# (kind, weight). A CID change ends every stream, a reset takes the guest
# seconds to recover from: both rare, and resets RESET_GAP seconds apart,
# or the guest would spend the whole run recovering.
KINDS = [("junk", 40), ("event", 10), ("qpdetach", 12), ("qhead", 12), ("fail", 8),
         ("cid", 2), ("reset", 2)]
RESET_GAP = 20

live = set()            # guest ports with an open stream to us
live_lock = threading.Lock()
state = {"started": False, "stopped": False, "sent": 0, "last_reset": -RESET_GAP,
         "detach_refusals": 0}


def unix_dgram(name):
    path = os.path.join(directory, name)
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    return s


def echo(conn):
    gport = None
    with conn:
        buf = b""
        try:
            while b"\n" not in buf:
                chunk = conn.recv(64)
                if not chunk:
                    return
                buf += chunk
            line, rest = buf.split(b"\n", 1)
            gport = int(line)
            with live_lock:
                live.add(gport)
            if rest:
                conn.sendall(rest)
            while True:
                data = conn.recv(1 << 16)
                if not data:
                    break
                conn.sendall(data)
        except (OSError, ValueError):
            pass
        finally:
            with live_lock:
                live.discard(gport)


def serve_streams():
    path = os.path.join(directory, "stream-%d" % stream_port)
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(64)
    while True:
        c, _ = server.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()


def pick(rng):
    kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
    if kind == "junk":
        return "junk " + rng.choice(JUNK)
    if kind == "event":
        return "event %d" % rng.choice(EVENTS)
    if kind == "fail":
        rid = rng.choice(FAIL_RIDS)
        if rid == 11 and state["detach_refusals"] >= MAX_DETACH_REFUSALS:
            rid = 10
        elif rid == 11:
            state["detach_refusals"] += 1
        return "fail %d %d" % (rid, rng.choice(FAIL_RESULTS))
    if kind == "cid":
        return "cid %d" % (base_cid + rng.randrange(4))
    if kind == "reset":
        if time.monotonic() - state["last_reset"] >= RESET_GAP:
            state["last_reset"] = time.monotonic()
            return "reset"
        kind = "qhead"
    # qpdetach / junk qhead: a live stream if there is one (sorted, so the
    # choice depends on the seed and the set, not on hash order).
    with live_lock:
        ports = sorted(live)
    gport = rng.choice(ports) if ports else 1
    verb = "qpdetach" if kind == "qpdetach" else "junk qhead"
    return "%s %d %d" % (verb, gport, stream_port)


def fuzz():
    rng = random.Random(seed)
    ctl = unix_dgram("fuzz-control")
    ctl.settimeout(2)
    control = os.path.join(directory, "vmci-control")
    counts, ok, err, lost = {}, 0, 0, 0
    start = time.monotonic()
    while time.monotonic() - start < secs:
        cmd = pick(rng)
        # Counted per junk kind, else per verb.
        verb = cmd.split()[1] if cmd.startswith("junk ") else cmd.split()[0]
        counts[verb] = counts.get(verb, 0) + 1
        ctl.sendto(cmd.encode(), control)
        try:
            answer = ctl.recv(64)
            if answer == b"OK":
                ok += 1
            else:
                err += 1
        except socket.timeout:
            lost += 1
        state["sent"] += 1
        print("cmd %.3f %s" % (time.monotonic() - start, cmd), flush=True)
        # 0-80 ms apart: bursts and pauses both.
        time.sleep(rng.random() * 0.08)
    took = time.monotonic() - start
    state["stopped"] = True
    print("# device fuzz: seed %d, %d faults in %.1f s (%.1f/s), OK %d, refused %d, "
          "unanswered %d" % (seed, state["sent"], took, state["sent"] / took, ok, err, lost),
          flush=True)
    print("# device fuzz: per kind: " +
          ", ".join("%s %d" % (k, counts[k]) for k in sorted(counts)), flush=True)


def serve_ctl():
    s = unix_dgram("dgram-%d" % ctl_port)
    device = os.path.join(directory, "vmci-dgram")
    while True:
        data, _ = s.recvfrom(1 << 16)
        if len(data) < 8:
            continue
        gport = struct.unpack_from("<I", data)[0]
        word = data[8:].decode(errors="replace")
        if word == "start" and not state["started"]:
            state["started"] = True
            print("# device fuzz: start, seed %d, %.0f s" % (seed, secs), flush=True)
            threading.Thread(target=fuzz, daemon=True).start()
        if word == "start":
            reply = "started %d" % seed
        elif word == "status":
            reply = "%s %d" % ("stopped" if state["stopped"] else "running", state["sent"])
        else:
            continue
        s.sendto(struct.pack("<II", gport, ctl_port) + reply.encode(), device)


threading.Thread(target=serve_streams, daemon=True).start()
serve_ctl()
