#!/usr/bin/env python3
"""Drives the interactive `kgw cli` through a pseudo-terminal: Tab must
complete a partial command, `help` must list the commands, `quit` must end
the shell with exit code 0.

usage: cli_pty.py KGW FILE_PREFIX
"""
import os
import pty
import select
import signal
import sys
import time


class Reader:
    """Reads the shell's output; each wait starts after the previous match, so
    text that arrived in the same chunk as an earlier match is not lost."""

    def __init__(self, fd):
        self.fd, self.buf, self.pos = fd, b"", 0

    def until(self, needle, timeout=10.0):
        end = time.time() + timeout
        while True:
            at = self.buf.find(needle, self.pos)
            if at >= 0:
                self.pos = at + len(needle)
                return
            if time.time() >= end:
                break
            r, _, _ = select.select([self.fd], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:
                    break
                if not chunk:
                    break
                self.buf += chunk
        raise AssertionError(f"did not see {needle!r}; got {self.buf[self.pos:][-600:]!r}")


def start_shell(kgw, prefix):
    """Starts `kgw cli` on a pty and waits for its prompt. A shell that exits
    before prompting is reported with its exit status and started again (twice
    at most): attaching as a DPDK secondary can fail while other tests' DPDK
    processes start or stop; the failure must be seen, not hidden."""
    for attempt in range(3):
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(kgw, [kgw, "cli", "--file-prefix", prefix])
        out = Reader(fd)
        try:
            # Attaching can take a while when both cores are busy (the worker
            # polls one; parallel tests load the other).
            out.until(b"kgw> ", timeout=60.0)
            return pid, out
        except AssertionError as e:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done == 0:  # still running: a hung attach
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
            print(f"interactive cli attempt {attempt + 1}: {e}; exit status "
                  f"{os.waitstatus_to_exitcode(status)}", file=sys.stderr)
            os.close(fd)
    raise AssertionError("kgw cli never showed its prompt")


def main():
    kgw, prefix = sys.argv[1], sys.argv[2]
    pid, out = start_shell(kgw, prefix)
    fd = out.fd
    # "show lco" + Tab completes to "show lcores"; Enter runs it.
    os.write(fd, b"show lco\t")
    out.until(b"show lcores")
    os.write(fd, b"\r")
    out.until(b"rx queues (port:queue)")
    out.until(b"kgw> ")
    os.write(fd, b"help\r")
    out.until(b"clear port stats all|<port_id>")
    os.write(fd, b"quit\r")
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise AssertionError(f"kgw cli exited {code}")
    print("interactive cli: tab completion, help and quit work")


if __name__ == "__main__":
    main()
