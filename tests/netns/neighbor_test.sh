#!/usr/bin/env bash
# Neighbours by resolution alone (issue 18): the demo topology (client on p0,
# three pods behind a bridge on p1) with no static neighbour at all, only the
# ports' on-link networks (ports[].networks), and short RFC 4861 timers:
#   1. the table starts empty; requests through a ClusterIP reach every pod:
#      the pods are found by ARP (misses queued, then released), the client
#      learnt from its own ARP for the gateway;
#   2. IPv6: after `clear neighbors`, the echo service's SYN-ACK to the
#      client waits for a neighbour solicitation and its advertisement;
#   3. pod1 takes a new MAC and says so (gratuitous ARP): the table follows,
#      and so does traffic;
#   4. pod2 takes a new MAC and says nothing (nor ever asks us: a permanent
#      entry for the gateway): NUD probing (STALE, DELAY, unicast PROBEs
#      unanswered, broadcast) finds it, traffic follows;
#   5. a Service endpoint and an IPv6 address that never answer: FAILED,
#      queued packets dropped and counted (neighbor-failed, in show counters
#      and /metrics);
#   6. the client takes a new MAC and announces it (unsolicited NA,
#      gratuitous ARP): its IPv6 entry follows, traffic both ways too;
#   7. a router: a Service endpoint on a network behind it, reached through a
#      gateway.yaml route's `via`, which is resolved like any next hop.
#   neighbor_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages

P=kgwnb$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- neighbors"; cli "show neighbors" 2>/dev/null
  echo "--- counters"; cli "show counters" 2>/dev/null
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  exit 1
}
# counter_field neighbors NAME: a number from the `neighbors:` line of show counters.
# neighbor IP: its line of show neighbors (IP MAC PORT STATE AGE SOURCE).
neighbor() { cli "show neighbors" | awk -v ip="$1" '$1 == ip'; }
mac_of() { ip -n "$1" -br link show "$2" | awk '{print $3}'; }
curl_ok() { client curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$1" | grep -q 200; }
# Requests through the ClusterIP until every pod has a learnt entry (Maglev
# picks a pod per connection: 9 requests miss one pod 2.6% of the time), at
# most 60; false if one fails.
find_pods() {
  local n i missing
  for ((n = 1; n <= 60; n++)); do
    curl_ok http://198.18.100.10/ || return 1
    ((n % 3)) && continue
    missing=0
    for i in 1 2 3; do neighbor "198.19.1.1$i" | grep -q learned || missing=1; done
    ((missing)) || return 0
  done
  return 0
}

pod_topology "$P" "$WORK"
mkdir -p "$WORK/manifests" && cp "$HERE/manifests/"*.yaml "$WORK/manifests/"
cat > "$WORK/manifests/dead.yaml" <<'YAML'
# A Service whose one endpoint never answers ARP.
apiVersion: v1
kind: Service
metadata: {name: dead, namespace: shop}
spec:
  clusterIP: 198.18.100.99
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: dead-1, namespace: shop, labels: {kubernetes.io/service-name: dead}}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
  - {addresses: [198.19.1.99]}
---
# A Service whose endpoint is on a network behind a router (routes[] below).
apiVersion: v1
kind: Service
metadata: {name: far, namespace: shop}
spec:
  clusterIP: 198.18.100.71
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: far-1, namespace: shop, labels: {kubernetes.io/service-name: far}}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
  - {addresses: [198.19.71.1]}
YAML
# The router: on the pods' bridge, with the network 198.19.71.0/24 behind it
# (its server on an address of that network), its way back by the gateway.
netns_add "$P-router"
veth_link "$P-router" eth0 "$P-podnet" rtr
ip -n "$P-podnet" link set rtr master br0
ip -n "$P-router" addr add 198.19.1.254/24 dev eth0
ip -n "$P-router" addr add 198.19.71.1/24 dev lo
ip -n "$P-router" route add default via 198.19.1.1
no_checksum_offload "$P-router" eth0
mkdir -p "$WORK/router" && echo "hello from behind the router" > "$WORK/router/index.html"
ip netns exec "$P-router" /usr/bin/python3 -m http.server 8080 --bind 198.19.71.1 --directory "$WORK/router" \
  > "$WORK/router.log" 2>&1 &
STARTED_PIDS+=($!)

cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-neighbors
  addresses: [198.18.0.1, "2001:2::1", 198.19.1.1]
ports:
  - name: p0
    device: "net_af_packet0,iface=g0,qdisc_bypass=1"
    networks: [198.18.0.0/24, "2001:2::/64"]
  - name: p1
    device: "net_af_packet1,iface=g1,qdisc_bypass=1"
    networks: [198.19.1.0/24]
routes:
  - {prefix: 198.19.71.0/24, via: 198.19.1.254, port: p1}
workers: 1
snat:
  addresses: [198.18.0.250, "2001:2::250"]
neighbor_resolution:
  reachable_ms: 1000
  retrans_ms: 200
  delay_ms: 300
  probes: 3
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
  listen: "127.0.0.1:9471"
ingress:
  echo_port: 7
YAML

start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P" "$WORK/manifests"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not come up"
wait_pods "$P" || fail "pods do not serve"
grep -q "neighbours: 0 static, 3 on-link networks" "$WORK/dp.log" || fail "the resolver did not announce itself"

# 1. Nothing known at first; the pods by ARP, the client from its own ARP.
[ -z "$(cli "show neighbors")" ] || fail "show neighbors not empty before any traffic"
find_pods || fail "a request through the ClusterIP failed"
for i in 1 2 3; do
  line=$(neighbor "198.19.1.1$i")
  echo "  $line"
  echo "$line" | grep -Eq "^198\.19\.1\.1$i +$(mac_of "$P-pod$i" eth0) +p1 +(REACHABLE|STALE|DELAY|PROBE) +[0-9]+ +learned$" ||
    fail "pod$i not resolved on p1 with its MAC"
done
neighbor 198.18.0.2 | grep -Eq "^198\.18\.0\.2 +$(mac_of "$P-client" c0) +p0 .* learned$" || fail "client not learnt on p0"
[ "$(counter_field neighbors neighbor-misses)" -ge 3 ] || fail "no neighbor-misses counted"
[ "$(counter_field neighbors neighbor-queued)" -ge 3 ] || fail "no packets queued while the pods were resolved"
[ "$(counter_field neighbors solicits)" -ge 3 ] || fail "no ARP requests counted"

# 2. IPv6: the SYN-ACK of the echo service waits for neighbour discovery.
client ping -6 -c 1 -W 2 2001:2::1 > /dev/null || fail "ping6 to the gateway"
known=$(cli "show neighbors" | wc -l)
cli "clear neighbors" | grep -q "cleared" || fail "clear neighbors"
# A neighbour may come back at once by asking for us (its own NUD): fewer, not none.
left=$(cli "show neighbors" | wc -l)
[ "$left" -lt "$known" ] || fail "clear neighbors left $left of $known entries"
before=$(counter_field neighbors solicits)
got=$(client /usr/bin/python3 -c '
import socket
s = socket.create_connection(("2001:2::1", 7), timeout=3)
s.sendall(b"over-nd")
print(s.recv(64).decode())')
[ "$got" = "over-nd" ] || fail "echo over IPv6 after clear neighbors: '$got'"
neighbor 2001:2::2 | grep -Eq "^2001:2::2 +$(mac_of "$P-client" c0) +p0 +(REACHABLE|STALE|DELAY|PROBE) .* learned$" ||
  fail "client's IPv6 address not resolved by ND"
[ "$(counter_field neighbors solicits)" -gt "$before" ] || fail "no neighbour solicitation sent"

# 3. pod1 moves to a new MAC and announces it (gratuitous ARP, arp_notify).
find_pods || fail "a request to find the pods again failed"
neighbor 198.19.1.11 | grep -q learned || fail "pod1 not resolved again after clear neighbors"
ip netns exec "$P-pod1" sysctl -qw net.ipv4.conf.eth0.arp_notify=1
changes=$(counter_field neighbors mac-changes)
ip -n "$P-pod1" link set eth0 address 02:00:00:aa:00:11
found=0
for _ in $(seq 20); do
  if neighbor 198.19.1.11 | grep -q "02:00:00:aa:00:11"; then found=1; break; fi
  sleep 0.1
done
[ "$found" = 1 ] || fail "gratuitous ARP from pod1 did not move its entry"
[ "$(counter_field neighbors mac-changes)" -gt "$changes" ] || fail "mac-changes not counted"
for n in $(seq 9); do curl_ok http://198.18.100.10/ || fail "request $n after pod1's gratuitous ARP"; done

# 4. pod2 moves silently and never asks for the gateway: probing finds it.
gw_mac=$(mac_of "$P-gw" g1)
ip -n "$P-pod2" neigh replace 198.19.1.1 lladdr "$gw_mac" nud permanent dev eth0
ip netns exec "$P-pod2" sysctl -qw net.ipv4.conf.eth0.arp_notify=0
ip -n "$P-pod2" link set eth0 address 02:00:00:aa:00:12
found=0
for _ in $(seq 40); do
  client curl -s --max-time 1 -o /dev/null http://198.18.100.10/
  if neighbor 198.19.1.12 | grep -q "02:00:00:aa:00:12"; then found=1; break; fi
done
[ "$found" = 1 ] || fail "NUD probing did not find pod2's new MAC"
for n in $(seq 9); do curl_ok http://198.18.100.10/ || fail "request $n after pod2 moved"; done

# 5. Next hops that never answer.
failed_before=$(counter_field neighbors neighbor-failed)
client curl -s --max-time 2 -o /dev/null http://198.18.100.99/ && fail "a request to a dead endpoint was answered"
# A FAILED entry is asked again when used (a retransmitted SYN): it may be
# INCOMPLETE for a moment, so its state is read until FAILED, for 3 s at most.
failed_state() {
  local ip=$1 re=$2
  for _ in $(seq 30); do
    neighbor "$ip" | grep -Eq "$re" && return 0
    sleep 0.1
  done
  return 1
}
failed_state 198.19.1.99 "^198\.19\.1\.99 +- +p1 +FAILED .* learned$" || fail "198.19.1.99 not FAILED"
cli "tcp connect timeout 1500 2001:2::99 80" > "$WORK/dead6.txt" 2>&1 && fail "tcp connect to a dead IPv6 neighbour"
failed_state 2001:2::99 "^2001:2::99 +- +p0 +FAILED .* learned$" || fail "2001:2::99 not FAILED"
[ "$(counter_field neighbors neighbor-failed)" -ge $((failed_before + 2)) ] || fail "queued packets of failed neighbours not counted"
cli "show counters" | grep -Eq "^  neighbor_failed +[1-9]" || fail "drop reason neighbor_failed not counted"
ip netns exec "$P-gw" curl -s --max-time 2 http://127.0.0.1:9471/metrics > "$WORK/metrics.txt" || fail "scrape"
grep -Eq "^kgw_neighbor_failed_total [1-9]" "$WORK/metrics.txt" || fail "kgw_neighbor_failed_total missing"
grep -Eq "^kgw_neighbor_misses_total [1-9]" "$WORK/metrics.txt" || fail "kgw_neighbor_misses_total missing"
grep -Eq "^kgw_neighbor_queued_total [1-9]" "$WORK/metrics.txt" || fail "kgw_neighbor_queued_total missing"

# 6. The client moves to a new MAC and announces it over IPv6 too (an
#    unsolicited NA with the override flag, ndisc_notify): both its entries follow.
ip netns exec "$P-client" sysctl -qw net.ipv6.conf.c0.ndisc_notify=1 net.ipv4.conf.c0.arp_notify=1
neighbor 2001:2::2 | grep -q learned || fail "the client's IPv6 entry is gone before its move"
ip -n "$P-client" link set c0 address 02:00:00:aa:00:02
found=0
for _ in $(seq 20); do
  if neighbor 2001:2::2 | grep -q "02:00:00:aa:00:02"; then found=1; break; fi
  sleep 0.1
done
[ "$found" = 1 ] || fail "the client's unsolicited NA did not move its IPv6 entry"
got=$(client /usr/bin/python3 -c '
import socket
s = socket.create_connection(("2001:2::1", 7), timeout=3)
s.sendall(b"moved")
print(s.recv(64).decode())')
[ "$got" = "moved" ] || fail "echo over IPv6 after the client moved: '$got'"
curl_ok http://198.18.100.10/ || fail "a request after the client moved"

# 7. The router, never heard from before: resolved as the route's next hop.
[ -z "$(neighbor 198.19.1.254)" ] || fail "the router is known before any traffic to its network"
ok=0
for _ in $(seq 10); do
  client curl -s --max-time 2 http://198.18.100.71/ | grep -q "behind the router" && { ok=1; break; }
done
[ "$ok" = 1 ] || fail "no answer from the endpoint behind the router"
neighbor 198.19.1.254 | grep -Eq "^198\.19\.1\.254 +[0-9a-f:]{17} +p1 +[A-Z]+ .* learned$" ||
  fail "the router's entry was not learnt: $(neighbor 198.19.1.254)"
[ -z "$(neighbor 198.19.71.1)" ] || fail "the endpoint behind the router has an entry of its own"

cli "show neighbors; show counters" | grep -E "^(198|2001)|^neighbors:"
echo "PASS"
