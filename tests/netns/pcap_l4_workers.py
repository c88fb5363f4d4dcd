#!/usr/bin/env python3
"""Inputs and checks of pcap_l4_workers_test.sh: two workers, one net_pcap port
with two RX queues (an rx_pcap= file each) and two TX queues (a tx_pcap= file
per worker, so an output file says which worker sent a packet).

  pcap_l4_workers.py craft WORK 1   run 1's inputs: each flow's first packet
  pcap_l4_workers.py craft WORK 2   run 2's inputs: run 1's, then the pods'
                                    answers to what run 1 sent them and more
                                    of each conversation
  pcap_l4_workers.py check WORK     both runs' outputs and counters

Flows (TCP and UDP each): full NAT through a ClusterIP and a NodePort, and the
client's address kept through a Local Service's load-balancer IP and NodePort;
some of each over IPv6 too; half of each kind arrives on queue 0, half on
queue 1.

Why it cannot flake: the two workers read their files concurrently, so
nothing may depend on the order between the two files.
  * A full-NAT flow belongs to the worker whose queue its first packet
    arrives on (net_pcap has no RSS for the SNAT port to aim at, so
    snat-unaimed counts every one). All of such a flow's packets, the pod's
    replies included, are in that one file: one worker sees them in file
    order, and no hand-off is needed.
  * A Local flow belongs to the worker a hash of the client's address and
    port names. Run 1 finds which one from the output file its first packet
    leaves by. Some flows sit in the other worker's file: that worker hands
    every one of their packets, in file order, to the owner over one ring
    (one producer, FIFO), so the owner takes the client's first packet before
    the pod's answer. Flows on the owner's queue need no hand-off.
  * Every choice the gateway makes is a function of the packets alone (Maglev
    by the flow's hash, the SNAT port tried first by the client's flow hash,
    each worker's table filled by its own file in order), so run 2 makes the
    choices run 1 showed, which the pods' answers are addressed to; the check
    compares them.
Full-NAT replies arriving on the other worker's queue (handed over by their
SNAT port's slice) are left to netns_l4_workers (af_packet, live kernel
traffic): here the reply's file could be read before its flow's first packet
in the other file (tried: with the full-NAT replies moved to the other file, a
run dropped 16 of them as not_for_gateway).
"""
import os
import re
import sys

from scapy.all import Ether, IP, IPv6, TCP, UDP, Raw, rdpcap, wrpcap, raw

GW_MAC = "02:00:00:00:00:01"
NODE, NODE6 = "198.18.0.1", "2001:2::1"
SNAT = {4: "198.18.0.250", 6: "2001:2::250"}
# services.snat_port_lo/hi of the test's gateway.yaml: split evenly, worker 0
# takes the lower half.
SNAT_LO, SNAT_HI, WORKERS = 20000, 29999, 2
SPAN = (SNAT_HI - SNAT_LO + 1) // WORKERS
CLIENTS = {4: [("198.18.0.2", "02:00:00:00:00:02"), ("198.18.0.3", "02:00:00:00:00:03")],
           6: [("2001:2::2", "02:00:00:00:00:02"), ("2001:2::3", "02:00:00:00:00:03")]}
POD_MAC = {"198.19.1.11": "02:00:00:00:01:11", "198.19.1.12": "02:00:00:00:01:12",
           "198.19.1.13": "02:00:00:00:01:13", "2001:3::11": "02:00:00:00:01:11",
           "2001:3::12": "02:00:00:00:01:12", "2001:3::13": "02:00:00:00:01:13"}
WEB_PODS = ["198.19.1.11", "198.19.1.12", "198.19.1.13"]
LOCAL_PODS = ["198.19.1.12", "198.19.1.13"]
WEB6_PODS = ["2001:3::11", "2001:3::12", "2001:3::13"]
LOCAL6_PODS = ["2001:3::12", "2001:3::13"]
# name, protocol, frontend address and port, full NAT, target port, endpoints
# (tests/netns/manifests-pcap-workers/services.yaml)
KINDS = [
    ("cluster-tcp", "tcp", "198.18.100.10", 80, True, 8080, WEB_PODS),
    ("nodeport-tcp", "tcp", NODE, 30080, True, 8080, WEB_PODS),
    ("cluster-udp", "udp", "198.18.100.10", 53, True, 5353, WEB_PODS),
    ("nodeport-udp", "udp", NODE, 30053, True, 5353, WEB_PODS),
    ("local-lb-tcp", "tcp", "198.18.150.2", 80, False, 8080, LOCAL_PODS),
    ("local-np-tcp", "tcp", NODE, 30040, False, 8080, LOCAL_PODS),
    ("local-lb-udp", "udp", "198.18.150.2", 53, False, 5353, LOCAL_PODS),
    ("local-np-udp", "udp", NODE, 30041, False, 5353, LOCAL_PODS),
    ("cluster6-tcp", "tcp", "2001:2::100:10", 80, True, 8080, WEB6_PODS),
    ("nodeport6-udp", "udp", NODE6, 30153, True, 5353, WEB6_PODS),
    ("local6-lb-tcp", "tcp", "2001:2::150:2", 80, False, 8080, LOCAL6_PODS),
    ("local6-np-udp", "udp", NODE6, 30141, False, 5353, LOCAL6_PODS),
]
PER_QUEUE = 4  # flows of each kind on each queue
T0 = 1700000000.0


def flows():
    out = []
    for k, (name, proto, vip, vport, full_nat, tport, pods) in enumerate(KINDS):
        for q in range(2):
            for i in range(PER_QUEUE):
                n = len(out)
                family = 6 if ":" in vip else 4
                client, cmac = CLIENTS[family][i % 2]
                out.append({"id": n, "kind": name, "proto": proto, "family": family, "vip": vip, "vport": vport,
                            "full_nat": full_nat,
                            "tport": tport, "pods": pods, "queue": q, "client": client, "cmac": cmac,
                            "sport": 40000 + 37 * n, "seq": 1000000 * (n + 1), "pod_seq": 7000000 * (n + 1)})
    return out


def mark(f, step):
    """A payload naming the flow and the packet (NAT keeps it)."""
    return f"kgw-flow-{f['id']}-step-{step}".encode()


def l3(src, dst):
    return IPv6(src=src, dst=dst, hlim=64) if ":" in src else IP(src=src, dst=dst, ttl=64)


def ip_of(p):
    return p[IPv6] if IPv6 in p else p[IP]


def client_pkt(f, step):
    e = Ether(src=f["cmac"], dst=GW_MAC) / l3(f["client"], f["vip"])
    if f["proto"] == "udp":
        return e / UDP(sport=f["sport"], dport=f["vport"]) / Raw(mark(f, step))
    if step == 0:
        return e / TCP(sport=f["sport"], dport=f["vport"], flags="S", seq=f["seq"], window=64240) / Raw(mark(f, 0))
    return e / TCP(sport=f["sport"], dport=f["vport"], flags="PA", seq=f["seq"] + 1 + len(mark(f, 0)),
                   ack=f["pod_seq"] + 1, window=64240) / Raw(mark(f, step))


def pod_pkt(f, step, seen):
    """The pod's packet to the address and port run 1 saw the gateway use."""
    e = Ether(src=POD_MAC[seen["pod"]], dst=GW_MAC) / l3(seen["pod"], seen["src"])
    if f["proto"] == "udp":
        return e / UDP(sport=f["tport"], dport=seen["sport"]) / Raw(mark(f, step))
    if step == 1:
        return e / TCP(sport=f["tport"], dport=seen["sport"], flags="SA", seq=f["pod_seq"],
                       ack=f["seq"] + 1 + len(mark(f, 0)), window=65160) / Raw(mark(f, 1))
    return e / TCP(sport=f["tport"], dport=seen["sport"], flags="PA", seq=f["pod_seq"] + 1,
                   ack=f["seq"] + 1 + len(mark(f, 0)) + len(mark(f, 2)), window=65160) / Raw(mark(f, step))


STEPS = 4  # 0 client's first packet, 1 pod answers, 2 client again, 3 pod again


def stamp(pkts):
    for i, p in enumerate(pkts):
        p.time = T0 + i * 0.001
    return pkts


def read_out(work, run):
    """Output packets by flow id and step: (worker, packet)."""
    got = {}
    problems = []
    for w in range(WORKERS):
        path = os.path.join(work, f"run{run}-out{w}.pcap")
        for p in rdpcap(path) if os.path.getsize(path) > 0 else []:
            m = re.search(rb"kgw-flow-(\d+)-step-(\d+)", bytes(p))
            if not m:
                problems.append(f"run {run}: worker {w} sent a packet of no flow: {p.summary()}")
                continue
            key = (int(m.group(1)), int(m.group(2)))
            if key in got:
                problems.append(f"run {run}: flow {key[0]} step {key[1]} sent twice (workers {got[key][0]} and {w})")
            got[key] = (w, p)
    return got, problems


def first_choice(p):
    """What the gateway chose for a flow, from its translated first packet."""
    l4 = p[TCP] if TCP in p else p[UDP]
    return {"pod": ip_of(p).dst, "tport": l4.dport, "src": ip_of(p).src, "sport": l4.sport, "mac": p[Ether].dst}


def craft(work, run):
    fl = flows()
    files = {0: [], 1: []}
    if run == 1:
        for f in fl:
            files[f["queue"]].append(client_pkt(f, 0))
    else:
        got, problems = read_out(work, 1)
        missing = [f["id"] for f in fl if (f["id"], 0) not in got]
        if problems or missing:
            sys.exit("run 1's output cannot answer: " + "; ".join(problems + [f"flows {missing} not forwarded"]))
        seen = {f["id"]: first_choice(got[(f["id"], 0)][1]) for f in fl}
        # In each file, a flow's packets in conversation order (steps in turn,
        # each step for every flow of the file before the next).
        for step in range(STEPS):
            for f in fl:
                p = client_pkt(f, step) if step % 2 == 0 else pod_pkt(f, step, seen[f["id"]])
                files[f["queue"]].append(p)
    for q in range(2):
        wrpcap(os.path.join(work, f"run{run}-q{q}.pcap"), stamp(files[q]))
    print(f"run {run}: {len(files[0])} packets for queue 0, {len(files[1])} for queue 1")


def checksums_ok(p):
    """Recomputes the IPv4 header's and the L4 checksum from scratch."""
    fresh = Ether(raw(p))
    if IP in fresh:
        fresh[IP].chksum = None
    l4 = TCP if TCP in fresh else UDP
    fresh[l4].chksum = None
    again = Ether(raw(fresh))
    return (IP not in p or again[IP].chksum == p[IP].chksum) and again[l4].chksum == p[l4].chksum


def counters(work, run):
    """`show counters` of run N: its text, the steering and conntrack lines as
    dicts, new flows and the total of drops."""
    text = open(os.path.join(work, f"run{run}-counters.txt")).read()

    def fields(section):
        line = re.search(rf"^{section}: (.*)$", text, re.M)
        return {k: int(v) for k, v in re.findall(r"([a-z-]+) (\d+)", line.group(1))} if line else {}
    services = re.search(r"^services: new-flows (\d+)", text, re.M)
    drops = re.search(r"^\s*total\s+(\d+)$", text, re.M)
    return (text, fields("steering"), fields("conntrack"), int(services.group(1)) if services else -1,
            int(drops.group(1)) if drops else 0)


def check(work):
    fl = flows()
    problems = []
    out1, p1 = read_out(work, 1)
    out2, p2 = read_out(work, 2)
    problems += p1 + p2
    owner = {}
    for f in fl:
        fid = f["id"]
        if (fid, 0) not in out1:
            problems.append(f"run 1: flow {fid} ({f['kind']}) not forwarded")
            continue
        w, p = out1[(fid, 0)]
        owner[fid] = w
        c = first_choice(p)
        what = f"flow {fid} ({f['kind']}, queue {f['queue']})"
        if c["pod"] not in f["pods"] or c["tport"] != f["tport"] or c["mac"] != POD_MAC.get(c["pod"]):
            problems.append(f"{what}: sent to {c['pod']}:{c['tport']} ({c['mac']}), not an endpoint")
        if f["full_nat"]:
            lo = SNAT_LO + w * SPAN
            if c["src"] != SNAT[f["family"]] or not lo <= c["sport"] < lo + SPAN:
                problems.append(f"{what}: source {c['src']}:{c['sport']}, want {SNAT[f['family']]} and a port of "
                                f"worker {w}'s slice {lo}..{lo + SPAN - 1}")
            if w != f["queue"]:
                problems.append(f"{what}: placed by worker {w}, not by worker {f['queue']} whose queue took it")
        elif (c["src"], c["sport"]) != (f["client"], f["sport"]):
            problems.append(f"{what}: source {c['src']}:{c['sport']}, want the client's {f['client']}:{f['sport']}")
    local = [f for f in fl if not f["full_nat"] and f["id"] in owner]
    handed = [f for f in local if owner[f["id"]] != f["queue"]]
    for family in (4, 6):
        fam = [f for f in local if f["family"] == family]
        for w in range(WORKERS):
            if not any(owner[f["id"]] == w for f in fam):
                problems.append(f"no IPv{family} Local flow is worker {w}'s: the client hash should spread them")
        n = sum(1 for f in handed if f["family"] == family)
        if n == 0 or n == len(fam):
            problems.append(f"{n} of {len(fam)} IPv{family} Local flows arrived on the other worker's queue: "
                            "the test wants some of each")

    # Run 2: every flow complete both ways, by its owner, as run 1 chose.
    for f in fl:
        fid = f["id"]
        if fid not in owner:
            continue
        what = f"flow {fid} ({f['kind']}, queue {f['queue']}, worker {owner[fid]})"
        for step in range(STEPS):
            if (fid, step) not in out2:
                problems.append(f"run 2: {what}: step {step} not forwarded")
                continue
            w, p = out2[(fid, step)]
            if w != owner[fid]:
                problems.append(f"run 2: {what}: step {step} sent by worker {w}")
            if not checksums_ok(p):
                problems.append(f"run 2: {what}: step {step} checksums wrong")
            l4 = p[TCP] if TCP in p else p[UDP]
            if step % 2 == 0:
                if first_choice(p) != first_choice(out1[(fid, 0)][1]):
                    problems.append(f"run 2: {what}: step {step} went {first_choice(p)}, run 1 chose "
                                    f"{first_choice(out1[(fid, 0)][1])}")
            else:
                got = (p[Ether].src, p[Ether].dst, ip_of(p).src, l4.sport, ip_of(p).dst, l4.dport)
                want = (GW_MAC, f["cmac"], f["vip"], f["vport"], f["client"], f["sport"])
                if got != want:
                    problems.append(f"run 2: {what}: the pod's step {step} reached the client as {got}, want {want}")
            if TCP in p:
                flags = {0: "S", 1: "SA", 2: "PA", 3: "PA"}[step]
                if str(p[TCP].flags) != flags:
                    problems.append(f"run 2: {what}: step {step} flags {p[TCP].flags}")

    # The counters: how each flow was steered.
    full_nat = sum(1 for f in fl if f["full_nat"])
    for run, per_flow in ((1, 1), (2, STEPS)):
        text, st, ct, new_flows, drops = counters(work, run)
        print(f"run {run}: " + next((ln for ln in text.splitlines() if ln.startswith("steering:")), "no steering line"))
        want = {"snat-by-flow-rule": 0, "snat-rss-aimed": 0, "snat-unaimed": full_nat,
                "handoff-out": per_flow * len(handed), "handoff-in": per_flow * len(handed)}
        for k, v in want.items():
            if st.get(k) != v:
                problems.append(f"run {run}: steering {k} {st.get(k)}, want {v}")
        if new_flows != len(fl):
            problems.append(f"run {run}: new-flows {new_flows}, want {len(fl)}")
        # Run 2 answered every flow: each connection saw both directions.
        want_ct = {"active": len(fl), "inserts": len(fl), "assured": 0 if run == 1 else len(fl)}
        for k, v in want_ct.items():
            if ct.get(k) != v:
                problems.append(f"run {run}: conntrack {k} {ct.get(k)}, want {v}")
        if drops:
            problems.append(f"run {run}: {drops} packets dropped:\n{text}")

    print(f"{len(fl)} flows (IPv4 and IPv6): {full_nat} full NAT (TCP and UDP, ClusterIP and NodePort) placed by "
          f"the worker of their queue; {len(local)} Local, {len(handed)} of them on the other worker's queue and handed over "
          f"({len(handed)} packets in run 1, {STEPS * len(handed)} in run 2)")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print("every flow complete both ways through one worker, as run 1 chose")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "craft":
        craft(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) == 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    else:
        sys.exit(__doc__)
