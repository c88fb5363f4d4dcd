"""Golden cases for pod routing (docs/pod-network.md): a pod on the
gateway's segment (198.19.1.11) and pods of Node `remote` (198.19.70.0/24,
at 198.18.0.3, VTEP MAC 02:00:00:00:70:01) behind VXLAN (gateway.yaml's
pod_network, manifests/nodes.yaml)."""
import struct

from scapy.all import DNS, DNSQR, Ether, ICMP, IP, IPv6, ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6PacketTooBig, UDP, Raw, raw
from scapy.layers.vxlan import VXLAN

GW_MAC, GW_VTEP_MAC = "02:00:00:00:00:01", "02:00:00:00:00:ee"
NODE_V4, REMOTE_V4, REMOTE_MAC, REMOTE_VTEP_MAC = "198.18.0.1", "198.18.0.3", "02:00:00:00:00:03", "02:00:00:00:70:01"
LOCAL_POD, LOCAL_POD_MAC, REMOTE_POD = "198.19.1.11", "02:00:00:00:01:11", "198.19.70.5"
NODE_V6, CLIENT_V6, CLIENT_MAC = "2001:2::1", "2001:2::2", "02:00:00:00:00:02"
REMOTE_V6, REMOTE_VTEP_MAC6, REMOTE_POD6 = "2001:2::3", "02:00:00:00:70:06", "2001:3:70::5"


def from_local_pod(size=8, ttl=64, flags=0, sport=5000):
    return (Ether(src=LOCAL_POD_MAC, dst=GW_MAC) / IP(src=LOCAL_POD, dst=REMOTE_POD, ttl=ttl, flags=flags) /
            UDP(sport=sport, dport=9000) / Raw(b"p" * size))


def vxlan_in(inner, vni=1):
    return (Ether(src=REMOTE_MAC, dst=GW_MAC) / IP(src=REMOTE_V4, dst=NODE_V4) / UDP(sport=50000, dport=8472) /
            VXLAN(vni=vni, flags=0x08) / inner)


def case_pod_vxlan_encap(stamp, checksum_ok):
    # Two packets of one flow and one of another go into the tunnel; TTL 1 is
    # dropped; 1480 bytes with DF do not fit (1500 - 50) and are answered with
    # fragmentation needed, without DF dropped (no fragmentation).
    inp = stamp([from_local_pod(), from_local_pod(), from_local_pod(sport=5001), from_local_pod(ttl=1),
                 from_local_pod(size=1480 - 28, flags="DF"), from_local_pod(size=1480 - 28)])

    def check(out):
        problems = []
        if len(out) != 4:
            return [f"expected 3 encapsulated packets and an ICMP error, got {[o.summary() for o in out]}"]
        sports = []
        for i, o in enumerate(out[:3]):
            if VXLAN not in o:
                problems.append(f"packet {i} not in VXLAN: {o.summary()}")
                continue
            if (o[Ether].dst, o[Ether].src, o[IP].src, o[IP].dst) != (REMOTE_MAC, GW_MAC, NODE_V4, REMOTE_V4):
                problems.append(f"outer headers wrong: {o.summary()}")
            if o[UDP].dport != 8472 or o[UDP].chksum != 0 or not 49152 <= o[UDP].sport or not checksum_ok(o, IP):
                problems.append(f"outer UDP wrong: {o[UDP].sport} -> {o[UDP].dport} checksum {o[UDP].chksum}")
            if o[VXLAN].vni != 1 or not o[VXLAN].flags & 0x08:
                problems.append(f"VXLAN header wrong: {o[VXLAN].summary()}")
            inner = o[VXLAN].payload
            if (inner[Ether].dst, inner[Ether].src) != (REMOTE_VTEP_MAC, GW_VTEP_MAC):
                problems.append(f"inner MACs {inner[Ether].src} -> {inner[Ether].dst}")
            if inner[IP].ttl != 63 or inner[IP].dst != REMOTE_POD or not checksum_ok(inner, IP):
                problems.append(f"inner packet wrong: {inner.summary()} ttl {inner[IP].ttl}")
            sports.append(o[UDP].sport)
        if len(sports) == 3 and sports[0] != sports[1]:
            problems.append(f"one flow, two source ports: {sports}")
        err = out[3]
        if ICMP not in err or (err[ICMP].type, err[ICMP].code, err[ICMP].nexthopmtu) != (3, 4, 1450):
            problems.append(f"not fragmentation needed with MTU 1450: {err.summary()}")
        elif err[IP].dst != LOCAL_POD or err[IP].src != NODE_V4 or err[Ether].dst != LOCAL_POD_MAC:
            problems.append(f"the error does not go to the local pod: {err.summary()}")
        return problems
    return inp, check, {"pod_ttl_exceeded", "pod_too_big"}


def case_pod_vxlan_decap(stamp, checksum_ok):
    # VXLAN from the remote Node to a pod on the gateway's segment: taken
    # apart and delivered on L2; a wrong VNI and a frame not for the
    # gateway's VTEP MAC are dropped.
    inner = Ether(src=REMOTE_VTEP_MAC, dst=GW_VTEP_MAC) / IP(src=REMOTE_POD, dst=LOCAL_POD) / ICMP(type=8, id=7, seq=1)
    stranger = Ether(src=REMOTE_VTEP_MAC, dst="02:00:00:00:99:99") / IP(src=REMOTE_POD, dst=LOCAL_POD) / ICMP()
    inp = stamp([vxlan_in(inner), vxlan_in(inner, vni=2), vxlan_in(stranger)])

    def check(out):
        if len(out) != 1:
            return [f"expected the inner echo request alone, got {[o.summary() for o in out]}"]
        o = out[0]
        problems = []
        if VXLAN in o or ICMP not in o or o[IP].src != REMOTE_POD or o[IP].dst != LOCAL_POD:
            problems.append(f"not the inner packet: {o.summary()}")
        elif (o[Ether].dst, o[Ether].src) != (LOCAL_POD_MAC, GW_MAC) or o[IP].ttl != 63 or not checksum_ok(o, IP):
            problems.append(f"not delivered on L2 with TTL 63: {o.summary()} ttl {o[IP].ttl}")
        return problems
    return inp, check, {"vxlan_bad_vni", "vxlan_bad_inner_mac"}


def case_pod_vxlan_answers(stamp, checksum_ok):
    # A remote pod reaches the gateway itself through the tunnel: an echo
    # request to its address, a DNS query to its responder and a datagram to
    # a closed port get their answers back inside VXLAN, to the Node that owns
    # the pod (not bare out of the underlay port), with the TTL the gateway
    # gave them.
    def inner(l3):
        return Ether(src=REMOTE_VTEP_MAC, dst=GW_VTEP_MAC) / IP(src=REMOTE_POD, dst=l3[0]) / l3[1]
    packets = [(NODE_V4, ICMP(type=8, id=9, seq=1) / Raw(b"ping")),
               ("198.18.0.53", UDP(sport=5353, dport=53) / DNS(id=77, rd=1, qd=DNSQR(qname="nothing.cluster.local"))),
               (NODE_V4, UDP(sport=5354, dport=9) / Raw(b"closed"))]
    inp = stamp([vxlan_in(inner(p)) for p in packets])

    def check(out):
        if len(out) != 3:
            return [f"expected 3 answers in VXLAN, got {[o.summary() for o in out]}"]
        problems = []
        for i, o in enumerate(out):
            if VXLAN not in o:
                problems.append(f"answer {i} not in VXLAN: {o.summary()}")
                continue
            if (o[Ether].dst, o[IP].src, o[IP].dst, o[UDP].dport) != (REMOTE_MAC, NODE_V4, REMOTE_V4, 8472):
                problems.append(f"answer {i}: outer headers wrong: {o.summary()}")
            a = o[VXLAN].payload
            if (a[Ether].dst, a[Ether].src) != (REMOTE_VTEP_MAC, GW_VTEP_MAC):
                problems.append(f"answer {i}: inner MACs {a[Ether].src} -> {a[Ether].dst}")
            if a[IP].dst != REMOTE_POD or a[IP].ttl != 64 or not checksum_ok(a, IP):
                problems.append(f"answer {i}: inner packet wrong: {a.summary()} ttl {a[IP].ttl}")
        if not problems:
            echo, dns, unreachable = (o[VXLAN].payload for o in out)
            if ICMP not in echo or echo[ICMP].type != 0 or echo[ICMP].id != 9 or echo[IP].src != NODE_V4:
                problems.append(f"not the echo reply: {echo.summary()}")
            if DNS not in dns or dns[DNS].id != 77 or not dns[DNS].qr or dns[IP].src != "198.18.0.53" or not checksum_ok(dns, UDP):
                problems.append(f"not the DNS answer: {dns.summary()}")
            if ICMP not in unreachable or (unreachable[ICMP].type, unreachable[ICMP].code) != (3, 3):
                problems.append(f"not a port unreachable: {unreachable.summary()}")
        return problems
    return inp, check, set()


def icmp6_sum_right(pkt):
    """The ICMPv6 checksum summed over the bytes as sent (scapy would rebuild
    the quoted packet of a truncated error from its header's lengths)."""
    ip = raw(pkt[IPv6])
    body = ip[40:40 + struct.unpack("!H", ip[4:6])[0]]
    data = ip[8:40] + struct.pack("!IxxxB", len(body), 58) + body + b"\0" * (len(body) % 2)
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s == 0xffff


def vxlan6_in(inner, chksum=None):
    udp = UDP(sport=50000, dport=8472) if chksum is None else UDP(sport=50000, dport=8472, chksum=chksum)
    return Ether(src=REMOTE_MAC, dst=GW_MAC) / IPv6(src=REMOTE_V6, dst=NODE_V6) / udp / VXLAN(vni=1, flags=0x08) / inner


def case_pod_vxlan6(stamp, checksum_ok):
    # IPv6 pods over the IPv6 underlay (Flannel's dual-stack flannel-v6.1):
    # two packets of one flow to the remote Node's IPv6 pod go out in VXLAN
    # over IPv6 (hop limit 64, the UDP checksum computed, one source port and
    # flow label per flow); 1500 bytes of IPv6 do not fit (1500 - 70) and are
    # answered with packet too big 1430; an echo request from the remote pod
    # to the gateway through the IPv6 tunnel is answered back into it; VXLAN
    # over IPv6 with checksum 0 or a wrong one is dropped; an IPv4 pod keeps
    # the IPv4 underlay.
    def to_remote6(size=8):
        return (Ether(src=CLIENT_MAC, dst=GW_MAC) / IPv6(src=CLIENT_V6, dst=REMOTE_POD6, hlim=64) /
                UDP(sport=6000, dport=9000) / Raw(b"6" * size))
    echo = (Ether(src=REMOTE_VTEP_MAC6, dst=GW_VTEP_MAC) / IPv6(src=REMOTE_POD6, dst=NODE_V6) /
            ICMPv6EchoRequest(id=6, seq=1, data=b"ping6"))
    inp = stamp([to_remote6(), to_remote6(), to_remote6(size=1500 - 48), vxlan6_in(echo), vxlan6_in(echo, chksum=0),
                 vxlan6_in(echo, chksum=0x1234), from_local_pod()])

    def check(out):
        if len(out) != 5:
            return [f"expected 2 encapsulated, packet too big, the echo reply in VXLAN and one over IPv4, got "
                    f"{[o.summary() for o in out]}"]
        problems = []
        for i, o in enumerate(out[:2] + [out[3]]):
            if IPv6 not in o or VXLAN not in o[IPv6]:
                problems.append(f"packet {i} not in VXLAN over IPv6: {o.summary()}")
                continue
            if (o[Ether].dst, o[Ether].src, o[IPv6].src, o[IPv6].dst, o[IPv6].hlim) != (REMOTE_MAC, GW_MAC, NODE_V6, REMOTE_V6, 64):
                problems.append(f"outer headers wrong: {o.summary()} hlim {o[IPv6].hlim}")
            if o[UDP].dport != 8472 or o[UDP].sport < 49152 or o[UDP].chksum == 0 or not checksum_ok(o, UDP):
                problems.append(f"outer UDP wrong: {o[UDP].sport} -> {o[UDP].dport} checksum {o[UDP].chksum:#x}")
            if o[VXLAN].vni != 1 or not o[VXLAN].flags & 0x08:
                problems.append(f"VXLAN header wrong: {o[VXLAN].summary()}")
            inner = o[VXLAN].payload
            if (inner[Ether].dst, inner[Ether].src) != (REMOTE_VTEP_MAC6, GW_VTEP_MAC):
                problems.append(f"inner MACs {inner[Ether].src} -> {inner[Ether].dst}")
        if not problems:
            a, b = out[0], out[1]
            if (a[UDP].sport, a[IPv6].fl) != (b[UDP].sport, b[IPv6].fl):
                problems.append("one flow, two source ports or flow labels")
            inner = a[VXLAN].payload
            if inner[IPv6].dst != REMOTE_POD6 or inner[IPv6].hlim != 63:
                problems.append(f"inner packet wrong: {inner.summary()} hlim {inner[IPv6].hlim}")
            reply = out[3][VXLAN].payload
            if ICMPv6EchoReply not in reply or reply[IPv6].src != NODE_V6 or reply[IPv6].dst != REMOTE_POD6 or reply[IPv6].hlim != 64:
                problems.append(f"not the echo reply from the gateway: {reply.summary()}")
            elif not checksum_ok(reply, ICMPv6EchoReply):
                problems.append("echo reply checksum wrong")
        ptb = out[2]
        if ICMPv6PacketTooBig not in ptb or ptb[ICMPv6PacketTooBig].mtu != 1430:
            problems.append(f"not packet too big with MTU 1430: {ptb.summary()}")
        elif ptb[IPv6].dst != CLIENT_V6 or ptb[Ether].dst != CLIENT_MAC or not icmp6_sum_right(ptb):
            problems.append(f"the error does not go to the client: {ptb.summary()}")
        v4 = out[4]
        if IP not in v4 or VXLAN not in v4 or v4[IP].dst != REMOTE_V4 or v4[VXLAN].payload[Ether].dst != REMOTE_VTEP_MAC:
            problems.append(f"the IPv4 pod's packet not over the IPv4 underlay: {v4.summary()}")
        return problems
    return inp, check, {"vxlan_zero_checksum", "vxlan_bad_checksum"}


POD_CASES = {
    "pod_vxlan6": case_pod_vxlan6,
    "pod_vxlan_answers": case_pod_vxlan_answers,
    "pod_vxlan_encap": case_pod_vxlan_encap,
    "pod_vxlan_decap": case_pod_vxlan_decap,
}
