#!/usr/bin/python3
"""A tiny upstream DNS server for netns_dns_upstream (UDP only).

  dns_upstream_server.py ADDRESS [ADDRESS...]

Answers on port 53 of each address; prints "query NAME TYPE" (name lower
case) for every query it reads, flushed, so the test can tell which ones
reached it. Names under example.test:
  wwwN / anything else  A 198.18.9.1 (TTL 60), AAAA 2001:2:9::1
  nx.example.test       NXDOMAIN with the zone's SOA (MINIMUM 30)
  big.example.test      40 A records (past 512 bytes)
  silent.example.test   never answered
Outside example.test: REFUSED. An OPT RR is echoed when the query had one.
"""
import select
import socket
import struct
import sys


def read_name(msg, at):
    labels = []
    while True:
        n = msg[at]
        at += 1
        if n == 0:
            return labels, at
        labels.append(msg[at:at + n])
        at += n


def name_wire(labels):
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"


def rr(name, rtype, ttl, rdata):
    return name + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


def answer(msg):
    qid, flags, qd, _, _, ar = struct.unpack("!HHHHHH", msg[:12])
    labels, at = read_name(msg, 12)
    qtype, qclass = struct.unpack("!HH", msg[at:at + 4])
    question = msg[12:at + 4]
    name = b".".join(labels).decode(errors="replace").lower()
    print(f"query {name} {qtype}", flush=True)
    edns = ar > 0
    if name == "silent.example.test":
        return None
    zone = name_wire([b"example", b"test"])
    rcode, answers, authority = 0, [], []
    ptr = b"\xc0\x0c"  # the question's name
    if not (name == "example.test" or name.endswith(".example.test")):
        rcode = 5
    elif name == "nx.example.test":
        rcode = 3
        soa = name_wire([b"ns", b"example", b"test"]) + name_wire([b"hostmaster", b"example", b"test"]) + \
            struct.pack("!IIIII", 1, 7200, 900, 1209600, 30)
        authority.append(rr(zone, 6, 300, soa))
    elif name == "big.example.test" and qtype == 1:
        answers = [rr(ptr, 1, 60, bytes([198, 18, 8, i])) for i in range(1, 41)]
    elif qtype == 1:
        answers = [rr(ptr, 1, 60, bytes([198, 18, 9, 1]))]
    elif qtype == 28:
        answers = [rr(ptr, 28, 60, socket.inet_pton(socket.AF_INET6, "2001:2:9::1"))]
    out_flags = 0x8000 | 0x0400 | (flags & 0x0100) | 0x0080 | rcode
    opt = b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0) if edns else b""
    header = struct.pack("!HHHHHH", qid, out_flags, 1, len(answers), len(authority), 1 if edns else 0)
    return header + question + b"".join(answers) + b"".join(authority) + opt


def main():
    socks = []
    for a in sys.argv[1:]:
        fam = socket.AF_INET6 if ":" in a else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((a, 53))
        socks.append(s)
    print("ready", flush=True)
    while True:
        ready, _, _ = select.select(socks, [], [])
        for s in ready:
            msg, peer = s.recvfrom(4096)
            try:
                out = answer(msg)
            except (IndexError, struct.error):
                continue
            if out is not None:
                s.sendto(out, peer)


if __name__ == "__main__":
    main()
