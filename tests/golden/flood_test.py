#!/usr/bin/env python3
"""Connections through a flood, through `kgw replay` (issue 22).

The golden config gives the one worker 4,096 connection entries. Each case
opens connections to a LoadBalancer address (full NAT: SNAT address and port),
lets the pods answer them, then sends ten tables' worth of spoofed packets
nobody answers, then one more packet on each connection: it must leave with
the endpoint and the SNAT port its connection had, or the backend would see an
unknown 4-tuple and reset it. Legitimate connections opened during the flood
must complete too; the figure is printed.

Every case replays twice: first to learn what kgw chose (endpoint, SNAT port),
then with the pods' answers inserted, checking the second run chose the same.

usage: flood_test.py KGW [--case NAME] [--answer-after N]
  --answer-after N   flood packets between each handshake step of the legitimate
                     connections (default 20); prints the share that completes
"""
import os
import re
import subprocess
import sys
import tempfile

import ipaddress
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
GATEWAY = os.path.join(HERE, "gateway.yaml")
MANIFESTS = os.path.join(HERE, "manifests")
GW_MAC, CLIENT_MAC = "02:00:00:00:00:01", "02:00:00:00:00:02"
T0_US = 1700000000 * 10**6
TABLE = 4096          # services.conntrack_entries in gateway.yaml
FLOOD = 10 * TABLE
ESTABLISHED = 500
LEGIT_EVERY = 100     # one legitimate SYN per this many flood packets
ANSWER_AFTER = 20     # flood packets between a SYN and its pod's SYN-ACK, and between that and the client's ACK
# A legitimate handshake survives unless the flood cycles its entry out first:
# the longer its round trip in flood packets against the table's size, the
# likelier. At 20 (0.5% of the table) nearly all complete.
MIN_COMPLETED = 0.99
TCP_P, UDP_P = 6, 17
UDP_SERVICE = ("198.18.100.53", 53)   # the dns ClusterIP (IPv4 only in the manifests)
SYN, ACK, PSH = 0x02, 0x10, 0x08

FAMILIES = {
    4: dict(vip="198.18.150.1", client="198.18.0.2", snat="198.18.0.250", pods=["198.19.1.11", "198.19.1.12", "198.19.1.13"],
            spoof=lambda i: f"198.18.{128 + (i >> 16) % 64}.{(i >> 8) & 255}"),
    6: dict(vip="2001:2::100:10", client="2001:2::2", snat="2001:2::250", pods=["2001:3::11", "2001:3::12", "2001:3::13"],
            spoof=lambda i: f"2001:2::9:{(i >> 8) & 0xffff:x}"),
}


def pod_mac(addr):
    return "02:00:00:00:01:" + addr.replace(":", ".").split(".")[-1]


# Packets are built and read with struct, not scapy: a case is ~85,000
# packets a run, which scapy takes minutes over.
def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def packet(src_mac, src, dst, proto, sport, dport, flags=0, seq=0, ack=0, payload=b""):
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if proto == TCP_P:
        l4 = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    else:
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    if s.version == 4:
        pseudo = s.packed + d.packed + struct.pack("!BBH", 0, proto, len(l4))
    else:
        pseudo = s.packed + d.packed + struct.pack("!IxxxB", len(l4), proto)
    c = csum(pseudo + l4)
    off = 16 if proto == TCP_P else 6
    l4 = l4[:off] + struct.pack("!H", c) + l4[off + 2:]
    if s.version == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000, 64, proto, 0, s.packed, d.packed)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        ethertype = 0x0800
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(l4), proto, 64, s.packed, d.packed)
        ethertype = 0x86DD
    eth = bytes.fromhex(GW_MAC.replace(":", "")) + bytes.fromhex(src_mac.replace(":", "")) + struct.pack("!H", ethertype)
    return eth + ip + l4


def parse(frame):
    """(destination address, L4 source port) of a frame out of kgw."""
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    if ethertype == 0x0800:
        ihl = (frame[14] & 15) * 4
        return str(ipaddress.ip_address(frame[30:34])), struct.unpack_from("!H", frame, 14 + ihl)[0]
    return str(ipaddress.ip_address(frame[38:54])), struct.unpack_from("!H", frame, 54)[0]


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for n, fr in enumerate(frames):
            t = T0_US + n   # 1 Mpps; n is also how an output finds its input
            f.write(struct.pack("<IIII", t // 10**6, t % 10**6, len(fr), len(fr)) + fr)


def read_pcap(path):
    """Frames by the input packet they came from: kgw stamps each output with its
    input's time, and net_pcap writes the microseconds it read as nanoseconds."""
    by_input = {}
    with open(path, "rb") as f:
        data = f.read()
    pos = 24
    while pos + 16 <= len(data):
        sec, frac, caplen, _ = struct.unpack_from("<IIII", data, pos)
        by_input.setdefault(sec * 10**9 + frac - T0_US, []).append(data[pos + 16:pos + 16 + caplen])
        pos += 16 + caplen
    return by_input


class Flow:
    """One client connection: its packets in, what kgw did with its first one."""

    def __init__(self, fam, sport, proto):
        self.fam, self.sport, self.proto = fam, sport, proto
        self.pod = self.snat_port = None

    def client(self, flags=0, payload=b""):
        f = FAMILIES[self.fam]
        vip, port = (f["vip"], 80) if self.proto == TCP_P else UDP_SERVICE
        return packet(CLIENT_MAC, f["client"], vip, self.proto, self.sport, port, flags,
                      1000 if flags == SYN else 1001, 0 if flags == SYN else 5001, payload)

    def pod_answer(self):
        f = FAMILIES[self.fam]
        if self.pod is None:   # kgw dropped the first packet: nobody to answer
            return None
        pod_port = 8080 if self.proto == TCP_P else 5353
        return packet(pod_mac(self.pod), self.pod, f["snat"], self.proto, pod_port, self.snat_port, SYN | ACK, 5000, 1001,
                      b"" if self.proto == TCP_P else b"answer")


class Spoofed(Flow):
    """A flood packet from a forged source. A pod answers a SYN like any other
    (its SYN-ACK goes to an address that never sent it: kgw has no neighbour
    for it and drops it); nobody answers UDP."""

    def __init__(self, fam, proto, i):
        super().__init__(fam, 1024 + i % 60000, proto)
        self.i = i

    def client(self, flags=0, payload=b""):
        f = FAMILIES[self.fam]
        vip, port = (f["vip"], 80) if self.proto == TCP_P else UDP_SERVICE
        return packet(CLIENT_MAC, f["spoof"](self.i), vip, self.proto, self.sport, port, flags, self.i)


def build(fam, proto, flows, legit, flood, answered):
    """The input: flows opened (and, once known, answered), the flood with legitimate
    connections inside it, then one packet more on every flow. Tags each packet
    with what it is so the output can be matched."""
    tcp = proto == TCP_P
    pkts, tags = [], []

    def add(frame, tag):
        if frame is not None:
            pkts.append(frame)
            tags.append(tag)
    for fl in flows:
        add(fl.client(SYN) if tcp else fl.client(payload=b"query"), ("open", fl))
    if answered:
        for fl in flows:
            add(fl.pod_answer(), ("answer", fl))
            if tcp:
                add(fl.client(ACK), ("ack", fl))
    later = {}  # flood index -> packets due then
    for i in range(FLOOD):
        sp = flood[i]
        add(sp.client(SYN if tcp else 0), ("flood", sp))
        if tcp and answered:
            later.setdefault(i + ANSWER_AFTER, []).append(lambda sp=sp: add(sp.pod_answer(), ("flood-answer", sp)))
        if tcp and i % LEGIT_EVERY == 0:
            fl = legit[i // LEGIT_EVERY]
            add(fl.client(SYN), ("legit", fl))
            if answered:
                later.setdefault(i + ANSWER_AFTER, []).append(lambda fl=fl: add(fl.pod_answer(), ("legit-answer", fl)))
                later.setdefault(i + 2 * ANSWER_AFTER, []).append(lambda fl=fl: add(fl.client(ACK), ("legit-ack", fl)))
        for due in later.pop(i, []):
            due()
    for fl in flows:
        add(fl.client(PSH | ACK if tcp else 0, b"after the flood"), ("after", fl))
    return pkts, tags


def replay(kgw, pkts, tmp):
    inp, out = os.path.join(tmp, "in.pcap"), os.path.join(tmp, "out.pcap")
    write_pcap(inp, pkts)
    r = subprocess.run([kgw, "replay", "--gateway", GATEWAY, "--manifests", MANIFESTS, "--in", inp, "--out", out],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(f"kgw replay exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return read_pcap(out), r.stdout


def counter(stdout, name):
    m = re.search(rf"\b{re.escape(name)} (\d+)", stdout)
    return int(m.group(1)) if m else None


def learn(by_input, tags):
    """Each flow's first packet out: which pod, which SNAT port. Returns how many
    choices differ from what was known, and the problems."""
    changed, problems = 0, []
    for n, (kind, fl) in enumerate(tags):
        if kind not in ("open", "legit", "flood"):
            continue
        out = by_input.get(n, [])
        if len(out) != 1:
            if kind != "flood":   # flood packets may be refused or dropped
                problems.append(f"{kind} packet {n}: {len(out)} packets out")
            continue
        choice = parse(out[0])
        if (fl.pod, fl.snat_port) != choice:
            changed += 1
            fl.pod, fl.snat_port = choice
    return changed, problems


def run_case(kgw, fam, proto, tmp):
    flows = [Flow(fam, 20000 + i, proto) for i in range(ESTABLISHED)]
    legit = [Flow(fam, 40000 + i, proto) for i in range(FLOOD // LEGIT_EVERY + 1)]
    flood = [Spoofed(fam, proto, i) for i in range(FLOOD)]
    pkts, tags = build(fam, proto, flows, legit, flood, answered=False)
    by_input, _ = replay(kgw, pkts, tmp)
    _, problems = learn(by_input, tags)
    if problems:
        return problems[:10], ""
    # The pods answer what kgw chose. An answered connection changes which
    # entries a later eviction takes, and so which SNAT ports are free for a
    # later connection: replay until the choices settle.
    for _ in range(4):
        pkts, tags = build(fam, proto, flows, legit, flood, answered=True)
        by_input, stdout = replay(kgw, pkts, tmp)
        changed, problems = learn(by_input, tags)
        if problems or not changed:
            break
    if changed:
        problems.append(f"{changed} choices still change from one replay to the next")
    f = FAMILIES[fam]
    kept = lost = 0
    for n, (kind, fl) in enumerate(tags):
        if kind != "after":
            continue
        out = by_input.get(n, [])
        if len(out) == 1 and parse(out[0]) == (fl.pod, fl.snat_port):
            kept += 1
        else:
            lost += 1
            if lost <= 5:
                got = "%s:%d" % parse(out[0]) if len(out) == 1 else f"{len(out)} packets"
                problems.append(f"connection from port {fl.sport} lost its state: {got}, had {fl.pod}:{fl.snat_port}")
    # A legitimate connection completes when its SYN-ACK reaches the client and
    # its ACK reaches the pod on the tuple the SYN had.
    answered = {id(fl) for n, (kind, fl) in enumerate(tags)
                if kind == "legit-answer" and len(by_input.get(n, [])) == 1 and parse(by_input[n][0])[0] == f["client"]}
    opened = [n for n, (kind, _) in enumerate(tags) if kind == "legit-ack"]
    completed = sum(1 for n in opened if id(tags[n][1]) in answered and len(by_input.get(n, [])) == 1
                    and parse(by_input[n][0]) == (tags[n][1].pod, tags[n][1].snat_port))
    if lost:
        problems.append(f"{lost} of {ESTABLISHED} connections lost their state in the flood")
    if completed < MIN_COMPLETED * len(opened):
        problems.append(f"only {completed} of {len(opened)} legitimate handshakes during the flood completed")
    ev, ev_est = counter(stdout, "evictions"), counter(stdout, "evicted-established")
    if ev is None or ev < FLOOD - TABLE:
        problems.append(f"the flood should have forced evictions (evictions {ev})")
    if ev_est != 0:
        problems.append(f"evicted-established {ev_est}, want 0")
    summary = f"kept {kept}/{ESTABLISHED}, evictions {ev}, evicted-established {ev_est}"
    if opened:
        summary += f", legitimate handshakes during the flood {completed}/{len(opened)}"
    return problems, summary


CASES = {"syn_flood_v4": (4, TCP_P), "syn_flood_v6": (6, TCP_P), "udp_flood_v4": (4, UDP_P)}


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    kgw = os.path.abspath(args[0])
    only = args[args.index("--case") + 1] if "--case" in args else None
    global ANSWER_AFTER, MIN_COMPLETED
    if "--answer-after" in args:
        ANSWER_AFTER = int(args[args.index("--answer-after") + 1])
        MIN_COMPLETED = 0   # a measurement, not the CI check
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, (fam, proto) in CASES.items():
            if only and name != only:
                continue
            try:
                problems, summary = run_case(kgw, fam, proto, tmp)
            except Exception as e:
                problems, summary = [str(e)], ""
            print(f"{'FAIL' if problems else 'ok  '} {name}: {summary}")
            for p in problems:
                print(f"    {p}")
            failed += bool(problems)
            passed += not problems
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
