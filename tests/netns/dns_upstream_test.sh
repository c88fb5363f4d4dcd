#!/usr/bin/env bash
# DNS forwarding to dns.upstreams end to end (docs/dns.md "Forwarding"):
# `dig` in the client namespace asks kgw's DNS addresses for names outside
# the cluster zone; the workers punt them to `kgw control`, whose forwarder
# asks the upstreams over the gateway namespace's kernel (a veth to an
# upstream namespace with a small Python server). The first upstream listed
# never answers (a port nothing listens on): every new query waits
# dns.upstream_timeout_ms for it, then goes to the second. Checked: the
# upstream's answer over UDP, IPv4 and IPv6; the second query a cache hit
# that never reaches the upstream, the question echoed in the client's case;
# NXDOMAIN cached; an answer past 512 bytes with TC for a client without
# EDNS0; a name no upstream answers SERVFAIL after both timeouts; names in
# the zone still the workers'. Over TCP (dig +tcp): names outside the zone
# forwarded, IPv4 and IPv6; an answer the upstream truncates over UDP (TC)
# asked again of it over TCP and given whole (100 records) to the client;
# three queries on one connection (+keepopen), in the zone and outside. The
# counters in show counters, show dns and /metrics, and `clear port stats
# all` resetting the forwarder's.
#   dns_upstream_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages
command -v dig > /dev/null || { echo "SKIP: no dig (Debian package dnsutils)"; exit 77; }

P=kgwdu$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  echo "--- control log"; tail -n 30 "$WORK/control.log" 2>/dev/null
  echo "--- upstream log"; tail -n 30 "$WORK/upstream.log" 2>/dev/null
  exit 1
}
expect() {  # expect WHAT GOT WANT
  [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
  echo "ok: $1"
}
fwd_field() { line_field "$(cli "show counters" | grep "^dns-forward: ")" "$1"; }
upstream_saw() { grep -c "^query $1 " "$WORK/upstream.log"; }

netns_add "$P-client"
netns_add "$P-gw"
netns_add "$P-up"
veth_link "$P-client" c0 "$P-gw" g0
quiet_gateway_if "$P-gw" g0
ip -n "$P-client" addr add 198.18.0.2/24 dev c0
ip -n "$P-client" -6 addr add 2001:2::2/64 dev c0 nodad
no_checksum_offload "$P-client" c0
# The upstreams' link: kernel addresses on both ends, control's sockets use it.
veth_link "$P-gw" u0 "$P-up" up0
ip -n "$P-gw" addr add 198.18.7.1/24 dev u0
ip -n "$P-up" addr add 198.18.7.53/24 dev up0
ip netns exec "$P-up" /usr/bin/python3 "$HERE/dns_upstream_server.py" 198.18.7.53 > "$WORK/upstream.log" 2>&1 &
STARTED_PIDS+=($!)
wait_grep 10 "^ready" "$WORK/upstream.log" || fail "the upstream server did not start"

mac=$(ip -n "$P-client" -br link show c0 | awk '{print $3}')
cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-dns-upstream
  addresses: [198.18.0.1, "2001:2::1"]
ports:
  - {name: p0, device: "net_af_packet0,iface=g0,qdisc_bypass=1"}
dataplane:
  file_prefix: $P
  mbufs: 4095
metrics:
  listen: "127.0.0.1:9473"
dns:
  addresses: [198.18.0.53, "2001:2::53"]
  zone: cluster.local
  upstreams: ["198.18.7.53:5353", 198.18.7.53]
  upstream_timeout_ms: 500
  cache_entries: 100
ingress: {http_port: 0, https_port: 0}
neighbors:
  - {ip: 198.18.0.2, mac: "$mac", port: p0}
  - {ip: "2001:2::2", mac: "$mac", port: p0}
YAML
mkdir -p "$WORK/manifests"
cat > "$WORK/manifests/services.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  clusterIP: 198.18.100.10
  ports: [{name: http, port: 80}]
YAML

start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not start"
start_control "$WORK/gateway.yaml" "$WORK/manifests" "$WORK/control.log" 20 || fail "control did not attach"
wait_grep 20 "dns: generation" "$WORK/control.log" || fail "control did not publish the DNS names"
wait_grep 5 "DNS forwarding to 2 upstream" "$WORK/control.log" || fail "control does not forward"

q() { client dig +time=4 +tries=1 "$@" 2>&1; }

# In the zone: the workers' own answer, nothing punted.
expect "in-zone name" "$(q +short @198.18.0.53 web.shop.svc.cluster.local A)" "198.18.100.10"
[ "$(fwd_field queries)" = 0 ] || fail "an in-zone query reached the forwarder"

# Outside: the upstream's answer (after the silent first upstream's timeout), then the cache's.
expect "forwarded A" "$(q +short @198.18.0.53 www.example.test A)" "198.18.9.1"
expect "upstream asked once" "$(upstream_saw www.example.test)" 1
[ "$(fwd_field upstream-timeouts)" -ge 1 ] || fail "the first upstream's timeout was not counted"
start=$(date +%s%N)
second=$(q @198.18.0.53 WWW.Example.TEST A)
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
grep -q "^;WWW.Example.TEST.*IN.*A" <<< "$second" || fail "the question was not echoed as asked: $second"
grep -q "198.18.9.1" <<< "$second" || fail "cache hit without the answer: $second"
expect "cache hit, upstream not asked" "$(upstream_saw www.example.test)" 1
expect "cache-hits" "$(fwd_field cache-hits)" 1
echo "ok: cache hit in $elapsed_ms ms (a miss waits 500 ms for the first upstream)"

# IPv6 client to the IPv6 DNS address.
expect "forwarded AAAA over IPv6" "$(q +short @2001:2::53 www6.example.test AAAA)" "2001:2:9::1"

# NXDOMAIN, cached from the SOA.
q @198.18.0.53 nx.example.test A | grep -q "status: NXDOMAIN" || fail "no NXDOMAIN"
q @198.18.0.53 nx.example.test A | grep -q "status: NXDOMAIN" || fail "no NXDOMAIN from the cache"
expect "NXDOMAIN asked once" "$(upstream_saw nx.example.test)" 1

# Past 512 bytes without EDNS0: TC; with EDNS0 (1232): whole.
big=$(q +noedns +ignore @198.18.0.53 big.example.test A)
grep -q "flags: qr.* tc" <<< "$big" || fail "no TC for a big answer without EDNS0: $big"
[ "$(fwd_field truncated)" -ge 1 ] || fail "truncated not counted"
expect "big with EDNS0" "$(q +short +bufsize=1232 @198.18.0.53 big.example.test A | wc -l)" 40

# No upstream answers: SERVFAIL after both timeouts (2 x 500 ms).
sf_before=$(fwd_field servfail)
start=$(date +%s%N)
q @198.18.0.53 silent.example.test A | grep -q "status: SERVFAIL" || fail "no SERVFAIL when no upstream answers"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$elapsed_ms" -ge 900 ] || fail "SERVFAIL after $elapsed_ms ms, before both timeouts"
echo "ok: SERVFAIL after $elapsed_ms ms"
expect "servfail counted" "$(fwd_field servfail)" $((sf_before + 1))

# DNS over TCP outside the zone: forwarded as UDP's (docs/dns.md "Forwarding").
expect "forwarded A over TCP" "$(q +tcp +short @198.18.0.53 tcp1.example.test A)" "198.18.9.1"
expect "tcp-queries" "$(fwd_field tcp-queries)" 1
expect "forwarded AAAA over TCP and IPv6" "$(q +tcp +short @2001:2::53 tcp6.example.test AAAA)" "2001:2:9::1"
# The upstream truncates over UDP: asked again over TCP, the whole answer to the client.
whole=$(q +tcp @198.18.0.53 tc.example.test A)
grep -q "flags: qr.* tc" <<< "$whole" && fail "TC to a TCP client: $whole"
expect "TC answer whole over TCP" "$(grep -c "^tc.example.test.*IN	A	198.18.10." <<< "$whole")" 100
expect "upstream asked over TCP after its TC" "$(grep -c "^tcp-query tc.example.test 1$" "$WORK/upstream.log")" 1
expect "tcp-retries" "$(fwd_field tcp-retries)" 1
expect "tcp-retry-failures" "$(fwd_field tcp-retry-failures)" 0
# One connection, three queries: outside, in the zone, outside.
accepted_before=$(counter_field dns tcp-accepted)
expect "three queries over one TCP connection (+keepopen)" \
  "$(q +tcp +keepopen +short @198.18.0.53 k1.example.test A web.shop.svc.cluster.local A k2.example.test AAAA)" \
  "198.18.9.1
198.18.100.10
2001:2:9::1"
expect "one connection for them" "$(counter_field dns tcp-accepted)" $((accepted_before + 1))

counters=$(cli "show counters")
echo "$counters" | grep -E "^dns(-forward)?:"
forwarded=$(line_field "$(grep "^dns: " <<< "$counters")" forwarded)
[ "${forwarded:-0}" -ge 8 ] || fail "workers' forwarded ${forwarded:-none}"
cli "show dns" | grep -q "^dns-forward: queries [1-9]" || fail "show dns has no forwarding line"
ip netns exec "$P-gw" curl -s --max-time 2 http://127.0.0.1:9473/metrics > "$WORK/metrics.txt" || fail "scrape /metrics"
grep -q "^kgw_dns_upstream_cache_hits_total 2$" "$WORK/metrics.txt" ||
  fail "metrics: $(grep kgw_dns_upstream "$WORK/metrics.txt")"
grep -q '^kgw_dns_forwarded_total{worker="0"} [1-9]' "$WORK/metrics.txt" || fail "metrics: no kgw_dns_forwarded_total"
tcp_forwarded=$(line_field "$(grep "^dns: " <<< "$counters")" tcp-forwarded)
expect "workers' tcp-forwarded" "$tcp_forwarded" 5
expect "workers' tcp-forward-answers" "$(line_field "$(grep "^dns: " <<< "$counters")" tcp-forward-answers)" 5
grep -q '^kgw_dns_tcp_forwarded_total{worker="0"} 5$' "$WORK/metrics.txt" || fail "metrics: kgw_dns_tcp_forwarded_total"
grep -q "^kgw_dns_upstream_tcp_retries_total 1$" "$WORK/metrics.txt" || fail "metrics: kgw_dns_upstream_tcp_retries_total"

# clear port stats all: the forwarder's counts from zero, its cache size kept.
entries=$(fwd_field cache-entries)
cli "clear port stats all" > /dev/null || fail "clear port stats all"
expect "forwarder queries after clear" "$(fwd_field queries)" 0
expect "forwarder tcp-retries after clear" "$(fwd_field tcp-retries)" 0
expect "forwarder cache-entries after clear" "$(fwd_field cache-entries)" "$entries"
expect "cache hit after clear" "$(q +short @198.18.0.53 www.example.test A)" "198.18.9.1"
expect "forwarder counts on after clear" "$(fwd_field cache-hits)" 1

# A control without dns.upstreams beside a dataplane that forwards: the
# queries it is handed are answered SERVFAIL at once, over UDP and TCP.
kill "$CONTROL_PID"
wait "$CONTROL_PID" 2> /dev/null
sed '/^  upstreams:/d' "$WORK/gateway.yaml" > "$WORK/gateway-no-upstreams.yaml"
start_control "$WORK/gateway-no-upstreams.yaml" "$WORK/manifests" "$WORK/control2.log" 20 ||
  fail "control without upstreams did not attach"
wait_grep 5 "this control has no dns.upstreams" "$WORK/control2.log" || fail "no warning about the missing upstreams"
for transport in +notcp +tcp; do
  start=$(date +%s%N)
  answer=$(q $transport @198.18.0.53 "noup${transport#+}.example.test" A)
  elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  grep -q "status: SERVFAIL" <<< "$answer" || fail "no SERVFAIL ($transport) without upstreams: $answer"
  [ "$elapsed_ms" -lt 1000 ] || fail "SERVFAIL ($transport) without upstreams after $elapsed_ms ms"
  echo "ok: SERVFAIL ($transport) without upstreams in $elapsed_ms ms"
done
expect "servfail counted without upstreams" "$(fwd_field servfail)" 2
echo "PASS"
