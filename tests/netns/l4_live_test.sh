#!/usr/bin/env bash
# L4 behaviour on a live gateway: `kgw dataplane` on veths with `kgw control
# --manifests` publishing, real kernel clients and pods, timed by the running
# worker's own clock (the TSC), checked by packets and counters.
#   1. expiry: a connection closed by RST, one closed by FIN both ways and an
#      unreplied UDP flow are kept until their services.timeouts and removed
#      within a second after, each counted in `expired`.
#   l4_live_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root"; exit 77; fi
if ! grep -qs hugetlbfs /proc/mounts; then echo "SKIP: no hugetlbfs mount (run scripts/setup.sh)"; exit 77; fi

P=kgwl$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  echo "--- control log"; tail -n 30 "$WORK/control.log" 2>/dev/null
  exit 1
}
client() { ip netns exec "$P-client" "$@"; }
cli() { "$KGW" cli --file-prefix "$P" -c "$1"; }
expired() { cli "show counters" | sed -n 's/^conntrack:.* expired \([0-9]*\).*/\1/p'; }

pod_topology "$P" "$WORK"
cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-l4
  addresses: [198.18.0.1, 198.19.1.1]
ports:
  - {name: p0, device: "net_af_packet0,iface=g0,qdisc_bypass=1"}
  - {name: p1, device: "net_af_packet1,iface=g1,qdisc_bypass=1"}
snat:
  addresses: [198.18.0.250]
dataplane:
  file_prefix: $P
  mbufs: 8191
services:
  conntrack_entries: 16384
  timeouts: {tcp_close: 2, tcp_time_wait: 3, udp: 3}
YAML
cat "$WORK/neighbors.yaml" >> "$WORK/gateway.yaml"
mkdir -p "$WORK/manifests"
cp "$HERE/manifests/services.yaml" "$WORK/manifests/"
cat > "$WORK/manifests/udp.yaml" <<'YAML'
# UDP to port 9054 of the pods, where nothing listens: never answered.
apiVersion: v1
kind: Service
metadata: {name: silent, namespace: shop}
spec:
  clusterIP: 198.18.100.50
  ports: [{name: dns, protocol: UDP, port: 53, targetPort: 9054}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: silent-1
  namespace: shop
  labels: {kubernetes.io/service-name: silent}
addressType: IPv4
ports: [{name: dns, protocol: UDP, port: 9054}]
endpoints:
  - {addresses: [198.19.1.11]}
YAML
start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not start"
wait_pods "$P" || fail "the pods' HTTP servers did not start"
ip netns exec "$P-gw" "$KGW" control -c "$WORK/gateway.yaml" --manifests "$WORK/manifests" > "$WORK/control.log" 2>&1 &
STARTED_PIDS+=($!)
for ((n = 0; n < 100; n++)); do cli "show service shop/silent" 2>/dev/null | grep -q 198.19.1.11 && break; sleep 0.1; done
[ "$n" -lt 100 ] || fail "control did not publish the Services"

# --- 1. expiry ---------------------------------------------------------------
# One HTTP exchange from a fixed source port, then the socket is closed with a
# RST (SO_LINGER 0) or with FIN both ways.
tcp_exchange() {  # tcp_exchange SPORT rst|fin
  client python3 - "$1" "$2" <<'PY'
import socket, struct, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.2", int(sys.argv[1])))
s.settimeout(3)
s.connect(("198.18.100.10", 80))
s.sendall(b"GET / HTTP/1.0\r\nHost: web\r\n\r\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
assert b"hello from pod" in data, data
if sys.argv[2] == "rst":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
PY
}
udp_send() {  # udp_send SPORT: one datagram to the silent Service
  client python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("198.18.0.2", int(sys.argv[1])))
s.sendto(b"ping", ("198.18.100.50", 53))' "$1"
}
# check_expiry NAME SPORT STATE TIMEOUT START: conn_watch.py's three checks.
check_expiry() {
  echo "  $1:"
  /usr/bin/python3 "$HERE/conn_watch.py" "$KGW" "$P" "$2" "$3" "$4" "$5" || fail "$1: expiry"
}

expired_before=$(expired)
tcp_exchange 40001 rst || fail "HTTP exchange through the ClusterIP failed"
check_expiry "RST-closed TCP" 40001 CLOSE 2 "$(date +%s.%N)"
tcp_exchange 40002 fin || fail "HTTP exchange through the ClusterIP failed"
check_expiry "FIN-closed TCP" 40002 TIME_WAIT 3 "$(date +%s.%N)"
udp_send 40003
check_expiry "unreplied UDP" 40003 UDP_UNREPLIED 3 "$(date +%s.%N)"
expired_after=$(expired)
[ "$((expired_after - expired_before))" -ge 3 ] ||
  fail "expired counted $expired_before -> $expired_after, want 3 more"
echo "1. expiry: RST-closed, FIN-closed and unreplied UDP entries removed on time; expired $expired_before -> $expired_after"

echo "PASS: L4 on a live gateway"
