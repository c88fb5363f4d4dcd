"""Golden cases for neighbour resolution (issue 18), on the replay's capture
clock: endpoints on p0's on-link 198.19.2.0/24 have no static neighbour
(gateway.yaml), so the first packets towards one wait for an ARP exchange."""
from scapy.all import ARP, Ether, IP, TCP, Raw

GW_MAC = "02:00:00:00:00:01"
CLIENT_MAC = "02:00:00:00:00:02"
CLIENT_V4, NODE_V4 = "198.18.0.2", "198.18.0.1"
POD_V4, POD_MAC = "198.19.2.11", "02:00:00:00:02:11"
DEAD_V4 = "198.19.2.99"


def syn(dst, sport):
    return Ether(src=CLIENT_MAC, dst=GW_MAC) / IP(src=CLIENT_V4, dst=dst) / TCP(sport=sport, dport=80, flags="S",
                                                                                seq=1000)


def is_arp_request(o, target):
    return (ARP in o and o[ARP].op == 1 and o[ARP].pdst == target and o[ARP].psrc == NODE_V4 and
            o[ARP].hwsrc == GW_MAC and o[Ether].src == GW_MAC and o[Ether].dst == "ff:ff:ff:ff:ff:ff")


def case_nb_arp_resolution(stamp, checksum_ok):
    # Two SYNs to a Service whose endpoint nobody has resolved yet: one ARP
    # request, both SYNs held, then sent to the MAC of the reply.
    inp = stamp([syn("198.18.100.90", 41000), syn("198.18.100.90", 41001)])

    def followup(out):
        req = [o for o in out if ARP in o]
        if not req:
            return []
        return [Ether(src=POD_MAC, dst=GW_MAC) / ARP(op=2, hwsrc=POD_MAC, psrc=POD_V4, hwdst=GW_MAC,
                                                     pdst=req[0][ARP].psrc)]

    def check(out):
        if len(out) != 3:
            return [f"expected an ARP request and the 2 SYNs, got {len(out)} packets: {[o.summary() for o in out]}"]
        problems = []
        if not is_arp_request(out[0], POD_V4):
            problems.append(f"first is not a broadcast ARP request for {POD_V4} from {NODE_V4}: {out[0].summary()}")
        for i, o in zip(inp, out[1:]):
            if IP not in o or o[IP].dst != POD_V4 or o[TCP].dport != 8080 or o[TCP].flags != "S":
                problems.append(f"not the SYN to the endpoint: {o.summary()}")
                continue
            if o[Ether].dst != POD_MAC or o[Ether].src != GW_MAC:
                problems.append(f"SYN addressed {o[Ether].src} -> {o[Ether].dst}, want the ARP reply's MAC")
            if not checksum_ok(o, TCP) or not checksum_ok(o, IP):
                problems.append("checksums wrong after NAT")
        if [o[TCP].sport for o in out[1:] if TCP in o] != sorted(o[TCP].sport for o in out[1:] if TCP in o):
            problems.append("held SYNs released out of order")
        return problems
    return inp, check, {}, followup


def case_nb_failed(stamp, checksum_ok):
    # An endpoint that never answers: three ARP requests a second apart (the
    # capture's clock, driven by unrelated frames), then FAILED: the held SYN
    # and the client's retransmission are dropped as neighbor_failed.
    # A replay's clock is the first packet's of each burst of 32: each step
    # is a burst of its own, filled with ARP requests for nobody, 1.05 s
    # after the previous one: just over a retransmission.
    filler = Ether(src=CLIENT_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT_V4,
                                                                   pdst="198.18.0.77")
    inp = stamp([syn("198.18.100.91", 42000)] + [filler.copy() for _ in range(31 + 4 * 32)] +
                [syn("198.18.100.91", 42000)])
    t0 = inp[0].time
    for i, p in enumerate(inp[1:]):
        p.time = t0 + 1.05 * ((i + 1) // 32) + 0.000001 * (i + 1)

    def check(out):
        reqs = [o for o in out if is_arp_request(o, DEAD_V4)]
        problems = []
        # Three, a step apart; FAILED at the next; the retransmitted SYN, used
        # after a retransmission time, asks once more.
        if len(reqs) != 4 or len(out) != 4:
            problems.append(f"expected 4 ARP requests for {DEAD_V4} and nothing else, got {[o.summary() for o in out]}")
        return problems
    return inp, check, {"neighbor_failed"}


NEIGHBOR_CASES = {
    "nb_arp_resolution": case_nb_arp_resolution,
    "nb_failed": case_nb_failed,
}
