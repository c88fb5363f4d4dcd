#!/usr/bin/python3
"""A tiny upstream DNS server for netns_dns_upstream (UDP and TCP).

  dns_upstream_server.py ADDRESS [ADDRESS...]

Answers on port 53 of each address, UDP and TCP (length-prefixed messages,
any number per connection); prints "query NAME TYPE" (name lower case) for
every UDP query it reads and "tcp-query NAME TYPE" for every TCP one,
flushed, so the test can tell which ones reached it. Names under example.test:
  wwwN / anything else  A 198.18.9.1 (TTL 60), AAAA 2001:2:9::1
  nx.example.test       NXDOMAIN with the zone's SOA (MINIMUM 30)
  big.example.test      40 A records (past 512 bytes)
  tc.example.test       over UDP: TC, no records (whatever the query's size);
                        over TCP: 100 A records (1.6 KB, past any UDP size)
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


def answer(msg, tcp=False):
    qid, flags, qd, _, _, ar = struct.unpack("!HHHHHH", msg[:12])
    labels, at = read_name(msg, 12)
    qtype, qclass = struct.unpack("!HH", msg[at:at + 4])
    question = msg[12:at + 4]
    name = b".".join(labels).decode(errors="replace").lower()
    print(f"{'tcp-query' if tcp else 'query'} {name} {qtype}", flush=True)
    edns = ar > 0
    if name == "silent.example.test":
        return None
    zone = name_wire([b"example", b"test"])
    tc = 0
    rcode, answers, authority = 0, [], []
    ptr = b"\xc0\x0c"  # the question's name
    if not (name == "example.test" or name.endswith(".example.test")):
        rcode = 5
    elif name == "nx.example.test":
        rcode = 3
        soa = name_wire([b"ns", b"example", b"test"]) + name_wire([b"hostmaster", b"example", b"test"]) + \
            struct.pack("!IIIII", 1, 7200, 900, 1209600, 30)
        authority.append(rr(zone, 6, 300, soa))
    elif name == "tc.example.test" and qtype == 1 and not tcp:
        tc = 0x0200
    elif name == "tc.example.test" and qtype == 1:
        answers = [rr(ptr, 1, 60, bytes([198, 18, 10 + i // 250, i % 250 + 1])) for i in range(100)]
    elif name == "big.example.test" and qtype == 1:
        answers = [rr(ptr, 1, 60, bytes([198, 18, 8, i])) for i in range(1, 41)]
    elif qtype == 1:
        answers = [rr(ptr, 1, 60, bytes([198, 18, 9, 1]))]
    elif qtype == 28:
        answers = [rr(ptr, 28, 60, socket.inet_pton(socket.AF_INET6, "2001:2:9::1"))]
    out_flags = 0x8000 | 0x0400 | tc | (flags & 0x0100) | 0x0080 | rcode
    opt = b"\0" + struct.pack("!HHIH", 41, 1232, 0, 0) if edns else b""
    header = struct.pack("!HHHHHH", qid, out_flags, 1, len(answers), len(authority), 1 if edns else 0)
    return header + question + b"".join(answers) + b"".join(authority) + opt


def read_exactly(conn, n):
    data = b""
    while len(data) < n:
        part = conn.recv(n - len(data))
        if not part:
            return None
        data += part
    return data


def serve_tcp(conn):
    """One message from a TCP client, answered; False when it has closed."""
    prefix = read_exactly(conn, 2)
    if prefix is None:
        return False
    msg = read_exactly(conn, struct.unpack("!H", prefix)[0])
    if msg is None:
        return False
    try:
        out = answer(msg, tcp=True)
    except (IndexError, struct.error):
        return False
    if out is not None:
        conn.sendall(struct.pack("!H", len(out)) + out)
    return True


def main():
    socks, listeners, conns = [], [], []
    for a in sys.argv[1:]:
        fam = socket.AF_INET6 if ":" in a else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.bind((a, 53))
        socks.append(s)
        t = socket.socket(fam, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((a, 53))
        t.listen(16)
        listeners.append(t)
    print("ready", flush=True)
    while True:
        ready, _, _ = select.select(socks + listeners + conns, [], [])
        for s in ready:
            if s in listeners:
                conn, _ = s.accept()
                conn.settimeout(2)
                conns.append(conn)
                continue
            if s in conns:
                try:
                    alive = serve_tcp(s)
                except OSError:
                    alive = False
                if not alive:
                    conns.remove(s)
                    s.close()
                continue
            msg, peer = s.recvfrom(4096)
            try:
                out = answer(msg)
            except (IndexError, struct.error):
                continue
            if out is not None:
                s.sendto(out, peer)


if __name__ == "__main__":
    main()
