#!/usr/bin/env python3
"""`kgw replay` runs on the capture's clock (net_pcap's microsecond stamps).

One UDP flow to a ClusterIP (timeout for an unanswered UDP flow: 30 s): a
first run of packets, then the same flow again after a gap. A gap of 100 s
must expire the flow (placed afresh: two new flows); a gap of 10 s must not.
Each run of packets fills whole RX bursts (32), so that the packet after the
gap starts a burst: the workers' clock is the time of a burst's first packet.

usage: replay_clock_test.py KGW
"""
import os
import re
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GATEWAY = os.path.join(HERE, "gateway.yaml")
MANIFESTS = os.path.join(HERE, "manifests")
BURST = 32


def udp_frame():
    eth = bytes.fromhex("020000000001" "020000000002") + struct.pack("!H", 0x0800)
    payload = b"x" * 20
    udp = struct.pack("!HHHH", 40000, 53, 8 + len(payload), 0) + payload
    src, dst = bytes([198, 18, 0, 2]), bytes([198, 18, 100, 53])
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, src, dst)
    s = sum(struct.unpack("!10H", hdr))
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    hdr = hdr[:10] + struct.pack("!H", ~s & 0xFFFF) + hdr[12:]
    return eth + hdr + udp


def write_pcap(path, gap_s):
    frame = udp_frame()
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(2 * BURST):
            t_us = 1700000000 * 10**6 + i * 100 + (gap_s * 10**6 if i >= BURST else 0)
            f.write(struct.pack("<IIII", t_us // 10**6, t_us % 10**6, len(frame), len(frame)) + frame)


def new_flows(kgw, tmp, gap_s):
    inp, out = os.path.join(tmp, f"in{gap_s}.pcap"), os.path.join(tmp, f"out{gap_s}.pcap")
    write_pcap(inp, gap_s)
    r = subprocess.run([kgw, "replay", "--gateway", GATEWAY, "--manifests", MANIFESTS, "--in", inp, "--out", out],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"kgw replay exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    m = re.search(r"new-flows (\d+)", r.stdout)
    e = re.search(r"^conntrack: .*expired (\d+)", r.stdout, re.M)
    if not m or not e:
        raise RuntimeError(f"no counters in the replay's output:\n{r.stdout}")
    return int(m.group(1)), int(e.group(1))


def main():
    kgw = sys.argv[1]
    failed = 0
    with tempfile.TemporaryDirectory(prefix="kgw-replay-clock-") as tmp:
        for gap, want_new, want_expired in ((10, 1, 0), (100, 2, 1)):
            got_new, got_expired = new_flows(kgw, tmp, gap)
            ok = got_new == want_new and got_expired == want_expired
            print(f"{'ok  ' if ok else 'FAIL'} gap {gap} s: new-flows {got_new} (want {want_new}), "
                  f"expired {got_expired} (want {want_expired})")
            failed += not ok
    print(f"{2 - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
