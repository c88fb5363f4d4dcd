"""Golden cases for Services (issue 3): each case is crafted in scapy, replayed
through the real dataplane with the Services of manifests/services.yaml, and
checked for meaning (who got the flow, addresses, ports, checksums), then
compared byte for byte with expected/<case>.pcap.

A case may have a follow-up: given the output of a first replay, it crafts the
pods' answers (which depend on the endpoint and SNAT port kgw chose), and the
whole sequence is replayed again; the replay is deterministic, so the choices
are the same the second time."""
from socket import inet_aton

from scapy.all import checksum, defragment, fragment, Ether, ICMP, IP, IPerror, IPv6, TCP, TCPerror, UDP, UDPerror, Raw, ICMPv6DestUnreach, IPerror6

GW_MAC = "02:00:00:00:00:01"
CLIENT_MAC = "02:00:00:00:00:02"
CLIENT_V4, CLIENT2_V4, CLIENT_V6 = "198.18.0.2", "198.18.0.3", "2001:2::2"
SNAT_V4, SNAT_V6 = "198.18.0.250", "2001:2::250"
NODE_V4 = "198.18.0.1"
PODS_V4 = {"198.19.1.11", "198.19.1.12", "198.19.1.13"}
PODS_V6 = {"2001:3::11", "2001:3::12", "2001:3::13"}
POD_MAC = {"198.19.1.11": "02:00:00:00:01:11", "198.19.1.12": "02:00:00:00:01:12", "198.19.1.13": "02:00:00:00:01:13",
           "2001:3::11": "02:00:00:00:01:11", "2001:3::12": "02:00:00:00:01:12", "2001:3::13": "02:00:00:00:01:13"}


def syn(dst, sport, dport=80, src=CLIENT_V4, mac=CLIENT_MAC):
    return Ether(src=mac, dst=GW_MAC) / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags="S", seq=1000,
                                                                    options=[("MSS", 9000)])


def pods_syn_ack(out):
    """Every pod answers its SYN (IPv4) with a SYN-ACK to the address and port it came from."""
    return [Ether(src=POD_MAC[o[IP].dst], dst=GW_MAC) / IP(src=o[IP].dst, dst=o[IP].src) /
            TCP(sport=o[TCP].dport, dport=o[TCP].sport, flags="SA", seq=5000, ack=o[TCP].seq + 1) for o in out]


def l3(p):
    return p[IP] if IP in p else p[IPv6]


def check_to_pod(o, pods, dport, snat, problems, checksum_ok):
    ip = l3(o)
    if ip.dst not in pods:
        problems.append(f"sent to {ip.dst}, not an endpoint")
        return
    if o[Ether].dst != POD_MAC[ip.dst] or o[Ether].src != GW_MAC:
        problems.append(f"ethernet {o[Ether].src} -> {o[Ether].dst} for {ip.dst}")
    if snat and ip.src != snat:
        problems.append(f"source {ip.src}, want SNAT {snat}")
    l4 = o[TCP] if TCP in o else o[UDP]
    if l4.dport != dport:
        problems.append(f"dport {l4.dport}, want {dport}")
    layer = TCP if TCP in o else UDP
    if not checksum_ok(o, layer):
        problems.append(f"{layer.__name__} checksum wrong after NAT")
    if IP in o and not checksum_ok(o, IP):
        problems.append("IPv4 header checksum wrong after NAT")


def case_svc_clusterip(stamp, checksum_ok):
    inp = stamp([syn("198.18.100.10", 40000 + i) for i in range(30)])

    def check(out):
        problems = []
        if len(out) != 60:
            return [f"expected 30 SYNs out and 30 SYN-ACKs back, got {len(out)} packets"]
        used = set()
        for o in out[:30]:
            check_to_pod(o, PODS_V4, 8080, SNAT_V4, problems, checksum_ok)
            used.add(o[IP].dst)
            mss = dict(o[TCP].options).get("MSS")
            if mss != 1460:
                problems.append(f"MSS {mss} not clamped to 1460")
        if used != PODS_V4:
            problems.append(f"30 flows reached only {sorted(used)}")
        for i, o in zip(inp, out[30:]):
            if o[IP].src != "198.18.100.10" or o[IP].dst != CLIENT_V4 or o[TCP].sport != 80 or o[TCP].dport != i[TCP].sport:
                problems.append(f"reply not translated back: {o.summary()}")
            if o[Ether].dst != CLIENT_MAC or o[TCP].flags != "SA":
                problems.append(f"reply frame: {o[Ether].dst} {o[TCP].flags}")
            if not checksum_ok(o, TCP) or not checksum_ok(o, IP):
                problems.append("reply checksums wrong")
        return problems
    return inp, check, {}, pods_syn_ack


def case_svc_frontends(stamp, checksum_ok):
    """The same Service through its NodePort, LoadBalancer IP and external IP."""
    inp = stamp([syn(NODE_V4, 41000 + i, 30080) for i in range(5)] +
                [syn("198.18.150.1", 42000 + i) for i in range(5)] +
                [syn("198.18.200.1", 43000 + i) for i in range(5)])

    def check(out):
        problems = []
        if len(out) != 15:
            return [f"expected 15 packets to pods, got {len(out)}"]
        for o in out:
            check_to_pod(o, PODS_V4, 8080, SNAT_V4, problems, checksum_ok)
        return problems
    return inp, check, {}


def case_svc_affinity(stamp, checksum_ok):
    inp = stamp([syn("198.18.100.20", 44000 + i) for i in range(20)] +
                [syn("198.18.100.20", 45000 + i, src=CLIENT2_V4, mac="02:00:00:00:00:03") for i in range(20)])

    def check(out):
        problems = []
        if len(out) != 40:
            return [f"expected 40 packets, got {len(out)}"]
        for o in out:
            check_to_pod(o, PODS_V4, 8080, SNAT_V4, problems, checksum_ok)
        for who, part in (("first", out[:20]), ("second", out[20:])):
            pods = {o[IP].dst for o in part}
            if len(pods) != 1:
                problems.append(f"{who} client spread over {sorted(pods)} despite ClientIP affinity")
        return problems
    return inp, check, {}


def case_svc_udp_and_icmp_error(stamp, checksum_ok):
    inp = stamp([Ether(src=CLIENT_MAC, dst=GW_MAC) / IP(src=CLIENT_V4, dst="198.18.100.53") /
                 UDP(sport=50000 + i, dport=53) / Raw(b"query%d" % i) for i in range(3)])

    def followup(out):
        o0, o1 = out[0], out[1]
        answer = (Ether(src=POD_MAC[o0[IP].dst], dst=GW_MAC) / IP(src=o0[IP].dst, dst=o0[IP].src) /
                  UDP(sport=o0[UDP].dport, dport=o0[UDP].sport) / Raw(b"answer"))
        # The pod refuses the second query: its port unreachable quotes what kgw sent it.
        quoted = o1[IP].copy()
        error = (Ether(src=POD_MAC[o1[IP].dst], dst=GW_MAC) / IP(src=o1[IP].dst, dst=o1[IP].src) /
                 ICMP(type=3, code=3) / raw_bytes(quoted)[:28 + 8])
        return [answer, error]

    def check(out):
        problems = []
        if len(out) != 5:
            return [f"expected 3 queries out, an answer and an ICMP error back, got {len(out)}"]
        for o in out[:3]:
            check_to_pod(o, {"198.19.1.12"}, 5353, SNAT_V4, problems, checksum_ok)
        a = out[3]
        if UDP not in a or a[IP].src != "198.18.100.53" or a[UDP].sport != 53 or a[UDP].dport != 50000:
            problems.append(f"UDP answer not translated: {a.summary()}")
        elif not checksum_ok(a, UDP):
            problems.append("UDP answer checksum wrong")
        e = out[4]
        if ICMP not in e or e[IP].src != "198.18.100.53" or e[IP].dst != CLIENT_V4 or e[ICMP].type != 3:
            problems.append(f"ICMP error not translated: {e.summary()}")
        else:
            q = e[IPerror]
            if q.src != CLIENT_V4 or q.dst != "198.18.100.53" or e[UDPerror].sport != 50001 or e[UDPerror].dport != 53:
                problems.append(f"quoted packet not translated: {q.src}:{e[UDPerror].sport} -> {q.dst}:{e[UDPerror].dport}")
            if not checksum_ok(e, ICMP) or not checksum_ok(e, IP):
                problems.append("ICMP error checksums wrong")
        return problems
    return inp, check, {}, followup


def reassembled_udp(frags):
    """The bytes of the UDP datagram the IPv4 fragments make (scapy's defragment) and whether its checksum
    holds for the addresses they carry, or (None, False)."""
    whole = [p for p in defragment([f[IP] for f in frags]) if p.flags.MF == 0 and p.frag == 0 and p.proto == 17]
    if len(whole) != 1:
        return None, False
    ip = whole[0]
    seg = bytes(ip.payload)
    pseudo = inet_aton(ip.src) + inet_aton(ip.dst) + bytes([0, 17]) + len(seg).to_bytes(2, "big")
    return seg, checksum(pseudo + seg) == 0


def case_svc_udp_fragments(stamp, checksum_ok, last_first=False):
    """A 3,000-byte query to a UDP ClusterIP in three IPv4 fragments, and a 2,500-byte answer in three: every
    fragment reaches the endpoint of its first (no reassembly), translated like it, both ways; each datagram
    put back together has a right UDP checksum. `last_first`: the query's fragments come last first (as Linux
    sends some), the later two held until the first comes, then sent behind it."""
    query = (IP(src=CLIENT_V4, dst="198.18.100.53", id=0x4242) / UDP(sport=50100, dport=53) / Raw(b"q" * 3000))
    frags = fragment(query, fragsize=1200)
    inp = stamp([Ether(src=CLIENT_MAC, dst=GW_MAC) / f for f in (frags[::-1] if last_first else frags)])

    def followup(out):
        o = out[0]
        answer = (IP(src=o[IP].dst, dst=o[IP].src, id=0x0707) / UDP(sport=o[UDP].dport, dport=o[UDP].sport) /
                  Raw(b"a" * 2500))
        return [Ether(src=POD_MAC[o[IP].dst], dst=GW_MAC) / f for f in fragment(answer, fragsize=1000)]

    def check(out):
        if len(out) != 6:
            return [f"expected 3 query fragments out and 3 answer fragments back, got {len(out)}"]
        problems = []
        # By direction: held fragments go out after the burst that released them.
        to_pod = [o for o in out if IP in o and o[IP].dst != CLIENT_V4]
        back = [o for o in out if IP in o and o[IP].dst == CLIENT_V4]
        if len(to_pod) != 3:
            return [f"expected 3 query fragments out, got {len(to_pod)}"]
        for o in to_pod:
            if o[IP].dst != "198.19.1.12" or o[IP].src != SNAT_V4 or o[Ether].dst != POD_MAC["198.19.1.12"]:
                problems.append(f"query fragment not sent the way of its first: {o.summary()}")
            if not checksum_ok(o, IP):
                problems.append("IPv4 header checksum wrong")
        for o in back:
            if o[IP].dst != CLIENT_V4 or o[IP].src != "198.18.100.53" or o[Ether].dst != CLIENT_MAC:
                problems.append(f"answer fragment not translated back: {o.summary()}")
        (q, q_ok), (a, a_ok) = reassembled_udp(to_pod), reassembled_udp(back)
        if q is None or len(q) != 8 + 3000 or int.from_bytes(q[2:4], "big") != 5353 or not q_ok:
            problems.append("the query's fragments do not make a whole datagram to port 5353 with a right checksum")
        if a is None or len(a) != 8 + 2500 or a[0:4] != (53).to_bytes(2, "big") + (50100).to_bytes(2, "big") or not a_ok:
            problems.append("the answer's fragments do not make a whole datagram from port 53 with a right checksum")
        return problems
    held = {"fragments.held", "fragments.released"} if last_first else set()
    return inp, check, {"fragments.followed"} | held, followup


def case_svc_udp_fragments_last_first(stamp, checksum_ok):
    return case_svc_udp_fragments(stamp, checksum_ok, last_first=True)


def raw_bytes(p):
    return bytes(p)


def case_svc_no_endpoint(stamp, checksum_ok):
    inp = stamp([syn("198.18.100.99", 46000),
                 Ether(src=CLIENT_MAC, dst=GW_MAC) / IP(src=CLIENT_V4, dst="198.18.100.99") / UDP(sport=46001, dport=80) / Raw(b"x")])

    def check(out):
        problems = []
        if len(out) != 2:
            return [f"expected 2 ICMP port unreachable, got {len(out)}"]
        for i, o in zip(inp, out):
            if ICMP not in o or o[ICMP].type != 3 or o[ICMP].code != 3:
                problems.append(f"not port unreachable: {o.summary()}")
                continue
            if o[IP].src != "198.18.100.99" or o[IP].dst != CLIENT_V4 or o[Ether].dst != CLIENT_MAC:
                problems.append(f"addresses: {o.summary()}")
            if o[IPerror].src != CLIENT_V4 or o[IPerror].dst != "198.18.100.99":
                problems.append("quote is not the client's packet")
            if not checksum_ok(o, ICMP) or not checksum_ok(o, IP):
                problems.append("checksums wrong")
        return problems
    return inp, check, {}


def case_svc_terminating(stamp, checksum_ok):
    inp = stamp([syn("198.18.100.30", 47000 + i) for i in range(40)])

    def check(out):
        problems = []
        if len(out) != 40:
            return [f"expected 40 packets, got {len(out)}"]
        for o in out:
            check_to_pod(o, {"198.19.1.11", "198.19.1.12"}, 8080, SNAT_V4, problems, checksum_ok)
        return problems
    return inp, check, {}


def case_svc_local_policy(stamp, checksum_ok):
    """externalTrafficPolicy: Local keeps the client's address."""
    inp = stamp([syn("198.18.150.2", 48000), syn(NODE_V4, 48001, 30040)])

    def check(out):
        problems = []
        if len(out) != 2:
            return [f"expected 2 packets, got {len(out)}"]
        for i, o in zip(inp, out):
            check_to_pod(o, {"198.19.1.13"}, 8080, None, problems, checksum_ok)
            if o[IP].src != CLIENT_V4 or o[TCP].sport != i[TCP].sport:
                problems.append(f"client address not preserved: {o[IP].src}:{o[TCP].sport}")
        return problems
    return inp, check, {}


def case_svc_ipv6(stamp, checksum_ok):
    inp = stamp([Ether(src=CLIENT_MAC, dst=GW_MAC) / IPv6(src=CLIENT_V6, dst="2001:2::100:10") /
                 TCP(sport=49000 + i, dport=80, flags="S") for i in range(12)])

    def followup(out):
        o = out[0]
        return [Ether(src=POD_MAC[o[IPv6].dst], dst=GW_MAC) / IPv6(src=o[IPv6].dst, dst=o[IPv6].src) /
                TCP(sport=o[TCP].dport, dport=o[TCP].sport, flags="SA")]

    def check(out):
        problems = []
        if len(out) != 13:
            return [f"expected 12 SYNs and a SYN-ACK, got {len(out)}"]
        for o in out[:12]:
            check_to_pod(o, PODS_V6, 8080, SNAT_V6, problems, checksum_ok)
        if len({o[IPv6].dst for o in out[:12]}) < 2:
            problems.append("IPv6 flows not spread")
        r = out[12]
        if r[IPv6].src != "2001:2::100:10" or r[IPv6].dst != CLIENT_V6 or r[TCP].sport != 80 or r[TCP].dport != 49000:
            problems.append(f"IPv6 reply not translated: {r.summary()}")
        elif not checksum_ok(r, TCP):
            problems.append("IPv6 reply TCP checksum wrong")
        return problems
    return inp, check, {}, followup


def case_svc_dual_stack(stamp, checksum_ok):
    """One Service with an IPv4 and an IPv6 cluster IP: each family reaches its own endpoints."""
    inp = stamp([syn("198.18.100.50", 51000 + i) for i in range(8)] +
                [Ether(src=CLIENT_MAC, dst=GW_MAC) / IPv6(src=CLIENT_V6, dst="2001:2::100:50") /
                 TCP(sport=52000 + i, dport=80, flags="S") for i in range(8)])

    def check(out):
        problems = []
        if len(out) != 16:
            return [f"expected 16 packets, got {len(out)}"]
        for o in out[:8]:
            check_to_pod(o, {"198.19.1.11", "198.19.1.12"}, 8080, SNAT_V4, problems, checksum_ok)
        for o in out[8:]:
            check_to_pod(o, {"2001:3::12", "2001:3::13"}, 8080, SNAT_V6, problems, checksum_ok)
        return problems
    return inp, check, {}


def case_svc_malformed(stamp, checksum_ok):
    bad_offset = syn("198.18.100.10", 1)
    bad_offset[TCP].dataofs = 15  # 60 bytes of header in a 24-byte segment
    short = Ether(src=CLIENT_MAC, dst=GW_MAC) / IP(src=CLIENT_V4, dst="198.18.100.10", proto=6) / Raw(b"\x00\x50" * 4)
    bad_udp = Ether(src=CLIENT_MAC, dst=GW_MAC) / IP(src=CLIENT_V4, dst="198.18.100.53") / UDP(sport=1, dport=53, len=200) / Raw(b"q")
    inp = stamp([bad_offset, short, bad_udp])

    def check(out):
        return [] if not out else [f"malformed packets towards VIPs produced {len(out)} packets"]
    return inp, check, {"tcp_bad_offset", "tcp_truncated", "udp_bad_length"}


def case_svc_source_ranges_v4(stamp, checksum_ok):
    """loadBalancerSourceRanges [198.18.0.3/31] (= 198.18.0.2/31): 198.18.0.2 reaches the pod through the
    load-balancer IP, 198.18.0.4 is dropped there (a bit inside the last byte differs) but reaches the
    cluster IP and the external IP, which the ranges do not cover."""
    inside, outside = CLIENT_V4, "198.18.0.4"
    inp = stamp([syn("198.18.150.60", 53000, src=inside),
                 syn("198.18.150.60", 53001, src=outside),
                 syn("198.18.150.60", 53002, src=CLIENT2_V4),
                 syn("198.18.100.60", 53003, src=outside),
                 syn("198.18.200.60", 53004, src=outside)])

    def check(out):
        problems = []
        if len(out) != 4:
            return [f"expected 4 packets to the pod (the one from {outside} to the LB IP dropped), got {len(out)}"]
        for o in out:
            check_to_pod(o, {"198.19.1.11"}, 8080, SNAT_V4, problems, checksum_ok)
        ports = [o[TCP].sport for o in out]
        if len(set(ports)) != 4:
            problems.append(f"SNAT ports not distinct: {ports}")
        return problems
    return inp, check, {"lb_source_range"}


def case_svc_source_ranges_v6(stamp, checksum_ok):
    """loadBalancerSourceRanges [2001:2::/126]: 2001:2::2 reaches the pod through the IPv6 load-balancer IP,
    2001:2::4 is dropped there and still reaches the IPv6 cluster IP."""
    def syn6(dst, sport, src):
        return Ether(src=CLIENT_MAC, dst=GW_MAC) / IPv6(src=src, dst=dst) / TCP(sport=sport, dport=80, flags="S")
    inp = stamp([syn6("2001:2::150:60", 54000, CLIENT_V6),
                 syn6("2001:2::150:60", 54001, "2001:2::4"),
                 syn6("2001:2::100:60", 54002, "2001:2::4")])

    def check(out):
        problems = []
        if len(out) != 2:
            return [f"expected 2 packets to the pod (2001:2::4 to the LB IP dropped), got {len(out)}"]
        for o in out:
            check_to_pod(o, {"2001:3::11"}, 8080, SNAT_V6, problems, checksum_ok)
        return problems
    return inp, check, {"lb_source_range"}


SERVICE_CASES = {
    "svc_clusterip": case_svc_clusterip,
    "svc_frontends": case_svc_frontends,
    "svc_affinity": case_svc_affinity,
    "svc_udp_and_icmp_error": case_svc_udp_and_icmp_error,
    "svc_udp_fragments": case_svc_udp_fragments,
    "svc_udp_fragments_last_first": case_svc_udp_fragments_last_first,
    "svc_no_endpoint": case_svc_no_endpoint,
    "svc_terminating": case_svc_terminating,
    "svc_local_policy": case_svc_local_policy,
    "svc_ipv6": case_svc_ipv6,
    "svc_dual_stack": case_svc_dual_stack,
    "svc_malformed": case_svc_malformed,
    "svc_source_ranges_v4": case_svc_source_ranges_v4,
    "svc_source_ranges_v6": case_svc_source_ranges_v6,
}
