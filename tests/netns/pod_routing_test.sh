#!/usr/bin/env bash
# End-to-end pod routing through the DPDK dataplane (docs/pod-network.md):
#   P-lpod (198.19.50.10, 2001:2:0:50::10, a pod on the gateway's segment) --veth-- P-gw port p0
#   P-gw port p1 (198.18.50.1, the gateway's VTEP) --veth-- P-node (198.18.50.2, 2001:2:0:5::2, a remote Node)
# P-node owns pod CIDRs 198.19.60.0/24 and 2001:2:0:60::/64 and holds their
# pod 198.19.60.10 / 2001:2:0:60::10.
# Phase 1, overlay vxlan: P-node reaches the local pod through the Linux
# kernel's own vxlan device (VNI 1, port 8472, learning off, a static fdb
# entry for the gateway's VTEP MAC, as Flannel sets it up), the gateway
# decapsulates and encapsulates; a 1500-byte datagram with DF from the local
# pod does not fit the tunnel and gets ICMP fragmentation needed (MTU 1450).
# Phase 2, overlay none: the same Node routed host-gw style. Both ways, ping
# (IPv4 and IPv6 pods) and HTTP (a 300 kB download too), and each pod through a Service of the
# other (the replies to the remote pod leave by pod routing).
#   pod_routing_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages

P=kgwpr$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- counters"; cli "show counters" 2>/dev/null | grep -E "^pods:|^neighbors:|pod_|vxlan_|no_neighbor|not_for"
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  echo "--- control log"; tail -n 30 "$WORK/control.log" 2>/dev/null
  exit 1
}
lpod() { ip netns exec "$P-lpod" "$@"; }
node() { ip netns exec "$P-node" "$@"; }
pods_field() { counter_field pods "$1"; }
GW_VTEP_MAC=02:00:00:00:50:01
NODE_VTEP_MAC=02:00:00:00:60:01

pod_pair_topology "$P"
pod_pair_vxlan "$P" "$GW_VTEP_MAC" "$NODE_VTEP_MAC"
node ip route add 198.18.150.0/24 via 198.19.50.0 dev vxlan1 onlink src 198.19.60.10  # the Services

mkdir -p "$WORK/manifests" "$WORK/lpod" "$WORK/rpod"
pod_pair_nodes "$NODE_VTEP_MAC" > "$WORK/manifests/nodes.yaml"
# A Service of the local pod and one of the remote pod (cluster IPs are
# source-NATed: the replies come back through the gateway, to a pod the
# route stage hands to pod routing).
for svc in "to-local 198.18.150.50 198.19.50.10" "to-remote 198.18.150.60 198.19.60.10"; do
  read -r name ip endpoint <<< "$svc"
  cat >> "$WORK/manifests/services.yaml" <<YAML
apiVersion: v1
kind: Service
metadata: {name: $name}
spec:
  clusterIP: $ip
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: $name-1, labels: {kubernetes.io/service-name: $name}}
addressType: IPv4
ports: [{port: 8080}]
endpoints: [{addresses: [$endpoint]}]
---
YAML
done
"$KGW" validate --manifests "$WORK/manifests" > "$WORK/validate.log" 2>&1 || { cat "$WORK/validate.log"; fail "validate"; }
grep -q "pod network: 2 Nodes, 4 pod CIDRs" "$WORK/validate.log" || { cat "$WORK/validate.log"; fail "validate did not read the Nodes"; }

echo "local pod" > "$WORK/lpod/index.html"
head -c 300000 /dev/urandom > "$WORK/lpod/big.bin"
echo "remote pod" > "$WORK/rpod/index.html"
ip netns exec "$P-lpod" /usr/bin/python3 -m http.server 8080 --bind 198.19.50.10 --directory "$WORK/lpod" > "$WORK/lpod.log" 2>&1 &
STARTED_PIDS+=($!)
ip netns exec "$P-node" /usr/bin/python3 -m http.server 8080 --bind 198.19.60.10 --directory "$WORK/rpod" > "$WORK/rpod.log" 2>&1 &
STARTED_PIDS+=($!)

# start OVERLAY: the dataplane and control, until the pod routes are published.
start() {
  pod_pair_gateway_yaml "$1" "$GW_VTEP_MAC" > "$WORK/gateway.yaml"
  start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P"
  wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not come up ($1)"
  start_control "$WORK/gateway.yaml" "$WORK/manifests" "$WORK/control.log" 20 || fail "control did not attach ($1)"
  wait_grep 10 "pod routes: generation 1 published: 2 Nodes, 4 pod CIDRs" "$WORK/control.log" || fail "no pod routes ($1)"
}
stop() {
  stop_pid "$CONTROL_PID" 5
  stop_pid "$DP_PID" 10
}

# both_ways OVERLAY: ping and HTTP from the local pod to the remote one and back.
both_ways() {
  lpod ping -c 3 -i 0.2 -W 2 198.19.60.10 > "$WORK/ping.log" 2>&1 || { cat "$WORK/ping.log"; fail "$1: local pod -> remote pod ping"; }
  node ping -c 3 -i 0.2 -W 2 -I 198.19.60.10 198.19.50.10 > "$WORK/ping.log" 2>&1 || { cat "$WORK/ping.log"; fail "$1: remote pod -> local pod ping"; }
  [ "$(lpod curl -s --max-time 5 http://198.19.60.10:8080/)" = "remote pod" ] || fail "$1: local pod -> remote pod HTTP"
  [ "$(node curl -s --max-time 5 --interface 198.19.60.10 http://198.19.50.10:8080/)" = "local pod" ] || fail "$1: remote pod -> local pod HTTP"
  lpod ping -6 -c 2 -i 0.2 -W 2 2001:2:0:60::10 > "$WORK/ping.log" 2>&1 || { cat "$WORK/ping.log"; fail "$1: IPv6 local pod -> remote pod ping"; }
  node ping -6 -c 2 -i 0.2 -W 2 -I 2001:2:0:60::10 2001:2:0:50::10 > "$WORK/ping.log" 2>&1 ||
    { cat "$WORK/ping.log"; fail "$1: IPv6 remote pod -> local pod ping"; }
  [ "$(node curl -s --max-time 5 --interface 198.19.60.10 http://198.18.150.50/)" = "local pod" ] ||
    fail "$1: remote pod -> Service -> local pod"
  [ "$(lpod curl -s --max-time 5 http://198.18.150.60/)" = "remote pod" ] || fail "$1: local pod -> Service -> remote pod"
  # Full-size segments from the local pod: over the tunnel's MTU with VXLAN.
  node curl -s --max-time 10 --interface 198.19.60.10 -o "$WORK/big.out" http://198.19.50.10:8080/big.bin || fail "$1: large download"
  cmp -s "$WORK/big.out" "$WORK/lpod/big.bin" || fail "$1: the large download differs"
  echo "$1: ping and HTTP both ways: ok"
}

start vxlan
cli "show pods" > "$WORK/pods.txt"
grep -Eq "^198\.19\.60\.0/24 +remote +198\.18\.50\.2 +2001:2:0:5::2 +$NODE_VTEP_MAC" "$WORK/pods.txt" || { cat "$WORK/pods.txt"; fail "show pods"; }
both_ways vxlan
sleep 0.3  # counters are published per loop; let the last ones land
enc=$(pods_field encapsulated) dec=$(pods_field decapsulated)
echo "vxlan: encapsulated $enc, decapsulated $dec"
[ "${enc:-0}" -ge 10 ] && [ "${dec:-0}" -ge 10 ] || fail "vxlan: encapsulated $enc, decapsulated $dec"

# The gateway's own answers to a pod behind the tunnel go back into it: an
# echo reply from the gateway's address, and a DNS answer from its responder
# (a Service route through the tunnel, as a Node routes the service CIDR).
node ping -c 2 -i 0.2 -W 2 -I 198.19.60.10 198.19.50.1 > "$WORK/ping.log" 2>&1 ||
  { cat "$WORK/ping.log"; fail "vxlan: remote pod -> the gateway's address ping (answered into the tunnel)"; }
answer=$(node dig +time=2 +tries=1 +short -b 198.19.60.10 @198.18.150.53 to-local.default.svc.cluster.local A 2>&1)
[ "$answer" = "198.18.150.50" ] || fail "vxlan: remote pod -> the gateway's DNS through the tunnel: $answer"
echo "vxlan: the gateway's echo reply and DNS answer reached the remote pod through the tunnel"
# The workers' own TCP (an active open from the SNAT address, as the HTTP
# proxy opens to an endpoint) to the pod behind the tunnel: its segments go
# through pod routing, encapsulated.
enc0=$(pods_field encapsulated)
out=$(cli "tcp connect 198.19.60.10 8080 GET / HTTP/1.0\\r\\n\\r\\n") || fail "vxlan: tcp connect to the remote pod failed: $out"
grep -q "remote pod" <<< "$out" || fail "vxlan: tcp connect got no page from the remote pod: $out"
sleep 0.3
[ "$(pods_field encapsulated)" -gt "$enc0" ] || fail "vxlan: the workers' segments were not encapsulated"
echo "vxlan: the workers' TCP reached the remote pod through the tunnel"

# A datagram with DF too big for the tunnel: the gateway answers
# fragmentation needed with the tunnel's MTU, and the pod's kernel keeps it.
lpod ping -c 1 -W 2 -M do -s 1472 198.19.60.10 > "$WORK/ping_big.log" 2>&1
grep -q "mtu = 1450" "$WORK/ping_big.log" || { cat "$WORK/ping_big.log"; fail "vxlan: no fragmentation needed (mtu 1450) for a 1500-byte datagram"; }
lpod ping -c 2 -i 0.2 -W 2 -s 1422 -M do 198.19.60.10 > "$WORK/ping_fit.log" 2>&1 || { cat "$WORK/ping_fit.log"; fail "vxlan: a 1450-byte datagram did not pass"; }
sleep 0.3
big=$(pods_field too-big-sent)
[ "${big:-0}" -ge 1 ] || fail "vxlan: too-big-sent $big"
stop

# Host-gw: the Node routes the gateway's pod CIDR to the gateway's address.
node ip route replace 198.19.50.0/24 via 198.18.50.1 dev eth0 src 198.19.60.10
node ip route replace 198.18.150.0/24 via 198.18.50.1 dev eth0 src 198.19.60.10
node ip -6 route replace 2001:2:0:50::/64 via 2001:2:0:5::1 dev eth0 src 2001:2:0:60::10
lpod ip route flush cache
start none
both_ways host-gw
sleep 0.3
routed=$(pods_field routed) on_link=$(pods_field on-link) enc=$(pods_field encapsulated)
echo "host-gw: routed $routed, on-link $on_link, encapsulated $enc"
[ "${routed:-0}" -ge 10 ] && [ "${on_link:-0}" -ge 10 ] && [ "${enc:-0}" = 0 ] || fail "host-gw counters"
stop
grep -q "kgw final statistics" "$WORK/dp.log" || fail "the dataplane did not stop cleanly"
echo "PASS: pod routing through the dataplane (VXLAN and host-gw)"
