#!/usr/bin/env bash
# Live updates under load lose nothing: `kgw dataplane` forwards established
# flows of two Services at full speed (pcap infinite_rx -> net_null, no network
# namespace needed), while `kgw control --manifests DIR` republishes as one
# endpoint of Service svc1 is changed 1,000 times (file written, renamed into
# DIR). Afterwards: no packet dropped for any reason, every packet received was
# transmitted (up to one burst per port in flight), no connection was created
# anew or lost (every flow kept its endpoint), and many generations were really
# published.
#   update_load_test.sh path/to/kgw path/to/kgw-gen
set -uo pipefail

KGW=$(realpath "$1")
GEN=$(realpath "$2")
CHANGES=${KGW_TEST_CHANGES:-1000}

# shellcheck source=tests/netns/standalone_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/standalone_lib.sh"
netns_require_root_and_hugepages
standalone_init kgwu

"$GEN" -m established -f 2000 -s 2 -e 3 -o "$WORK/in.pcap" -M "$WORK/gen" > /dev/null || fail "kgw-gen"
mkdir -p "$WORK/manifests"
cp "$WORK/gen/services.yaml" "$WORK/manifests/services.yaml"
cat > "$WORK/gateway.yaml" <<YAML
node: {name: update-load, addresses: [198.18.0.1]}
ports:
  - {name: p0, device: "net_pcap0,rx_pcap=$WORK/in.pcap,infinite_rx=1", mac: "02:00:00:00:00:01"}
  - {name: p1, device: "net_null0,no-rx=1"}
workers: 1
snat: {addresses: [198.18.0.250]}
neighbors:
  - {ip: 198.18.1.2, mac: "02:00:00:00:01:02", port: p1}
routes:
  - {prefix: 198.19.0.0/17, via: 198.18.1.2, port: p1}
dataplane: {file_prefix: $P, mbufs: 16383, telemetry: false}
services: {maglev_size: 1021, conntrack_entries: 16384}
YAML
"$KGW" dataplane -c "$WORK/gateway.yaml" --no-final-stats > "$WORK/dp.log" 2>&1 &
PIDS+=($!)
for ((i = 0; i < 150; i++)); do cli "show lcores" > /dev/null 2>&1 && break; sleep 0.2; done
"$KGW" control -c "$WORK/gateway.yaml" --manifests "$WORK/manifests" > "$WORK/control.log" 2>&1 &
PIDS+=($!)
for ((i = 0; i < 150; i++)); do cli "show config status" 2>/dev/null | grep -q "last change: accepted" && break; sleep 0.2; done
cli "show config status" | grep -q "last change: accepted" || fail "control did not publish"
sleep 1
cli "clear port stats all" > /dev/null || fail "clear port stats"

# svc1's first endpoint moves between two addresses; svc0 is never touched.
for ((c = 1; c <= CHANGES; c++)); do
  sed "s/198\.19\.0\.4\"/198.19.100.$((c % 2 + 1))\"/" "$WORK/gen/services.yaml" > "$WORK/next.yaml"
  mv "$WORK/next.yaml" "$WORK/manifests/services.yaml"
  sleep 0.02
done
sleep 1  # the last change settles and is published

status=$(cli "show config status")
echo "$status" | sed 's/^/  /'
accepted=$(sed -n 's/^attempts: [0-9]* (\([0-9]*\) accepted, \([0-9]*\) rejected)/\1/p' <<< "$status")
rejected=$(sed -n 's/^attempts: [0-9]* ([0-9]* accepted, \([0-9]*\) rejected)/\1/p' <<< "$status")
[ "${rejected:-1}" = 0 ] || fail "control rejected $rejected changes"
[ "${accepted:-0}" -ge 50 ] || fail "only ${accepted:-0} generations published for $CHANGES changes"

cli "show counters; show lcores; show conntrack count" > "$WORK/counters.txt" || fail "show counters"
total_drops=$(awk '$1 == "total" {print $2}' "$WORK/counters.txt")
read -r rx tx < <(awk '$1 == "0" && NF >= 9 {print $(NF-4), $(NF-3)}' "$WORK/counters.txt")
new_flows=$(sed -n 's/^services: new-flows \([0-9]*\).*/\1/p' "$WORK/counters.txt")
active=$(sed -n 's/^worker 0: \([0-9]*\) connections.*/\1/p' "$WORK/counters.txt")
echo "  rx $rx, tx $tx, drops ${total_drops:-0}; new flows since the changes began: $new_flows; connections: $active"
[ "${total_drops:-0}" = 0 ] || { cat "$WORK/counters.txt"; fail "packets dropped during the updates"; }
[ -n "$rx" ] && [ "$rx" -gt 1000000 ] || fail "too little traffic during the updates: rx $rx"
[ $((rx - tx)) -le 64 ] || fail "received $rx but transmitted $tx"
[ "$new_flows" = 0 ] || fail "$new_flows connections were created anew during the updates"
[ "$active" = 2000 ] || fail "$active connections in the table, want the 2000 flows"
# The Services' counters outlive the generations: both together counted at
# least every packet received since the changes began (they count from the
# start), and every connection is still active on them.
cli "show service perf/svc0; show service perf/svc1" > "$WORK/services.txt" || fail "show service"
read -r svc_packets svc_active < <(awk '$1 == "packets" && $5 == "new-flows" {p += $2; a += $8} END {print p + 0, a + 0}' "$WORK/services.txt")
echo "  Service counters: $svc_packets packets, $svc_active active flows"
[ "$svc_packets" -ge "$rx" ] || { cat "$WORK/services.txt"; fail "the Services counted $svc_packets packets, fewer than the $rx received"; }
[ "$svc_active" = 2000 ] || { cat "$WORK/services.txt"; fail "the Services show $svc_active active flows, want 2000"; }
echo "PASS: $CHANGES changes ($accepted generations published) under load: no packet dropped, rx $rx = tx $tx, counters kept"
