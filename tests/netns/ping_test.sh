#!/usr/bin/env bash
# End-to-end: a client namespace pings the gateway's IPv4 and IPv6 addresses,
# answered by the DPDK dataplane (net_af_packet on a veth); `kgw cli` must show
# the port counters that moved, and the dataplane must stop cleanly on SIGTERM.
# Meanwhile `kgw cli capture` (dpdk-dumpcap on the dataplane's rte_pdump) takes
# the IPv4 pings into a pcapng file, and DPDK telemetry gives the figures the
# CLI gives.
#   ping_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages

TAG=kgwt$$
WORK=$(mktemp -d)
# A capture left running by a failure: its dumpcap is stopped by the PID kgw noted.
stop_capture() {
  local pid
  pid=$(awk '{print $1}' "/var/run/dpdk/$TAG/kgw-capture-0.pid" 2>/dev/null)
  [ -n "$pid" ] && grep -qs dpdk-dumpcap "/proc/$pid/comm" && kill -INT "$pid" 2>/dev/null
  return 0
}
trap 'stop_capture; netns_cleanup; rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*"; echo "--- dataplane log"; cat "$WORK/dp.log"; exit 1; }

netns_add "$TAG-client"
netns_add "$TAG-gw"
veth_link "$TAG-client" c0 "$TAG-gw" g0
quiet_gateway_if "$TAG-gw" g0
ip -n "$TAG-client" addr add 198.18.0.2/24 dev c0
ip -n "$TAG-client" -6 addr add 2001:2::2/64 dev c0 nodad

cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-test
  addresses: [198.18.0.1, "2001:2::1"]
ports:
  - name: p0
    device: "net_af_packet0,iface=g0,qdisc_bypass=1"
    profile: auto
workers: 1
dataplane:
  file_prefix: $TAG
  mbufs: 4095
YAML

start_dataplane "$TAG-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$TAG"
wait_dataplane "$KGW" "$TAG" 30 || fail "dataplane did not come up"

"$KGW" cli --file-prefix "$TAG" -c "clear port stats all" > /dev/null || fail "clear port stats"

# A capture with a filter the kernel's BPF would not take is refused, named.
if "$KGW" cli --file-prefix "$TAG" -c "capture start p0 $WORK/bad.pcapng no such filter" > "$WORK/cap_bad.log" 2>&1; then
  fail "a capture with a bad filter started: $(cat "$WORK/cap_bad.log")"
fi
"$KGW" cli --file-prefix "$TAG" -c "capture start p0 $WORK/ping.pcapng icmp" > "$WORK/cap.log" 2>&1 \
  || { cat "$WORK/cap.log"; fail "capture start"; }
cat "$WORK/cap.log"
"$KGW" cli --file-prefix "$TAG" -c "capture list" | grep -q "port 0 (p0): pid" || fail "capture list shows no capture"

ip netns exec "$TAG-client" ping -c 5 -i 0.2 -W 2 198.18.0.1 > "$WORK/ping4.log" || { cat "$WORK/ping4.log"; fail "IPv4 ping"; }
grep -q " 0% packet loss" "$WORK/ping4.log" || { cat "$WORK/ping4.log"; fail "IPv4 ping lost packets"; }
ip netns exec "$TAG-client" ping -6 -c 5 -i 0.2 -W 2 2001:2::1 > "$WORK/ping6.log" || { cat "$WORK/ping6.log"; fail "IPv6 ping"; }
grep -q " 0% packet loss" "$WORK/ping6.log" || { cat "$WORK/ping6.log"; fail "IPv6 ping lost packets"; }
echo "pings answered: $(grep -c 'bytes from' "$WORK/ping4.log") IPv4, $(grep -c 'bytes from' "$WORK/ping6.log") IPv6"

# The capture holds the five requests and their replies, and no IPv6 (the filter).
"$KGW" cli --file-prefix "$TAG" -c "capture stop p0" > "$WORK/cap_stop.log" 2>&1 || { cat "$WORK/cap_stop.log"; fail "capture stop"; }
cat "$WORK/cap_stop.log"
"$KGW" cli --file-prefix "$TAG" -c "capture list" | grep -q "no capture runs" || fail "a capture still listed after stop"
/usr/bin/python3 - "$WORK/ping.pcapng" > "$WORK/cap_read.log" 2>&1 <<'PY' || { cat "$WORK/cap_read.log"; fail "the capture does not hold the pings"; }
import sys
from scapy.all import ICMP, IP, IPv6, rdpcap
pkts = rdpcap(sys.argv[1])
req = [p for p in pkts if ICMP in p and p[ICMP].type == 8 and p[IP].dst == "198.18.0.1"]
rep = [p for p in pkts if ICMP in p and p[ICMP].type == 0 and p[IP].src == "198.18.0.1"]
v6 = [p for p in pkts if IPv6 in p]
print(f"capture: {len(pkts)} packets, {len(req)} echo requests, {len(rep)} replies, {len(v6)} IPv6")
sys.exit(0 if len(req) == 5 and len(rep) == 5 and not v6 else 1)
PY
cat "$WORK/cap_read.log"

# Port counters are published every 100 ms.
sleep 0.5
"$KGW" cli --file-prefix "$TAG" -c "show port stats 0; show counters; show lcores; show port info 0" > "$WORK/cli.log" \
  || { cat "$WORK/cli.log"; fail "kgw cli"; }
cat "$WORK/cli.log"
rx=$(awk '/RX-packets:/ {print $2; exit}' "$WORK/cli.log")
tx=$(awk '/TX-packets:/ {print $2; exit}' "$WORK/cli.log")
[ "${rx:-0}" -ge 10 ] || fail "RX-packets $rx, expected >= 10 (5 echo + ARP/ND)"
[ "${tx:-0}" -ge 10 ] || fail "TX-packets $tx, expected >= 10"
grep -Eq "icmp-echo-replies ([5-9]|[1-9][0-9]+)" "$WORK/cli.log" || fail "icmp echo reply counter did not move"
grep -Eq "icmp6-echo-replies ([5-9]|[1-9][0-9]+)" "$WORK/cli.log" || fail "icmp6 echo reply counter did not move"

# The interactive shell: Tab completion, help, quit.
/usr/bin/python3 "$HERE/cli_pty.py" "$KGW" "$TAG" || fail "interactive cli"

# DPDK telemetry answers kgw's own commands with the CLI's figures.
echo "/kgw/counters" | dpdk-telemetry.py -f "$TAG" > "$WORK/telemetry.log" 2>&1 || true
tel=$(sed -n 's/.*"icmp_echo_replies": \([0-9]*\).*/\1/p' "$WORK/telemetry.log")
cli_n=$(sed -n 's/.*icmp-echo-replies \([0-9]*\).*/\1/p' "$WORK/cli.log" | head -1)
echo "icmp echo replies: telemetry $tel, cli $cli_n"
[ -n "$tel" ] && [ "$tel" = "$cli_n" ] || { cat "$WORK/telemetry.log"; fail "telemetry /kgw/counters: $tel, the CLI $cli_n"; }
echo "/kgw/lcores" | dpdk-telemetry.py -f "$TAG" 2>&1 | grep -q '"worker0_rx_pkts"' || fail "telemetry /kgw/lcores"
echo "/ethdev/stats,0" | dpdk-telemetry.py -f "$TAG" 2>&1 | grep -q '"ipackets"' || fail "telemetry /ethdev/stats"


# A bad command is an error with a non-zero exit, not a crash.
if "$KGW" cli --file-prefix "$TAG" -c "show port stats 9" > /dev/null 2>&1; then fail "invalid port accepted"; fi

stop_pid "$DP_PID" 15
STARTED_PIDS=()
grep -q "kgw final statistics" "$WORK/dp.log" || fail "no final statistics on SIGTERM"
echo "PASS: netns ping through the dataplane"
