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


def read_until(fd, needle, timeout=10.0):
    buf = b""
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            if needle in buf:
                return buf
    raise AssertionError(f"did not see {needle!r}; got {buf[-600:]!r}")


def start_shell(kgw, prefix):
    """Starts `kgw cli` on a pty and waits for its prompt. A shell that exits
    before prompting is reported with its exit status and started again (twice
    at most): attaching as a DPDK secondary can fail while other tests' DPDK
    processes start or stop; the failure must be seen, not hidden."""
    for attempt in range(3):
        pid, fd = pty.fork()
        if pid == 0:
            os.execv(kgw, [kgw, "cli", "--file-prefix", prefix])
        try:
            # Attaching can take a while when both cores are busy (the worker
            # polls one; parallel tests load the other).
            read_until(fd, b"kgw> ", timeout=60.0)
            return pid, fd
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
    pid, fd = start_shell(kgw, prefix)
    # "show lco" + Tab completes to "show lcores"; Enter runs it.
    os.write(fd, b"show lco\t")
    read_until(fd, b"show lcores")
    os.write(fd, b"\r")
    read_until(fd, b"rx queues (port:queue)")
    read_until(fd, b"kgw> ")
    os.write(fd, b"help\r")
    read_until(fd, b"clear port stats all|<port_id>")
    os.write(fd, b"quit\r")
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise AssertionError(f"kgw cli exited {code}")
    print("interactive cli: tab completion, help and quit work")


if __name__ == "__main__":
    main()
