#!/usr/bin/env bash
# NetworkPolicy on pod-to-pod traffic the gateway routes (docs/policy.md,
# "Enforcement"), host-gw style, through the DPDK dataplane:
#   P-lpod (198.19.50.10, Pod x/l on the gateway's segment) --veth-- P-gw port p0
#   P-gw port p1 (198.18.50.1) --veth-- P-node (198.18.50.2, Node `remote`)
# P-node holds Pod x/r (198.19.60.10) of pod CIDR 198.19.60.0/24 and routes
# the gateway's pod CIDR to the gateway. Policies: nobody may open to l
# (ingress default deny); l may open to r on TCP 8080 and 9000.
#   1. l -> r HTTP works both ways (r's replies reach l though nothing may
#      open to l: the connection entry lets them pass); r -> l HTTP fails,
#      counted `policy: denied` and drop reason policy_denied.
#   2. l keeps a TCP connection to r's echo service (9000) open; the policy
#      changes (control publishes a new generation allowing 8080 only): the
#      connection's next packet is dropped (policy_revoked, `revoked`), the
#      echo gets no answer, while l -> r HTTP on 8080 still works.
#   pod_policy_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages

P=kgwpp$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- counters"; cli "show counters" 2>/dev/null | grep -E "^pods:|^policy:|policy_|pod_|no_neighbor|not_for"
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  echo "--- control log"; tail -n 30 "$WORK/control.log" 2>/dev/null
  exit 1
}
lpod() { ip netns exec "$P-lpod" "$@"; }
node() { ip netns exec "$P-node" "$@"; }
drop_count() { cli "show counters" | sed -n "s/^  $1 \+\([0-9]\+\) .*/\1/p"; }

pod_pair_topology "$P"
node ip route add 198.19.50.0/24 via 198.18.50.1 dev eth0 src 198.19.60.10

M=$WORK/manifests
mkdir -p "$M" "$WORK/lpod" "$WORK/rpod"
cat > "$M/cluster.yaml" <<'YAML'
apiVersion: v1
kind: Node
metadata: {name: gw}
spec: {podCIDRs: [198.19.50.0/24]}
---
apiVersion: v1
kind: Node
metadata: {name: remote}
spec: {podCIDRs: [198.19.60.0/24]}
status: {addresses: [{type: InternalIP, address: 198.18.50.2}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: x}
---
apiVersion: v1
kind: Pod
metadata: {name: l, namespace: x, labels: {app: l}}
spec: {nodeName: gw}
status: {podIP: 198.19.50.10}
---
apiVersion: v1
kind: Pod
metadata: {name: r, namespace: x, labels: {app: r}}
spec: {nodeName: remote}
status: {podIP: 198.19.60.10}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: l-deny-ingress, namespace: x}
spec: {podSelector: {matchLabels: {app: l}}, policyTypes: [Ingress]}
YAML
r_from_l() {
  cat <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: r-from-l, namespace: x}
spec:
  podSelector: {matchLabels: {app: r}}
  policyTypes: [Ingress]
  ingress:
  - from: [{podSelector: {matchLabels: {app: l}}}]
    ports: [$1]
YAML
}
r_from_l "{port: 8080}, {port: 9000}" > "$M/r.yaml"
r_from_l "{port: 8080}" > "$WORK/r.yaml"

echo "local pod" > "$WORK/lpod/index.html"
echo "remote pod" > "$WORK/rpod/index.html"
ip netns exec "$P-lpod" /usr/bin/python3 -m http.server 8080 --bind 198.19.50.10 --directory "$WORK/lpod" > "$WORK/lpod.log" 2>&1 &
STARTED_PIDS+=($!)
ip netns exec "$P-node" /usr/bin/python3 -m http.server 8080 --bind 198.19.60.10 --directory "$WORK/rpod" > "$WORK/rpod.log" 2>&1 &
STARTED_PIDS+=($!)
ip netns exec "$P-node" /usr/bin/python3 "$HERE/echo_server.py" r 198.19.60.10 > "$WORK/echo.log" 2>&1 &
STARTED_PIDS+=($!)

cat > "$WORK/gateway.yaml" <<YAML
node:
  name: gw
  addresses: [198.19.50.1, 198.18.50.1]
ports:
  - name: p0
    device: "net_af_packet0,iface=g0,qdisc_bypass=1"
    networks: [198.19.50.0/24]
  - name: p1
    device: "net_af_packet1,iface=g1,qdisc_bypass=1"
    networks: [198.18.50.0/24]
workers: 1
pod_network:
  overlay: none
dataplane:
  file_prefix: $P
  mbufs: 4095
YAML

pod_pair_start "$KGW" "$WORK" "$M"

# 1. Allowed one way, with its replies; denied the other way.
[ "$(lpod curl -s --max-time 5 http://198.19.60.10:8080/)" = "remote pod" ] || fail "l -> r HTTP (allowed)"
denied0=$(counter_field policy denied)
out=$(node curl -s --max-time 2 --interface 198.19.60.10 http://198.19.50.10:8080/) && fail "r -> l answered: $out"
sleep 0.3
allowed=$(counter_field policy allowed) denied=$(counter_field policy denied) routed=$(counter_field policy routed)
echo "l -> r allowed, r -> l denied: policy allowed $allowed, denied $denied, routed $routed"
[ "${routed:-0}" -ge 1 ] || fail "policy: routed \"$routed\""
[ "${denied:-0}" -gt "${denied0:-0}" ] || fail "policy: denied \"$denied\" after r -> l"
[ "$(drop_count policy_denied)" = "$denied" ] || fail "drop reason policy_denied $(drop_count policy_denied), denied $denied"

# 2. An established connection cut by a policy change.
ip netns exec "$P-lpod" /usr/bin/python3 - "$WORK/go" > "$WORK/client.log" 2>&1 <<'PY' &
import os, socket, sys, time
s = socket.create_connection(("198.19.60.10", 9000), timeout=3)
s.sendall(b"one")
print("first:", s.recv(200).decode(), flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.05)
s.sendall(b"two")
try:
    print("second:", s.recv(200).decode() or "closed", flush=True)
except OSError as e:
    print("second: none", type(e).__name__, flush=True)
PY
CLIENT=$!
STARTED_PIDS+=($CLIENT)
wait_grep 5 "^first: r 198.19.50.10 one" "$WORK/client.log" || { cat "$WORK/client.log"; fail "l -> r echo (allowed)"; }
mv "$WORK/r.yaml" "$M/r.yaml"
wait_grep 10 "policy: generation 2 published" "$WORK/control.log" || fail "control did not publish the changed policy"
sleep 0.3  # the workers take the new classifier at their next burst
touch "$WORK/go"
wait "$CLIENT"
cat "$WORK/client.log"
grep -q "^second: none" "$WORK/client.log" || fail "the connection the change forbids still answered"
sleep 0.3
revoked=$(counter_field policy revoked)
echo "after the change: revoked $revoked, drop policy_revoked $(drop_count policy_revoked)"
[ "${revoked:-0}" -ge 1 ] || fail "policy: revoked \"$revoked\""
[ "$(drop_count policy_revoked)" -ge 1 ] || fail "drop reason policy_revoked not counted"
[ "$(lpod curl -s --max-time 5 http://198.19.60.10:8080/)" = "remote pod" ] || fail "l -> r HTTP after the change"
cli "show counters" | grep "^policy:"

stop_pid "$CONTROL_PID" 5
stop_pid "$DP_PID" 10
grep -q "kgw final statistics" "$WORK/dp.log" || fail "the dataplane did not stop cleanly"
echo "PASS: NetworkPolicy on routed pod-to-pod traffic"
