#!/usr/bin/env python3
"""The NetworkPolicy truth tables (DIR/<scenario>.cases.yaml) through the data
path: every case is a new flow replayed by `kgw replay`, and the verdict read
from what the dataplane did with it must be the table's, which `kgw
policy-check --cases` must give too.

The workers classify new Service flows (docs/policy.md, "Enforcement"): from
the client's address as it arrived to the endpoint Pod's address and port.
So each destination (Pod address, port, protocol) of a scenario becomes a
ClusterIP Service with that one endpoint, and each case a first packet (TCP
SYN, UDP datagram, SCTP INIT) from the source Pod's address to it. A case is
`allow` when its packet leaves towards the destination Pod, `deny` when it
does not; the packets carry a mark that NAT keeps (the TCP sequence number,
the UDP payload, the SCTP initiate tag), so each output names its case. The
replay's counters must agree: one `policy_denied` drop per denied case, one
`policy: allowed` per allowed one.

Per scenario, one `kgw policy-check --cases` run and one replay of all its
cases (a few hundred flows).

usage: replay_truth_tables.py KGW DIR [--scenario NAME]
"""
import ipaddress
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml
from scapy.all import IP, UDP, Ether, IPv6, Raw, TCP, rdpcap, wrpcap
from scapy.layers.sctp import SCTP, SCTPChunkInit

SCENARIOS = ["default-deny-ingress", "default-deny-egress", "default-deny-all", "allow-from-namespace-by-label",
             "pod-and-namespace-one-peer", "pod-or-namespace-two-peers", "ipblock-except", "named-port-ingress",
             "named-port-egress", "end-port", "egress-deny-dns-allowed", "allow-all", "multiple-policies-union",
             "policy-added", "policy-removed"]
GW_MAC = "02:00:00:00:00:01"
T0 = 1700000000.0
MARK0 = 100000  # case i carries MARK0 + i


def pods_of(cluster_file):
    """namespace/name -> (IPv4, IPv6, MAC) of every Pod of the cluster."""
    pods = {}
    with open(cluster_file) as f:
        for doc in yaml.safe_load_all(f):
            if not doc or doc.get("kind") != "Pod":
                continue
            ips = [p["ip"] for p in doc["status"]["podIPs"]]
            v4 = next(a for a in ips if ":" not in a)
            v6 = next(a for a in ips if ":" in a)
            n = len(pods) + 1
            pods[f"{doc['metadata']['namespace']}/{doc['metadata']['name']}"] = (v4, v6, f"02:00:00:00:02:{n:02x}")
    return pods


def cases_of(cases_file, pods):
    """The cases as (source address, destination address, port, protocol, expect)."""
    with open(cases_file) as f:
        doc = yaml.safe_load(f)
    out = []
    for c in doc["cases"] if isinstance(doc, dict) else doc:
        ends = []
        for end in (c["from"], c["to"]):
            # A Pod by name is its IPv4 address, as policy-check has it.
            ends.append(pods[end][0] if end in pods else str(ipaddress.ip_address(end)))
        port, proto = str(c["port"]).split("/")
        out.append((ends[0], ends[1], int(port), proto.upper(), c["expect"]))
    return out


def services_yaml(destinations):
    """A ClusterIP Service per destination (address, port, protocol) with that one endpoint."""
    docs = []
    for i, ((addr, port, proto), vip) in enumerate(destinations.items()):
        family = "IPv6" if ":" in addr else "IPv4"
        docs.append(f"""apiVersion: v1
kind: Service
metadata: {{name: dst-{i}, namespace: default}}
spec:
  clusterIP: "{vip}"
  ipFamilies: [{family}]
  ports: [{{name: p, protocol: {proto}, port: {port}, targetPort: {port}}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: dst-{i}, namespace: default, labels: {{kubernetes.io/service-name: dst-{i}}}}}
addressType: {family}
ports: [{{name: p, protocol: {proto}, port: {port}}}]
endpoints: [{{addresses: ["{addr}"]}}]
""")
    return "---\n".join(docs)


def gateway_yaml(pods):
    neighbors = "".join(f'  - {{ip: "{a}", mac: "{mac}", port: p0}}\n'
                        for v4, v6, mac in pods.values() for a in (v4, v6))
    return f"""node:
  name: policy-replay
  addresses: [198.18.0.1, "2001:2::1"]
ports:
  - name: p0
    device: "net_pcap0,rx_pcap=/dev/null,tx_pcap=/dev/null"
    profile: auto
    mac: "{GW_MAC}"
workers: 1
dataplane:
  mbufs: 4095
snat:
  addresses: [198.18.0.250, "2001:2::250"]
services:
  conntrack_entries: 8192
neighbors:
{neighbors}"""


def first_packet(i, src, src_mac, vip, port, proto):
    mark = MARK0 + i
    ip = IPv6(src=src, dst=vip) if ":" in vip else IP(src=src, dst=vip)
    sport = 20000 + i
    if proto == "TCP":
        l4 = TCP(sport=sport, dport=port, flags="S", seq=mark)
    elif proto == "UDP":
        l4 = UDP(sport=sport, dport=port) / Raw(f"case {mark}".encode())
    else:
        l4 = SCTP(sport=sport, dport=port, tag=0) / SCTPChunkInit(init_tag=mark, a_rwnd=106496, n_out_streams=1,
                                                                   n_in_streams=1, init_tsn=1)
    p = Ether(src=src_mac, dst=GW_MAC) / ip / l4
    p.time = T0 + i * 0.001
    return p


def mark_of(p):
    """The case an output packet belongs to, or None."""
    if TCP in p and p[TCP].flags.S and not p[TCP].flags.A:
        return p[TCP].seq - MARK0
    if UDP in p and Raw in p:
        m = re.fullmatch(rb"case (\d+)", bytes(p[Raw].load))
        return int(m.group(1)) - MARK0 if m else None
    if SCTPChunkInit in p:
        return p[SCTPChunkInit].init_tag - MARK0
    return None


def counters(stdout):
    """Drop reasons and the `policy:` line of replay's summary."""
    got = {m.group(1): int(m.group(2)) for m in re.finditer(r"^\s+(\w+)\s+(\d+)\s+\S", stdout, re.M)}
    for line in re.finditer(r"^policy: (.*)$", stdout, re.M):
        for name, value in re.findall(r"([\w-]+) (\d+)", line.group(1)):
            got[f"policy.{name}"] = int(value)
    return got


def run_scenario(kgw, root, scenario, tmp):
    problems = []
    manifests_src = os.path.join(root, scenario)
    cases_file = os.path.join(root, f"{scenario}.cases.yaml")
    # 1. The offline answer, from the same classifier.
    r = subprocess.run([kgw, "policy-check", "--manifests", manifests_src, "--cases", cases_file],
                       capture_output=True, text=True, timeout=120)
    m = re.search(r"^(\d+) passed, (\d+) failed$", r.stdout, re.M)
    if r.returncode != 0 or not m or m.group(2) != "0":
        problems.append(f"kgw policy-check --cases disagrees with the table (exit {r.returncode}):\n{r.stdout}{r.stderr}")
    pods = pods_of(os.path.join(manifests_src, "cluster.yaml"))
    cases = cases_of(cases_file, pods)
    mac_of = {a: mac for v4, v6, mac in pods.values() for a in (v4, v6)}

    # 2. The data path: a Service per destination, a first packet per case.
    destinations = {}
    for _, dst, port, proto, _ in cases:
        key = (dst, port, proto)
        if key not in destinations:
            n = len(destinations) + 1
            destinations[key] = f"2001:db8:ff::{n:x}" if ":" in dst else f"198.18.200.{n}"
    manifests = os.path.join(tmp, scenario)
    os.makedirs(manifests)
    for name in os.listdir(manifests_src):
        shutil.copyfile(os.path.join(manifests_src, name), os.path.join(manifests, name))  # follows the link
    with open(os.path.join(manifests, "services.yaml"), "w") as f:
        f.write(services_yaml(destinations))
    gateway = os.path.join(tmp, f"{scenario}.gateway.yaml")
    with open(gateway, "w") as f:
        f.write(gateway_yaml(pods))
    inp = [first_packet(i, src, mac_of[src], destinations[(dst, port, proto)], port, proto)
           for i, (src, dst, port, proto, _) in enumerate(cases)]
    inp_path, out_path = os.path.join(tmp, f"{scenario}.in.pcap"), os.path.join(tmp, f"{scenario}.out.pcap")
    wrpcap(inp_path, inp)
    r = subprocess.run([kgw, "replay", "--gateway", gateway, "--manifests", manifests, "--in", inp_path,
                        "--out", out_path], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        return problems + [f"kgw replay exited {r.returncode}:\n{r.stdout}\n{r.stderr}"]
    forwarded = set()
    for p in (rdpcap(out_path) if os.path.getsize(out_path) > 24 else []):
        i = mark_of(p)
        if i is None or not 0 <= i < len(cases):
            problems.append(f"an output no case sent: {p.summary()}")
            continue
        src, dst, port, proto, _ = cases[i]
        ip = p[IPv6] if IPv6 in p else p[IP]
        if ip.dst != dst or p[Ether].dst != mac_of[dst]:
            problems.append(f"case {i} ({src} -> {dst} {port}/{proto}) left for {ip.dst} at {p[Ether].dst}")
        forwarded.add(i)
    failed = 0
    for i, (src, dst, port, proto, expect) in enumerate(cases):
        got = "allow" if i in forwarded else "deny"
        if got != expect:
            failed += 1
            if failed <= 20:
                problems.append(f"{src} -> {dst} {port}/{proto}: replay {got}, table {expect}")
    if failed > 20:
        problems.append(f"... {failed - 20} more cases differ")
    c = counters(r.stdout)
    n_deny = sum(1 for case in cases if case[4] == "deny")
    if c.get("policy_denied", 0) != n_deny or c.get("policy.denied", 0) != n_deny or \
            c.get("policy.allowed", 0) != len(cases) - n_deny:
        problems.append(f"replay counted policy_denied {c.get('policy_denied', 0)}, policy denied "
                        f"{c.get('policy.denied', 0)}, allowed {c.get('policy.allowed', 0)}; the table has "
                        f"{n_deny} denied and {len(cases) - n_deny} allowed")
    print(f"{scenario}: {len(cases)} cases, {len(cases) - n_deny} forwarded and {n_deny} dropped as the table says"
          if not problems else f"{scenario}: FAILED")
    return problems


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        print(__doc__)
        return 2
    kgw, root = os.path.abspath(args[0]), os.path.abspath(args[1])
    only = args[args.index("--scenario") + 1] if "--scenario" in args else None
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for scenario in SCENARIOS:
            if only and scenario != only:
                continue
            problems = run_scenario(kgw, root, scenario, tmp)
            for p in problems:
                print(f"  {p}")
            if problems:
                failed += 1
            else:
                passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
