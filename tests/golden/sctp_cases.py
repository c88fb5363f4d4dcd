"""Golden cases for SCTP Services (issue 19): whole associations through a
ClusterIP and a NodePort of manifests/services.yaml (telco/diameter: SCTP
3868 -> 3869, nodePort 30868, pods 198.19.1.11 and .13), checked packet by
packet: the translated addresses and ports in both directions, and a CRC32c
that scapy computes again from scratch on every packet kgw sent; then the
malformed and corrupted packets parse drops, each under its reason.

The pods' packets depend on the pod and the SNAT port kgw chose for the INIT,
so they are the follow-up of a first replay (see service_cases.py); the
whole sequence is replayed again and must come out the same."""
from scapy.all import ARP, Ether, IP, IPv6, TCP, Raw, raw
from scapy.layers.sctp import (SCTP, SCTPChunkAbort, SCTPChunkCookieAck, SCTPChunkCookieEcho, SCTPChunkData,
                               SCTPChunkInit, SCTPChunkInitAck, SCTPChunkParamStateCookie, SCTPChunkSACK, SCTPChunkShutdown,
                               SCTPChunkShutdownAck, SCTPChunkShutdownComplete)

GW_MAC = "02:00:00:00:00:01"
CLIENT_MAC = "02:00:00:00:00:02"
CLIENT_V4 = "198.18.0.2"
NODE_V4 = "198.18.0.1"
SNAT_V4 = "198.18.0.250"
CLUSTER_IP = "198.18.100.30"
CLIENT_V6, SNAT_V6, CLUSTER_IP_V6 = "2001:2::2", "2001:2::250", "2001:2::100:30"
PODS = {"198.19.1.11", "198.19.1.13", "2001:3::11", "2001:3::13"}
POD_MAC = {"198.19.1.11": "02:00:00:00:01:11", "198.19.1.13": "02:00:00:00:01:13",
           "2001:3::11": "02:00:00:00:01:11", "2001:3::13": "02:00:00:00:01:13"}


def l3(p):
    return p[IP] if IP in p else p[IPv6]
CLIENT_TAG, POD_TAG = 0x0c11e47, 0x90d5a11


def crc_ok(p):
    """scapy's CRC32c over the SCTP packet as sent, against its checksum field."""
    fresh = SCTP(raw(p[SCTP]))
    got = fresh.chksum
    fresh.chksum = None
    return got == SCTP(raw(fresh)).chksum


def from_client(dst, dport, sport, tag, *chunks):
    ip = IPv6(src=CLIENT_V6, dst=dst) if ":" in dst else IP(src=CLIENT_V4, dst=dst)
    p = Ether(src=CLIENT_MAC, dst=GW_MAC) / ip / SCTP(sport=sport, dport=dport, tag=tag)
    for c in chunks:
        p = p / c
    return p


def from_pod(to_gw, tag, *chunks):
    """A packet from the pod that got `to_gw` (kgw's translated INIT) back to where it came from."""
    ip = l3(to_gw)
    back = IPv6(src=ip.dst, dst=ip.src) if IPv6 in to_gw else IP(src=ip.dst, dst=ip.src)
    p = Ether(src=POD_MAC[ip.dst], dst=GW_MAC) / back / SCTP(sport=to_gw[SCTP].dport, dport=to_gw[SCTP].sport, tag=tag)
    for c in chunks:
        p = p / c
    return p


def association(dst, dport, sport, end):
    """The client's INIT, then (given kgw's INIT towards the pod) the rest of
    the association in the order the two sides send it; `end` picks how it
    ends: a SHUTDOWN exchange from the client, or the pod's ABORT."""
    inp = [from_client(dst, dport, sport, 0, SCTPChunkInit(init_tag=CLIENT_TAG, a_rwnd=106496, n_out_streams=10,
                                                             n_in_streams=10, init_tsn=1))]

    def followup(out):
        if not out or SCTP not in out[0]:
            return []
        init = out[0]
        cookie = b"state-cookie-of-the-pod-" + bytes(range(40))
        seq = [
            from_pod(init, CLIENT_TAG, SCTPChunkInitAck(init_tag=POD_TAG, a_rwnd=106496, n_out_streams=10,
                                                        n_in_streams=10, init_tsn=100,
                                                        params=[SCTPChunkParamStateCookie(cookie=cookie)])),
            from_client(dst, dport, sport, POD_TAG, SCTPChunkCookieEcho(cookie=cookie)),
            from_pod(init, CLIENT_TAG, SCTPChunkCookieAck()),
            from_client(dst, dport, sport, POD_TAG, SCTPChunkData(tsn=1, stream_id=0, stream_seq=0, proto_id=46,
                                                                  data=b"CER: capabilities exchange request" * 20)),
            from_pod(init, CLIENT_TAG, SCTPChunkSACK(cumul_tsn_ack=1, a_rwnd=106496),
                     SCTPChunkData(tsn=100, stream_id=0, stream_seq=0, proto_id=46, data=b"CEA: answer")),
        ]
        if end == "shutdown":
            seq += [
                from_client(dst, dport, sport, POD_TAG, SCTPChunkSACK(cumul_tsn_ack=100, a_rwnd=106496)),
                from_client(dst, dport, sport, POD_TAG, SCTPChunkShutdown(cumul_tsn_ack=100)),
                from_pod(init, CLIENT_TAG, SCTPChunkShutdownAck()),
                from_client(dst, dport, sport, POD_TAG, SCTPChunkShutdownComplete()),
            ]
        else:
            seq += [from_pod(init, CLIENT_TAG, SCTPChunkAbort())]
        return seq
    return inp, followup


def check_association(inp_all, out, dst, dport, sport, checksum_ok):
    """Every packet of the association left translated: the client's to one
    pod, from the SNAT address and one port; the pod's to the client, from
    the address and port it tried; every CRC32c right."""
    problems = []
    pod = snat_port = None
    for i, o in enumerate(out):
        if SCTP not in o:
            problems.append(f"packet {i} is no SCTP: {o.summary()}")
            continue
        if not crc_ok(o):
            problems.append(f"packet {i}: CRC32c wrong after NAT: {o.summary()}")
        if IP in o and not checksum_ok(o, IP):
            problems.append(f"packet {i}: IPv4 header checksum wrong")
        ip = l3(o)
        v6 = IPv6 in o
        if ip.dst in PODS:
            pod = pod or ip.dst
            snat_port = snat_port or o[SCTP].sport
            want = (pod, SNAT_V6 if v6 else SNAT_V4, 3869, snat_port)
            if (ip.dst, ip.src, o[SCTP].dport, o[SCTP].sport) != want:
                problems.append(f"packet {i} to the pod not translated as the INIT was: {o.summary()}")
            if o[Ether].dst != POD_MAC[pod]:
                problems.append(f"packet {i}: to MAC {o[Ether].dst}")
        elif (ip.src, ip.dst, o[SCTP].sport, o[SCTP].dport) != (dst, CLIENT_V6 if v6 else CLIENT_V4, dport, sport):
            problems.append(f"packet {i} back to the client not translated: {o.summary()}")
        elif o[Ether].dst != CLIENT_MAC:
            problems.append(f"packet {i}: to MAC {o[Ether].dst}")
    # Every packet went through, in order: each output is its input's
    # chunks with new addresses and ports (and the same verification tag).
    if len(out) != len(inp_all):
        return problems + [f"{len(inp_all)} packets in, {len(out)} out"]
    for i, (a, b) in enumerate(zip(inp_all, out)):
        if SCTP not in b:
            continue
        if raw(a[SCTP])[12:] != raw(b[SCTP])[12:] or a[SCTP].tag != b[SCTP].tag:
            problems.append(f"packet {i}: chunks or verification tag changed")
        to_pod = l3(a).dst == dst
        if to_pod != (l3(b).dst in PODS):
            problems.append(f"packet {i} went the wrong way: {b.summary()}")
    return problems


def case_sctp_clusterip(stamp, checksum_ok):
    """INIT, INIT ACK, COOKIE ECHO, COOKIE ACK, DATA both ways, SHUTDOWN,
    SHUTDOWN ACK, SHUTDOWN COMPLETE through the cluster IP; a TCP SYN to the
    same address and port number goes to the TCP port's target."""
    inp, followup = association(CLUSTER_IP, 3868, 40000, "shutdown")
    inp = stamp(inp)

    def more(out):
        seq = followup(out)
        # After the association: TCP to the same number is another Service port.
        seq.append(Ether(src=CLIENT_MAC, dst=GW_MAC) / IP(src=CLIENT_V4, dst=CLUSTER_IP) /
                   TCP(sport=40001, dport=3868, flags="S", seq=1))
        return seq

    def check(out):
        sctp_out = [o for o in out if SCTP in o]
        tcp_out = [o for o in out if TCP in o]
        fu = followup([sctp_out[0]]) if sctp_out else []
        problems = check_association(inp + fu, sctp_out, CLUSTER_IP, 3868, 40000, checksum_ok)
        if len(tcp_out) != 1 or tcp_out[0][TCP].dport != 8080 or l3(tcp_out[0]).dst not in PODS:
            problems.append(f"the TCP SYN to {CLUSTER_IP}:3868 did not reach a pod's 8080: "
                            f"{[o.summary() for o in tcp_out]}")
        return problems
    # The association was assured (its COOKIE ACK; the TCP SYN is not).
    return inp, check, {"conntrack.assured"}, more


def case_sctp_nodeport(stamp, checksum_ok):
    """The same association through the nodePort, ended by the pod's ABORT;
    then the client opens a new association from the same port, placed afresh."""
    inp, followup = association(NODE_V4, 30868, 41000, "abort")
    inp = stamp(inp)

    def more(out):
        seq = followup(out)
        # The workers' bursts are 32 packets: ARP for an address that is not
        # the gateway's (no answer) fills this one, so that the new INIT comes
        # in a burst of its own and reopens the aborted association (within
        # the ABORT's burst it would carry the old one on).
        seq += [Ether(src=CLIENT_MAC, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=CLIENT_MAC, psrc=CLIENT_V4,
                                                                     pdst="198.18.0.77")
                for _ in range(32 - 1 - len(seq))]
        seq.append(from_client(NODE_V4, 30868, 41000, 0, SCTPChunkInit(init_tag=CLIENT_TAG + 1, a_rwnd=106496,
                                                                       n_out_streams=1, n_in_streams=1, init_tsn=7)))
        return seq

    def check(out):
        fu = followup(out[:1]) if out else []
        problems = check_association(inp + fu, out[:-1], NODE_V4, 30868, 41000, checksum_ok)
        if len(inp) + len(fu) >= 32:
            problems.append("the association no longer fits one burst: the filler is wrong")
        if out:
            last = out[-1]
            if SCTP not in last or l3(last).dst not in PODS or last[SCTP].dport != 3869 or not crc_ok(last):
                problems.append(f"the INIT after ABORT was not forwarded to a pod: {last.summary()}")
        return problems
    # The INIT after the ABORT was placed afresh (a client's INIT on a closed
    # association), and the association counted as assured by its COOKIE ACK.
    return inp, check, {"services.reopened", "conntrack.assured"}, more


def case_sctp_ipv6(stamp, checksum_ok):
    """The association over IPv6, to the dual-stack Service's IPv6 cluster IP:
    full NAT to the IPv6 SNAT address and an IPv6 pod, CRC32c right both ways."""
    inp, followup = association(CLUSTER_IP_V6, 3868, 43000, "shutdown")
    inp = stamp(inp)

    def check(out):
        fu = followup(out[:1]) if out else []
        problems = check_association(inp + fu, out, CLUSTER_IP_V6, 3868, 43000, checksum_ok)
        if out and any(IPv6 not in o for o in out):
            problems.append("an IPv4 packet out of an IPv6 association")
        return problems
    return inp, check, {"conntrack.assured"}, followup


def case_sctp_malformed(stamp, checksum_ok):
    """Corrupted and malformed SCTP to the cluster IP: nothing leaves, each is
    counted under its drop reason; then a good INIT still opens an association."""
    def to_vip(sctp_bytes, frag=0):
        return Ether(src=CLIENT_MAC, dst=GW_MAC) / IP(src=CLIENT_V4, dst=CLUSTER_IP, proto=132, flags=frag) / Raw(sctp_bytes)

    good = raw(SCTP(sport=42000, dport=3868, tag=0) / SCTPChunkInit(init_tag=1, a_rwnd=1500, n_out_streams=1,
                                                                    n_in_streams=1, init_tsn=1))
    bad_crc = bytearray(good)
    bad_crc[-1] ^= 1
    zero_len = bytearray(good)
    zero_len[14:16] = b"\x00\x00"
    beyond = bytearray(good)
    beyond[14:16] = b"\x01\x00"
    bundled = raw(SCTP(sport=42000, dport=3868, tag=0) / SCTPChunkInit(init_tag=1, a_rwnd=1500, n_out_streams=1,
                                                                       n_in_streams=1, init_tsn=1) /
                  SCTPChunkData(tsn=1, data=b"x"))
    inp = stamp([
        to_vip(bytes(bad_crc)),            # sctp_bad_checksum
        to_vip(good[:10]),                 # sctp_truncated
        to_vip(good[:12]),                 # sctp_bad_chunk: no chunk
        to_vip(bytes(zero_len)),           # sctp_bad_chunk: length 0
        to_vip(bytes(beyond)),             # sctp_bad_chunk: past the packet
        to_vip(bundled),                   # sctp_bad_bundle
        to_vip(good[:16], frag="MF"),      # sctp_fragment
        to_vip(good),                      # forwarded
    ])

    def check(out):
        if len(out) != 1:
            return [f"expected only the good INIT out, got {len(out)}: {[o.summary() for o in out]}"]
        o = out[0]
        if SCTP not in o or o[IP].dst not in PODS or o[SCTP].dport != 3869 or not crc_ok(o):
            return [f"the good INIT: {o.summary()}"]
        return []
    return inp, check, {"sctp_bad_checksum", "sctp_truncated", "sctp_bad_chunk", "sctp_bad_bundle", "sctp_fragment"}


SCTP_CASES = {
    "sctp_clusterip": case_sctp_clusterip,
    "sctp_nodeport": case_sctp_nodeport,
    "sctp_ipv6": case_sctp_ipv6,
    "sctp_malformed": case_sctp_malformed,
}
