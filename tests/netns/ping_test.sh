#!/usr/bin/env bash
# End-to-end: a client namespace pings the gateway's IPv4 and IPv6 addresses,
# answered by the DPDK dataplane (net_af_packet on a veth); `kgw cli` must show
# the port counters that moved, and the dataplane must stop cleanly on SIGTERM.
#   ping_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages

TAG=kgwt$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
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

ip netns exec "$TAG-client" ping -c 5 -i 0.2 -W 2 198.18.0.1 > "$WORK/ping4.log" || { cat "$WORK/ping4.log"; fail "IPv4 ping"; }
grep -q " 0% packet loss" "$WORK/ping4.log" || { cat "$WORK/ping4.log"; fail "IPv4 ping lost packets"; }
ip netns exec "$TAG-client" ping -6 -c 5 -i 0.2 -W 2 2001:2::1 > "$WORK/ping6.log" || { cat "$WORK/ping6.log"; fail "IPv6 ping"; }
grep -q " 0% packet loss" "$WORK/ping6.log" || { cat "$WORK/ping6.log"; fail "IPv6 ping lost packets"; }
echo "pings answered: $(grep -c 'bytes from' "$WORK/ping4.log") IPv4, $(grep -c 'bytes from' "$WORK/ping6.log") IPv6"

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

# DPDK telemetry answers kgw's own command.
if command -v dpdk-telemetry.py > /dev/null; then
  echo "/kgw/counters" | dpdk-telemetry.py -f "$TAG" > "$WORK/telemetry.log" 2>&1 || true
  grep -q '"icmp_echo_replies"' "$WORK/telemetry.log" || { cat "$WORK/telemetry.log"; fail "telemetry /kgw/counters"; }
fi

# A bad command is an error with a non-zero exit, not a crash.
if "$KGW" cli --file-prefix "$TAG" -c "show port stats 9" > /dev/null 2>&1; then fail "invalid port accepted"; fi

stop_pid "$DP_PID" 15
STARTED_PIDS=()
grep -q "kgw final statistics" "$WORK/dp.log" || fail "no final statistics on SIGTERM"
echo "PASS: netns ping through the dataplane"
