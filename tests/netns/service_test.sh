#!/usr/bin/env bash
# End-to-end Services with real kernel TCP: client namespace -> gateway (DPDK on
# veths, net_af_packet) -> three pod namespaces running HTTP servers, with the
# Services of tests/netns/manifests/services.yaml:
#   - 300 requests to the ClusterIP reach all three pods;
#   - the LoadBalancer IP and the NodePort reach the same pods;
#   - sessionAffinity ClientIP keeps one client on one pod;
#   - externalTrafficPolicy Local keeps the client's address, Cluster SNATs it;
#   - a 20 MB download through the ClusterIP arrives whole;
#   - `kgw cli` shows the Service's counters and the connection table.
#   service_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages

P=kgws$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*"; echo "--- dataplane log"; tail -n 40 "$WORK/dp.log"; exit 1; }

pod_topology "$P" "$WORK"
cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-services
  addresses: [198.18.0.1, "2001:2::1", 198.19.1.1]
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
  conntrack_entries: 16384
metrics:
  listen: "127.0.0.1:9464"   # inside the gateway's namespace
YAML
cat "$WORK/neighbors.yaml" >> "$WORK/gateway.yaml"
ip netns exec "$P-gw" ip link set lo up
start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P" "$HERE/manifests"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not start"
wait_pods "$P" || fail "the pods' HTTP servers did not start"
# One request must get through before the 300 below (each may wait 3 s).
for ((n = 0; n < 10; n++)); do client curl -s --max-time 2 http://198.18.100.10/ | grep -q "^hello from pod" && break; done
[ "$n" -lt 10 ] || fail "no answer through the ClusterIP after 10 tries"

# 1. ClusterIP: 300 requests, every one answered, spread over the three pods.
for n in $(seq 300); do client curl -s --max-time 3 http://198.18.100.10/ || echo "request $n failed"; done > "$WORK/cluster.txt"
ok=$(grep -c "^hello from pod" "$WORK/cluster.txt")
echo "ClusterIP: $ok of 300 answered:"
sort "$WORK/cluster.txt" | uniq -c | sed 's/^/  /'
[ "$ok" = 300 ] || fail "only $ok of 300 requests to the ClusterIP were answered"
for i in 1 2 3; do
  c=$(grep -c "pod$i " "$WORK/cluster.txt")
  [ "$c" -ge 50 ] || fail "pod$i got $c of 300 requests (Maglev should give each about 100)"
done

# 2. The same Service through its LoadBalancer IP and its NodePort.
for url in http://198.18.150.1/ http://198.18.0.1:30080/; do
  for n in $(seq 10); do client curl -s --max-time 3 "$url"; done > "$WORK/front.txt"
  c=$(grep -c "^hello from pod" "$WORK/front.txt")
  echo "$url: $c of 10 answered"
  [ "$c" = 10 ] || fail "$url: $c of 10 answered"
done

# 3. ClientIP affinity: every request of this client on one pod.
for n in $(seq 30); do client curl -s --max-time 3 http://198.18.100.20/; done > "$WORK/sticky.txt"
pods=$(sort -u "$WORK/sticky.txt" | wc -l)
echo "sticky: 30 requests on $pods pod(s): $(sort -u "$WORK/sticky.txt" | tr '\n' ' ')"
[ "$(grep -c '^hello from pod' "$WORK/sticky.txt")" = 30 ] || fail "sticky Service: not every request answered"
[ "$pods" = 1 ] || fail "sessionAffinity ClientIP spread one client over $pods pods"

# 4. Source address seen by the pod: the client's through an external frontend
# of a Local Service, the SNAT address for Cluster and for any ClusterIP
# (externalTrafficPolicy applies to external frontends only).
client curl -s --max-time 3 -o /dev/null http://198.18.150.40/local-check || fail "Local-policy Service unreachable"
wait_grep 5 "^198.18.0.2 .*GET /local-check" "$WORK/pod3.log" ||
  fail "externalTrafficPolicy Local: pod3 did not see the client address"
client curl -s --max-time 3 -o /dev/null http://198.18.100.40/local-cluster-ip || fail "Local Service's ClusterIP unreachable"
wait_grep 5 "^198.18.0.250 .*GET /local-cluster-ip" "$WORK/pod3.log" ||
  fail "a Local Service's ClusterIP did not source-NAT ($(grep -h local-cluster-ip "$WORK"/pod3.log))"
client curl -s --max-time 3 -o /dev/null http://198.18.100.10/cluster-check || fail "Cluster-policy Service unreachable"
wait_grep 5 "^198.18.0.250 .*GET /cluster-check" "$WORK"/pod?.log ||
  fail "Cluster policy: pods did not see the SNAT address ($(grep -h cluster-check "$WORK"/pod?.log))"
echo "source addresses: Local keeps 198.18.0.2, Cluster shows 198.18.0.250"

# 5. A long download through the ClusterIP.
size=$(client curl -s --max-time 60 -o /dev/null -w '%{size_download}' http://198.18.100.10/big.bin)
echo "download: $size bytes"
[ "$size" = 20000000 ] || fail "20 MB download through the ClusterIP got $size bytes"

# 6. The CLI's view.
"$KGW" cli --file-prefix "$P" -c "show service shop/web; show conntrack count; show counters" > "$WORK/cli.txt" || fail "kgw cli failed"
sed 's/^/  /' "$WORK/cli.txt"
flows=$(awk '/^shop\/web/ {getline; getline; print $6; exit}' "$WORK/cli.txt")
[ -n "$flows" ] && [ "$flows" -ge 320 ] || fail "show service: shop/web new-flows \"$flows\", want at least 320"
grep -q "198.19.1.11:8080 *ready" "$WORK/cli.txt" || fail "show service lacks the endpoints"

# DPDK telemetry: the Service's name, and its port's figures as the CLI gives them.
echo "/kgw/services" | dpdk-telemetry.py -f "$P" > "$WORK/tel_list.txt" 2>&1
grep -q '"shop/web"' "$WORK/tel_list.txt" || { cat "$WORK/tel_list.txt"; fail "telemetry /kgw/services lacks shop/web"; }
key=$(awk '/^shop\/web / {sub(":", "", $3); print $2 "/" $3; exit}' "$WORK/cli.txt")
echo "/kgw/services,shop/web" | dpdk-telemetry.py -f "$P" > "$WORK/tel_svc.txt" 2>&1
tel=$(/usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    if line.startswith("{"):
        print(json.loads(line)["/kgw/services"][sys.argv[2]]["new_flows"])' "$WORK/tel_svc.txt" "$key" 2>&1)
echo "shop/web $key new-flows: telemetry $tel, cli $flows"
[ "$tel" = "$flows" ] || { cat "$WORK/tel_svc.txt"; fail "telemetry /kgw/services,shop/web new_flows \"$tel\", the CLI $flows"; }

# The static next hops the Services' traffic uses.
"$KGW" cli --file-prefix "$P" -c "show endpoints shop/web; show neighbors; show routes" > "$WORK/nh.txt" ||
  fail "show endpoints/neighbors/routes failed"
sed 's/^/  /' "$WORK/nh.txt"
grep -Eq "198\.19\.1\.11 +([0-9a-f]{2}:){5}[0-9a-f]{2} +p1" "$WORK/nh.txt" || fail "show neighbors lacks pod 198.19.1.11 on p1"
grep -q "route(s), longest prefix first" "$WORK/nh.txt" || fail "show routes printed no table"
[ "$(grep -Ec '^shop/web 80/TCP +198\.19\.1\.1[123]:8080 +ready +packets [1-9]' "$WORK/nh.txt")" -ge 3 ] ||
  fail "show endpoints shop/web lacks its three ready endpoints with packets"

# The Prometheus endpoint has the same counters.
ip netns exec "$P-gw" curl -s --max-time 5 http://127.0.0.1:9464/metrics > "$WORK/metrics.txt" || fail "GET /metrics failed"
grep -E '^kgw_service_port_new_flows_total\{service="shop/web",port="80",protocol="TCP",family="IPv4"\} [0-9]+' \
  "$WORK/metrics.txt" > "$WORK/m.txt" || fail "metrics lack shop/web's new flows"
[ "$(awk '{print $2}' "$WORK/m.txt")" -ge 320 ] || fail "metrics: shop/web new flows $(cat "$WORK/m.txt")"
grep -Eq '^kgw_endpoint_packets_total\{service="shop/web",port="80",protocol="TCP",endpoint="198\.19\.1\.11:8080"\} [1-9]' \
  "$WORK/metrics.txt" || fail "metrics lack the endpoint counters"
grep -Eq '^kgw_port_rx_packets_total\{port="p0"\} [1-9]' "$WORK/metrics.txt" || fail "metrics lack port counters"
grep -q '^kgw_drops_total{reason="no_neighbor"} ' "$WORK/metrics.txt" || fail "metrics lack drops by reason"
# Every sample line is NAME{LABELS} VALUE or NAME VALUE, and its family was
# declared (a histogram's _bucket, _sum and _count lines are its family's).
awk '/^# TYPE / {t[$3] = 1; next} /^#/ {next}
     { n = $1; sub(/\{.*/, "", n); b = n; sub(/_(bucket|sum|count)$/, "", b)
       if (!(n in t) && !(b in t) || $2 !~ /^[0-9.e+-]+$/ || NF != 2) { print "bad: " $0; bad = 1 } }
     END { exit bad }' "$WORK/metrics.txt" || fail "metrics text is not well formed"
status=$(ip netns exec "$P-gw" curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://127.0.0.1:9464/other)
[ "$status" = 404 ] || fail "GET /other answered $status, want 404"
echo "metrics: $(grep -vc '^#' "$WORK/metrics.txt") samples, well formed"

echo "PASS: Services end to end"
