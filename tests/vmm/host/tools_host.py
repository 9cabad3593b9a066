#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 The vmci-vmsock authors
"""The hypervisor's (CID 0) VMware Tools endpoints, on the device's
host-dir sockets (vmci_bridge.h): a guest stream to {0, 976} arrives on
DIR/hv-stream-976 (the guest RPC channel, RPCI), one to {0, 975} on
DIR/hv-stream-975 (the host-driven command channel, TCLO). Each starts
with the device's line "VSOCK <guest cid> <guest port>".

Wire format and semantics: ../shared/docs/vmci-abi-facts.md, section
"VMware Tools over vSockets". A packet is a big-endian u32 length, then
entries (u32 type, u32 field id, value): type 1 an integer as two
big-endian u32 words, low word first (any nonzero counts as true); type 2
a string, u32 length > 0 then the bytes. Fields: 1 TYPE (1 data, 2 ping),
2 PAYLOAD, 3 FAST_CLOSE. Anything else, or a repeated field, is invalid
and ends the connection: nothing a guest sends is trusted.

RPCI: "info-set <key> <value>" stores (answer "1 "), "info-get <key>"
answers "1 <value>" or "0 No value found"; every other command "1 ".
A caller from a source port below 1024 is privileged. The facts give a
real host no rule that refuses an unprivileged caller, so none is
refused here; the classification is recorded and visible to tests.

Keys the endpoint publishes (test instrumentation, read with info-get;
the guest may not set them):
  guestinfo.vmm.channel     "<cid> <port> privileged|unprivileged": the
                            asking connection as this host sees it
  guestinfo.vmm.tclo.<port> the verdict on the command-channel session
                            from guest port <port>: "pass", or "fail: ..."
  guestinfo.vmm.tclo.last   "<port> <verdict>" of the newest session

TCLO: the host speaks first. Each session sends "reset" (the guest must
answer "OK ATR toolbox"), "ping" ("OK ") and an unknown command
("ERROR Unknown Command"), then keeps the channel, ignoring the guest's
TYPE 2 keep-alives. Each check is also a RESULT line, named by the
session's number (tools:tclo1_reset, ...).

Usage: tools_host.py DIR
"""
import os
import socket
import struct
import sys
import threading

from hostlog import log

directory = sys.argv[1]

F_TYPE, F_PAYLOAD, F_FAST_CLOSE = 1, 2, 3
T_INT, T_STRING = 1, 2
KIND_DATA, KIND_PING = 1, 2
# Bounds on what a guest can make this process hold.
MAX_PACKET = 1 << 20
MAX_KEYS = 1024
MAX_STORED = 8 << 20
RESERVED = "guestinfo.vmm."

store = {}
store_lock = threading.Lock()


class Invalid(Exception):
    pass


def read_exact(conn, n):
    data = bytearray()
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


def read_caller(conn):
    line = b""
    while not line.endswith(b"\n"):
        c = conn.recv(1)
        if not c or len(line) > 64:
            raise Invalid("no caller line")
        line += c
    words = line.split()
    if len(words) != 3 or words[0] != b"VSOCK":
        raise Invalid("bad caller line %r" % line)
    return int(words[1]), int(words[2])


def parse(body):
    fields, off = {}, 0
    while off < len(body):
        if len(body) - off < 8:
            raise Invalid("truncated entry")
        etype, fid = struct.unpack_from(">II", body, off)
        off += 8
        if fid in fields:
            raise Invalid("field %d repeated" % fid)
        if etype == T_INT:
            if len(body) - off < 8:
                raise Invalid("truncated integer")
            low, high = struct.unpack_from(">II", body, off)
            off += 8
            fields[fid] = low | high << 32
        elif etype == T_STRING:
            if len(body) - off < 4:
                raise Invalid("truncated string length")
            (n,) = struct.unpack_from(">I", body, off)
            off += 4
            if n == 0 or n > len(body) - off:
                raise Invalid("string length %d" % n)
            fields[fid] = body[off:off + n]
            off += n
        else:
            raise Invalid("entry type %d" % etype)
    kind = fields.get(F_TYPE)
    if not isinstance(kind, int) or kind not in (KIND_DATA, KIND_PING):
        raise Invalid("packet type %r" % kind)
    payload = fields.get(F_PAYLOAD, b"")
    if not isinstance(payload, bytes) or (kind == KIND_DATA and not payload):
        raise Invalid("payload")
    fast_close = fields.get(F_FAST_CLOSE, 0)
    if not isinstance(fast_close, int):
        raise Invalid("fast close")
    return kind, payload, bool(fast_close)


def read_packet(conn):
    (n,) = struct.unpack(">I", read_exact(conn, 4))
    if n > MAX_PACKET:
        raise Invalid("packet of %d bytes" % n)
    return parse(read_exact(conn, n))


def packet(payload):
    body = struct.pack(">IIII", T_INT, F_TYPE, KIND_DATA, 0)
    body += struct.pack(">III", T_STRING, F_PAYLOAD, len(payload)) + payload
    return struct.pack(">I", len(body)) + body


def text(payload):
    # One NUL at the end is the C string's; it is not part of the command.
    if payload.endswith(b"\0"):
        payload = payload[:-1]
    return payload.decode("utf-8", errors="replace")


def publish(key, value):
    with store_lock:
        store[key] = value


def info_set(args, privileged):
    key, _, value = args.partition(" ")
    if not key:
        return "0 Missing key"
    if key.startswith(RESERVED):
        return "0 Read-only key"
    with store_lock:
        size = sum(len(v) for v in store.values()) - len(store.get(key, ""))
        if key not in store and len(store) >= MAX_KEYS or size + len(value) > MAX_STORED:
            return "0 Too much guest information"
        store[key] = value
    if key.startswith("guestinfo.vmtools."):
        log("daemon version info:", key, "=", value[:80])
    return "1 "


def info_get(key, caller, privileged):
    if key == RESERVED + "channel":
        return "1 %d %d %s" % (caller[0], caller[1],
                               "privileged" if privileged else "unprivileged")
    with store_lock:
        value = store.get(key)
    return "0 No value found" if value is None else "1 " + value


def rpci_answer(command, caller, privileged):
    verb, _, args = command.partition(" ")
    if verb == "info-set":
        return info_set(args, privileged)
    if verb == "info-get":
        return info_get(args.strip(), caller, privileged)
    return "1 "


def serve_rpci(conn):
    caller = read_caller(conn)
    privileged = caller[1] < 1024
    log("rpci: connection from %d:%d (%s)" % (caller[0], caller[1],
                                            "privileged" if privileged else "unprivileged"))
    while True:
        try:
            kind, payload, fast_close = read_packet(conn)
        except EOFError:
            return
        if kind != KIND_DATA:
            continue
        command = text(payload)
        answer = rpci_answer(command, caller, privileged)
        log("rpci %d: %s -> %s" % (caller[1], command[:100], answer[:60]))
        conn.sendall(packet(answer.encode()))
        if fast_close:
            return


def next_reply(conn):
    while True:
        kind, payload, _ = read_packet(conn)
        if kind == KIND_DATA:
            return text(payload)


sessions = [0]


def serve_tclo(conn):
    caller = read_caller(conn)
    with store_lock:
        sessions[0] += 1
        n = sessions[0]
    conn.settimeout(60)
    log("tclo: session %d from %d:%d" % ((n,) + caller))
    failures = []
    for command, want, name in (("reset", "OK ATR toolbox", "reset"),
                                ("ping", "OK ", "ping"),
                                ("vmm.no-such-command", "ERROR Unknown Command", "unknown")):
        conn.sendall(packet(command.encode()))
        try:
            got = next_reply(conn)
        except (EOFError, socket.timeout) as e:
            got = "<%s>" % type(e).__name__
        ok = got == want
        log("RESULT %s tools:tclo%d_%s%s" % ("PASS" if ok else "FAIL", n, name,
                                             "" if ok else " # got %r" % got[:60]))
        if not ok:
            failures.append("%s got %r" % (command, got[:40]))
            break
    verdict = "pass" if not failures else "fail: " + "; ".join(failures)
    publish(RESERVED + "tclo.%d" % caller[1], verdict)
    publish(RESERVED + "tclo.last", "%d %s" % (caller[1], verdict))
    # Keep the channel; the guest's keep-alives are ignored until it leaves.
    conn.settimeout(None)
    while True:
        try:
            next_reply(conn)
        except EOFError:
            return


def serve(conn, handler):
    with conn:
        try:
            handler(conn)
        except (Invalid, OSError, ValueError) as e:
            log("%s: connection ended: %s" % (handler.__name__, e))


def listen(port):
    path = os.path.join(directory, "hv-stream-%d" % port)
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(64)
    return s


def accept_loop(server, handler):
    while True:
        c, _ = server.accept()
        threading.Thread(target=serve, args=(c, handler), daemon=True).start()


servers = [(listen(976), serve_rpci), (listen(975), serve_tclo)]
log("hypervisor endpoints on ports 976 (RPCI) and 975 (TCLO)")
for server, handler in servers[1:]:
    threading.Thread(target=accept_loop, args=(server, handler), daemon=True).start()
accept_loop(*servers[0])
