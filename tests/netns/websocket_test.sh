#!/usr/bin/env bash
# WebSocket through the HTTP proxy end to end: a python3-websockets echo
# server in pod1's namespace behind an Ingress, a websockets client in the
# client namespace through kgw (DPDK on veths) on port 80 of the Ingress
# address: the Upgrade handshake forwarded (the server sees the client in
# X-Forwarded-For), messages of 1 B to 1 MiB (several over 64 KiB) and a
# burst of 200 compared with their echoes, two clients at once, a silent
# tunnel closed after ingress.timeouts.tunnel_idle, plain HTTP on the same
# listener meanwhile, and the counters (upgrades, tunnels open, tunnel bytes).
#   websocket_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root"; exit 77; fi
if ! grep -qs hugetlbfs /proc/mounts; then echo "SKIP: no hugetlbfs mount (run scripts/setup.sh)"; exit 77; fi
if ! /usr/bin/python3 -c 'import websockets' 2>/dev/null; then echo "SKIP: no python3-websockets (run scripts/setup.sh)"; exit 77; fi

P=kgww$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*"; echo "--- dataplane log"; tail -n 40 "$WORK/dp.log"; exit 1; }
client() { ip netns exec "$P-client" "$@"; }

pod_topology "$P" "$WORK"
ip netns exec "$P-pod1" /usr/bin/python3 "$HERE/ws_echo.py" server 198.19.1.11 8090 > "$WORK/ws.log" 2>&1 &
STARTED_PIDS+=($!)
mkdir -p "$WORK/manifests"
cat > "$WORK/manifests/ws.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: kgw, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: kgw.dev/ingress-controller}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: chat, namespace: chat}
spec:
  ingressClassName: kgw
  rules:
    - host: ws.example
      http:
        paths:
          - {path: /chat, pathType: Prefix, backend: {service: {name: ws, port: {number: 80}}}}
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
apiVersion: v1
kind: Service
metadata: {name: ws, namespace: chat}
spec:
  clusterIP: 198.18.100.20
  ports: [{name: ws, port: 80, targetPort: 8090}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ws-1, namespace: chat, labels: {kubernetes.io/service-name: ws}}
addressType: IPv4
ports: [{name: ws, protocol: TCP, port: 8090}]
endpoints:
  - {addresses: [198.19.1.11]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: chat}
spec:
  clusterIP: 198.18.100.21
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: chat, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
  - {addresses: [198.19.1.12]}
YAML
cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-websocket
  addresses: [198.18.0.1, 198.19.1.1]
ingress:
  addresses: [198.18.0.1]
  timeouts: {client_header: 5, client_idle: 5, backend_connect: 2, backend_read: 5, tunnel_idle: 3}
ports:
  - {name: p0, device: "net_af_packet0,iface=g0,qdisc_bypass=1"}
  - {name: p1, device: "net_af_packet1,iface=g1,qdisc_bypass=1"}
workers: 1
snat:
  addresses: [198.18.0.250]
dataplane:
  file_prefix: $P
  mbufs: 8191
YAML
cat "$WORK/neighbors.yaml" >> "$WORK/gateway.yaml"
ip netns exec "$P-gw" ip link set lo up
start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P" "$WORK/manifests"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not start"
wait_pods "$P" || fail "the pods' HTTP servers did not start"
grep -q "http: reverse proxy on port 80" "$WORK/dp.log" || fail "the proxy does not listen"
for ((n = 0; n < 50; n++)); do
  ip netns exec "$P-pod1" /usr/bin/python3 -c 'import socket; socket.create_connection(("198.19.1.11", 8090), 1)' 2>/dev/null && break
  sleep 0.1
done
[ "$n" -lt 50 ] || fail "the WebSocket server did not start: $(cat "$WORK/ws.log")"
for ((n = 0; n < 10; n++)); do
  client curl -s --max-time 5 -H "Host: ws.example" http://198.18.0.1/ | grep -q "^hello from pod2" && break
  sleep 0.5
done
[ "$n" -lt 10 ] || fail "no answer through the proxy after 10 tries"

# 1. Two WebSocket clients at once: every message echoed intact, the server
#    saw the client's address.
for k in 1 2; do
  client timeout 60 /usr/bin/python3 "$HERE/ws_echo.py" client 198.18.0.1 ws.example > "$WORK/client$k.txt" 2>&1 &
  CPIDS[$k]=$!
done
# Plain HTTP on the same listener meanwhile.
[ "$(client curl -s --max-time 5 -H "Host: ws.example" http://198.18.0.1/)" = "hello from pod2 (198.19.1.12)" ] ||
  fail "plain HTTP beside the tunnels"
for k in 1 2; do
  wait "${CPIDS[$k]}" || fail "WebSocket client $k: $(cat "$WORK/client$k.txt")"
  echo "client $k: $(cat "$WORK/client$k.txt")"
  grep -q "^ok 209 messages 1449902 bytes path=/chat xff=198.18.0.2$" "$WORK/client$k.txt" ||
    fail "client $k: $(cat "$WORK/client$k.txt")"
done

# 2. The counters: two upgrades, no tunnel left open (both clients closed),
#    every echoed byte spliced each way.
upgrades=$(counter_field http upgrades)
open_now=$(counter_field http tunnels-open)
up=$(counter_field http tunnel-bytes-to-backends)
down=$(counter_field http tunnel-bytes-to-clients)
echo "upgrades $upgrades  tunnels-open $open_now  tunnel-bytes-to-backends $up  tunnel-bytes-to-clients $down"
[ "$upgrades" = 2 ] || fail "upgrades $upgrades, expected 2"
[ "$open_now" = 0 ] || fail "tunnels-open $open_now after both clients closed"
[ "$up" -gt $((2 * 1449902)) ] && [ "$down" -gt $((2 * 1449902)) ] || fail "tunnel bytes $up up, $down down"

# 3. A silent tunnel is closed after tunnel_idle (3 s); one that talks is not.
t0=$(date +%s.%N)
got=$(client timeout 20 /usr/bin/python3 "$HERE/ws_echo.py" idle 198.18.0.1 ws.example 4.5)
echo "after 4.5 s silent: $got ($(echo "$(date +%s.%N) - $t0" | bc) s)"
[ "$got" = closed ] || fail "a silent tunnel was still open after 4.5 s (tunnel_idle 3): $got"
got=$(client timeout 20 /usr/bin/python3 "$HERE/ws_echo.py" idle 198.18.0.1 ws.example 1.5)
[ "$got" = open ] || fail "a tunnel silent for 1.5 s was closed: $got"
closed=$(counter_field http tunnel-idle-closed)
[ "$closed" -ge 1 ] || fail "tunnel-idle-closed $closed"
echo "tunnel-idle-closed $closed"
kill -0 "$DP_PID" || fail "the dataplane died"
echo "PASS"
