#!/usr/bin/python3
"""The zone files the Kubernetes DNS-Based Service Discovery specification
(kubernetes/dns docs/specification.md, schema 1.1.0) gives for a directory of
manifests, for an authoritative server (Knot DNS, NSD) to serve next to kgw in
the differential test (dns_diff_test.sh).

Written from the specification and the manifests alone, not from kgw's table,
so that comparing the two servers' answers checks kgw's records. Where the
specification leaves a choice, CoreDNS's `kubernetes` plugin decides (as for
kgw, docs/dns.md): an endpoint without a hostname is named by its address with
dashes; SRV weights are equal shares of 100. The SOA's fields are kgw's
documented ones (the specification fixes none); only its serial differs.

  k8s_dns_zone.py MANIFESTS OUTDIR --zone cluster.local --ttl 5 --ns-address 198.18.0.53 ...

Writes OUTDIR/<zone>.zone for the cluster zone and one zone per reverse name
(kgw holds PTR names, not the in-addr.arpa or ip6.arpa zones: an address it
does not know is REFUSED, as by a server without that zone), and
OUTDIR/zones.list, one "ZONE FILE" a line.
"""
import argparse
import ipaddress
import os
import re
import sys

import yaml

LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def load_objects(directory):
    objs = []
    for root, _, files in os.walk(directory):
        for f in sorted(files):
            if not f.endswith((".yaml", ".yml", ".json")):
                continue
            with open(os.path.join(root, f)) as fh:
                for doc in yaml.safe_load_all(fh):
                    if isinstance(doc, dict):
                        objs.append(doc)
    return objs


def dashed(addr):
    """CoreDNS's endpoint identifier: the address with dashes."""
    a = ipaddress.ip_address(addr)
    return str(a).replace(".", "-") if a.version == 4 else str(a).replace(":", "-")


def reverse_name(addr):
    return ipaddress.ip_address(addr).reverse_pointer + "."


class Zone:
    def __init__(self):
        self.rrs = {}  # owner -> set of (type, rdata)

    def add(self, owner, rtype, rdata):
        self.rrs.setdefault(owner.lower(), set()).add((rtype, rdata))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("manifests")
    ap.add_argument("outdir")
    ap.add_argument("--zone", default="cluster.local")
    ap.add_argument("--ttl", type=int, default=5)
    ap.add_argument("--serial", type=int, default=1)
    ap.add_argument("--ns-address", action="append", default=[])
    args = ap.parse_args()

    zone = args.zone.strip(".").lower() + "."
    ttl = args.ttl
    ns_name = "ns.dns." + zone
    soa = f"{ns_name} hostmaster.{zone} {args.serial} 7200 1800 86400 {ttl}"
    cluster = Zone()
    cluster.add(zone, "SOA", soa)
    cluster.add(zone, "NS", ns_name)
    for a in args.ns_address:
        cluster.add(ns_name, "A" if ipaddress.ip_address(a).version == 4 else "AAAA", a)
    cluster.add("dns-version." + zone, "TXT", '"1.1.0"')  # spec 2.2
    ptrs = {}  # reverse name -> set of targets

    objs = load_objects(args.manifests)
    services = {}
    slices = {}
    for o in objs:
        kind = o.get("kind")
        meta = o.get("metadata") or {}
        ns = meta.get("namespace", "default")
        if kind == "Service":
            services[(ns, meta["name"])] = o.get("spec") or {}
        elif kind == "EndpointSlice":
            svc = (meta.get("labels") or {}).get("kubernetes.io/service-name")
            if svc:
                slices.setdefault((ns, svc), []).append(o)

    for (ns, name), spec in sorted(services.items()):
        fqdn = f"{name}.{ns}.svc.{zone}"
        ports = [p for p in spec.get("ports") or [] if p.get("name")]
        if spec.get("type") == "ExternalName":  # spec 2.5
            cluster.add(fqdn, "CNAME", spec["externalName"].strip(".").lower() + ".")
            continue
        ips = spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else [])
        if ips and ips[0] != "None":  # spec 2.3
            for ip in ips:
                v = ipaddress.ip_address(ip).version
                cluster.add(fqdn, "A" if v == 4 else "AAAA", ip)
                ptrs.setdefault(reverse_name(ip), set()).add(fqdn)
            for p in ports:
                proto = (p.get("protocol") or "TCP").lower()
                cluster.add(f"_{p['name']}._{proto}.{fqdn}", "SRV", f"0 100 {p['port']} {fqdn}")
            continue
        if ips and ips[0] == "None":  # headless, spec 2.4: ready endpoints only
            eps = {}
            for s in slices.get((ns, name), []):
                for e in s.get("endpoints") or []:
                    if (e.get("conditions") or {}).get("ready") is False:
                        continue
                    for addr in e.get("addresses") or []:
                        host = e.get("hostname")
                        if not host or not LABEL.match(host):
                            host = dashed(addr)
                        eps[(host, addr)] = True
            if not eps:
                continue  # no ready endpoint: no name (NXDOMAIN)
            hosts = sorted({h for h, _ in eps})
            for host, addr in eps:
                v = ipaddress.ip_address(addr).version
                cluster.add(fqdn, "A" if v == 4 else "AAAA", addr)
                cluster.add(f"{host}.{fqdn}", "A" if v == 4 else "AAAA", addr)
                ptrs.setdefault(reverse_name(addr), set()).add(f"{host}.{fqdn}")
            weight = max(1, 100 // len(hosts))
            for p in ports:
                proto = (p.get("protocol") or "TCP").lower()
                for host in hosts:
                    cluster.add(f"_{p['name']}._{proto}.{fqdn}", "SRV", f"0 {weight} {p['port']} {host}.{fqdn}")

    os.makedirs(args.outdir, exist_ok=True)
    listing = []

    def write(apex, z, fname):
        path = os.path.join(args.outdir, fname)
        with open(path, "w") as fh:
            fh.write(f"$ORIGIN {apex}\n$TTL {ttl}\n")
            for owner in sorted(z.rrs):
                for rtype, rdata in sorted(z.rrs[owner]):
                    fh.write(f"{owner} {ttl} IN {rtype} {rdata}\n")
        listing.append(f"{apex} {path}")

    write(zone, cluster, zone.rstrip(".") + ".zone")
    # A zone per reverse name: its apex needs an SOA and an NS of its own.
    for i, (rname, targets) in enumerate(sorted(ptrs.items())):
        z = Zone()
        z.add(rname, "SOA", soa)
        z.add(rname, "NS", ns_name)
        for t in targets:
            z.add(rname, "PTR", t)
        write(rname, z, f"reverse-{i}.zone")
    with open(os.path.join(args.outdir, "zones.list"), "w") as fh:
        fh.write("\n".join(listing) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
