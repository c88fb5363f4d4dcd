#!/usr/bin/env python3
"""`kgw replay` leaves no DPDK runtime files and takes --in-memory.

The same capture (replay_clock_test's UDP flow) replayed with no EAL
arguments and with `-- --in-memory`: both runs succeed with the same output
byte for byte, and neither leaves /var/run/dpdk/kgw-replay-PID behind (a
replay has no secondaries, and one killed on a timeout must not leave its
runtime directory for someone else to clean).

usage: replay_eal_test.py KGW
"""
import os
import subprocess
import sys
import tempfile

from replay_clock_test import GATEWAY, MANIFESTS, write_pcap


def replay(kgw, inp, out, extra):
    p = subprocess.Popen([kgw, "replay", "-q", "--gateway", GATEWAY, "--manifests", MANIFESTS, "--in", inp,
                          "--out", out, "--"] + extra, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    text, _ = p.communicate(timeout=120)
    runtime_dir = f"/var/run/dpdk/kgw-replay-{p.pid}"
    left = os.path.exists(runtime_dir)
    if left:
        subprocess.run(["rm", "-rf", runtime_dir], check=False)
    return p.returncode, text, left


def main():
    kgw = sys.argv[1]
    failed = 0
    with tempfile.TemporaryDirectory(prefix="kgw-replay-eal-") as tmp:
        inp = os.path.join(tmp, "in.pcap")
        write_pcap(inp, 1)
        outputs = []
        for extra in ([], ["--in-memory"]):
            out = os.path.join(tmp, f"out{len(outputs)}.pcap")
            rc, text, left = replay(kgw, inp, out, extra)
            ok = rc == 0 and not left and os.path.exists(out)
            print(f"{'ok  ' if ok else 'FAIL'} replay -- {' '.join(extra)}: exit {rc}, runtime directory "
                  f"{'left behind' if left else 'none'}")
            if rc != 0:
                print(text)
            failed += not ok
            outputs.append(open(out, "rb").read() if os.path.exists(out) else b"")
        same = outputs[0] == outputs[1] and len(outputs[0]) > 24
        print(f"{'ok  ' if same else 'FAIL'} the two outputs are the same ({len(outputs[0])} bytes)")
        failed += not same
    print(f"{3 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
