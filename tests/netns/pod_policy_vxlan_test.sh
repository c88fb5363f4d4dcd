#!/usr/bin/env bash
# NetworkPolicy on pod-to-pod traffic carried over VXLAN, through the DPDK
# dataplane, with the Linux kernel's own vxlan device as the remote Node's
# VTEP (docs/pod-network.md, docs/policy.md "Enforcement"):
#   P-lpod (Pod x/l: 198.19.50.10, 2001:2:0:50::10, on the gateway's segment) --veth-- P-gw port p0
#   P-gw port p1 (198.18.50.1, the gateway's VTEP) --veth-- P-node (198.18.50.2, Node `remote`)
# P-node holds Pod x/r (198.19.60.10, 2001:2:0:60::10) behind its vxlan1
# (VNI 1, port 8472, Flannel's layout).
#   1. A default-deny ingress policy isolates r: l -> r HTTP and ping fail
#      over IPv4 and IPv6, counted `policy: denied`; r -> l (not isolated)
#      works through the tunnel.
#   2. An allow rule (r from l on TCP 8080) is written: l -> r HTTP works over
#      both families, timed from the file's rename.
#   3. wrk holds 4 keep-alive connections l -> r for 6 s while the policy set
#      changes twice (a port added, then an unrelated policy): no request
#      fails, no connection is reopened or revoked.
#   4. The allow rule is removed again: l -> r is denied once more.
#   pod_policy_vxlan_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages
for tool in curl wrk; do
  command -v "$tool" > /dev/null || { echo "FAIL: $tool is not installed (scripts/setup.sh installs it)"; exit 1; }
done

P=kgwpv$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- counters"; cli "show counters" 2>/dev/null | grep -E "^pods:|^policy:|policy_|pod_|vxlan_|no_neighbor|not_for"
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  echo "--- control log"; tail -n 30 "$WORK/control.log" 2>/dev/null
  exit 1
}
lpod() { ip netns exec "$P-lpod" "$@"; }
node() { ip netns exec "$P-node" "$@"; }
now_ms() { echo "$(($(date +%s%N) / 1000000))"; }
GW_VTEP_MAC=02:00:00:00:50:01
NODE_VTEP_MAC=02:00:00:00:60:01

pod_pair_topology "$P"
pod_pair_vxlan "$P" "$GW_VTEP_MAC" "$NODE_VTEP_MAC"

M=$WORK/manifests
mkdir -p "$M" "$WORK/lpod" "$WORK/rpod"
pod_pair_nodes "$NODE_VTEP_MAC" > "$M/cluster.yaml"
cat >> "$M/cluster.yaml" <<YAML
---
apiVersion: v1
kind: Namespace
metadata: {name: x}
---
apiVersion: v1
kind: Pod
metadata: {name: l, namespace: x, labels: {app: l}}
spec: {nodeName: gw}
status: {podIPs: [{ip: 198.19.50.10}, {ip: "2001:2:0:50::10"}]}
---
apiVersion: v1
kind: Pod
metadata: {name: r, namespace: x, labels: {app: r}}
spec: {nodeName: remote}
status: {podIPs: [{ip: 198.19.60.10}, {ip: "2001:2:0:60::10"}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: r-default-deny, namespace: x}
spec: {podSelector: {matchLabels: {app: r}}, policyTypes: [Ingress]}
YAML
# publish NAME YAML: a policy file written whole (renamed into place).
publish() { printf '%s\n' "$2" > "$WORK/$1.tmp" && mv "$WORK/$1.tmp" "$M/$1.yaml"; }
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

echo "local pod" > "$WORK/lpod/index.html"
echo "remote pod" > "$WORK/rpod/index.html"
ip netns exec "$P-lpod" /usr/bin/python3 -m http.server 8080 --bind 198.19.50.10 --directory "$WORK/lpod" > "$WORK/lpod.log" 2>&1 &
STARTED_PIDS+=($!)
# r: a keep-alive HTTP/1.1 server (wrk's connections stay open) on IPv4, a
# plain one on IPv6.
ip netns exec "$P-node" /usr/bin/python3 "$HERE/keepalive_http.py" serve r 198.19.60.10 8080 > "$WORK/rpod.log" 2>&1 &
STARTED_PIDS+=($!)
ip netns exec "$P-node" /usr/bin/python3 -m http.server 8080 --bind 2001:2:0:60::10 --directory "$WORK/rpod" > "$WORK/rpod6.log" 2>&1 &
STARTED_PIDS+=($!)

cat > "$WORK/gateway.yaml" <<YAML
node:
  name: gw
  addresses: [198.19.50.1, 198.18.50.1, "2001:2:0:50::1"]
ports:
  - name: p0
    device: "net_af_packet0,iface=g0,qdisc_bypass=1"
    networks: [198.19.50.0/24, "2001:2:0:50::/64"]
  - name: p1
    device: "net_af_packet1,iface=g1,qdisc_bypass=1"
    networks: [198.18.50.0/24]
workers: 1
pod_network:
  overlay: vxlan
  vtep_mac: "$GW_VTEP_MAC"
  vtep_address: 198.18.50.1
dataplane:
  file_prefix: $P
  mbufs: 8191
YAML

pod_pair_start "$KGW" "$WORK" "$M"

r_ok() {  # r_ok ADDRESS: l gets r's page
  case "$1" in
    *:*) [ "$(lpod curl -s --max-time "${2:-5}" "http://[$1]:8080/")" = "remote pod" ] ;;
    *) lpod curl -s --max-time "${2:-5}" "http://$1:8080/" | grep -q "^r /" ;;
  esac
}

# 1. r is isolated: l cannot open to it; r can open to l.
denied0=$(counter_field policy denied)
r_ok 198.19.60.10 2 && fail "l -> r HTTP answered under default deny"
r_ok 2001:2:0:60::10 2 && fail "l -> r HTTP over IPv6 answered under default deny"
lpod ping -c 1 -W 1 198.19.60.10 > /dev/null 2>&1 && fail "l -> r ping answered under default deny"
[ "$(node curl -s --max-time 5 --interface 198.19.60.10 http://198.19.50.10:8080/)" = "local pod" ] ||
  fail "r -> l HTTP (l is not isolated)"
sleep 0.3
denied=$(counter_field policy denied)
[ "${denied:-0}" -gt "${denied0:-0}" ] || fail "policy: denied \"$denied\" after l -> r"
dec=$(counter_field pods decapsulated) enc=$(counter_field pods encapsulated)
[ "${dec:-0}" -ge 3 ] && [ "${enc:-0}" -ge 3 ] || fail "the tunnel carried nothing: encapsulated $enc, decapsulated $dec"
echo "ok: default deny: l -> r denied ($((denied - denied0)) new flows), r -> l served over the tunnel"

# 2. The allow rule opens l -> r on 8080.
gen=$(grep -c "policy: generation .* published" "$WORK/control.log")
t0=$(now_ms)
publish r-from-l "$(r_from_l "{port: 8080}")"
for ((n = 0; n < 100; n++)); do r_ok 198.19.60.10 1 && break; sleep 0.05; done
opened_ms=$(($(now_ms) - t0))
r_ok 198.19.60.10 || fail "l -> r HTTP after the allow rule"
r_ok 2001:2:0:60::10 || fail "l -> r HTTP over IPv6 after the allow rule"
[ "$(grep -c "policy: generation .* published" "$WORK/control.log")" -gt "$gen" ] || fail "control published no policy"
echo "ok: the allow rule opened l -> r, served $opened_ms ms after the file's rename"

# 3. wrk over the tunnel while the policy set changes twice.
wrk_result_script "$WORK/result.lua"
revoked0=$(counter_field policy revoked)
served0=$(grep -c '"GET / ' "$WORK/rpod.log")
lpod wrk -t1 -c4 -d6s --timeout 5s -s "$WORK/result.lua" http://198.19.60.10:8080/ > "$WORK/wrk.txt" 2>&1 &
WRK_PID=$!
STARTED_PIDS+=("$WRK_PID")
sleep 2
gen=$(grep -c "policy: generation .* published" "$WORK/control.log")
publish r-from-l "$(r_from_l "{port: 8080}, {port: 9000}")"
sleep 1.5
publish l-from-nobody "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: l-egress-web, namespace: x}
spec:
  podSelector: {matchLabels: {app: l}}
  policyTypes: [Egress]
  egress: [{to: [{podSelector: {matchLabels: {app: r}}}], ports: [{port: 8080}]}]"
kill -0 "$WRK_PID" 2> /dev/null || fail "wrk ended before the policy changes were published"
wrk_clean "$WRK_PID" "$WORK/wrk.txt" 200
requests=$WRK_REQUESTS
published=$(($(grep -c "policy: generation .* published" "$WORK/control.log") - gen))
[ "$published" -ge 2 ] || fail "control published $published policy generations for the 2 changes"
served=$(($(grep -c '"GET / ' "$WORK/rpod.log") - served0))
[ "$served" -ge "$requests" ] || fail "r served $served requests, wrk counted $requests"
[ "$(counter_field policy revoked)" = "$revoked0" ] || fail "allowed connections were revoked by the changes"
echo "ok: wrk over VXLAN across 2 policy changes: $requests requests, no error, nothing revoked"

# 4. The allow rule removed: l -> r is denied again (l's egress rule alone
# does not open r's isolated ingress).
denied0=$(counter_field policy denied)
rm "$M/r-from-l.yaml"
for ((n = 0; n < 100; n++)); do r_ok 198.19.60.10 1 || break; sleep 0.05; done
r_ok 198.19.60.10 2 && fail "l -> r HTTP still answered after the allow rule was removed"
sleep 0.3
[ "$(counter_field policy denied)" -gt "${denied0:-0}" ] || fail "policy: denied did not grow after the removal"
cli "show counters" | grep -E "^(policy|pods):"
echo "ok: removing the allow rule denies l -> r again"

stop_pid "$CONTROL_PID" 5
stop_pid "$DP_PID" 10
grep -q "kgw final statistics" "$WORK/dp.log" || fail "the dataplane did not stop cleanly"
echo "PASS: NetworkPolicy over VXLAN, under wrk load across policy changes"
