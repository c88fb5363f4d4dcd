#!/usr/bin/env bash
# The cluster DNS responder end to end: `dig` in the client namespace asks
# kgw (DPDK on veths, net_af_packet) at its DNS addresses, IPv4 and IPv6, with
# and without EDNS0: A, AAAA, SRV, PTR, CNAME (ExternalName), headless
# Services, NXDOMAIN and NODATA, REFUSED outside the zone, pod names, DNS
# over TCP (dig +tcp, pipelined, and dig's retry after TC); the names come
# from `kgw control --manifests` (inotify), and a changed EndpointSlice is
# answered from the first query after control published it. The DNS address
# is on the client's link: ARP and ND for it are answered by the workers.
#   dns_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages
command -v dig > /dev/null || { echo "SKIP: no dig (Debian package dnsutils)"; exit 77; }

P=kgwdns$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  echo "--- control log"; tail -n 30 "$WORK/control.log" 2>/dev/null
  exit 1
}

pod_topology "$P" "$WORK"
cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-dns
  addresses: [198.18.0.1, 198.19.1.1, "2001:2::1"]
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
dns:
  addresses: [198.18.0.53, "2001:2::53"]
  zone: cluster.local
  ttl: 5
# No HTTP proxy: the Ingress published below must be warned about.
ingress: {http_port: 0, https_port: 0}
YAML
cat "$WORK/neighbors.yaml" >> "$WORK/gateway.yaml"
mkdir -p "$WORK/manifests"
slice() {  # the headless Service's EndpointSlice with the given endpoints
  cat <<YAML
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: db-1, namespace: shop, labels: {kubernetes.io/service-name: db}}
addressType: IPv4
ports: [{name: pg, protocol: TCP, port: 5432}]
endpoints:
$1
YAML
}
cat > "$WORK/manifests/services.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  clusterIPs: [198.18.100.10, "fd00::10"]
  ipFamilies: [IPv4, IPv6]
  ipFamilyPolicy: PreferDualStack
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
  - {addresses: [198.19.1.11]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  clusterIP: None
  ports: [{name: pg, port: 5432}]
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: shop}
spec: {type: ExternalName, externalName: www.example.com}
YAML
slice "  - {addresses: [198.19.1.11], hostname: db-0}
  - {addresses: [198.19.1.12], hostname: db-1}" > "$WORK/manifests/db-slice.yaml"
# A headless Service of 40 ready endpoints: its A answer (about 700 bytes) is
# past 512, so a query without EDNS0 gets TC and dig asks again over TCP.
{
  cat <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: big, namespace: shop}
spec:
  clusterIP: None
  ports: [{name: pg, port: 5432}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: big-1, namespace: shop, labels: {kubernetes.io/service-name: big}}
addressType: IPv4
ports: [{name: pg, protocol: TCP, port: 5432}]
endpoints:
YAML
  for i in $(seq 1 40); do echo "  - {addresses: [198.19.2.$i]}"; done
} > "$WORK/manifests/big.yaml"

start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not start"
ip netns exec "$P-gw" "$KGW" control -c "$WORK/gateway.yaml" --manifests "$WORK/manifests" > "$WORK/control.log" 2>&1 &
STARTED_PIDS+=($!)
wait_grep 20 "dns: generation" "$WORK/control.log" || fail "control did not publish the DNS names"

ask() {  # ask SERVER NAME TYPE [dig options]: the answer's records, one per line
  local server=$1 name=$2 type=$3
  shift 3
  client dig +short +time=2 +tries=2 "@$server" "$name" "$type" "$@" 2>&1
}
status() {  # status SERVER NAME TYPE [DIG OPTION...]: the rcode and the number of answers
  client dig +noall +comments +time=2 +tries=2 "@$1" "$2" "$3" "${@:4}" 2>&1 |
    awk '/status:/ {gsub(",", "", $6); s=$6} /ANSWER:/ {for (i = 1; i <= NF; i++) if ($i == "ANSWER:") {a=$(i+1); gsub(",", "", a)}} END {print s, a}'
}
expect() {  # expect WHAT GOT WANT
  [ "$2" = "$3" ] || fail "$1: got \"$2\", want \"$3\""
  echo "ok: $1"
}

for server in 198.18.0.53 2001:2::53; do
  for edns in +edns +noedns; do
    expect "A over $server $edns" "$(ask $server web.shop.svc.cluster.local A $edns)" "198.18.100.10"
  done
  expect "AAAA over $server" "$(ask $server web.shop.svc.cluster.local AAAA)" "fd00::10"
done
expect "A, the query's case" "$(ask 198.18.0.53 WEB.Shop.svc.cluster.local A)" "198.18.100.10"
expect "SRV" "$(ask 198.18.0.53 _http._tcp.web.shop.svc.cluster.local SRV)" "0 100 80 web.shop.svc.cluster.local."
expect "PTR IPv4" "$(client dig +short +time=2 @198.18.0.53 -x 198.18.100.10)" "web.shop.svc.cluster.local."
expect "PTR IPv6" "$(client dig +short +time=2 @198.18.0.53 -x fd00::10)" "web.shop.svc.cluster.local."
expect "CNAME (ExternalName)" "$(ask 198.18.0.53 ext.shop.svc.cluster.local A)" "www.example.com."
expect "headless A" "$(ask 198.18.0.53 db.shop.svc.cluster.local A | sort | tr '\n' ' ')" "198.19.1.11 198.19.1.12 "
expect "headless hostname" "$(ask 198.18.0.53 db-1.db.shop.svc.cluster.local A)" "198.19.1.12"
expect "headless SRV" "$(ask 198.18.0.53 _pg._tcp.db.shop.svc.cluster.local SRV | sort | tr '\n' ' ')" \
  "0 50 5432 db-0.db.shop.svc.cluster.local. 0 50 5432 db-1.db.shop.svc.cluster.local. "
expect "PTR of a headless endpoint" "$(client dig +short +time=2 @198.18.0.53 -x 198.19.1.12)" "db-1.db.shop.svc.cluster.local."
expect "TXT dns-version" "$(ask 198.18.0.53 dns-version.cluster.local TXT)" '"1.1.0"'
expect "NXDOMAIN" "$(status 198.18.0.53 nothing.shop.svc.cluster.local A)" "NXDOMAIN 0"
expect "NODATA (other family)" "$(status 198.18.0.53 db.shop.svc.cluster.local AAAA)" "NOERROR 0"
expect "NODATA (empty non-terminal)" "$(status 198.18.0.53 shop.svc.cluster.local A)" "NOERROR 0"
expect "REFUSED outside the zone" "$(status 198.18.0.53 www.example.com A)" "REFUSED 0"
# Pod names (pods insecure, the default): the address in the name.
expect "pod A" "$(ask 198.18.0.53 10-1-0-7.shop.pod.cluster.local A)" "10.1.0.7"
expect "pod AAAA" "$(ask 2001:2::53 fd00--1-7.any.pod.cluster.local AAAA)" "fd00::1:7"
expect "pod malformed" "$(status 198.18.0.53 10-1-0-300.shop.pod.cluster.local A)" "NXDOMAIN 0"
expect "pod namespace" "$(status 198.18.0.53 shop.pod.cluster.local A)" "NOERROR 0"

# DNS over TCP: dig +tcp, and a UDP answer with TC that dig asks again over TCP.
for server in 198.18.0.53 2001:2::53; do
  expect "A over TCP to $server" "$(ask $server web.shop.svc.cluster.local A +tcp)" "198.18.100.10"
done
expect "two queries over one TCP connection (+keepopen)" \
  "$(client dig +short +time=2 +tcp +keepopen @198.18.0.53 web.shop.svc.cluster.local A db-1.db.shop.svc.cluster.local A)" \
  "198.18.100.10
198.19.1.12"
retry=$(client dig +noedns +time=2 +tries=1 @198.18.0.53 big.shop.svc.cluster.local A 2>&1)
grep -q "Truncated, retrying in TCP mode" <<< "$retry" || fail "no TC over UDP for the large answer: $retry"
expect "large answer after the TCP retry" "$(grep -c "^big.shop.svc.cluster.local.*IN	A	198.19.2." <<< "$retry")" "40"
# Outside the zone over TCP: REFUSED too, without dns.upstreams (with them, forwarded: netns_dns_upstream).
expect "REFUSED outside the zone over TCP" "$(status 198.18.0.53 www.example.com A +tcp)" "REFUSED 0"
# TCP/53 on a node address is not the responder's: refused as before.
client timeout 3 bash -c 'exec 3<>/dev/tcp/198.18.0.1/53' 2> /dev/null && fail "TCP/53 on a node address was accepted"
echo "ok: TCP/53 on a node address refused"

client dig +noall +comments +time=2 @198.18.0.53 nothing.shop.svc.cluster.local A | grep -q "flags: qr aa rd;" ||
  fail "NXDOMAIN without the AA flag"
client dig +noall +authority +time=2 @198.18.0.53 nothing.shop.svc.cluster.local A | grep -q "IN	SOA	ns.dns.cluster.local." ||
  fail "NXDOMAIN without the zone's SOA"

# A changed EndpointSlice: a third endpoint, answered from the first query
# after control published the change.
gens=$(grep -c "dns: generation" "$WORK/control.log")
slice "  - {addresses: [198.19.1.11], hostname: db-0}
  - {addresses: [198.19.1.12], hostname: db-1}
  - {addresses: [198.19.1.13], hostname: db-2}" > "$WORK/db-slice.new"
mv "$WORK/db-slice.new" "$WORK/manifests/db-slice.yaml"
for ((n = 0; n < 100; n++)); do
  [ "$(grep -c "dns: generation" "$WORK/control.log")" -gt "$gens" ] && break
  sleep 0.1
done
[ "$n" -lt 100 ] || fail "control did not publish the changed EndpointSlice"
expect "headless A after the change" "$(ask 198.18.0.53 db.shop.svc.cluster.local A | sort | tr '\n' ' ')" \
  "198.19.1.11 198.19.1.12 198.19.1.13 "
expect "new hostname" "$(ask 198.18.0.53 db-2.db.shop.svc.cluster.local A)" "198.19.1.13"

# The running table in the CLI, and its answer for a name as dig got it.
shown=$(cli "show dns")
echo "$shown"
grep -q "^dns: generation [0-9]* (SOA serial), TTL 5 s" <<< "$shown" || fail "show dns: no table summary"
grep -q "zone cluster.local. (authoritative" <<< "$shown" || fail "show dns: no cluster.local zone"
answer=$(cli "show dns DB.shop.svc.cluster.local A")
grep -q "^status: NOERROR" <<< "$answer" || fail "show dns NAME A: $answer"
[ "$(awk '$4 == "A" {print $5}' <<< "$answer" | sort | tr '\n' ' ')" = "198.19.1.11 198.19.1.12 198.19.1.13 " ] ||
  fail "show dns NAME A does not answer as the workers do: $answer"
cli "show dns nothing.shop.svc.cluster.local" | grep -q "^status: NXDOMAIN" || fail "show dns: no NXDOMAIN"
cli "show dns web.shop.svc.cluster.local BOGUS" > /dev/null 2>&1 && fail "show dns with an unknown type succeeded"

counters=$(cli "show counters")
echo "show counters: $(wc -c <<< "$counters") bytes"
echo "$counters" | grep "^dns:"
queries=$(echo "$counters" | sed -n 's/^dns: queries \([0-9]*\).*/\1/p')
[ "${queries:-0}" -ge 20 ] || fail "show counters: dns queries ${queries:-none}"
grep -q "nxdomain [1-9]" <<< "$counters" || fail "show counters: no NXDOMAIN counted"
grep -q "refused [1-9]" <<< "$counters" || fail "show counters: no REFUSED counted"
tcp_queries=$(echo "$counters" | sed -n 's/^dns: .* tcp-queries \([0-9]*\).*/\1/p')
[ "${tcp_queries:-0}" -ge 5 ] || fail "show counters: dns tcp-queries ${tcp_queries:-none}, want 5 at least"

# Both ingress ports are 0, so no HTTP proxy runs: an Ingress control
# publishes now is warned about (with the reason), and `show l7` says so.
cat > "$WORK/manifests/ingress.tmp" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: kgw, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: kgw.dev/ingress-controller}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop}
spec:
  defaultBackend: {service: {name: web, port: {number: 80}}}
YAML
mv "$WORK/manifests/ingress.tmp" "$WORK/manifests/ingress.yaml"
wait_grep 10 "these routes are not served.*ingress.http_port and https_port are 0" "$WORK/dp.log" ||
  fail "no warning for Ingress routes published without a proxy"
cli "show l7" | grep -q "no HTTP proxy runs" || fail "show l7: $(cli "show l7")"
echo "Ingress with the proxy turned off: warned, show l7 says no proxy runs: ok"
echo "PASS"
