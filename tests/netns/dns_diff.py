#!/usr/bin/python3
"""The differential check of kgw's DNS responder against an authoritative
server (Knot DNS) serving the zone files k8s_dns_zone.py wrote from the same
manifests (dns_diff_test.sh).

For every name of the zone files, every empty non-terminal above them, names
that do not exist (beside and below existing ones), the zone's names in
another case, names outside the zones and unknown reverse names, it asks both
servers the same questions with dig (a dig per query, eight at a time; over UDP
with EDNS0, without EDNS0, and over TCP) and compares, per query: the rcode,
the header flags (AA, TC, RD, RA, AD, CD), EDNS (present, version, UDP size),
and the answer, authority and additional sections as sets of records, TTLs
included. Prints each difference; exit 1 on any.

  dns_diff.py ZONES_LIST KGW_SERVER KNOT_SERVER

Intended differences, not counted (each with its reason):
  * The SOA serial: kgw's is its table's generation (docs/dns.md), the zone
    file's is 1. The other SOA fields are compared.
  * Pod names (<a-b-c-d>.<ns>.pod.<zone>) are not asked: kgw makes them up
    from the name (CoreDNS's `pods insecure`), a zone file cannot hold them.
  * EDNS options are not compared: Knot adds Extended DNS Errors (RFC 8914,
    "Not Authoritative" with REFUSED); kgw reads options over and sends none
    (docs/dns.md). dig is told to send no COOKIE (+nocookie).
  * Reverse names are asked PTR only. kgw holds the PTR names (2.3.3, 2.4.3),
    not the in-addr.arpa and ip6.arpa zones: an address it does not know is
    REFUSED (asked here), as by a server without those zones. A zone file
    needs an apex, so Knot serves a zone per PTR name, which has an SOA and
    NS of its own and NXDOMAIN below it where kgw has nothing.
  * The case of names other than the question's: Knot compresses names
    case-insensitively, so the zone's names in its authority section, a
    CNAME's target and the records after it take the question's spelling
    (ns.dns.cLuStEr.lOcAl.); kgw keeps the spelling of its data, pointing
    only at identical spellings (docs/dns.md; RFC 4343 4.1 asks for case
    to be kept). Records are compared without case, and every answer
    record owned by the question's name must spell it as the question did,
    on both servers.
  * ANY: Knot gives one RRset of the name (RFC 8482's minimal answer), kgw
    every record of the name (as CoreDNS): Knot's answer must be a part of
    kgw's, everything else the same.
"""
import concurrent.futures
import re
import subprocess
import sys

TYPES = ["A", "AAAA", "SRV", "PTR", "CNAME", "TXT", "NS", "SOA", "MX"]


def zone_names(zones_list):
    zones, names = [], set()
    for line in open(zones_list):
        if not line.strip():
            continue
        zone, path = line.split()
        zones.append(zone)
        for rec in open(path):
            if rec.startswith("$"):
                continue
            names.add(rec.split()[0])
    return zones, sorted(names)


def ancestors(name, zone):
    """Every name between NAME and ZONE (empty non-terminals, or names)."""
    out = []
    labels = name.split(".")
    for i in range(1, len(labels)):
        n = ".".join(labels[i:])
        if not n.endswith(zone) or len(n) < len(zone):
            break
        out.append(n)
    return out


def mixed_case(name):
    return "".join(c.upper() if i % 2 else c for i, c in enumerate(name))


def queries(zones, names):
    cluster = zones[0]
    qs = set()
    every = set(names)
    for n in names:
        for z in zones:
            if n.endswith(z):
                every.update(ancestors(n, z))
    for n in sorted(every):
        if n.endswith(".arpa."):  # a PTR name: see the docstring
            qs.add((n, "PTR", ""))
            continue
        for t in TYPES:
            qs.add((n, t, ""))
        qs.add((n, "ANY", ""))
        qs.add((f"nothing.{n}", "A", ""))  # below an existing name: NXDOMAIN
    for n in names:
        if n.endswith(cluster):
            qs.add((mixed_case(n), "A", ""))
            qs.add((mixed_case(n), "SRV", ""))
    for n, t in [("nothing.shop.svc." + cluster, "A"), ("nothing." + cluster, "AAAA"),
                 ("www.example.test.", "A"), ("local.", "SOA"), ("in-addr.arpa.", "SOA"),
                 ("99.0.18.198.in-addr.arpa.", "PTR"), ("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa.", "PTR")]:
        qs.add((n, t, ""))
    out = sorted(qs)
    # The transports and EDNS: every question over UDP with EDNS0 (above), a
    # share without EDNS0 and over TCP.
    extra = []
    for i, (n, t, _) in enumerate(out):
        if i % 4 == 0:
            extra.append((n, t, "+noedns"))
        if i % 4 == 1:
            extra.append((n, t, "+tcp"))
    return out + extra


SOA_SERIAL = re.compile(r"(\sSOA\s+\S+\s+\S+\s+)\d+")


def dig(server, q):
    name, qtype, opt = q
    proc = subprocess.run(
        ["dig", f"@{server}", name, qtype, "+noall", "+comments", "+answer", "+authority", "+additional",
         "+time=2", "+tries=2", "+nocookie"] + ([opt] if opt else []),
        capture_output=True, text=True, check=False)
    return parse(proc.stdout)


def run_dig(server, qs):
    # A dig per query, a few at a time: a lost datagram costs one query's
    # retry, and each answer is known to be its question's.
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(lambda q: dig(server, q), qs))


def parse(text):
    """dig's output for one query; rcode "no answer" when none came."""
    cur = {"rcode": "no answer", "flags": "", "edns": "none", "answer": [], "authority": [], "additional": []}
    seen = False
    section = None
    for line in text.splitlines():
        if "->>HEADER<<-" in line:
            cur["rcode"] = re.search(r"status: (\w+)", line).group(1)
            seen = True
            continue
        if not seen:
            continue
        m = re.match(r";; flags: ([a-z ]*);", line)
        if m:
            cur["flags"] = " ".join(sorted(m.group(1).split()))
            continue
        m = re.match(r"; EDNS: version: (\d+), flags:([a-z ]*); udp: (\d+)", line)
        if m:
            cur["edns"] = f"version {m.group(1)} flags [{m.group(2).strip()}] udp {m.group(3)}"
            continue
        m = re.match(r";; (QUESTION|ANSWER|AUTHORITY|ADDITIONAL) SECTION:", line)
        if m:
            section = m.group(1).lower()
            continue
        if not line.strip() or line.startswith(";"):
            continue
        if section in ("answer", "authority", "additional"):
            rec = " ".join(line.split())
            cur[section].append(SOA_SERIAL.sub(r"\1SERIAL", rec))
    for s in ("answer", "authority", "additional"):
        cur[s].sort()
    return cur


def lowered(r):
    return dict(r, **{s: sorted(rec.lower() for rec in r[s]) for s in ("answer", "authority", "additional")})


def main():
    zones_list, kgw, knot = sys.argv[1:4]
    zones, names = zone_names(zones_list)
    qs = queries(zones, names)
    a = run_dig(kgw, qs)
    b = run_dig(knot, qs)
    diffs = 0
    by_rcode = {}
    for q, x, y in zip(qs, a, b):
        by_rcode[y["rcode"]] = by_rcode.get(y["rcode"], 0) + 1
        for who, r in (("kgw", x), ("knot", y)):
            for rec in r["answer"]:
                owner = rec.split()[0]
                if owner.lower() == q[0].lower() and owner != q[0]:
                    print(f"DIFF {q[0]} {q[1]} {q[2]}: {who}'s answer does not spell the owner as asked: {rec}")
                    diffs += 1
        x, y = lowered(x), lowered(y)
        if "no answer" in (x["rcode"], y["rcode"]):  # never alike: both silent proves nothing
            print(f"DIFF {q[0]} {q[1]} {q[2]}: no answer from " + " and ".join(
                who for who, r in (("kgw", x), ("knot", y)) if r["rcode"] == "no answer"))
            diffs += 1
            continue
        if q[1] == "ANY" and set(y["answer"]) <= set(x["answer"]):
            y = dict(y, answer=x["answer"], additional=x["additional"])
        if x == y:
            continue
        diffs += 1
        print(f"DIFF {q[0]} {q[1]} {q[2]}".rstrip())
        for k in ("rcode", "flags", "edns", "answer", "authority", "additional"):
            if x[k] != y[k]:
                print(f"  {k}:\n    kgw:  {x[k]}\n    knot: {y[k]}")
    print(f"{len(qs)} queries, {len(qs) - diffs} answered alike, {diffs} differ; Knot's rcodes: "
          + ", ".join(f"{k} {v}" for k, v in sorted(by_rcode.items())))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
