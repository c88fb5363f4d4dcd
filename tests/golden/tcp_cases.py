"""Golden cases of the workers' TCP stack (the echo service on
ingress.echo_port 7 of tests/golden/gateway.yaml) through `kgw replay`.

The stack's ISN, SYN-cookie secret and timestamp offsets come from `kgw
replay --tcp-seed` (0 here) and the capture's clock, so the SYN-ACK is the
same on every run; the client's answers (ACK, data, FIN) are built from the
first replay's SYN-ACK, then the whole sequence is replayed again.
"""
from scapy.all import Ether, IP, IPv6, TCP, Raw

GW_MAC = "02:00:00:00:00:01"
GW_V4 = "198.18.0.1"
GW_V6 = "2001:2::1"
CLIENT_MAC = "02:00:00:00:00:02"
CLIENT_V4 = "198.18.0.2"
CLIENT_V6 = "2001:2::2"
ECHO = 7
LINE = b"hello, kgw\n"
SYN_OPTS = [("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1000, 0)), ("NOP", None), ("WScale", 7)]


def client_syn(l3, sport, dport):
    return Ether(src=CLIENT_MAC, dst=GW_MAC) / l3 / TCP(sport=sport, dport=dport, flags="S", seq=1000,
                                                       window=64240, options=SYN_OPTS)


def case_tcp_echo(stamp, checksum_ok):
    v4 = IP(src=CLIENT_V4, dst=GW_V4)
    v6 = IPv6(src=CLIENT_V6, dst=GW_V6)
    inp = stamp([
        client_syn(v4, 40000, ECHO),
        client_syn(v4, 40001, 9),  # nothing listens: RST
        client_syn(v6, 40002, ECHO),
    ])

    def followup(out):
        # The client completes each handshake, sends a line and shuts down its side.
        extra = []
        for o in out:
            if TCP not in o or o[TCP].flags != "SA":
                continue
            t = o[TCP]
            ts = dict((k, v) for k, v in t.options if k == "Timestamp").get("Timestamp", (0, 0))
            l3 = IP(src=CLIENT_V4, dst=GW_V4) if IP in o else IPv6(src=CLIENT_V6, dst=GW_V6)
            eth = Ether(src=CLIENT_MAC, dst=GW_MAC)
            seq, ack = 1001, t.seq + 1
            opts = [("NOP", None), ("NOP", None), ("Timestamp", (1001, ts[0]))]
            extra.append(eth / l3 / TCP(sport=t.dport, dport=ECHO, flags="A", seq=seq, ack=ack, window=502,
                                        options=opts))
            extra.append(eth / l3 / TCP(sport=t.dport, dport=ECHO, flags="PA", seq=seq, ack=ack, window=502,
                                        options=opts) / Raw(LINE))
            extra.append(eth / l3 / TCP(sport=t.dport, dport=ECHO, flags="FA", seq=seq + len(LINE), ack=ack,
                                        window=502, options=opts))
        return extra

    def check(out):
        problems = []
        tcp_out = [o for o in out if TCP in o]
        for o in tcp_out:
            layer = IP if IP in o else IPv6
            if o[Ether].src != GW_MAC or o[Ether].dst != CLIENT_MAC:
                problems.append(f"ethernet {o[Ether].src} -> {o[Ether].dst}: {o.summary()}")
            if not checksum_ok(o, TCP):
                problems.append(f"bad TCP checksum: {o.summary()}")
            if layer is IP and not checksum_ok(o, IP):
                problems.append(f"bad IPv4 checksum: {o.summary()}")
        for sport in (40000, 40002):
            conn = [o for o in tcp_out if o[TCP].dport == sport]
            if not conn:
                problems.append(f"nothing sent to client port {sport}")
                continue
            sa = conn[0][TCP]
            opts = dict(sa.options)
            if sa.flags != "SA" or sa.ack != 1001:
                problems.append(f"port {sport}: first answer not a SYN-ACK of 1000: {conn[0].summary()}")
            if "SAckOK" not in opts or "Timestamp" not in opts or "WScale" not in opts or "MSS" not in opts:
                problems.append(f"port {sport}: SYN-ACK options {sa.options}")
            elif opts["Timestamp"][1] != 1000:
                problems.append(f"port {sport}: SYN-ACK echoes TS {opts['Timestamp'][1]}, not 1000")
            data = b"".join(bytes(o[TCP].payload) for o in conn if len(o[TCP].payload))
            if data != LINE:
                problems.append(f"port {sport}: echoed {data!r}, wanted {LINE!r}")
            fins = [o[TCP] for o in conn if "F" in o[TCP].flags]
            if len(fins) != 1:
                problems.append(f"port {sport}: {len(fins)} FINs")
            # The FIN may ride on the echo's last segment: its sequence number
            # follows that segment's payload.
            elif (fins[0].seq + len(fins[0].payload) != sa.seq + 1 + len(LINE)
                  or fins[0].ack != 1001 + len(LINE) + 1):
                problems.append(f"port {sport}: FIN seq {fins[0].seq} ack {fins[0].ack}: not after the echo "
                                f"and the client's FIN")
        rst = [o for o in tcp_out if o[TCP].dport == 40001]
        if len(rst) != 1 or rst[0][TCP].flags != "RA" or rst[0][TCP].ack != 1001 or rst[0][TCP].sport != 9:
            problems.append(f"port 9: wanted one RST|ACK of 1000, got {[o.summary() for o in rst]}")
        return problems

    return inp, check, {}, followup


TCP_CASES = {"tcp_echo": case_tcp_echo}
