#!/usr/bin/env bash
# The exception path to the kernel (issue 18): the demo topology (client on
# p0, pods on p1), the dataplane with `exception:` on, so that it makes one
# TAP interface per port in the gateway's namespace with the port's MAC and
# the node's addresses. Checked:
#   1. the interfaces are there, up, with the ports' MACs and the node's
#      addresses on their on-link networks;
#   2. a kernel HTTP server listening on the node's addresses in the
#      gateway's namespace answers the client through the DPDK port, over
#      IPv4 and IPv6 (the kernel resolves the client itself: its ARP request
#      and NS go out of the port, the reply and NA come back to it), while
#      a ClusterIP keeps forwarding and kgw still answers ping itself;
#   3. a SYN flood towards the node's port: what reaches the kernel
#      interface is at most rate_pps x time + burst, the rest is counted
#      (exception-rate-limited), and the kernel server answers afterwards.
#   exception_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages
if ! command -v hping3 > /dev/null; then echo "FAIL: hping3 missing (scripts/setup.sh installs it)"; exit 1; fi
[ -e /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }

P=kgwex$$
IF0="kx$$x0"  # the ports' interfaces: kx<pid>x0 (p0), kx<pid>x1 (p1)
IF1="kx$$x1"
RATE=200
BURST=50
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- counters"; cli "show counters" 2>/dev/null | grep -E "^(exception|local|neighbors):|exception_"
  echo "--- interfaces"; ip -n "$P-gw" addr 2>/dev/null
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  exit 1
}
gw() { ip netns exec "$P-gw" "$@"; }
mac_of() { ip -n "$1" -br link show "$2" | awk '{print $3}'; }
kernel_rx() { gw cat "/sys/class/net/$IF0/statistics/rx_packets"; }
drop_count() { cli "show counters" | awk -v r="$1" '$1 == r {print $2}'; }

pod_topology "$P" "$WORK"
kernel_ignores_port "$P-gw" g0
kernel_ignores_port "$P-gw" g1
mkdir -p "$WORK/manifests" && cp "$HERE/manifests/"*.yaml "$WORK/manifests/"
cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-exception
  addresses: [198.18.0.1, "2001:2::1", 198.19.1.1]
ports:
  - name: p0
    device: "net_af_packet0,iface=g0,qdisc_bypass=1"
    networks: [198.18.0.0/24, "2001:2::/64"]
  - name: p1
    device: "net_af_packet1,iface=g1,qdisc_bypass=1"
    networks: [198.19.1.0/24]
workers: 1
snat:
  addresses: [198.18.0.250]
exception:
  interface: $IF0
  driver: tap
  rate_pps: $RATE
  burst: $BURST
dataplane:
  file_prefix: $P
  mbufs: 4095
  table_memory_mb: 16
services:
  conntrack_entries: 4096
  affinity_entries: 1024
  counter_slots: 1024
  max_services: 64
metrics:
  listen: "127.0.0.1:9472"
YAML

start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P" "$WORK/manifests"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not come up"
wait_pods "$P" || fail "pods do not serve"

# 1. The interfaces, as the ports.
grep -q "exception: tap interfaces" "$WORK/dp.log" || fail "the driver chosen is not logged"
grep -q "exception: ip address replace 198.18.0.1/24 dev $IF0" "$WORK/dp.log" || fail "the ip commands are not logged"
[ "$(mac_of "$P-gw" "$IF0")" = "$(mac_of "$P-gw" g0)" ] || fail "$IF0 has not p0's MAC"
[ "$(mac_of "$P-gw" "$IF1")" = "$(mac_of "$P-gw" g1)" ] || fail "$IF1 has not p1's MAC"
ip -n "$P-gw" -br addr show "$IF0" | grep -q "198.18.0.1/24 2001:2::1/64" || fail "$IF0 lacks the node's addresses"
ip -n "$P-gw" -br addr show "$IF1" | grep -q "198.19.1.1/24" || fail "$IF1 lacks the node's address on p1's network"
ip -n "$P-gw" -br link show "$IF0" | grep -q "UP" || fail "$IF0 is not up"
cli "show port info 1" | grep -q "^Exception interface: $IF1 (tap)$" || fail "show port info does not name $IF1"

# 2. SSH-like TCP to the node's address: the kernel's server, through the DPDK port.
mkdir -p "$WORK/node"
echo "hello from the node's kernel" > "$WORK/node/index.html"
ip netns exec "$P-gw" /usr/bin/python3 -m http.server 2222 --bind 198.18.0.1 --directory "$WORK/node" > "$WORK/node4.log" 2>&1 &
STARTED_PIDS+=($!)
ip netns exec "$P-gw" /usr/bin/python3 -m http.server 2223 --bind 2001:2::1 --directory "$WORK/node" > "$WORK/node6.log" 2>&1 &
STARTED_PIDS+=($!)
wait_grep 10 "Serving HTTP" "$WORK/node4.log" || fail "the node's IPv4 server did not start"
wait_grep 10 "Serving HTTP" "$WORK/node6.log" || fail "the node's IPv6 server did not start"
body=$(client curl -s --max-time 5 http://198.18.0.1:2222/)
[ "$body" = "hello from the node's kernel" ] || fail "TCP to the node's kernel over IPv4: got '$body'"
body=$(client curl -s --max-time 5 "http://[2001:2::1]:2223/")
[ "$body" = "hello from the node's kernel" ] || fail "TCP to the node's kernel over IPv6: got '$body'"
# The kernel sees the wire only through its interface: a MAC for the client
# there is one its own ARP request found (any state but INCOMPLETE/FAILED).
gw ip neigh show dev "$IF0" 198.18.0.2 | grep -q "lladdr $(mac_of "$P-client" c0)" ||
  fail "the kernel did not resolve the client itself: $(gw ip neigh show dev "$IF0")"
client curl -s --max-time 5 http://198.18.100.10/ | grep -q "^hello from pod" || fail "the ClusterIP stopped forwarding"
client ping -c 2 -i 0.2 -W 2 198.18.0.1 > /dev/null || fail "ping to the node"
line=$(cli "show counters" | grep "^exception: ")
echo "$line"
[ "$(line_field "$line" to-kernel)" -gt 0 ] && [ "$(line_field "$line" from-kernel)" -gt 0 ] ||
  fail "exception counters did not move both ways"
[ "$(line_field "$line" handed)" -ge "$(line_field "$line" to-kernel)" ] || fail "more to the kernel than the workers handed over"

# 3. A flood towards the node's port, from a forged source (no one answers
# the kernel's SYN-ACKs): bounded at the interface by the rate limit.
# The window timed is wider than the one counted: the bound holds whatever
# the scheduling between the reads.
limited0=$(drop_count exception_rate_limited)
t0=$(date +%s.%N)
rx0=$(kernel_rx)
client timeout 20 hping3 -q -S -p 2222 -a 198.18.0.77 -i u40 -c 15000 198.18.0.1 > "$WORK/hping.log" 2>&1
sleep 0.3  # what the main lcore still held
rx1=$(kernel_rx)
t1=$(date +%s.%N)
limited1=$(drop_count exception_rate_limited)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}')
bound=$(awk -v s="$secs" -v r="$RATE" -v b="$BURST" 'BEGIN {printf "%d", r * (s + 0.001) + b}')
echo "flood: $(grep -m1 "packets transmitted" "$WORK/hping.log"); $((rx1 - rx0)) reached $IF0 in $secs s" \
  "(bound $bound: $RATE/s x $secs s + $BURST), $((limited1 - limited0)) rate-limited"
[ $((rx1 - rx0)) -le "$bound" ] || fail "$((rx1 - rx0)) packets reached the kernel, more than $bound"
[ $((rx1 - rx0)) -gt 0 ] || fail "nothing reached the kernel during the flood"
[ $((limited1 - limited0)) -gt 0 ] || fail "exception_rate_limited did not count the flood"
# The same figure in /metrics and telemetry (nothing reaches the port now).
gw curl -s --max-time 2 http://127.0.0.1:9472/metrics > "$WORK/metrics.txt" || fail "scrape /metrics"
grep -q "^kgw_drops_total{reason=\"exception_rate_limited\"} $limited1\$" "$WORK/metrics.txt" ||
  fail "kgw_drops_total{reason=exception_rate_limited} is not $limited1: $(grep exception_rate_limited "$WORK/metrics.txt")"
grep -Eq "^kgw_exception_to_kernel_total [1-9]" "$WORK/metrics.txt" || fail "kgw_exception_to_kernel_total missing"
grep -Eq "^kgw_exception_from_kernel_total [1-9]" "$WORK/metrics.txt" || fail "kgw_exception_from_kernel_total missing"
if command -v dpdk-telemetry.py > /dev/null; then
  echo "/kgw/counters" | dpdk-telemetry.py -f "$P" > "$WORK/telemetry.log" 2>&1 || true
  grep -q "\"drop_exception_rate_limited\": $limited1[,}]" "$WORK/telemetry.log" ||
    fail "telemetry /kgw/counters: drop_exception_rate_limited is not $limited1"
  grep -Eq '"exception_to_kernel": [1-9]' "$WORK/telemetry.log" || fail "telemetry /kgw/counters: exception_to_kernel"
fi
sleep 0.5  # the bucket refills
body=$(client curl -s --max-time 5 --retry 2 http://198.18.0.1:2222/)
[ "$body" = "hello from the node's kernel" ] || fail "the node's server after the flood: got '$body'"
client curl -s --max-time 5 http://198.18.100.10/ | grep -q "^hello from pod" || fail "the ClusterIP after the flood"
echo "PASS: exception path (kernel TCP over IPv4 and IPv6 through the DPDK port, flood bounded by the rate limit)"
