#!/usr/bin/env python3
"""Golden pcap tests through `kgw replay`.

Each case crafts its input with scapy (fixed timestamps, so the input is the
same every run), replays it, and then
  1. checks the output's meaning with scapy: the right replies, field by field,
     checksums recomputed from scratch;
  2. checks that a second replay gives the same bytes (determinism);
  3. compares with the committed golden output in expected/<case>.pcap, so any
     change in what kgw emits shows up in review.
`--update` rewrites expected/ (only after the checks of 1 and 2 pass).

usage: golden_test.py KGW [--update] [--case NAME]
"""
import os
import re
import subprocess
import sys
import tempfile

from scapy.all import (ARP, Dot1Q, Ether, ICMP, ICMPv6EchoReply, ICMPv6EchoRequest,
                       ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, ICMPv6NDOptSrcLLAddr,
                       IP, IPv6, Raw, TCP, UDP, rdpcap, wrpcap, raw)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from service_cases import SERVICE_CASES  # noqa: E402
from tcp_cases import TCP_CASES  # noqa: E402
from dns_cases import DNS_CASES  # noqa: E402
from neighbor_cases import NEIGHBOR_CASES  # noqa: E402
from sctp_cases import SCTP_CASES  # noqa: E402
from pod_cases import POD_CASES  # noqa: E402
from policy_cases import POLICY_CASES, POLICY_MANIFESTS  # noqa: E402
GATEWAY = os.path.join(HERE, "gateway.yaml")
GW_MAC = "02:00:00:00:00:01"
GW_V4 = "198.18.0.1"
GW_V6 = "2001:2::1"
CLIENT_MAC = "02:00:00:00:00:02"
CLIENT_V4 = "198.18.0.2"
CLIENT_V6 = "2001:2::2"
T0 = 1700000000.0


def stamp(pkts):
    for i, p in enumerate(pkts):
        p.time = T0 + i * 0.001
    return pkts


def solicited_node(addr):
    import ipaddress
    b = ipaddress.IPv6Address(addr).packed
    return str(ipaddress.IPv6Address(bytes.fromhex("ff0200000000000000000001ff") + b[13:]))


def checksum_ok(pkt, layer):
    """Recomputes the checksum of `layer` from scratch and compares."""
    got = pkt[layer].chksum if hasattr(pkt[layer], "chksum") else pkt[layer].cksum
    fresh = pkt.__class__(raw(pkt))
    del_field = "chksum" if hasattr(fresh[layer], "chksum") else "cksum"
    setattr(fresh[layer], del_field, None)
    recomputed = pkt.__class__(raw(fresh))[layer]
    return got == getattr(recomputed, del_field)


# --- cases: (input packets, checker(inp, out) -> list of problems, expected drop reasons, or stage
# counters as "services.NAME" / "conntrack.NAME", each counted at least once) ---

def case_arp():
    inp = stamp([
        Ether(src=CLIENT_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT_V4, pdst=GW_V4),
        # not for us: no reply
        Ether(src=CLIENT_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT_V4, pdst="198.18.0.77"),
        Ether(src=CLIENT_MAC, dst="ff:ff:ff:ff:ff:ff") / Dot1Q(vlan=100) / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT_V4, pdst=GW_V4),
    ])

    def check(out):
        problems = []
        if len(out) != 2:
            return [f"expected 2 ARP replies, got {len(out)}"]
        for o, vlan in zip(out, (None, 100)):
            a = o[ARP]
            if o[Ether].src != GW_MAC or o[Ether].dst != CLIENT_MAC:
                problems.append(f"ethernet {o[Ether].src} -> {o[Ether].dst}")
            if a.op != 2 or a.hwsrc != GW_MAC or a.psrc != GW_V4 or a.hwdst != CLIENT_MAC or a.pdst != CLIENT_V4:
                problems.append(f"ARP reply fields wrong: {a.summary()}")
            if vlan is not None and (Dot1Q not in o or o[Dot1Q].vlan != vlan):
                problems.append("VLAN tag not kept")
        return problems
    return inp, check, {}


def case_icmp4():
    inp = stamp([
        Ether(src=CLIENT_MAC, dst=GW_MAC) / IP(src=CLIENT_V4, dst=GW_V4, ttl=61) / ICMP(type=8, id=0x1234, seq=n) / Raw(b"kgw" * n)
        for n in (1, 2, 7, 100, 400)
    ] + [
        # IPv4 options (record route) must be parsed past
        Ether(src=CLIENT_MAC, dst=GW_MAC) / IP(src=CLIENT_V4, dst=GW_V4, options=b"\x07\x07\x04\x00\x00\x00\x00\x00") / ICMP(type=8, id=7, seq=9) / Raw(b"opts"),
    ])

    def check(out):
        problems = []
        if len(out) != len(inp):
            return [f"expected {len(inp)} echo replies, got {len(out)}"]
        for i, o in zip(inp, out):
            if o[Ether].src != GW_MAC or o[Ether].dst != CLIENT_MAC:
                problems.append("ethernet addresses not swapped")
            if o[IP].src != GW_V4 or o[IP].dst != CLIENT_V4:
                problems.append(f"IP {o[IP].src} -> {o[IP].dst}")
            if o[ICMP].type != 0 or o[ICMP].id != i[ICMP].id or o[ICMP].seq != i[ICMP].seq:
                problems.append(f"ICMP reply fields: {o[ICMP].summary()}")
            if bytes(o[ICMP].payload) != bytes(i[ICMP].payload):
                problems.append("echo payload changed")
            if not checksum_ok(o, IP):
                problems.append("IPv4 header checksum wrong")
            if not checksum_ok(o, ICMP):
                problems.append("ICMP checksum wrong")
        return problems
    return inp, check, {}


def case_icmp6():
    inp = stamp([
        Ether(src=CLIENT_MAC, dst="33:33:ff:00:00:01") / IPv6(src=CLIENT_V6, dst=solicited_node(GW_V6), hlim=255) /
        ICMPv6ND_NS(tgt=GW_V6) / ICMPv6NDOptSrcLLAddr(lladdr=CLIENT_MAC),
        Ether(src=CLIENT_MAC, dst=GW_MAC) / IPv6(src=CLIENT_V6, dst=GW_V6) / ICMPv6EchoRequest(id=0x42, seq=1, data=b"hello kgw"),
        Ether(src=CLIENT_MAC, dst=GW_MAC) / IPv6(src=CLIENT_V6, dst=GW_V6) / ICMPv6EchoRequest(id=0x42, seq=2, data=b"x" * 300),
    ])

    def check(out):
        problems = []
        if len(out) != 3:
            return [f"expected NA + 2 echo replies, got {len(out)}"]
        na = out[0]
        if ICMPv6ND_NA not in na:
            return ["first output is not a neighbor advertisement"]
        if na[ICMPv6ND_NA].tgt != GW_V6 or not na[ICMPv6ND_NA].S or na[IPv6].dst != CLIENT_V6 or na[IPv6].hlim != 255:
            problems.append(f"NA fields: {na.summary()}")
        if ICMPv6NDOptDstLLAddr not in na or na[ICMPv6NDOptDstLLAddr].lladdr != GW_MAC:
            problems.append("NA lacks target link-layer address option with the port MAC")
        if not checksum_ok(na, ICMPv6ND_NA):
            problems.append("NA checksum wrong")
        for i, o in zip(inp[1:], out[1:]):
            if ICMPv6EchoReply not in o:
                problems.append("not an echo reply")
                continue
            r = o[ICMPv6EchoReply]
            if o[IPv6].src != GW_V6 or o[IPv6].dst != CLIENT_V6 or r.id != 0x42 or r.seq != i[ICMPv6EchoRequest].seq:
                problems.append(f"echo reply fields: {o.summary()}")
            if r.data != i[ICMPv6EchoRequest].data:
                problems.append("echo data changed")
            if not checksum_ok(o, ICMPv6EchoReply):
                problems.append("ICMPv6 checksum wrong")
        return problems
    return inp, check, {}


def case_garbage():
    frames = [
        Ether(bytes(6)),                                            # shorter than an Ethernet header
        Ether(src=CLIENT_MAC, dst=GW_MAC, type=0x0800) / Raw(b"\x45\x00\x00"),        # IPv4 cut off
        Ether(src=CLIENT_MAC, dst=GW_MAC) / Raw(b"\x00" * 40),      # EtherType 0
        Ether(src=CLIENT_MAC, dst=GW_MAC, type=0x0800) / Raw(bytes([0x43]) + bytes(19)),  # IHL 3
        Ether(src=CLIENT_MAC, dst=GW_MAC) / IP(src=CLIENT_V4, dst=GW_V4, len=1400) / ICMP(),  # length beyond frame
        Ether(src=CLIENT_MAC, dst=GW_MAC) / IP(src=CLIENT_V4, dst=GW_V4, chksum=0x1111) / ICMP(),  # bad header checksum
        Ether(src=CLIENT_MAC, dst=GW_MAC) / IPv6(src=CLIENT_V6, dst=GW_V6, nh=60, plen=8) / Raw(b"\x3c\x05" + bytes(6)),  # ext header overrun
        Ether(src=CLIENT_MAC, dst=GW_MAC) / IP(src=CLIENT_V4, dst=GW_V4) / ICMP(type=8, chksum=0xdead) / Raw(b"bad"),  # bad ICMP checksum
    ]
    inp = stamp([f if isinstance(f, Ether) else f for f in frames])

    def check(out):
        return [] if len(out) == 0 else [f"garbage produced {len(out)} output packets"]
    # Each of these reasons must be counted at least once.
    return inp, check, {"eth_truncated", "ipv4_truncated", "ethertype_unsupported", "ipv4_bad_ihl",
                        "ipv4_bad_total_length", "ipv4_bad_checksum", "ipv6_ext_truncated", "icmp_bad_checksum"}


def case_not_for_us():
    inp = stamp([
        Ether(src=CLIENT_MAC, dst=GW_MAC) / IP(src=CLIENT_V4, dst="198.19.9.9") / UDP(sport=1000, dport=53) / Raw(b"q"),
        Ether(src=CLIENT_MAC, dst=GW_MAC) / IP(src=CLIENT_V4, dst="198.19.9.9") / TCP(sport=1000, dport=80, flags="S"),
    ])
    return inp, (lambda out: [] if not out else [f"{len(out)} packets forwarded with no route"]), {"not_for_gateway"}


CASES = {
    "arp_request": case_arp,
    "icmp_echo_v4": case_icmp4,
    "icmpv6_nd_and_echo": case_icmp6,
    "garbage": case_garbage,
    "not_for_gateway": case_not_for_us,
}
for _name, _case in list(SERVICE_CASES.items()) + list(TCP_CASES.items()) + list(DNS_CASES.items()) + list(NEIGHBOR_CASES.items()) + list(SCTP_CASES.items()) + list(POD_CASES.items()) + list(POLICY_CASES.items()):
    CASES[_name] = (lambda c: lambda: c(stamp, checksum_ok))(_case)


def replay(kgw, inp_path, out_path, manifests):
    r = subprocess.run([kgw, "replay", "--gateway", GATEWAY, "--manifests", manifests, "--in", inp_path,
                        "--out", out_path], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"kgw replay exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    drops = {m.group(1): int(m.group(2)) for m in re.finditer(r"^\s+(\w+)\s+(\d+)\s+\S", r.stdout, re.M)}
    # The stage counters too, as "services.reopened", "conntrack.assured", "dns.tcp-queries", ...
    for line in re.finditer(r"^(services|conntrack|dns|fragments|policy): (.*)$", r.stdout, re.M):
        for name, value in re.findall(r"([\w-]+) (\d+)", line.group(2)):
            drops[f"{line.group(1)}.{name}"] = int(value)
    return drops


def run_case(kgw, name, update, tmp):
    inp, check, want_drops, *more = CASES[name]()
    manifests = os.path.join(HERE, POLICY_MANIFESTS.get(name, "manifests"))
    inp_path = os.path.join(tmp, f"{name}.in.pcap")
    wrpcap(inp_path, inp)
    out1, out2 = os.path.join(tmp, f"{name}.out1.pcap"), os.path.join(tmp, f"{name}.out2.pcap")
    drops = replay(kgw, inp_path, out1, manifests)
    if more:  # answers that depend on the first replay's choices, then the whole sequence again
        first = rdpcap(out1) if os.path.getsize(out1) > 24 else []
        extra = more[0](list(first))
        t = inp[-1].time
        for i, p in enumerate(extra):
            p.time = t + 0.001 * (i + 1)
        wrpcap(inp_path, list(inp) + extra)
        drops = replay(kgw, inp_path, out1, manifests)
    replay(kgw, inp_path, out2, manifests)
    problems = []
    out = rdpcap(out1) if os.path.getsize(out1) > 24 else []
    problems += check(list(out))
    for reason in sorted(want_drops):
        if drops.get(reason, 0) < 1:
            what = "counter" if "." in reason else "drop reason"
            problems.append(f"{what} {reason} not counted (counted: {drops})")
    b1, b2 = open(out1, "rb").read(), open(out2, "rb").read()
    if b1 != b2:
        problems.append("two replays of the same input differ")
    golden = os.path.join(HERE, "expected", f"{name}.pcap")
    if not problems:
        if update:
            os.makedirs(os.path.dirname(golden), exist_ok=True)
            with open(golden, "wb") as f:
                f.write(b1)
        elif not os.path.exists(golden):
            problems.append(f"no golden file {golden} (run with --update after reviewing)")
        elif open(golden, "rb").read() != b1:
            problems.append(f"output differs from golden {golden}")
    return problems


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    kgw = os.path.abspath(args[0])
    update = "--update" in args
    only = args[args.index("--case") + 1] if "--case" in args else None
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name in CASES:
            if only and name != only:
                continue
            try:
                problems = run_case(kgw, name, update, tmp)
            except Exception as e:  # a crash of kgw is a failure of the case, with its output
                problems = [str(e)]
            if problems:
                failed += 1
                print(f"FAIL {name}")
                for p in problems:
                    print(f"    {p}")
            else:
                passed += 1
                print(f"ok   {name}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
