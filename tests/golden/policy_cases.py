"""Golden cases for NetworkPolicy on Service flows (docs/policy.md,
"Enforcement"), with the manifests of manifests_policy/: the Pods behind
198.18.100.10 take TCP 8080 from 198.18.0.3 only."""
from scapy.all import Ether, IP, TCP

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


POLICY_CASES = {"policy_denied": case_policy_denied}
# The manifests each case replays with (a directory of tests/golden); the rest use manifests/.
POLICY_MANIFESTS = {"policy_denied": "manifests_policy"}
