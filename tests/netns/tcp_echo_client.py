#!/usr/bin/python3
"""Kernel TCP clients against kgw's echo service (ingress.echo_port), for
tcp_echo_test.sh. Each mode exits 0 on success and prints one summary line;
on failure it prints what went wrong and exits 1.

  bulk HOST PORT BYTES        send BYTES (a seeded stream), shut the sending
                              side, read the echo to EOF; sha256 of both sides
                              must match (the server honours the half-close)
  many HOST PORT COUNT        COUNT connections open at once, a distinct line
                              each, every answer checked, then all closed
  stall HOST PORT BYTES SECS  send without reading until both directions are
                              full (zero windows), wait SECS, then read it all
  options HOST PORT           one connection held open while `ss -tin` shows
                              what the kernel negotiated (printed)
  reset HOST PORT             a connection aborted with a RST (SO_LINGER 0)
  refused HOST PORT           a connection to a port nothing listens on must be
                              refused (RST)
  keep HOST PORT SECS MINOK   connect, echo a line, close, again, for SECS
                              seconds; at least MINOK must succeed and none may
                              fail
"""
import hashlib
import os
import resource
import selectors
import socket
import struct
import subprocess
import sys
import threading
import time


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def connect(host, port, timeout=10):
    s = socket.socket(family_of(host), socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def stream(nbytes, seed=12345):
    """A reproducible stream that is not all the same byte, in 64 KiB pieces."""
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB
    sent = 0
    i = 0
    while sent < nbytes:
        piece = block[i % 7:] + block[: i % 7]  # shifts so that pieces differ
        piece = piece[: min(len(piece), nbytes - sent)]
        yield piece
        sent += len(piece)
        i += 1


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def bulk(host, port, nbytes):
    s = connect(host, port, timeout=60)
    s.settimeout(None)
    sent_hash = hashlib.sha256()
    got_hash = hashlib.sha256()
    got = 0
    err = []

    def reader():
        nonlocal got
        try:
            while True:
                b = s.recv(1 << 20)
                if not b:
                    return
                got_hash.update(b)
                got += len(b)
        except OSError as e:
            err.append(e)

    t = threading.Thread(target=reader)
    t0 = time.monotonic()
    t.start()
    for piece in stream(nbytes):
        s.sendall(piece)
        sent_hash.update(piece)
    s.shutdown(socket.SHUT_WR)
    t.join(timeout=600)
    dt = time.monotonic() - t0
    s.close()
    if err:
        fail(f"reading the echo: {err[0]}")
    if got != nbytes:
        fail(f"sent {nbytes} bytes, {got} came back")
    if sent_hash.hexdigest() != got_hash.hexdigest():
        fail(f"sha256 differs: sent {sent_hash.hexdigest()}, got {got_hash.hexdigest()}")
    print(f"bulk: {nbytes} bytes echoed in {dt:.2f} s ({nbytes / dt / 1e6:.1f} MB/s each way), "
          f"sha256 {sent_hash.hexdigest()[:16]} both ways")


def many(host, port, count):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = count + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    socks = []
    sel = selectors.DefaultSelector()
    t0 = time.monotonic()
    # Non-blocking connects, all in flight at once.
    for i in range(count):
        s = socket.socket(family_of(host), socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex((host, port))
        if rc not in (0, 115):  # EINPROGRESS
            fail(f"connect {i}: errno {rc}")
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE, i)
    pending = set(range(count))
    deadline = time.monotonic() + 30
    while pending and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            i = key.data
            err = socks[i].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                fail(f"connection {i}: errno {err}")
            sel.unregister(socks[i])
            pending.discard(i)
    if pending:
        fail(f"{len(pending)} of {count} connections not established within 30 s")
    established = time.monotonic() - t0
    # Every connection open at once now: a line each, then every answer.
    for i, s in enumerate(socks):
        s.setblocking(True)
        s.settimeout(20)
        s.sendall(f"connection {i} of {count}\n".encode())
    for i, s in enumerate(socks):
        want_line = f"connection {i} of {count}\n".encode()
        got = b""
        while len(got) < len(want_line):
            b = s.recv(len(want_line) - len(got))
            if not b:
                break
            got += b
        if got != want_line:
            fail(f"connection {i}: sent {want_line!r}, got {got!r}")
    for s in socks:
        s.shutdown(socket.SHUT_WR)
    for i, s in enumerate(socks):
        if s.recv(16) != b"":
            fail(f"connection {i}: data after the echo instead of the server's FIN")
        s.close()
    print(f"many: {count} concurrent connections established in {established:.2f} s, all echoed and closed")


def stall(host, port, nbytes, secs):
    s = connect(host, port)
    s.setblocking(False)
    data = b"".join(stream(nbytes, seed=99))
    off = 0
    # Write until the kernel will take no more: our receive buffer is full
    # (we do not read), so the gateway's send buffer fills, it stops reading,
    # its window closes, and our send buffer fills.
    idle_since = None
    while off < len(data):
        try:
            off += s.send(data[off: off + 65536])
            idle_since = None
        except BlockingIOError:
            if idle_since is None:
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > 2:
                break
            time.sleep(0.05)
    if off >= len(data):
        fail(f"all {len(data)} bytes were accepted without reading: make BYTES larger than both windows")
    info = subprocess.run(["ss", "-tinH", "dst", f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"],
                          capture_output=True, text=True).stdout
    print(f"stall: {off} of {len(data)} bytes written before both directions filled; ss: {' '.join(info.split())}")
    time.sleep(secs)
    # Read everything back while writing the rest.
    s.setblocking(True)
    s.settimeout(30)
    got = bytearray()
    sel_done = threading.Event()
    err = []

    def writer():
        nonlocal off
        try:
            while off < len(data):
                off += s.send(data[off: off + 65536])
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            err.append(e)
        sel_done.set()

    t = threading.Thread(target=writer)
    t.start()
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        got += b
    t.join(timeout=30)
    s.close()
    if err:
        fail(f"writing after the stall: {err[0]}")
    if bytes(got) != data:
        fail(f"after the stall: {len(got)} bytes back of {len(data)}, equal prefix "
             f"{next((i for i in range(min(len(got), len(data))) if got[i] != data[i]), min(len(got), len(data)))}")
    print(f"stall: resumed after {secs} s, all {len(data)} bytes echoed in order")


def options(host, port):
    s = connect(host, port)
    s.sendall(b"ping\n")
    if s.recv(16) != b"ping\n":
        fail("no echo")
    dst = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    info = subprocess.run(["ss", "-tinH", "dst", dst], capture_output=True, text=True).stdout
    print("ss:", " ".join(info.split()))
    # The kernel's own record (struct tcp_info: tcpi_options, then the two
    # window shifts), as ss reads it: this ss may not print every option.
    ti = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
    opts = ti[5]
    names = [n for bit, n in ((1, "ts"), (2, "sack"), (4, "wscale")) if opts & bit]
    print(f"tcp_info: options {' '.join(names)} snd_wscale {ti[6] & 15} rcv_wscale {ti[6] >> 4}")
    s.close()


def reset(host, port):
    s = connect(host, port)
    s.sendall(b"about to reset\n")
    if s.recv(64) != b"about to reset\n":
        fail("no echo before the reset")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("reset: a connection aborted with RST")


def refused(host, port):
    try:
        s = connect(host, port, timeout=5)
    except ConnectionRefusedError:
        print(f"refused: port {port} answered with RST")
        return
    except OSError as e:
        fail(f"port {port}: {e} instead of a RST")
    s.close()
    fail(f"port {port} accepted a connection")


def keep(host, port, secs, min_ok):
    ok = 0
    t_end = time.monotonic() + secs
    worst = 0.0
    while time.monotonic() < t_end:
        t0 = time.monotonic()
        try:
            s = connect(host, port, timeout=10)
            line = f"legit {ok}\n".encode()
            s.sendall(line)
            got = b""
            while len(got) < len(line):
                b = s.recv(64)
                if not b:
                    break
                got += b
            s.close()
        except OSError as e:
            fail(f"connection {ok + 1} during the flood: {e}")
        if got != line:
            fail(f"connection {ok + 1} during the flood: sent {line!r}, got {got!r}")
        ok += 1
        worst = max(worst, time.monotonic() - t0)
        time.sleep(0.01)
    if ok < min_ok:
        fail(f"only {ok} connections in {secs} s (wanted {min_ok})")
    print(f"keep: {ok} connections during {secs} s, every one echoed, slowest {worst * 1000:.0f} ms")


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    args = [int(a) for a in sys.argv[4:]]
    {"bulk": bulk, "many": many, "stall": stall, "options": options, "reset": reset, "refused": refused,
     "keep": keep}[mode](host, port, *args)


if __name__ == "__main__":
    main()
