#!/usr/bin/env bash
# A SYN flood on a live gateway (issue 22): kernel clients hold keep-alive
# HTTP sessions through a ClusterIP while hping3 floods the same address and
# port with SYNs from a forged source (198.18.0.77, which the gateway has no
# neighbour for: the pods' SYN-ACKs go nowhere), each on a new source port,
# many times the connection table (4,096 entries). Checked:
#   - every request of every session is answered, on the connection it
#     started with (no reset, no reconnect);
#   - the flood did fill the table (evictions), and no established
#     connection was evicted (evicted-established 0);
#   - a new connection opened during the flood is answered.
#   flood_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages
if ! command -v hping3 > /dev/null; then echo "FAIL: hping3 missing (scripts/setup.sh installs it)"; exit 1; fi

P=kgwf$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  echo "--- sessions"; tail -n 20 "$WORK/sessions.log" 2>/dev/null
  exit 1
}

pod_topology "$P" "$WORK"
cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-flood
  addresses: [198.18.0.1, 198.19.1.1]
ports:
  - {name: p0, device: "net_af_packet0,iface=g0,qdisc_bypass=1"}
  - {name: p1, device: "net_af_packet1,iface=g1,qdisc_bypass=1"}
workers: 1
snat:
  addresses: [198.18.0.250]
dataplane:
  file_prefix: $P
  mbufs: 8191
services:
  conntrack_entries: 4096
YAML
cat "$WORK/neighbors.yaml" >> "$WORK/gateway.yaml"
for i in 1 2 3; do
  ip netns exec "$P-pod$i" /usr/bin/python3 "$HERE/keepalive_http.py" serve "pod$i" "198.19.1.1$i" 8081 \
    > "$WORK/keepalive$i.log" 2>&1 &
  STARTED_PIDS+=($!)
done
mkdir -p "$WORK/manifests"
cat > "$WORK/manifests/keepalive.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: keepalive, namespace: shop}
spec:
  clusterIP: 198.18.100.90
  ports: [{name: http, port: 80, targetPort: 8081}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: keepalive-1, namespace: shop, labels: {kubernetes.io/service-name: keepalive}}
addressType: IPv4
ports: [{name: http, port: 8081}]
endpoints:
  - {addresses: [198.19.1.11]}
  - {addresses: [198.19.1.12]}
  - {addresses: [198.19.1.13]}
YAML
start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P" "$WORK/manifests"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not start"
for ((n = 0; n < 50; n++)); do client curl -s --max-time 1 http://198.18.100.90/up | grep -q "^pod" && break; sleep 0.1; done
[ "$n" -lt 50 ] || fail "no answer through the ClusterIP"

# 16 keep-alive sessions, running before, through and after the flood, a
# request every half second each: idle between requests for longer than the
# flood takes to cycle through the table (about 0.2 s), so that only the
# eviction order keeps them, not their being the most recently used.
SESSIONS=16
client /usr/bin/python3 "$HERE/keepalive_http.py" client 198.18.100.90 80 "$SESSIONS" 0.5 "$WORK/stop" \
  > "$WORK/sessions.out" 2> "$WORK/sessions.log" &
SESSIONS_PID=$!
STARTED_PIDS+=("$SESSIONS_PID")
sleep 1
before_est=$(counter_field conntrack evicted-established)

# The flood: bounded in count and time. A forged source on the client's
# subnet, a new source port per SYN (hping3 counts them up from a base).
# Paced at about 100,000 SYNs a second, 25 tables a second: a flood for the
# connection table, within what the af_packet link here carries (about
# 460,000 packets a second), so that what is measured is the table, not the
# link dropping the sessions' packets.
echo "flooding 198.18.100.90:80 with SYNs"
t0=$(date +%s.%N)
client timeout 20 hping3 -q -S -p 80 -a 198.18.0.77 -i u10 -c 150000 198.18.100.90 > "$WORK/hping.log" 2>&1
t1=$(date +%s.%N)
echo "  $(grep -m1 "packets transmitted" "$WORK/hping.log") in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s"
# A new connection during the flood's aftermath: the table is full of its SYNs.
client curl -s --max-time 5 http://198.18.100.90/new | grep -q "^pod" || fail "a new connection after the flood was not answered"
sleep 1
touch "$WORK/stop"
wait "$SESSIONS_PID"
rc=$?
result=$(cat "$WORK/sessions.out")
echo "keep-alive sessions: $result"
counters=$(cli "show counters")
echo "$counters" | grep "^conntrack:"
[ "$rc" = 0 ] || fail "keep-alive sessions failed through the flood: $result"
evictions=$(counter_field conntrack evictions)
evicted_est=$(counter_field conntrack evicted-established)
[ -n "$evictions" ] && [ "$evictions" -gt 8192 ] || fail "the flood did not fill the table (evictions ${evictions:-?})"
[ "$evicted_est" = "$before_est" ] || fail "established connections evicted: ${before_est} -> ${evicted_est}"
requests=$(sed -n 's/.*requests \([0-9]*\).*/\1/p' <<< "$result")
[ "$requests" -gt $((SESSIONS * 10)) ] || fail "too few requests to mean anything: $requests"
echo "PASS"
