#!/usr/bin/env bash
# The HTTP proxy over IPv6 end to end: curl -6 in the client namespace to the
# IPv6 Ingress address 2001:2::1, routed by an Ingress to a Service whose
# EndpointSlice is IPv6 (the pods' 2001:2:0:1::1N), the backend connections
# from the IPv6 SNAT address 2001:2::250 (each pod's access log shows it):
# round robin over the three pods, a 20 MB download compared by sha256; an
# IPv4 client of the same Service is served over IPv6 too (a Service with
# endpoints of one family serves clients of either); a dual-stack Service is
# reached in the client's family.
#   proxy_ipv6_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root"; exit 77; fi
if ! grep -qs hugetlbfs /proc/mounts; then echo "SKIP: no hugetlbfs mount (run scripts/setup.sh)"; exit 77; fi

P=kgw6p$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*"; echo "--- dataplane log"; tail -n 40 "$WORK/dp.log"; exit 1; }
client() { ip netns exec "$P-client" "$@"; }
# The lines a pod's access log gained since mark_logs (the servers keep
# their files open: truncating them would leave holes).
declare -A MARK
mark_logs() { local f; for f in "$WORK"/pod?.log "$WORK"/pod?-v6.log; do MARK[$f]=$(wc -l < "$f"); done; }
new_lines() { tail -n +$((MARK[$1] + 1)) "$1"; }

pod_topology "$P" "$WORK"
mkdir -p "$WORK/manifests"
cat > "$WORK/manifests/six.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: kgw, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: kgw.dev/ingress-controller}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: six, namespace: six}
spec:
  ingressClassName: kgw
  rules:
    - host: six.example
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: six, port: {number: 80}}}}
    - host: dual.example
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: dual, port: {number: 80}}}}
---
apiVersion: v1
kind: Service
metadata: {name: six, namespace: six}
spec:
  ipFamilies: [IPv6]
  clusterIP: "2001:2:0:100::30"
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: six-1, namespace: six, labels: {kubernetes.io/service-name: six}}
addressType: IPv6
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
  - {addresses: ["2001:2:0:1::11"]}
  - {addresses: ["2001:2:0:1::12"]}
  - {addresses: ["2001:2:0:1::13"]}
---
apiVersion: v1
kind: Service
metadata: {name: dual, namespace: six}
spec:
  ipFamilyPolicy: RequireDualStack
  ipFamilies: [IPv4, IPv6]
  clusterIPs: [198.18.100.31, "2001:2:0:100::31"]
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: dual-v4, namespace: six, labels: {kubernetes.io/service-name: dual}}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
  - {addresses: [198.19.1.11]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: dual-v6, namespace: six, labels: {kubernetes.io/service-name: dual}}
addressType: IPv6
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
  - {addresses: ["2001:2:0:1::11"]}
YAML
cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-proxy-ipv6
  addresses: [198.18.0.1, "2001:2::1", 198.19.1.1, "2001:2:0:1::1"]
ingress:
  addresses: [198.18.0.1, "2001:2::1"]
ports:
  - {name: p0, device: "net_af_packet0,iface=g0,qdisc_bypass=1"}
  - {name: p1, device: "net_af_packet1,iface=g1,qdisc_bypass=1"}
workers: 1
snat:
  addresses: [198.18.0.250, "2001:2::250"]
dataplane:
  file_prefix: $P
  mbufs: 8191
YAML
cat "$WORK/neighbors.yaml" >> "$WORK/gateway.yaml"
# The pods' IPv6 addresses, their neighbour entries and an HTTP server on
# each (beside pod_topology's IPv4 one, same files).
for i in 1 2 3; do
  ip -n "$P-pod$i" -6 addr add "2001:2:0:1::1$i/64" dev eth0 nodad
  ip -n "$P-pod$i" -6 route add default via 2001:2:0:1::1
  mac=$(ip -n "$P-pod$i" -br link show eth0 | awk '{print $3}')
  echo "  - {ip: \"2001:2:0:1::1$i\", mac: \"$mac\", port: p1}" >> "$WORK/gateway.yaml"
  ip netns exec "$P-pod$i" /usr/bin/python3 -m http.server 8080 --bind "2001:2:0:1::1$i" --directory "$WORK/pod$i" \
    > "$WORK/pod$i-v6.log" 2>&1 &
  STARTED_PIDS+=($!)
done
ip netns exec "$P-gw" ip link set lo up
start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P" "$WORK/manifests"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not start"
wait_pods "$P" || fail "the pods' HTTP servers did not start"
for i in 1 2 3; do
  for ((n = 0; n < 50; n++)); do
    ip netns exec "$P-pod$i" curl -s --max-time 1 -o /dev/null "http://[2001:2:0:1::1$i]:8080/" && break
    sleep 0.1
  done
  [ "$n" -lt 50 ] || fail "pod$i does not serve on [2001:2:0:1::1$i]:8080"
done
grep -q "http: reverse proxy on port 80 .* backends reached from 198.18.0.250 and 2001:2::250" "$WORK/dp.log" ||
  fail "the proxy does not say it leaves from both SNAT addresses"

get6() { client curl -6 -s --max-time 5 -H "Host: $1" "http://[2001:2::1]$2"; }
for ((n = 0; n < 10; n++)); do get6 six.example / | grep -q "^hello from pod" && break; sleep 0.5; done
[ "$n" -lt 10 ] || fail "no answer through the proxy over IPv6 after 10 tries"
mark_logs

# 1. curl -6 to the IPv6 Ingress address: round robin over the IPv6 Pod IPs,
#    every backend connection from the IPv6 SNAT address.
for n in $(seq 9); do get6 six.example /; done > "$WORK/six.txt"
echo "six.example over IPv6: $(sort "$WORK/six.txt" | uniq -c | tr '\n' ' ')"
for i in 1 2 3; do
  [ "$(grep -c "pod$i " "$WORK/six.txt")" = 3 ] || fail "round robin: pod$i did not get 3 of 9"
  for ((n = 0; n < 50; n++)); do [ "$(new_lines "$WORK/pod$i-v6.log" | grep -c '"GET / HTTP/1.1" 200')" = 3 ] && break; sleep 0.1; done
  [ "$n" -lt 50 ] || fail "pod$i's IPv6 server did not log 3 requests: $(new_lines "$WORK/pod$i-v6.log")"
  if new_lines "$WORK/pod$i-v6.log" | grep -qv '^2001:2::250 - - '; then
    fail "pod$i: a request not from the IPv6 SNAT address: $(new_lines "$WORK/pod$i-v6.log" | head -3)"
  fi
  [ -z "$(new_lines "$WORK/pod$i.log")" ] || fail "pod$i: a request over IPv4: $(new_lines "$WORK/pod$i.log" | head -2)"
done

# 2. 20 MB over IPv6 both legs, compared by sha256.
client curl -6 -s --max-time 30 -H "Host: six.example" -o "$WORK/big.out" "http://[2001:2::1]/big.bin" ||
  fail "the 20 MB download over IPv6 failed"
[ "$(sha256sum < "$WORK/big.out")" = "$(sha256sum < "$WORK/pod1/big.bin")" ] || fail "the 20 MB download differs"
echo "20 MB over IPv6: sha256 equal"

# 3. An IPv4 client of the IPv6-only Service: served over IPv6 to the pods.
got=$(client curl -4 -s --max-time 5 -H "Host: six.example" http://198.18.0.1/)
[[ "$got" == "hello from pod"* ]] || fail "an IPv4 client of the IPv6-only Service: '$got'"

# 4. A dual-stack Service is reached in the client's family (pod1's two servers).
sleep 0.3
mark_logs
[[ "$(get6 dual.example /)" == "hello from pod1"* ]] || fail "dual.example over IPv6"
for ((n = 0; n < 50; n++)); do new_lines "$WORK/pod1-v6.log" | grep -q '^2001:2::250 ' && break; sleep 0.1; done
[ "$n" -lt 50 ] || fail "dual.example over IPv6 did not reach pod1 over IPv6"
[[ "$(client curl -4 -s --max-time 5 -H "Host: dual.example" http://198.18.0.1/)" == "hello from pod1"* ]] ||
  fail "dual.example over IPv4"
for ((n = 0; n < 50; n++)); do new_lines "$WORK/pod1.log" | grep -q '^198.18.0.250 ' && break; sleep 0.1; done
[ "$n" -lt 50 ] || fail "dual.example over IPv4 did not reach pod1 over IPv4"
[ "$(new_lines "$WORK/pod1-v6.log" | grep -c '"GET')" = 1 ] || fail "the IPv4 client's request went over IPv6"

"$KGW" cli --file-prefix "$P" -c "show counters" | grep "^http: " | grep -qE "5xx 0 " ||
  fail "5xx answers: $("$KGW" cli --file-prefix "$P" -c "show counters" | grep '^http: ')"
kill -0 "$DP_PID" || fail "the dataplane died"
echo "PASS"
