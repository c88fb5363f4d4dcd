#!/usr/bin/env bash
# kgw's own TCP stack against the Linux kernel's: `kgw dataplane` on a veth
# (net_af_packet) with the echo service on ingress.echo_port, kernel clients in
# a namespace (tcp_echo_client.py):
#   1. a large transfer echoed back, sha256 compared both ways, the client's
#      half-close honoured (KGW_TCP_BULK_MIB, default 256; 1024 for the 1 GiB
#      run of the issue);
#   2. window scaling, SACK and timestamps negotiated (ss -ti in the client);
#   3. 1,000 connections open at once, each echoed and closed;
#   4. the reader stalls: zero windows both ways, then every byte in order;
#   5. an aborted connection (RST) and a port nothing listens on (refused,
#      counted);
#   6. 1% of the client's packets dropped (iptables statistic): a transfer
#      still arrives intact, by retransmission;
#   7. a SYN flood (hping3, bounded, from a forged 198.18.0.77) while a kernel client keeps connecting:
#      every legitimate connection succeeds (SYN cookies once the backlog is
#      full);
#   8. IPv6.
# Counters (`show counters`) are checked after each step.
#   tcp_echo_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages

BULK_MIB=${KGW_TCP_BULK_MIB:-256}
P=kgwe$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- counters"; "$KGW" cli --file-prefix "$P" -c "show counters" 2>/dev/null
  # A frame the kernel sent that kgw never saw shows as RX-missed or RX-nombuf.
  echo "--- ports and mbufs"; "$KGW" cli --file-prefix "$P" -c "show port stats all; show mbufs" 2>/dev/null
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  exit 1
}
echo_client() { client /usr/bin/python3 "$HERE/tcp_echo_client.py" "$@"; }
counters() { "$KGW" cli --file-prefix "$P" -c "show counters"; }
drop_count() { counters | awk -v r="$1" '$1 == r {print $2; exit}'; }

netns_add "$P-client"
netns_add "$P-gw"
veth_link "$P-client" c0 "$P-gw" g0
quiet_gateway_if "$P-gw" g0
ip -n "$P-client" addr add 198.18.0.2/24 dev c0
ip -n "$P-client" -6 addr add 2001:2::2/64 dev c0 nodad
# The kernel leaves TCP checksums to "the NIC" on a veth and would send
# segments of up to 64 KiB (TSO): turned off, as on a wire.
no_checksum_offload "$P-client" c0
ip netns exec "$P-client" ethtool -K c0 tso off gso off > /dev/null 2>&1 || true
ip netns exec "$P-gw" ethtool -K g0 gro off tso off gso off > /dev/null 2>&1 || true
mac=$(ip -n "$P-client" -br link show c0 | awk '{print $3}')

cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-tcp
  addresses: [198.18.0.1, "2001:2::1"]
ports:
  - {name: p0, device: "net_af_packet0,iface=g0,qdisc_bypass=1"}
neighbors:
  - {ip: 198.18.0.2, mac: "$mac", port: p0}
  - {ip: "2001:2::2", mac: "$mac", port: p0}
workers: 1
dataplane:
  file_prefix: $P
  mbufs: 16383
  table_memory_mb: 16
services:
  conntrack_entries: 4096
  affinity_entries: 1024
  counter_slots: 1024
  max_services: 64
  refusals_per_second: 100000
ingress:
  echo_port: 7
tcp:
  max_connections: 2048
  max_time_wait: 1024
  syn_backlog: 64
YAML

start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not come up"
grep -q "tcp: echo (RFC 862) on port 7" "$WORK/dp.log" || fail "no echo service announced"

# 1. A large transfer, echoed, compared by sha256.
echo_client bulk 198.18.0.1 7 $((BULK_MIB << 20)) > "$WORK/bulk.log" || { cat "$WORK/bulk.log"; fail "bulk transfer"; }
cat "$WORK/bulk.log"
[ "$(counter_field "tcp echo" bytes)" -ge $((BULK_MIB << 20)) ] || fail "echo bytes counter below the transfer"
[ "$(counter_field "tcp echo" closed)" -ge 1 ] || fail "the bulk connection was not closed in order"

# 2. Options the kernel negotiated with kgw.
echo_client options 198.18.0.1 7 > "$WORK/options.log" || { cat "$WORK/options.log"; fail "options"; }
cat "$WORK/options.log"
# ss prints the window scales; the option flags come from TCP_INFO (the
# same record ss reads; this iproute2 does not print them for a 6.x kernel).
grep -q "wscale:[0-9]*,[0-9]*" "$WORK/options.log" || fail "no window scaling in ss -ti"
grep -q "^tcp_info: options ts sack wscale snd_wscale [1-9]" "$WORK/options.log" \
  || fail "timestamps, SACK and window scaling not all negotiated"

# 3. 1,000 connections at once.
echo_client many 198.18.0.1 7 1000 > "$WORK/many.log" || { cat "$WORK/many.log"; fail "1,000 concurrent connections"; }
cat "$WORK/many.log"
[ "$(counter_field "tcp echo" accepted)" -ge 1002 ] || fail "echo accepted below 1,002"

# 4. The reader stalls: the client's window closes (kgw probes it), kgw's
# window closes (the kernel probes it), then everything flows again.
probes_before=$(client nstat -az TcpExtTCPWinProbe | awk '/TcpExtTCPWinProbe/ {print $2}')
echo_client stall 198.18.0.1 7 $((8 << 20)) 3 > "$WORK/stall.log" || { cat "$WORK/stall.log"; fail "stalled reader"; }
cat "$WORK/stall.log"
probes_after=$(client nstat -az TcpExtTCPWinProbe | awk '/TcpExtTCPWinProbe/ {print $2}')
[ "${probes_after:-0}" -gt "${probes_before:-0}" ] || fail "the kernel never probed a zero window from kgw"
[ "$(counter_field tcp zero-window-probes)" -ge 1 ] || fail "kgw never probed the client's zero window"

# 5. RST from the client; a port nothing listens on.
resets_before=$(counter_field "tcp echo" reset)
echo_client reset 198.18.0.1 7 || fail "reset"
sleep 0.3
[ "$(counter_field "tcp echo" reset)" -gt "$resets_before" ] || fail "the echo service did not see the RST"
refused_before=$(counter_field tcp refused)
echo_client refused 198.18.0.1 9 || fail "closed port"
echo_client refused 2001:2::1 80 || fail "closed port (IPv6; no HTTP listener before the proxy)"
[ "$(counter_field tcp refused)" -ge $((refused_before + 2)) ] || fail "refusals not counted"

# 6. Loss on the client's side: 1% of what it sends (dropped at OUTPUT, before
# the kernel segments it: a local send failure it repeats), then 1% of what it
# receives (lost on the way: kgw must retransmit).
nstat_of() { client nstat -az "$1" | awk -v k="$1" '$1 == k {print $2}'; }
client iptables -A OUTPUT -m statistic --mode random --probability 0.01 -j DROP || fail "iptables"
krexmit_before=$(nstat_of TcpRetransSegs)
sackrec_before=$(nstat_of TcpExtTCPSackRecovery)
echo_client bulk 198.18.0.1 7 $((16 << 20)) > "$WORK/loss.log" || { cat "$WORK/loss.log"; fail "transfer with 1% loss out of the client"; }
cat "$WORK/loss.log"
dropped=$(client iptables -nvxL OUTPUT | awk 'NR > 2 {s += $1} END {print s + 0}')
client iptables -D OUTPUT -m statistic --mode random --probability 0.01 -j DROP
[ "$dropped" -gt 0 ] || fail "iptables dropped nothing"
krexmit=$(( $(nstat_of TcpRetransSegs) - krexmit_before ))
sackrec=$(( $(nstat_of TcpExtTCPSackRecovery) - sackrec_before ))
# Not required: the kernel sends TCP as GSO super-packets that OUTPUT sees
# before segmentation, and a packet dropped there is a local send failure that
# TCP sends again as new data, not as a retransmission (TcpRetransSegs), so a
# run may have none. The loss that must be recovered from is the next step's.
echo "loss out: $dropped packets dropped, the kernel retransmitted $krexmit segments, $sackrec recoveries from kgw's SACK blocks"
client iptables -A INPUT -m statistic --mode random --probability 0.01 -j DROP || fail "iptables"
rexmit_before=$(counter_field tcp retransmits)
echo_client bulk 198.18.0.1 7 $((16 << 20)) > "$WORK/loss_in.log" || { cat "$WORK/loss_in.log"; fail "transfer with 1% loss into the client"; }
cat "$WORK/loss_in.log"
dropped=$(client iptables -nvxL INPUT | awk 'NR > 2 {s += $1} END {print s + 0}')
client iptables -D INPUT -m statistic --mode random --probability 0.01 -j DROP
rexmit=$(( $(counter_field tcp retransmits) - rexmit_before ))
[ "$rexmit" -gt 0 ] || fail "kgw retransmitted nothing although $dropped of its packets were lost"
echo "loss in: $dropped packets dropped, kgw retransmitted $rexmit segments"

# 7. A SYN flood while a kernel client keeps connecting: from a forged source
# on the client's subnet (no neighbour: the SYN-ACKs go nowhere), a new source
# port per SYN (hping3 counts them up from a base).
cookies_before=$(counter_field tcp cookies-sent)
client timeout 60 hping3 -q -S -p 7 -a 198.18.0.77 -c 20000 --faster 198.18.0.1 > "$WORK/hping.log" 2>&1 &
FLOOD=$!
echo_client keep 198.18.0.1 7 4 20 > "$WORK/keep.log" || { cat "$WORK/keep.log"; kill "$FLOOD"; fail "legitimate connections during the flood"; }
wait "$FLOOD"
cat "$WORK/keep.log"
echo "flood: $(tail -n 3 "$WORK/hping.log" | tr '\n' ' ')"
[ "$(counter_field tcp cookies-sent)" -gt "$cookies_before" ] || fail "the flood never filled the backlog (no SYN cookies)"

# 8. IPv6.
echo_client bulk 2001:2::1 7 $((4 << 20)) > "$WORK/bulk6.log" || { cat "$WORK/bulk6.log"; fail "IPv6 transfer"; }
cat "$WORK/bulk6.log"

counters | grep "^tcp"
[ "$(counter_field tcp timeouts)" = 0 ] || fail "connections timed out"
stop_pid "$DP_PID" 15
STARTED_PIDS=()
grep -q "kgw final statistics" "$WORK/dp.log" || fail "no final statistics on SIGTERM"
echo "PASS: kgw's TCP stack against the kernel's"
