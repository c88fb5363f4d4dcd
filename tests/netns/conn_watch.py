#!/usr/bin/env python3
"""Watches one connection of a live dataplane expire, over one `kgw cli`
session (one EAL attach, then a `show conntrack` every 50 ms, so that the
check does not depend on how long a CLI takes to start on a busy machine).

The connection is the one whose client source port is SPORT. It must be
listed in STATE at the first look, still be listed at a look sent no earlier
than TIMEOUT - 1 s after START, and be gone at a look answered no later than
TIMEOUT + 1 s after START (START: epoch seconds of its last packet).
Prints what it saw; exit 0 when all three hold, 1 otherwise.

usage: conn_watch.py KGW FILE_PREFIX SPORT STATE TIMEOUT START
"""
import re
import subprocess
import sys
import time


def look(cli):
    """The `show conntrack` answer's lines, with the times it was asked and answered."""
    sent = time.time()
    cli.stdin.write("show conntrack\n")
    cli.stdin.flush()
    lines = []
    while True:
        line = cli.stdout.readline()
        if not line:
            raise RuntimeError("kgw cli exited")
        lines.append(line.rstrip("\n"))
        if re.match(r"^\d+ connections", line):
            return sent, time.time(), lines


def main():
    if len(sys.argv) != 7:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    kgw, prefix, sport, state, timeout, start = sys.argv[1:7]
    timeout, start = float(timeout), float(start)
    mine = re.compile(r":" + re.escape(sport) + r" -> ")
    cli = subprocess.Popen([kgw, "cli", "--file-prefix", prefix], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, bufsize=1)
    try:
        first = None
        late_present = False
        while True:
            sent, answered, lines = look(cli)
            entry = next((l for l in lines if mine.search(l)), None)
            if first is None:
                first = entry
                print(f"  first look: {entry}")
                if not entry or f" {state} " not in entry:
                    print(f"FAIL: the connection from port {sport} is not listed in state {state}")
                    return 1
            if entry and sent >= start + timeout - 1:
                late_present = True
            if not entry:
                gone = answered - start
                print(f"  gone at a look answered {gone:.2f} s after its last packet (timeout {timeout:g} s)")
                if not late_present:
                    print(f"FAIL: gone before {timeout - 1:g} s")
                    return 1
                if gone > timeout + 1:
                    print(f"FAIL: still listed more than a second past its timeout")
                    return 1
                return 0
            if answered > start + timeout + 1:
                print(f"FAIL: still listed {answered - start:.2f} s after its last packet: {entry}")
                return 1
            time.sleep(0.05)
    except RuntimeError as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        cli.stdin.close()
        cli.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
