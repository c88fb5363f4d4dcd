#!/usr/bin/env bash
# L4 behaviour on a live gateway: `kgw dataplane` on veths with `kgw control
# --manifests` publishing and manifests changed while traffic flows, real
# kernel clients and pods, timed by the running worker's own clock (the TSC),
# checked by packets and counters.
#   1. expiry: a connection closed by RST, one closed by FIN both ways and an
#      unreplied UDP flow are kept until their services.timeouts and removed
#      within a second after, each counted in `expired`.
#   2. UDP from a fixed client port (IPv4 and IPv6) stays on a terminating
#      endpoint that still serves, and moves to another when its endpoint is
#      removed from the EndpointSlice (`udp-moved`).
#   3. ClientIP affinity is refreshed by every connection: clients coming
#      back faster than timeoutSeconds stay on their endpoint after a new
#      endpoint would have moved them.
#   4. traffic policies: a Local Service keeps the client's address through
#      its external IP, but a Pod reaching itself through it (hairpin), a Pod
#      reaching another Pod's Local ClusterIP, and a Pod reaching a Local
#      NodePort (services.cluster_cidrs) are source-NATed, and all answered.
#   5. an endpoint removed while a download runs from it is listed as
#      `removed` until the download ends, and the download completes; a
#      Service address on a port it does not serve, a ClusterIP on a nodePort
#      number, and a closed port on a node address are refused at once (ICMP
#      unreachable, RST); a TCP connection idle past its timeout is picked up
#      with its tuple and goes on (`picked-up`).
#   6. a 1,400-byte UDP datagram to the dns ClusterIP in IPv6 fragments, as
#      the client's kernel sends it and last-first (scapy): every fragment
#      reaches one pod, whose kernel puts the datagram back together and
#      echoes it whole; the last-first one was held for its first fragment
#      (`fragments: held`, `released`). IPv4 cannot be: the af_packet PMD's
#      fanout (PACKET_FANOUT_FLAG_DEFRAG) has the kernel reassemble IPv4
#      fragments before kgw sees them (the unit and golden tests cover it).
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages

P=kgwl$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  echo "--- control log"; tail -n 30 "$WORK/control.log" 2>/dev/null
  exit 1
}
expired() { cli "show counters" | sed -n 's/^conntrack:.* expired \([0-9]*\).*/\1/p'; }

pod_topology "$P" "$WORK"
cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-l4
  addresses: [198.18.0.1, "2001:2::1", 198.19.1.1, "2001:2:0:1::1"]
ports:
  - {name: p0, device: "net_af_packet0,iface=g0,qdisc_bypass=1"}
  - {name: p1, device: "net_af_packet1,iface=g1,qdisc_bypass=1"}
snat:
  addresses: [198.18.0.250, "2001:2::250"]
dataplane:
  file_prefix: $P
  mbufs: 8191
services:
  conntrack_entries: 16384
  timeouts: {tcp_close: 2, tcp_time_wait: 3, udp: 3, tcp_established: 4}
  cluster_cidrs: [198.19.1.0/24, "2001:2:0:1::/64"]
YAML
cat "$WORK/neighbors.yaml" >> "$WORK/gateway.yaml"
# IPv6 for the pods, more client addresses (for the affinity clients), and
# their neighbour entries.
client_mac=$(ip -n "$P-client" -br link show c0 | awk '{print $3}')
ip -n "$P-client" -6 route add 2001:2:0:100::/64 via 2001:2::1
for a in $(seq 3 22); do
  ip -n "$P-client" addr add "198.18.0.$a/24" dev c0
  echo "  - {ip: 198.18.0.$a, mac: \"$client_mac\", port: p0}" >> "$WORK/gateway.yaml"
done
for i in 1 2 3; do
  ip -n "$P-pod$i" -6 addr add "2001:2:0:1::1$i/64" dev eth0 nodad
  ip -n "$P-pod$i" -6 route add default via 2001:2:0:1::1
  mac=$(ip -n "$P-pod$i" -br link show eth0 | awk '{print $3}')
  echo "  - {ip: \"2001:2:0:1::1$i\", mac: \"$mac\", port: p1}" >> "$WORK/gateway.yaml"
  ip netns exec "$P-pod$i" /usr/bin/python3 "$HERE/echo_server.py" "pod$i" "198.19.1.1$i" "2001:2:0:1::1$i" \
    > "$WORK/echo$i.log" 2>&1 &
  STARTED_PIDS+=($!)
done
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
# dns: UDP echo, dual stack, on pods 1 and 2 (the test rewrites its slices).
write_dns() {  # write_dns V4_ENDPOINTS V6_ENDPOINTS: YAML list items, e.g. "{addresses: [198.19.1.11]}"
  cat > "$WORK/dns.tmp" <<YAML
apiVersion: v1
kind: Service
metadata: {name: dns, namespace: shop}
spec:
  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv4, IPv6]
  clusterIPs: [198.18.100.60, "2001:2:0:100::60"]
  ports: [{name: dns, protocol: UDP, port: 53, targetPort: 9053}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: dns-v4, namespace: shop, labels: {kubernetes.io/service-name: dns}}
addressType: IPv4
ports: [{name: dns, protocol: UDP, port: 9053}]
endpoints: [$1]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: dns-v6, namespace: shop, labels: {kubernetes.io/service-name: dns}}
addressType: IPv6
ports: [{name: dns, protocol: UDP, port: 9053}]
endpoints: [$2]
YAML
  mv "$WORK/dns.tmp" "$WORK/manifests/dns.yaml"
}
# sticky-a and sticky-b: ClientIP affinity of 3 s over the same endpoints (TCP echo).
write_sticky() {  # write_sticky ENDPOINTS
  : > "$WORK/sticky.tmp"
  for name in a b; do
    cat >> "$WORK/sticky.tmp" <<YAML
---
apiVersion: v1
kind: Service
metadata: {name: sticky-$name, namespace: shop}
spec:
  clusterIP: 198.18.100.7$([ $name = a ] && echo 1 || echo 2)
  sessionAffinity: ClientIP
  sessionAffinityConfig: {clientIP: {timeoutSeconds: 3}}
  ports: [{name: echo, port: 80, targetPort: 9000}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: sticky-$name-1, namespace: shop, labels: {kubernetes.io/service-name: sticky-$name}}
addressType: IPv4
ports: [{name: echo, port: 9000}]
endpoints: [$1]
YAML
  done
  mv "$WORK/sticky.tmp" "$WORK/manifests/sticky.yaml"
}
ep() { echo "{addresses: [\"$1\"]${2:-}}"; }
write_dns "$(ep 198.19.1.11), $(ep 198.19.1.12)" "$(ep 2001:2:0:1::11), $(ep 2001:2:0:1::12)"
write_sticky "$(ep 198.19.1.11), $(ep 198.19.1.12)"
cat > "$WORK/manifests/policies.yaml" <<'YAML'
# self: Local, reached through its load-balancer IP; its one endpoint is pod1.
apiVersion: v1
kind: Service
metadata: {name: self, namespace: shop}
spec:
  type: LoadBalancer
  clusterIP: 198.18.100.73
  externalTrafficPolicy: Local
  ports: [{name: echo, port: 80, targetPort: 9000, nodePort: 30073}]
status: {loadBalancer: {ingress: [{ip: 198.18.150.73}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: self-1, namespace: shop, labels: {kubernetes.io/service-name: self}}
addressType: IPv4
ports: [{name: echo, port: 9000}]
endpoints: [{addresses: [198.19.1.11]}]
---
# local-np: Local NodePort on pod3.
apiVersion: v1
kind: Service
metadata: {name: local-np, namespace: shop}
spec:
  type: NodePort
  clusterIP: 198.18.100.74
  externalTrafficPolicy: Local
  ports: [{name: echo, port: 80, targetPort: 9000, nodePort: 30074}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: local-np-1, namespace: shop, labels: {kubernetes.io/service-name: local-np}}
addressType: IPv4
ports: [{name: echo, port: 9000}]
endpoints: [{addresses: [198.19.1.13]}]
---
# echo: TCP echo on the three pods, for the connection picked up mid-flow.
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: shop}
spec:
  clusterIP: 198.18.100.80
  ports: [{name: echo, port: 7, targetPort: 9000}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: echo-1, namespace: shop, labels: {kubernetes.io/service-name: echo}}
addressType: IPv4
ports: [{name: echo, port: 9000}]
endpoints: [{addresses: [198.19.1.11]}, {addresses: [198.19.1.12]}, {addresses: [198.19.1.13]}]
YAML
start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not start"
wait_pods "$P" || fail "the pods' HTTP servers did not start"
ip netns exec "$P-gw" "$KGW" control -c "$WORK/gateway.yaml" --manifests "$WORK/manifests" > "$WORK/control.log" 2>&1 &
STARTED_PIDS+=($!)
# wait_for SECONDS CLI-COMMAND PATTERN: until the command's output matches.
wait_for() {
  local i
  for ((i = 0; i < $1 * 10; i++)); do cli "$2" 2>/dev/null | grep -Eq -- "$3" && return 0; sleep 0.1; done
  return 1
}
wait_for 10 "show service shop/echo" "198.19.1.13:9000" || fail "control did not publish the Services"
# wait_gone SECONDS CLI-COMMAND PATTERN: until the command's output no longer matches.
wait_gone() {
  local i
  for ((i = 0; i < $1 * 10; i++)); do cli "$2" 2>/dev/null | grep -Eq -- "$3" || return 0; sleep 0.1; done
  return 1
}
counter() {  # counter NAME: a "name value" pair of show counters
  cli "show counters" | tr -s ' ' '\n' | awk -v k="$1" 'prev == k { print; exit } { prev = $0 }'
}

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


# Clients: one datagram or one TCP exchange; prints the answer ("podN PEER ...")
# or what went wrong (timeout, refused).
ask() {  # ask NAMESPACE udp|tcp SRC SPORT DST PORT
  ip netns exec "$1" python3 - "${@:2}" <<'PY'
import socket, sys
proto, src, sport, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((src, sport))
s.settimeout(2)
try:
    s.connect((dst, port))
    s.send(b"hi")
    print(s.recv(2048).decode())
except socket.timeout:
    print("timeout")
except ConnectionRefusedError:
    print("refused")
PY
}
pod_of() { awk '{print $1}'; }  # the answering pod from an answer

# --- 2. UDP off endpoints that stopped serving -------------------------------
for fam in 4 6; do
  if [ $fam = 4 ]; then src=198.18.0.2 vip=198.18.100.60 a=198.19.1.11 b=198.19.1.12
  else src=2001:2::2 vip=2001:2:0:100::60 a=2001:2:0:1::11 b=2001:2:0:1::12; fi
  first=$(ask "$P-client" udp $src 41053 $vip 53)
  pod=$(pod_of <<< "$first")
  [[ "$pod" = pod[12] ]] || fail "2. IPv$fam: UDP to the dns Service not answered: \"$first\""
  [ "$pod" = pod1 ] && mine=$a other=$b || { mine=$b; other=$a; }
  echo "2. IPv$fam: UDP from port 41053 answered by $pod"
  # Terminating but still serving: the flow stays.
  moved_before=$(counter udp-moved)
  if [ $fam = 4 ]; then
    write_dns "$(ep $mine ', conditions: {ready: false, serving: true, terminating: true}'), $(ep $other)" \
              "$(ep 2001:2:0:1::11), $(ep 2001:2:0:1::12)"
  else
    write_dns "$(ep 198.19.1.11), $(ep 198.19.1.12)" \
              "$(ep $mine ', conditions: {ready: false, serving: true, terminating: true}'), $(ep $other)"
  fi
  wait_for 10 "show endpoints shop/dns" "$mine(\]?):9053 +terminating" || fail "2. the terminating endpoint was not published"
  again=$(ask "$P-client" udp $src 41053 $vip 53)
  [ "$(pod_of <<< "$again")" = "$pod" ] || fail "2. IPv$fam: a terminating, serving endpoint lost its UDP flow: \"$again\""
  # Removed from the slice: the next datagram goes to the other pod.
  if [ $fam = 4 ]; then write_dns "$(ep $other)" "$(ep 2001:2:0:1::11), $(ep 2001:2:0:1::12)"
  else write_dns "$(ep 198.19.1.11), $(ep 198.19.1.12)" "$(ep $other)"; fi
  wait_gone 10 "show endpoints shop/dns" "$mine(\]?):9053 +(ready|terminating)" || fail "2. the removal was not published"
  after=$(ask "$P-client" udp $src 41053 $vip 53)
  [ -n "$after" ] && [ "$after" != timeout ] || fail "2. IPv$fam: UDP lost after its endpoint was removed"
  [ "$(pod_of <<< "$after")" != "$pod" ] || fail "2. IPv$fam: UDP stayed on the removed endpoint: \"$after\""
  [ "$(counter udp-moved)" -gt "$moved_before" ] || fail "2. IPv$fam: udp-moved did not count the move"
  echo "2. IPv$fam: stayed on $pod while terminating, moved to $(pod_of <<< "$after") when removed"
  write_dns "$(ep 198.19.1.11), $(ep 198.19.1.12)" "$(ep 2001:2:0:1::11), $(ep 2001:2:0:1::12)"
  wait_for 10 "show endpoints shop/dns" "$mine(\]?):9053 +ready" || fail "2. the endpoints did not come back"
done

# --- 3. ClientIP affinity refreshed by use -----------------------------------
# One process plays 20 clients (fast enough for a 3 s timeout): each connects
# to sticky-a; then, once the third endpoint is published (the file "go"),
# every client comes back every 0.5 s for 5 s, and must stay on its pod;
# last, each asks sticky-b (same endpoints, no memory yet) where Maglev
# would send it now.
rm -f "$WORK/go"
client python3 - "$WORK" > "$WORK/affinity.txt" 2>&1 <<'PY' &
import os, socket, sys, time
work = sys.argv[1]
def ask(src, vip):
    s = socket.socket()
    s.bind((src, 0))
    s.settimeout(2)
    s.connect((vip, 80))
    s.send(b"hi")
    pod = s.recv(100).split()[0].decode()
    s.close()
    return pod
clients = [f"198.18.0.{a}" for a in range(3, 23)]
first = {c: ask(c, "198.18.100.71") for c in clients}
print("first", " ".join(first[c] for c in clients), flush=True)
while not os.path.exists(f"{work}/go"):
    time.sleep(0.02)
start, rounds = time.time(), 0
while time.time() - start < 5:
    for c in clients:
        got = ask(c, "198.18.100.71")
        if got != first[c]:
            print(f"moved {c} from {first[c]} to {got} after {time.time() - start:.1f} s", flush=True)
            sys.exit(1)
    rounds += 1
    time.sleep(0.5)
moved = sum(ask(c, "198.18.100.72") != first[c] for c in clients)
print(f"kept {rounds} rounds, {moved} would have moved", flush=True)
sys.exit(0 if moved else 2)
PY
AFF=$!
STARTED_PIDS+=("$AFF")
for ((n = 0; n < 100; n++)); do grep -q '^first' "$WORK/affinity.txt" 2>/dev/null && break; sleep 0.05; done
write_sticky "$(ep 198.19.1.11), $(ep 198.19.1.12), $(ep 198.19.1.13)"
wait_for 10 "show endpoints shop/sticky-a" "198.19.1.13:9000" || fail "3. the third endpoint was not published"
touch "$WORK/go"
wait "$AFF"
rc=$?
sed 's/^/  /' "$WORK/affinity.txt"
[ "$rc" = 2 ] && fail "3. the new endpoint moved no client: the check proves nothing"
[ "$rc" = 0 ] || fail "3. a client left its pod within its refreshed affinity"
echo "3. affinity: 20 clients coming back every 0.5 s kept their pod for 5 s past a 3 s timeout"

# --- 4. traffic policies and hairpin -----------------------------------------
got=$(ask "$P-client" tcp 198.18.0.2 0 198.18.150.73 80)
[ "$(awk '{print $1, $2}' <<< "$got")" = "pod1 198.18.0.2" ] ||
  fail "4. Local through its load-balancer IP did not keep the client's address: \"$got\""
got=$(ask "$P-pod1" tcp 198.19.1.11 0 198.18.150.73 80)
[ "$(awk '{print $1, $2}' <<< "$got")" = "pod1 198.18.0.250" ] || fail "4. hairpin (pod1 to itself) not source-NATed: \"$got\""
ip netns exec "$P-pod1" curl -s --max-time 3 -o /dev/null http://198.18.100.40/pod-to-local ||
  fail "4. pod1 to another Pod's Local ClusterIP timed out"
wait_grep 5 "^198.18.0.250 .*GET /pod-to-local" "$WORK/pod3.log" || fail "4. a Local ClusterIP was not source-NATed for a Pod"
got=$(ask "$P-pod1" tcp 198.19.1.11 0 198.19.1.1 30074)
[ "$(awk '{print $1, $2}' <<< "$got")" = "pod3 198.18.0.250" ] ||
  fail "4. pod1 to a Local NodePort (a Pod by services.cluster_cidrs) not answered through the gateway: \"$got\""
got=$(ask "$P-client" tcp 198.18.0.2 0 198.18.0.1 30074)
[ "$(awk '{print $1, $2}' <<< "$got")" = "pod3 198.18.0.2" ] || fail "4. the Local NodePort did not keep an outside client's address: \"$got\""
echo "4. policies: Local keeps an outside client's address; hairpin, Pod to Local ClusterIP and Pod to Local NodePort are source-NATed"

# --- 5. views, refusals, pickup ----------------------------------------------
client curl -s --max-time 60 --limit-rate 3M --local-port 42000 -o /dev/null -w '%{size_download}' \
  http://198.18.100.10/big.bin > "$WORK/download.txt" &
DL=$!
sleep 1
pod_ip=$(cli "show conntrack" | awk '/:42000 -> / {print $7; exit}' | cut -d: -f1)
[ -n "$pod_ip" ] || fail "5. the download's connection is not in the table"
cp "$WORK/manifests/services.yaml" "$WORK/services.orig"
sed "/name: web-1/,/^---/ { /addresses: \[$pod_ip\]/d }" "$WORK/services.orig" > "$WORK/services.tmp"
mv "$WORK/services.tmp" "$WORK/manifests/services.yaml"
wait_for 10 "show endpoints shop/web" "$pod_ip:8080 +removed .*active-flows [1-9]" ||
  { cli "show endpoints shop/web"; fail "5. the removed endpoint with a download running is not listed as removed"; }
wait "$DL"
[ "$(cat "$WORK/download.txt")" = 20000000 ] || fail "5. the download from a removed endpoint got $(cat "$WORK/download.txt") bytes"
# Its connection closed: listed until the entry leaves the table (TIME_WAIT, 3 s here).
wait_gone 8 "show endpoints shop/web" "$pod_ip:8080" || fail "5. the removed endpoint is still listed after its last connection"
echo "5. removed endpoint $pod_ip listed while its download ran (20 MB delivered), gone after"
mv "$WORK/services.orig" "$WORK/manifests/services.yaml"

refused_before=$(counter refused-port) resets_before=$(counter tcp-resets) unreach_before=$(counter udp-unreachables)
for url in http://198.18.100.10:81/ http://198.18.100.10:30080/ http://198.18.0.1:31999/; do
  t0=$(date +%s%N)
  client curl -s --max-time 3 -o /dev/null "$url"
  rc=$?
  ms=$((($(date +%s%N) - t0) / 1000000))
  [ "$rc" = 7 ] || fail "5. $url: curl exit $rc, want 7 (connection refused)"
  [ "$ms" -lt 1500 ] || fail "5. $url: refused only after $ms ms"
done
got=$(ask "$P-client" udp 198.18.0.2 41999 198.18.0.1 31999)
[ "$got" = refused ] || fail "5. UDP to a closed node port: \"$got\", want refused"
[ "$(counter refused-port)" -ge $((refused_before + 2)) ] || fail "5. refused-port did not count"
[ "$(counter tcp-resets)" -gt "$resets_before" ] || fail "5. tcp-resets did not count"
[ "$(counter udp-unreachables)" -gt "$unreach_before" ] || fail "5. udp-unreachables did not count"
echo "5. refused at once: a Service address on another port, a ClusterIP on a nodePort, a closed node port (TCP and UDP)"

picked_before=$(counter picked-up)
client python3 - > "$WORK/pickup.txt" <<'PY'
import socket, time
s = socket.socket()
s.bind(("198.18.0.2", 43000))
s.settimeout(3)
s.connect(("198.18.100.80", 7))
s.send(b"one")
print(s.recv(100).decode())
time.sleep(5.5)  # past services.timeouts.tcp_established (4 s): the entry expires
s.send(b"two")
print(s.recv(100).decode())
PY
mapfile -t lines < "$WORK/pickup.txt"
[ "${#lines[@]}" = 2 ] || fail "5. the idle connection did not go on after its entry expired: $(cat "$WORK/pickup.txt")"
[ "$(pod_of <<< "${lines[0]}")" = "$(pod_of <<< "${lines[1]}")" ] || fail "5. the picked-up connection changed pod"
[ "$(counter picked-up)" -gt "$picked_before" ] || fail "5. picked-up did not count"
echo "5. a connection idle past its timeout was picked up with its tuple: ${lines[1]}"

# --- 6. a UDP datagram in IP fragments, in any order -------------------------
# 1,400 bytes sent with a path MTU of 1,280 (a route of its own): two
# fragments in; the echo (17 bytes longer) comes back in one packet.
frag_ask() {  # frag_ask kernel|last-first SRC SPORT DST GW-MAC: "POD PEER whole" or what went wrong
  client /usr/bin/python3 - "$@" <<'PY'
import socket, sys
from scapy.all import Ether, IPv6, IPv6ExtHdrFragment, UDP, Raw, fragment6, sendp
order, src, sport, dst, gw_mac = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
payload = bytes((i * 7) % 251 for i in range(1400))
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind((src, sport))
s.settimeout(3)
if order == "kernel":
    s.sendto(payload, (dst, 53))
else:  # on the link as built, past the namespace's own IP stack
    frags = fragment6(IPv6(src=src, dst=dst) / IPv6ExtHdrFragment(id=0x51515151) / UDP(sport=sport, dport=53) /
                      Raw(payload), 1000)
    sendp([Ether(dst=gw_mac) / f for f in reversed(frags)], iface="c0", verbose=False)
try:
    data, _ = s.recvfrom(4096)
except socket.timeout:
    print("timeout")
    sys.exit()
name, peer, echoed = data.split(b" ", 2)
print(name.decode(), peer.decode(), "whole" if echoed == payload else f"not-whole-{len(echoed)}")
PY
}
gw_mac=$(ip -n "$P-gw" -br link show g0 | awk '{print $3}')
ip -n "$P-client" -6 route add 2001:2:0:100::60/128 via 2001:2::1 mtu 1280
held_before=$(counter_field fragments held) released_before=$(counter_field fragments released)
followed_before=$(counter_field fragments followed)
port=44000
for order in kernel last-first; do
  port=$((port + 1))
  got=$(frag_ask $order 2001:2::2 $port 2001:2:0:100::60 "$gw_mac")
  [[ "$got" =~ ^pod[12]\ .*\ whole$ ]] || fail "6. $order: 1,400 bytes in IPv6 fragments to the dns Service: \"$got\""
  echo "6. IPv6 fragments in $order order: echoed whole by $(pod_of <<< "$got")"
done
held=$(counter_field fragments held) released=$(counter_field fragments released)
followed=$(counter_field fragments followed)
[ "$((followed - followed_before))" -ge 2 ] || fail "6. fragments: followed $followed_before -> $followed, want 2 more (a later fragment each)"
[ "$((held - held_before))" -ge 1 ] || fail "6. fragments: held $held_before -> $held, want 1 more (the last-first datagram's)"
[ "$((released - released_before))" -ge 1 ] || fail "6. fragments: released $released_before -> $released, want 1 more"
echo "6. fragments: held $held_before -> $held, released $released_before -> $released"

echo "PASS: L4 on a live gateway"
