#!/usr/bin/env bash
# The kgw demo on a built-in topology, from a fresh Debian 12 machine (as root):
#
#   client ns (198.18.0.2, 2001:2::2) --veth-- [p0  kgw dataplane  p1] --veth-- pod network bridge
#                                                                               |-- pod1 198.19.1.11 http :8080
#                                                                               |-- pod2 198.19.1.12 http :8080
#                                                                               `-- pod3 198.19.1.13 http :8080
#
# The gateway (DPDK over net_af_packet on the veths) owns 198.18.0.1, 2001:2::1
# and 198.19.1.1 and serves the Services of tests/netns/manifests/ (shop/web:
# ClusterIP 198.18.100.10, LoadBalancer 198.18.150.1, NodePort 30080). The demo
# pings the gateway from the client and from each pod through the dataplane,
# fetches pages through the Service, asks the HTTP proxy on port 80 (404:
# no Ingress in these manifests), reaches a kernel HTTP server of the node
# through the exception path (kgw0), then shows with `kgw cli` the port
# counters that moved and the Service's endpoints.
#
#   scripts/demo.sh          run, show, tear down
#   scripts/demo.sh --keep   leave it running; `scripts/demo.sh --down` removes it
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KGW=${KGW_BUILD_DIR:-$ROOT/build}/kgw
source "$ROOT/tests/netns/lib.sh"

P=kgw-demo
STATE=/run/kgw-demo
KEEP=0
case "${1:-}" in
  --keep) KEEP=1 ;;
  --down) ;;
  "") ;;
  -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
  *) echo "usage: $0 [--keep|--down]"; exit 2 ;;
esac

# Leftovers of an earlier run (killed, or --keep) go first: the demo is re-runnable.
teardown_previous() {
  if [ -f "$STATE/pids" ]; then
    while read -r pid; do stop_pid "$pid" 5; done < "$STATE/pids"
  fi
  for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do ip netns del "$ns"; done
  rm -rf "/var/run/dpdk/$P" "$STATE"
}
teardown_previous
[ "${1:-}" = "--down" ] && { echo "demo removed"; exit 0; }

"$ROOT/scripts/setup.sh" || exit 1
mkdir -p "$STATE"

if [ "$KEEP" = 0 ]; then trap 'netns_cleanup; rm -rf "$STATE"' EXIT; fi
say() { echo; echo "### $*"; }

say "building the topology (namespaces $P-*)"
pod_topology "$P" "$STATE"
# The node's addresses go on kgw0/kgw1 (the exception path): the kernel must
# not also take them from the veths DPDK drives.
kernel_ignores_port "$P-gw" g0
kernel_ignores_port "$P-gw" g1
for pid in "${STARTED_PIDS[@]}"; do echo "$pid" >> "$STATE/pids"; done
mkdir -p "$STATE/manifests" && cp "$ROOT/tests/netns/manifests/"*.yaml "$STATE/manifests/"

cat > "$STATE/gateway.yaml" <<YAML
# netns demo: see docs/examples/netns-demo.yaml for the commented version
node:
  name: demo-edge
  addresses: [198.18.0.1, "2001:2::1", 198.19.1.1]
ports:
  - name: p0
    device: "net_af_packet0,iface=g0,qdisc_bypass=1"
    profile: auto
    networks: [198.18.0.0/24, "2001:2::/64"]   # on-link: neighbours found by ARP / ND
  - name: p1
    device: "net_af_packet1,iface=g1,qdisc_bypass=1"
    profile: auto
    networks: [198.19.1.0/24]
workers: 1
snat:
  addresses: [198.18.0.250]
dataplane:
  file_prefix: $P
  mbufs: 4095
services:
  conntrack_entries: 16384
exception:
  interface: kgw0
YAML
# No static neighbours: the client's and the pods' MACs are resolved by ARP and ND.

say "starting kgw dataplane (log: $STATE/dataplane.log)"
start_dataplane "$P-gw" "$KGW" "$STATE/gateway.yaml" "$STATE/dataplane.log" "$P" "$STATE/manifests"
echo "$DP_PID" >> "$STATE/pids"
if ! wait_dataplane "$KGW" "$P" 30; then
  cat "$STATE/dataplane.log"
  echo "dataplane did not start"
  exit 1
fi
grep -E "port p[01]" "$STATE/dataplane.log" | sed 's/^/  /'

wait_pods "$P"

"$KGW" cli --file-prefix "$P" -c "clear port stats all" > /dev/null
say "client pings the gateway through the DPDK dataplane"
ip netns exec "$P-client" ping -c 4 -i 0.3 198.18.0.1
ip netns exec "$P-client" ping -6 -c 4 -i 0.3 2001:2::1
say "each pod pings the gateway's pod-side address"
for i in 1 2 3; do ip netns exec "$P-pod$i" ping -c 2 -i 0.3 -q 198.19.1.1 | tail -n 2 | head -n 1 | sed "s/^/  pod$i: /"; done

say "client fetches http://198.18.100.10/ (Service shop/web, ClusterIP) 12 times: Maglev spreads the flows"
for n in $(seq 12); do ip netns exec "$P-client" curl -s --max-time 3 http://198.18.100.10/; done | sort | uniq -c | sed 's/^/  /'
say "the same Service through its LoadBalancer IP and its NodePort"
ip netns exec "$P-client" curl -s --max-time 3 http://198.18.150.1/ | sed 's/^/  LoadBalancer 198.18.150.1:80 -> /'
ip netns exec "$P-client" curl -s --max-time 3 http://198.18.0.1:30080/ | sed 's/^/  NodePort 198.18.0.1:30080 -> /'
say "the HTTP proxy listens on port 80 of 198.18.0.1: no Ingress yet, so 404 (one added later is served at once)"
ip netns exec "$P-client" curl -s --max-time 3 -o /dev/null -w '  http://198.18.0.1/ -> %{http_code}\n' http://198.18.0.1/

say "the node's own services: a kernel HTTP server on 198.18.0.1:2222 in the gateway's namespace, through the exception path (kgw0)"
mkdir -p "$STATE/node"
echo "hello from the node's kernel (via kgw0)" > "$STATE/node/index.html"
ip netns exec "$P-gw" /usr/bin/python3 -m http.server 2222 --bind 198.18.0.1 --directory "$STATE/node" \
  > "$STATE/node.log" 2>&1 &
STARTED_PIDS+=($!)
echo "$!" >> "$STATE/pids"
wait_grep 10 "Serving HTTP" "$STATE/node.log"
ip netns exec "$P-client" curl -s --max-time 3 http://198.18.0.1:2222/ | sed 's/^/  198.18.0.1:2222 -> /'
ip -n "$P-gw" -br addr show kgw0 | sed 's/^/  /'

sleep 0.3
say "kgw cli: show neighbors (IP MAC PORT STATE AGE SOURCE: every one learnt, none configured)"
"$KGW" cli --file-prefix "$P" -c "show neighbors"
say "kgw cli: show port stats all; show counters; show service; show lcores"
"$KGW" cli --file-prefix "$P" -c "show port stats all; show counters; show service; show lcores"

if [ "$KEEP" = 1 ]; then
  say "left running. Try:"
  echo "  $KGW cli --file-prefix $P"
  echo "  ip netns exec $P-client ping 198.18.0.1"
  echo "  $0 --down     # remove it"
else
  say "stopping the dataplane (final statistics follow)"
  stop_pid "$DP_PID" 15
  tail -n 25 "$STATE/dataplane.log"
fi
