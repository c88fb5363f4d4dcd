"""Golden cases for the DNS responder (docs/dns.md): queries to the DNS
addresses of gateway.yaml answered from the Services of manifests/, each
response checked for meaning (rcode, sections, records), addresses, ports and
checksums, then byte for byte against expected/<case>.pcap."""
from scapy.all import ARP, DNS, DNSQR, Ether, IP, IPv6, Raw, TCP, UDP

GW_MAC = "02:00:00:00:00:01"
CLIENT_MAC = "02:00:00:00:00:02"
CLIENT_V4, CLIENT_V6 = "198.18.0.2", "2001:2::2"
DNS_V4, DNS_V6 = "198.18.0.53", "2001:2::53"
ZONE = "cluster.local."


def query(name, qtype, qid, src=CLIENT_V4, dst=DNS_V4, sport=40000, **dns):
    ip = IP(src=src, dst=dst) if ":" not in dst else IPv6(src=src, dst=dst)
    return Ether(src=CLIENT_MAC, dst=GW_MAC) / ip / UDP(sport=sport, dport=53) / DNS(id=qid, rd=1, qd=DNSQR(qname=name, qtype=qtype), **dns)


def records(section, count):
    out = []
    for i in range(count):
        rr = section[i]
        data = rr.rdata if hasattr(rr, "rdata") else None
        if rr.type == 33:
            data = f"{rr.priority} {rr.weight} {rr.port} {rr.target.decode()}"
        elif isinstance(data, bytes):
            data = data.decode()
        elif isinstance(data, list):
            data = " ".join(x.decode() for x in data)
        out.append((rr.rrname.decode(), rr.type, rr.ttl, str(data)))
    return out


def case_dns_queries(stamp, checksum_ok):
    # (query, rcode, answer records, authority types)
    soa = [6]
    cases = [
        (query("web.shop.svc.cluster.local", "A", 1), 0, [("web.shop.svc.cluster.local.", 1, 5, "198.18.100.10")], []),
        (query("web.shop.svc.cluster.local", "AAAA", 2), 0, [], soa),  # NODATA: no IPv6 cluster IP
        (query("_http._tcp.web.shop.svc.cluster.local", "SRV", 3), 0,
         [("_http._tcp.web.shop.svc.cluster.local.", 33, 5, "0 100 80 web.shop.svc.cluster.local.")], []),
        (query("10.100.18.198.in-addr.arpa", "PTR", 4), 0,
         [("10.100.18.198.in-addr.arpa.", 12, 5, "web.shop.svc.cluster.local.")], []),
        (query("ext.shop.svc.cluster.local", "A", 5), 0, [("ext.shop.svc.cluster.local.", 5, 5, "www.example.com.")], []),
        (query("nothing.shop.svc.cluster.local", "A", 6), 3, [], soa),
        (query("db.shop.svc.cluster.local", "A", 7), 0,
         [("db.shop.svc.cluster.local.", 1, 5, "198.19.1.11"), ("db.shop.svc.cluster.local.", 1, 5, "198.19.1.12")], []),
        (query("db-0.DB.shop.svc.cluster.local", "A", 8), 0, [("db-0.DB.shop.svc.cluster.local.", 1, 5, "198.19.1.11")], []),
        (query("shop.svc.cluster.local", "A", 9), 0, [], soa),  # an empty non-terminal: NODATA
        (query("www.example.com", "A", 10), 5, [], []),  # outside the zone, no upstreams
        (query("web.shop.svc.cluster.local", "A", 11, src=CLIENT_V6, dst=DNS_V6, sport=40011), 0,
         [("web.shop.svc.cluster.local.", 1, 5, "198.18.100.10")], []),
    ]
    formerr = query("web.shop.svc.cluster.local", "A", 12)
    formerr[DNS].ancount = 1  # an answer record in a query
    bad_sum = query("web.shop.svc.cluster.local", "A", 13)
    bad_sum[UDP].chksum = 0x1234
    response = query("web.shop.svc.cluster.local", "A", 14)
    response[DNS].qr = 1
    arp = Ether(src=CLIENT_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT_V4, pdst=DNS_V4)
    inp = stamp([c[0] for c in cases] + [formerr, bad_sum, response, arp])

    def check(out):
        problems = []
        want = len(cases) + 2  # the FORMERR and the ARP reply; the bad checksum and the response dropped
        if len(out) != want:
            return [f"expected {want} packets out, got {len(out)}"]
        for (q, rcode, answer, auth), o in zip(cases + [(formerr, 1, [], [])], out):
            ip, qip = (o[IP], q[IP]) if IP in q else (o[IPv6], q[IPv6])
            if o[Ether].src != GW_MAC or o[Ether].dst != CLIENT_MAC:
                problems.append(f"id {q[DNS].id}: ethernet {o[Ether].src} -> {o[Ether].dst}")
            if ip.src != qip.dst or ip.dst != qip.src or o[UDP].sport != 53 or o[UDP].dport != q[UDP].sport:
                problems.append(f"id {q[DNS].id}: addresses or ports not turned: {o.summary()}")
            if not checksum_ok(o, UDP) or (IP in o and not checksum_ok(o, IP)):
                problems.append(f"id {q[DNS].id}: checksums wrong")
            d = o[DNS]
            if d.id != q[DNS].id or not d.qr or d.rcode != rcode:
                problems.append(f"id {q[DNS].id}: header id {d.id} qr {d.qr} rcode {d.rcode}, want rcode {rcode}")
                continue
            got = records(d.an, d.ancount)
            if got != answer:
                problems.append(f"id {q[DNS].id}: answer {got}, want {answer}")
            got_auth = [r[1] for r in records(d.ns, d.nscount)]
            if got_auth != auth:
                problems.append(f"id {q[DNS].id}: authority types {got_auth}, want {auth}")
            if rcode in (0, 3) and not d.aa:
                problems.append(f"id {q[DNS].id}: AA not set")
        a = out[-1]
        if ARP not in a or a[ARP].op != 2 or a[ARP].psrc != DNS_V4 or a[ARP].hwsrc != GW_MAC:
            problems.append(f"ARP for the DNS address not answered: {a.summary()}")
        return problems
    return inp, check, {"dns_bad_checksum", "dns_not_query"}


def case_dns_records(stamp, checksum_ok):
    # The schema version, and a headless Service's SRV records towards each
    # ready endpoint (by hostname, and by address with dashes) with their
    # addresses in the additional section.
    inp = stamp([
        query("dns-version.cluster.local", "TXT", 21),
        query("_pg._tcp.db.shop.svc.cluster.local", "SRV", 22),
    ])

    def check(out):
        problems = []
        if len(out) != 2:
            return [f"expected 2 responses, got {len(out)}"]
        d = out[0][DNS]
        if records(d.an, d.ancount) != [("dns-version.cluster.local.", 16, 5, "1.1.0")]:
            problems.append(f"dns-version: {records(d.an, d.ancount)}")
        d = out[1][DNS]
        got = sorted(records(d.an, d.ancount))
        want = sorted([("_pg._tcp.db.shop.svc.cluster.local.", 33, 5, "0 50 5432 db-0.db.shop.svc.cluster.local."),
                       ("_pg._tcp.db.shop.svc.cluster.local.", 33, 5, "0 50 5432 198-19-1-12.db.shop.svc.cluster.local.")])
        if got != want:
            problems.append(f"headless SRV: {got}")
        add = sorted(records(d.ar, d.arcount))
        want_add = sorted([("db-0.db.shop.svc.cluster.local.", 1, 5, "198.19.1.11"),
                           ("198-19-1-12.db.shop.svc.cluster.local.", 1, 5, "198.19.1.12")])
        if add != want_add:
            problems.append(f"additional: {add}")
        for o in out:
            if not checksum_ok(o, UDP):
                problems.append("UDP checksum wrong")
        return problems
    return inp, check, {}


def case_dns_pods(stamp, checksum_ok):
    # Pod names, `pods insecure` (the default): the address in the name,
    # any namespace, IPv4 and IPv6 forms; the other family NODATA; a
    # malformed name NXDOMAIN; the namespace and the subdomain NODATA.
    soa = [6]
    cases = [
        (query("10-1-0-7.shop.pod.cluster.local", "A", 31), 0,
         [("10-1-0-7.shop.pod.cluster.local.", 1, 5, "10.1.0.7")], []),
        (query("198-19-1-11.Any-Namespace.pod.cluster.local", "A", 32), 0,
         [("198-19-1-11.Any-Namespace.pod.cluster.local.", 1, 5, "198.19.1.11")], []),
        (query("fd00--1-7.shop.pod.cluster.local", "AAAA", 33), 0,
         [("fd00--1-7.shop.pod.cluster.local.", 28, 5, "fd00::1:7")], []),
        (query("10-1-0-7.shop.pod.cluster.local", "AAAA", 34), 0, [], soa),
        (query("10-1-0-256.shop.pod.cluster.local", "A", 35), 3, [], soa),
        (query("web.shop.pod.cluster.local", "A", 36), 3, [], soa),
        (query("shop.pod.cluster.local", "A", 37), 0, [], soa),
        (query("pod.cluster.local", "A", 38), 0, [], soa),
    ]
    inp = stamp([c[0] for c in cases])

    def check(out):
        problems = []
        if len(out) != len(cases):
            return [f"expected {len(cases)} responses, got {len(out)}"]
        for (q, rcode, answer, auth), o in zip(cases, out):
            if not checksum_ok(o, UDP) or not checksum_ok(o, IP):
                problems.append(f"id {q[DNS].id}: checksums wrong")
            d = o[DNS]
            if d.id != q[DNS].id or not d.qr or d.rcode != rcode or not d.aa:
                problems.append(f"id {q[DNS].id}: id {d.id} qr {d.qr} aa {d.aa} rcode {d.rcode}, want rcode {rcode}")
                continue
            got = records(d.an, d.ancount)
            if got != answer:
                problems.append(f"id {q[DNS].id}: answer {got}, want {answer}")
            got_auth = [r[1] for r in records(d.ns, d.nscount)]
            if got_auth != auth:
                problems.append(f"id {q[DNS].id}: authority types {got_auth}, want {auth}")
        return problems
    return inp, check, {}


def case_dns_tcp(stamp, checksum_ok):
    # DNS over TCP (RFC 7766) on the workers' stack: a handshake to port 53 of
    # the DNS address, two length-prefixed queries pipelined in one segment,
    # the client's FIN; the answers in order, then our FIN. Port 53 of the
    # node address is not the responder's: RST, as before. The stack's ISN
    # comes from replay's --tcp-seed, so the client's follow-up is built from
    # the first replay's SYN-ACK (tcp_cases.py does the same).
    syn_opts = [("MSS", 1460), ("SAckOK", b""), ("NOP", None), ("WScale", 7)]
    eth = Ether(src=CLIENT_MAC, dst=GW_MAC)
    inp = stamp([
        eth / IP(src=CLIENT_V4, dst=DNS_V4) / TCP(sport=41000, dport=53, flags="S", seq=5000, window=64240,
                                                  options=syn_opts),
        eth / IP(src=CLIENT_V4, dst="198.18.0.1") / TCP(sport=41001, dport=53, flags="S", seq=5000, window=64240,
                                                        options=syn_opts),
    ])
    q1 = bytes(DNS(id=41, rd=1, qd=DNSQR(qname="web.shop.svc.cluster.local", qtype="A")))
    q2 = bytes(DNS(id=42, rd=1, qd=DNSQR(qname="10-1-0-7.shop.pod.cluster.local", qtype="A")))
    stream = len(q1).to_bytes(2, "big") + q1 + len(q2).to_bytes(2, "big") + q2

    def followup(out):
        extra = []
        for o in out:
            if TCP not in o or o[TCP].flags != "SA" or o[TCP].dport != 41000:
                continue
            ack = o[TCP].seq + 1
            l3 = IP(src=CLIENT_V4, dst=DNS_V4)
            extra.append(eth / l3 / TCP(sport=41000, dport=53, flags="A", seq=5001, ack=ack, window=502))
            extra.append(eth / l3 / TCP(sport=41000, dport=53, flags="PA", seq=5001, ack=ack, window=502) / Raw(stream))
            extra.append(eth / l3 / TCP(sport=41000, dport=53, flags="FA", seq=5001 + len(stream), ack=ack,
                                        window=502))
        return extra

    def check(out):
        problems = []
        tcp_out = [o for o in out if TCP in o]
        for o in tcp_out:
            if not checksum_ok(o, TCP) or not checksum_ok(o, IP):
                problems.append(f"bad checksum: {o.summary()}")
        conn = [o for o in tcp_out if o[TCP].dport == 41000]
        if not conn or conn[0][TCP].flags != "SA" or conn[0][IP].src != DNS_V4 or conn[0][TCP].sport != 53:
            return problems + [f"no SYN-ACK from {DNS_V4}:53: {[o.summary() for o in conn]}"]
        data = b"".join(bytes(o[TCP].payload) for o in conn if len(o[TCP].payload))
        got, at = [], 0
        while at + 2 <= len(data):
            n = int.from_bytes(data[at:at + 2], "big")
            got.append(DNS(data[at + 2:at + 2 + n]))
            at += 2 + n
        if at != len(data) or len(got) != 2:
            problems.append(f"wanted two length-prefixed responses, got {len(got)} in {len(data)} bytes")
        else:
            want = [(41, [("web.shop.svc.cluster.local.", 1, 5, "198.18.100.10")]),
                    (42, [("10-1-0-7.shop.pod.cluster.local.", 1, 5, "10.1.0.7")])]
            for d, (qid, answer) in zip(got, want):
                if d.id != qid or not d.qr or d.rcode != 0 or not d.aa or records(d.an, d.ancount) != answer:
                    problems.append(f"response {d.id}: rcode {d.rcode} {records(d.an, d.ancount)}, want {qid} {answer}")
        fins = [o[TCP] for o in conn if "F" in o[TCP].flags]
        # The FIN may ride on the last answer's segment.
        if len(fins) != 1 or fins[0].seq + len(fins[0].payload) != conn[0][TCP].seq + 1 + len(data):
            problems.append(f"wanted one FIN after the answers, got {[f.summary() for f in fins]}")
        rst = [o for o in tcp_out if o[TCP].dport == 41001]
        if len(rst) != 1 or "R" not in rst[0][TCP].flags or rst[0][IP].src != "198.18.0.1":
            problems.append(f"port 53 of the node address: wanted a RST, got {[o.summary() for o in rst]}")
        return problems

    return inp, check, {"dns.tcp-queries"}, followup


DNS_CASES = {
    "dns_queries": case_dns_queries,
    "dns_records": case_dns_records,
    "dns_pods": case_dns_pods,
    "dns_tcp": case_dns_tcp,
}
