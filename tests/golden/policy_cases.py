"""Golden cases for NetworkPolicy (docs/policy.md, "Enforcement"): on
Service flows, with the manifests of manifests_policy/ (the Pods behind
198.18.100.10 take TCP 8080 from 198.18.0.3 only); on routed pod-to-pod
flows, with those of manifests_policy_pods/."""
from scapy.all import Ether, ICMP, IP, TCP, UDP, Raw, fragment
from scapy.layers.vxlan import VXLAN

from pod_cases import GW_MAC, GW_VTEP_MAC, LOCAL_POD, LOCAL_POD_MAC, REMOTE_MAC, REMOTE_POD, REMOTE_VTEP_MAC, vxlan_in

from service_cases import CLIENT2_V4, CLIENT_V4, PODS_V4, SNAT_V4, check_to_pod, pods_syn_ack, syn

CLIENT2_MAC = "02:00:00:00:00:03"


def case_policy_denied(stamp, checksum_ok):
    # Three SYNs of 198.18.0.2 (each retried once: no connection entry, so
    # classified again) are dropped; three of 198.18.0.3 reach the pods and
    # their SYN-ACKs come back translated.
    inp = stamp([syn("198.18.100.10", 46000 + i) for i in range(3)] +
                [syn("198.18.100.10", 46000 + i) for i in range(3)] +
                [syn("198.18.100.10", 47000 + i, src=CLIENT2_V4, mac=CLIENT2_MAC) for i in range(3)])

    def check(out):
        problems = []
        if len(out) != 6:
            return [f"expected 3 allowed SYNs out and 3 SYN-ACKs back, got {[o.summary() for o in out]}"]
        for o in out[:3]:
            check_to_pod(o, PODS_V4, 8080, SNAT_V4, problems, checksum_ok)
        for o, sport in zip(out[3:], range(47000, 47003)):
            if (o[IP].src, o[IP].dst, o[TCP].sport, o[TCP].dport) != ("198.18.100.10", CLIENT2_V4, 80, sport):
                problems.append(f"reply not translated back to the allowed client: {o.summary()}")
            if o[Ether].dst != CLIENT2_MAC or o[TCP].flags != "SA":
                problems.append(f"reply frame: {o[Ether].dst} {o[TCP].flags}")
        if any(o[IP].dst == CLIENT_V4 for o in out):
            problems.append("the denied client got an answer")
        return problems
    return inp, check, {"policy_denied", "policy.denied", "policy.allowed"}, pods_syn_ack


OTHER_REMOTE_POD = "198.19.70.6"


def case_policy_pods(stamp, checksum_ok):
    # Pod a (on the gateway's segment) opens TCP 80 to Pod r (behind VXLAN):
    # allowed, encapsulated; r's SYN-ACK comes back in VXLAN and reaches a
    # although nothing may open to a (a reply of an allowed connection), then
    # a's ACK follows. Denied: a to r on 81, r opening to a, s opening to a;
    # a's ping to r (a rule with ports allows no ICMP). Allowed: a's ping to
    # s (not isolated) and s's echo reply.
    def from_a(dst, dport, flags, sport=40000):
        return Ether(src=LOCAL_POD_MAC, dst=GW_MAC) / IP(src=LOCAL_POD, dst=dst) / TCP(sport=sport, dport=dport,
                                                                                       flags=flags)

    def to_a(src, sport, dport, flags):
        inner = Ether(src=REMOTE_VTEP_MAC, dst=GW_VTEP_MAC) / IP(src=src, dst=LOCAL_POD) / TCP(
            sport=sport, dport=dport, flags=flags)
        return vxlan_in(inner)

    def ping(src, dst, kind):
        if src == LOCAL_POD:
            return Ether(src=LOCAL_POD_MAC, dst=GW_MAC) / IP(src=src, dst=dst) / ICMP(type=kind, id=9, seq=1)
        return vxlan_in(Ether(src=REMOTE_VTEP_MAC, dst=GW_VTEP_MAC) / IP(src=src, dst=dst) /
                        ICMP(type=kind, id=9, seq=1))

    inp = stamp([from_a(REMOTE_POD, 80, "S"),             # allowed: out in VXLAN
                 from_a(REMOTE_POD, 81, "S", 40001),      # denied
                 to_a(REMOTE_POD, 80, 40000, "SA"),       # the reply: delivered to a
                 from_a(REMOTE_POD, 80, "A"),             # a's ACK: out in VXLAN
                 to_a(REMOTE_POD, 8080, 40002, "S"),      # r opening to a: denied
                 to_a(OTHER_REMOTE_POD, 80, 40003, "S"),  # s opening to a: denied
                 ping(LOCAL_POD, REMOTE_POD, 8),          # denied
                 ping(LOCAL_POD, OTHER_REMOTE_POD, 8),    # allowed: out in VXLAN
                 ping(OTHER_REMOTE_POD, LOCAL_POD, 0)])   # its reply: delivered to a

    def check(out):
        problems = []
        want = [("vxlan", REMOTE_POD, "S"), ("l2", LOCAL_POD, "SA"), ("vxlan", REMOTE_POD, "A"),
                ("vxlan", OTHER_REMOTE_POD, "echo-request"), ("l2", LOCAL_POD, "echo-reply")]
        if len(out) != len(want):
            return [f"expected {len(want)} packets, got {[o.summary() for o in out]}"]
        for o, (how, dst, what) in zip(out, want):
            inner = o[VXLAN].payload if VXLAN in o else o
            if (VXLAN in o) != (how == "vxlan"):
                problems.append(f"{dst} {what}: not {how}: {o.summary()}")
            if how == "vxlan" and o[Ether].dst != REMOTE_MAC:
                problems.append(f"tunnel to {o[Ether].dst}")
            if how == "l2" and o[Ether].dst != LOCAL_POD_MAC:
                problems.append(f"not delivered to a: {o.summary()}")
            if inner[IP].dst != dst:
                problems.append(f"to {inner[IP].dst}, not {dst}: {o.summary()}")
            got = (str(inner[TCP].flags) if TCP in inner else
                   {8: "echo-request", 0: "echo-reply"}.get(inner[ICMP].type, "?") if ICMP in inner else "?")
            if got != what:
                problems.append(f"{what} expected, {got} went out")
            if not checksum_ok(inner, IP):
                problems.append(f"inner IP checksum wrong: {o.summary()}")
        return problems
    return inp, check, {"policy_denied", "policy.denied", "policy.allowed", "policy.routed"}


def case_policy_pod_fragments(stamp, checksum_ok):
    # UDP datagrams of Pod a in three IPv4 fragments, each sent last first
    # (as Linux sends some). To r (isolated: only TCP 80 from a): all three
    # dropped as policy_denied, the two ahead of their first held for its
    # verdict. To s (not isolated): all three out in VXLAN, the first and then
    # the two it released, in offset order.
    def last_first(dst, ident):
        datagram = IP(src=LOCAL_POD, dst=dst, id=ident) / UDP(sport=5000, dport=7000) / Raw(b"x" * 96)
        return [Ether(src=LOCAL_POD_MAC, dst=GW_MAC) / f for f in reversed(fragment(datagram, fragsize=40))]

    inp = stamp(last_first(REMOTE_POD, 0x1111) + last_first(OTHER_REMOTE_POD, 0x2222))

    def check(out):
        problems = []
        if len(out) != 3:
            return [f"expected s's three fragments in VXLAN, got {[o.summary() for o in out]}"]
        for o, offset in zip(out, (0, 5, 10)):
            if VXLAN not in o or o[Ether].dst != REMOTE_MAC:
                problems.append(f"not in the tunnel to s's Node: {o.summary()}")
                continue
            inner = o[VXLAN].payload
            if inner[IP].dst != OTHER_REMOTE_POD or inner[IP].id != 0x2222 or inner[IP].frag != offset:
                problems.append(f"fragment at offset {offset} expected, got {inner.summary()} frag {inner[IP].frag}")
        return problems
    return inp, check, {"policy_denied", "policy.denied", "policy.allowed", "fragments.held", "fragments.released"}


POLICY_CASES = {"policy_denied": case_policy_denied, "policy_pods": case_policy_pods,
                "policy_pod_fragments": case_policy_pod_fragments}
# The manifests each case replays with (a directory of tests/golden); the rest use manifests/.
POLICY_MANIFESTS = {"policy_denied": "manifests_policy", "policy_pods": "manifests_policy_pods",
                    "policy_pod_fragments": "manifests_policy_pods"}
