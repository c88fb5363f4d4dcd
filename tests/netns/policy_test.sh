#!/usr/bin/env bash
# NetworkPolicy enforced on Service flows, end to end: client namespace ->
# gateway (DPDK on veths) -> three pod namespaces serving HTTP on 8080, the
# Pods, their Namespace and a ClusterIP Service in the manifests directory.
#   1. `kgw dataplane --manifests` starts with a default-deny-ingress policy
#      on the pods: curl through the ClusterIP times out, counted
#      `policy: denied` and drop reason policy_denied.
#   2. a policy allowing the client's ipBlock (198.18.0.0/24) on port 8080 is
#      renamed into the directory while `kgw control` runs: curl succeeds,
#      counted `policy: allowed`.
#      `show policy` names the running policies, their types and Pods from
#      what the dataplane runs, and counts each verdict on the policy that
#      decided it.
#   3. an invalid NetworkPolicy written beside them: `show config status`
#      says the pass was rejected and names the file and field; the allowing
#      policy keeps applying (curl succeeds); removed again, a pass is accepted.
#   4. both policies removed: nothing is classified any more, curl succeeds.
#   policy_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages

P=kgwp$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  echo "--- control log"; tail -n 30 "$WORK/control.log" 2>/dev/null
  exit 1
}
get() { client curl -s --max-time "$1" http://198.18.100.10/; }
# published N: until control has published generation N of the rules.
published() { wait_grep 10 "policy: generation $1 published" "$WORK/control.log"; }

pod_topology "$P" "$WORK"
cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-policy
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
metrics:
  listen: "127.0.0.1:9464"
YAML
cat "$WORK/neighbors.yaml" >> "$WORK/gateway.yaml"

M=$WORK/manifests
mkdir -p "$M"
{
  cat <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  clusterIP: 198.18.100.10
  selector: {app: web}
  ports: [{name: http, protocol: TCP, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
  - {addresses: [198.19.1.11]}
  - {addresses: [198.19.1.12]}
  - {addresses: [198.19.1.13]}
YAML
  for i in 1 2 3; do
    printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: pod%s, namespace: shop, labels: {app: web}}\n' "$i"
    printf 'spec: {containers: [{name: http, ports: [{name: http, containerPort: 8080}]}]}\n'
    printf 'status: {podIP: 198.19.1.1%s}\n' "$i"
  done
} > "$M/shop.yaml"
cat > "$M/deny.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-ingress, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress]}
YAML
cat > "$WORK/allow.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-clients, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from: [{ipBlock: {cidr: 198.18.0.0/24}}]
    ports: [{protocol: TCP, port: 8080}]
YAML

ip netns exec "$P-gw" ip link set lo up
start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P" "$M"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not start"
grep -q "policy: generation 1 published" "$WORK/dp.log" || fail "the dataplane did not publish the starting policy"
wait_pods "$P" || fail "the pods' HTTP servers did not start"

# 1. Default deny: the SYN and its retries are dropped, each classified.
out=$(get 2) && fail "curl through the ClusterIP answered under default deny: $out"
denied=$(counter_field policy denied)
echo "default deny: curl timed out, policy denied $denied"
[ "${denied:-0}" -ge 2 ] || fail "policy: denied \"$denied\", want the SYN and at least one retry"
cli "show counters" | grep -Eq "^  policy_denied +$denied " || fail "drop reason policy_denied does not count $denied"

# `show policy` reads the published rules and catalog.
cli "show policy" > "$WORK/policy.txt"
grep -Eq "^policy: generation 1, 1 NetworkPolicies, [1-9][0-9]* rules \([1-9][0-9]* IPv4, 0 IPv6\), classifier built in [0-9.]+ ms$" \
  "$WORK/policy.txt" || { cat "$WORK/policy.txt"; fail "show policy totals"; }
grep -q "^pods: 3 with an address, 3 isolated for ingress, 0 for egress$" "$WORK/policy.txt" ||
  { cat "$WORK/policy.txt"; fail "show policy isolated pods"; }
# Per policy: every denied SYN counts on the policy that isolated the Pods.
grep -Eq "^shop/default-deny-ingress +Ingress +[1-9][0-9]* +3 +0 +0 +$denied +0$" "$WORK/policy.txt" ||
  { cat "$WORK/policy.txt"; fail "show policy line of shop/default-deny-ingress (want $denied denied-in)"; }
cli "show policy shop/default-deny-ingress" > "$WORK/policy1.txt"
[ "$(grep -c "^  shop/pod[123]$" "$WORK/policy1.txt")" = 3 ] && grep -q "^types: Ingress$" "$WORK/policy1.txt" ||
  { cat "$WORK/policy1.txt"; fail "show policy shop/default-deny-ingress"; }
cli "show policy shop/nothing" > "$WORK/policy2.txt" && fail "show policy of an unknown policy succeeded"
grep -q "no NetworkPolicy shop/nothing runs" "$WORK/policy2.txt" || { cat "$WORK/policy2.txt"; fail "unknown policy"; }

# 2. kgw control takes over; the allow policy arrives by rename.
start_control "$WORK/gateway.yaml" "$M" "$WORK/control.log" 20 || fail "control did not attach"
# Its first pass compiles what the dataplane started with: the same rules and catalog, nothing sent.
grep -q "policy: generation" "$WORK/control.log" && fail "control published the rules the dataplane already runs"
mv "$WORK/allow.yaml" "$M/allow.yaml"
published 2 || fail "control did not publish the allowing policy"
for ((n = 0; n < 5; n++)); do out=$(get 2) && break; done
grep -q "^hello from pod" <<< "$out" || fail "curl through the ClusterIP failed with the allowing policy: $out"
allowed=$(counter_field policy allowed)
echo "allowed by ipBlock 198.18.0.0/24 on 8080: $out (policy allowed $allowed)"
[ "${allowed:-0}" -ge 1 ] || fail "policy: allowed \"$allowed\""

cli "show policy" > "$WORK/policy.txt"
# The counts start with the published policies: the allowed flows count on the policy whose rule allowed them.
grep -q "^policy: generation 2, 2 NetworkPolicies" "$WORK/policy.txt" &&
  grep -Eq "^shop/allow-clients +Ingress +[1-9][0-9]* +3 +$allowed +0 +0 +0$" "$WORK/policy.txt" ||
  { cat "$WORK/policy.txt"; fail "show policy after the allowing policy (want $allowed allowed-in)"; }
decision() {  # decision POLICY DIRECTION VERDICT: its kgw_policy_decisions_total sample
  ip netns exec "$P-gw" curl -s --max-time 5 http://127.0.0.1:9464/metrics |
    sed -n "s|^kgw_policy_decisions_total{policy=\"$1\",direction=\"$2\",verdict=\"$3\"} ||p"
}
[ "$(decision shop/allow-clients ingress allowed)" = "$allowed" ] && [ "$(decision shop/allow-clients egress denied)" = 0 ] ||
  fail "kgw_policy_decisions_total of shop/allow-clients: $(decision shop/allow-clients ingress allowed), want $allowed"
cat "$WORK/policy.txt"

# 3. An invalid policy rejects the pass as an invalid Service does; the running rules stay.
cat > "$WORK/bad.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: bad, namespace: shop}
spec: {podSelector: {}, policyTypes: [Sideways]}
YAML
mv "$WORK/bad.yaml" "$M/bad.yaml"
wait_grep 10 "manifests in .* rejected" "$WORK/control.log" || fail "control did not reject the invalid policy"
cli "show config status" > "$WORK/status.txt"
grep -q "^last change: rejected" "$WORK/status.txt" &&
  grep -q "bad.yaml:4: shop/bad: spec.policyTypes\[0\]: unknown policy type \"Sideways\"" "$WORK/status.txt" ||
  { cat "$WORK/status.txt"; fail "show config status does not report the invalid policy"; }
get 3 | grep -q "^hello from pod" || fail "the allowing policy stopped applying after a rejected pass"
grep -q "^policy: generation 2, 2 NetworkPolicies" <(cli "show policy") || fail "the running rules changed"
cat "$WORK/status.txt"
echo "invalid policy: pass rejected with its file and field, the running rules kept"
rm "$M/bad.yaml"
for ((n = 0; n < 50; n++)); do
  cli "show config status" | grep -q "^last change: accepted" && break
  sleep 0.2
done
[ "$n" -lt 50 ] || fail "no pass was accepted after the invalid policy was removed"

# 4. Both policies gone: nothing isolates the pods, nothing is classified.
mv "$M/deny.yaml" "$M/allow.yaml" "$WORK/"
published 3 || fail "control did not publish the empty rule list"
denied=$(counter_field policy denied)
allowed=$(counter_field policy allowed)
for n in 1 2 3; do get 3 | grep -q "^hello from pod" || fail "request $n failed after the policies were removed"; done
[ "$(counter_field policy allowed)" = "$allowed" ] && [ "$(counter_field policy denied)" = "$denied" ] ||
  fail "flows were classified with no policy published"
echo "no policy: 3 of 3 answered, none classified"
cli "show counters" | grep "^policy:"

echo "PASS: NetworkPolicy on Service flows"
