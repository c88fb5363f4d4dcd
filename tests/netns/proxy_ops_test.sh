#!/usr/bin/env bash
# The HTTP reverse proxy in operation (issue 13's remaining test items), on
# the demo topology: client namespace -> kgw (DPDK on veths, net_af_packet)
# on port 80 of its Ingress address -> pod namespaces. The dataplane starts
# with the manifests and `kgw control --manifests` follows the directory.
#   1. an EndpointSlice change under load: wrk (4 keep-alive connections,
#      about 9 s) against a Service on pod1 and pod2 while its slice is
#      replaced by rename, first by pod2 and pod3, then by pod3 alone; wrk
#      reports no socket error and no non-2xx answer, kgw counts no 5xx and
#      no backend failure, pod3 serves after the change, pod1 serves nothing
#      after it and keeps no connection from kgw (its pooled connections
#      drained), and wrk's own connections were never reconnected;
#   2. a 1 GiB download and a 1 GiB upload (request_body_bytes 0: unlimited),
#      pseudo-random bytes compared by sha256, MB/s printed;
#      KGW_PROXY_BULK_MIB=64 for a quicker run;
#   3. Expect: 100-continue answered by the pod's interim 100 before the body
#      is sent; a chunked response carried to an HTTP/1.1 client; an HTTP/1.0
#      client served and its connection closed; the chunked response to an
#      HTTP/1.0 client de-chunked (no Transfer-Encoding) and closed.
#   proxy_ops_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages
for tool in curl wrk timeout ss; do
  command -v "$tool" > /dev/null || { echo "FAIL: $tool missing (scripts/setup.sh installs it)"; exit 1; }
done
BULK_MIB=${KGW_PROXY_BULK_MIB:-1024}

P=kgwpops$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- counters"; cli "show counters" 2>/dev/null | grep -E "^(http|tcp)"
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  echo "--- control log"; tail -n 20 "$WORK/control.log" 2>/dev/null
  exit 1
}
now_ms() { echo "$(($(date +%s%N) / 1000000))"; }

pod_topology "$P" "$WORK"
printf "127.0.0.1 localhost\n198.18.0.1 shop.example\n" > "/etc/netns/$P-client/hosts"
# Keep-alive servers for the web Service, so the proxy pools its connections.
for i in 1 2 3; do
  ip netns exec "$P-pod$i" /usr/bin/python3 "$HERE/keepalive_http.py" serve "pod$i" "198.19.1.1$i" 8084 \
    > "$WORK/keepalive$i.log" 2>&1 &
  STARTED_PIDS+=($!)
done
ip netns exec "$P-pod3" /usr/bin/python3 "$HERE/upload_server.py" 198.19.1.13 8081 > "$WORK/upload.log" 2>&1 &
STARTED_PIDS+=($!)
# A response in chunks of several sizes, the last one empty.
ip netns exec "$P-pod2" /usr/bin/python3 -c '
from http.server import BaseHTTPRequestHandler, HTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for n in (1, 10, 4000, 70000, 3):
            part = bytes((i * 7 + n) % 256 for i in range(n))
            self.wfile.write(b"%x\r\n" % n + part + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")
    def log_message(self, *a): pass
HTTPServer(("198.19.1.12", 8083), H).serve_forever()
' > "$WORK/chunked.log" 2>&1 &
STARTED_PIDS+=($!)

mkdir -p "$WORK/manifests"
web_slice() {  # web_slice ADDRESS...: the web Service's EndpointSlice
  printf "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
  printf "metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}\n"
  printf "addressType: IPv4\nports: [{name: http, protocol: TCP, port: 8084}]\nendpoints:\n"
  local a
  for a in "$@"; do printf "  - {addresses: [%s]}\n" "$a"; done
}
cat > "$WORK/manifests/proxy.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: kgw, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: kgw.dev/ingress-controller}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop}
spec:
  rules:
    - host: shop.example
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
          - {path: /large.bin, pathType: Exact, backend: {service: {name: bulk, port: {number: 80}}}}
          - {path: /upload, pathType: Exact, backend: {service: {name: upload, port: {number: 80}}}}
          - {path: /chunked, pathType: Exact, backend: {service: {name: chunked, port: {number: 80}}}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  clusterIP: 198.18.100.10
  ports: [{name: http, port: 80, targetPort: 8084}]
---
apiVersion: v1
kind: Service
metadata: {name: bulk, namespace: shop}
spec:
  clusterIP: 198.18.100.13
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: bulk-1, namespace: shop, labels: {kubernetes.io/service-name: bulk}}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
  - {addresses: [198.19.1.13]}
---
apiVersion: v1
kind: Service
metadata: {name: upload, namespace: shop}
spec:
  clusterIP: 198.18.100.14
  ports: [{name: http, port: 80, targetPort: 8081}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: upload-1, namespace: shop, labels: {kubernetes.io/service-name: upload}}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8081}]
endpoints:
  - {addresses: [198.19.1.13]}
---
apiVersion: v1
kind: Service
metadata: {name: chunked, namespace: shop}
spec:
  clusterIP: 198.18.100.15
  ports: [{name: http, port: 80, targetPort: 8083}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: chunked-1, namespace: shop, labels: {kubernetes.io/service-name: chunked}}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8083}]
endpoints:
  - {addresses: [198.19.1.12]}
YAML
web_slice 198.19.1.11 198.19.1.12 > "$WORK/manifests/web-slice.yaml"
cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-proxy-ops
  addresses: [198.18.0.1, 198.19.1.1]
ingress:
  addresses: [198.18.0.1]
  limits: {request_body_bytes: 0}
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
ip netns exec "$P-client" ethtool -K c0 tso off gso off > /dev/null 2>&1 || true
ip netns exec "$P-gw" ethtool -K g0 gro off tso off gso off > /dev/null 2>&1 || true
ip netns exec "$P-gw" ip link set lo up
start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P" "$WORK/manifests"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not start"
wait_pods "$P" || fail "the pods' HTTP servers did not start"
start_control "$WORK/gateway.yaml" "$WORK/manifests" "$WORK/control.log" 10 ||
  { cli "show config status"; fail "control did not attach"; }

get() { client curl -s --max-time 5 "http://shop.example$1"; }
for ((n = 0; n < 10; n++)); do get / | grep -q "^pod[12] /" && break; sleep 0.5; done
[ "$n" -lt 10 ] || fail "no answer through the proxy after 10 tries"

# --- 1. the EndpointSlice replaced twice under wrk --------------------------
wrk_result_script "$WORK/result.lua"
client wrk -t2 -c4 -d9s --timeout 5s -s "$WORK/result.lua" http://shop.example/ > "$WORK/wrk.txt" 2>&1 &
WRK_PID=$!
STARTED_PIDS+=("$WRK_PID")
sleep 2.5
# wrk's connections are open: from here on nothing may fail or reconnect.
before=$(cli "show counters" | grep "^http: ")
gen_before=$(grep -c "published generation" "$WORK/control.log")
web_slice 198.19.1.12 198.19.1.13 > "$WORK/web-slice.tmp" && mv "$WORK/web-slice.tmp" "$WORK/manifests/web-slice.yaml"
T_CHANGE=$(now_ms)
sleep 2.5
web_slice 198.19.1.13 > "$WORK/web-slice.tmp" && mv "$WORK/web-slice.tmp" "$WORK/manifests/web-slice.yaml"
# pod1 left the Service at the first change; what it logs from here on came
# before that change or not at all (checked below with its count now).
sleep 0.5
pod1_at_second=$(grep -c '"GET / ' "$WORK/keepalive1.log")
kill -0 "$WRK_PID" 2> /dev/null || fail "wrk ended before the slice changes were published"
wrk_clean "$WRK_PID" "$WORK/wrk.txt" 500
published=$(($(grep -c "published generation" "$WORK/control.log") - gen_before))
[ "$published" -ge 2 ] || fail "control published $published generations for the 2 slice changes"
line=$(cli "show counters" | grep "^http: ")
# (client-resets is not among them: wrk's exit resets the connections that
# still had a response coming.)
for f in accepted 5xx errors retries ejections; do
  [ "$(line_field "$line" "$f")" = "$(line_field "$before" "$f")" ] ||
    fail "http $f went from $(line_field "$before" "$f") to $(line_field "$line" "$f") during the changes (wrk's connections must be served throughout)"
done
pod3=$(grep -c '"GET / ' "$WORK/keepalive3.log")
[ "$pod3" -ge 50 ] || fail "pod3 served $pod3 requests after it joined the Service"
pod1_end=$(grep -c '"GET / ' "$WORK/keepalive1.log")
[ "$pod1_end" = "$pod1_at_second" ] || fail "pod1 served $((pod1_end - pod1_at_second)) requests after it had left the Service"
# The pool's connections to pod1 are closed (drained), not kept idle.
for ((n = 0; n < 50; n++)); do
  held=$(ip netns exec "$P-pod1" ss -Htn state established '( sport = :8084 )' | wc -l)
  [ "$held" = 0 ] && break
  sleep 0.1
done
[ "$held" = 0 ] || { ip netns exec "$P-pod1" ss -tn; fail "pod1 still holds $held connections from kgw after leaving the Service"; }
drained=$(line_field "$line" pool-drained)
[ "${drained:-0}" -ge 1 ] || fail "pool-drained is ${drained:-0}: pod1's pooled connections were not drained"
# `show l7`: wrk's connections are gone; pod3's pooled connections are
# listed idle, pod1 keeps none.
cli "show l7" > "$WORK/l7.txt" || fail "show l7"
cat "$WORK/l7.txt"
grep -q "^worker 0: http port 80, https port 443" "$WORK/l7.txt" || fail "show l7: no listener line"
read -r _ p3_use p3_idle _ < <(awk '$1 == "198.19.1.13:8084"' "$WORK/l7.txt")
[ "${p3_idle:-0}" -ge 1 ] || fail "show l7: pod3 has ${p3_idle:-no} idle connections"
read -r _ _ p1_idle _ < <(awk '$1 == "198.19.1.11:8084"' "$WORK/l7.txt")
[ "${p1_idle:-0}" = 0 ] || fail "show l7: pod1 still has $p1_idle idle connections"
grep -q "these routes are not served" "$WORK/dp.log" && fail "the dataplane warned that routes are not served, though its proxy runs"
echo "slice changes under wrk: $WRK_REQUESTS requests, 0 errors, $published generations, pod3 served $pod3, pod1 drained: ok"

# --- 2. 1 GiB down and up ---------------------------------------------------
openssl enc -aes-128-ctr -pass pass:kgw -nosalt -pbkdf2 < <(head -c $((BULK_MIB * 1048576)) /dev/zero) \
  > "$WORK/pod3/large.bin" 2> /dev/null || fail "cannot make the bulk file"
want=$(sha256sum < "$WORK/pod3/large.bin" | cut -d' ' -f1)
t0=$(now_ms)
got=$(client curl -s --max-time 120 http://shop.example/large.bin | sha256sum | cut -d' ' -f1)
ms=$(($(now_ms) - t0))
[ "$got" = "$want" ] || fail "$BULK_MIB MiB download: sha256 $got, want $want"
echo "download $BULK_MIB MiB: sha256 ok in $ms ms ($((BULK_MIB * 1048576 / 1000 / (ms + 1))) MB/s)"
t0=$(now_ms)
client curl -sS --max-time 120 -o "$WORK/upload.out" -w '%{http_code} %{size_upload}' -T "$WORK/pod3/large.bin" \
  -X POST http://shop.example/upload > "$WORK/upload.w" 2> "$WORK/upload.err"
rc=$?
ms=$(($(now_ms) - t0))
got=$(cat "$WORK/upload.out" 2> /dev/null)
[ "$got" = "sha256 $want xff 198.18.0.2" ] ||
  fail "$BULK_MIB MiB upload: curl exit $rc after $ms ms (status, bytes sent: $(cat "$WORK/upload.w"); $(cat "$WORK/upload.err")), the pod answered '$got', want sha256 $want"
echo "upload $BULK_MIB MiB: sha256 ok in $ms ms ($((BULK_MIB * 1048576 / 1000 / (ms + 1))) MB/s)"
rm -f "$WORK/pod3/large.bin"

# --- 3. 100-continue, a chunked response, an HTTP/1.0 client -----------------
head -c 300000 /dev/urandom > "$WORK/small.bin"
want=$(sha256sum < "$WORK/small.bin" | cut -d' ' -f1)
client curl -sv --max-time 10 -H "Expect: 100-continue" --expect100-timeout 8 --data-binary @"$WORK/small.bin" \
  http://shop.example/upload > "$WORK/continue.txt" 2> "$WORK/continue.err"
grep -q "^< HTTP/1.1 100 Continue" "$WORK/continue.err" || { cat "$WORK/continue.err"; fail "no 100 Continue before the body"; }
grep -q "^sha256 $want " "$WORK/continue.txt" || fail "body after 100-continue: $(cat "$WORK/continue.txt")"
echo "Expect: 100-continue: interim 100, then the body: ok"

want=$(/usr/bin/python3 -c '
import hashlib, sys
h = hashlib.sha256()
for n in (1, 10, 4000, 70000, 3): h.update(bytes((i * 7 + n) % 256 for i in range(n)))
print(h.hexdigest())')
client curl -s -D "$WORK/chunked.head" --max-time 10 -o "$WORK/chunked.body" http://shop.example/chunked || fail "chunked response: curl failed"
grep -qi "^transfer-encoding: chunked" "$WORK/chunked.head" || fail "the chunked response lost its framing: $(cat "$WORK/chunked.head")"
got=$(sha256sum < "$WORK/chunked.body" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "chunked response body: sha256 $got, want $want"
echo "chunked response (1, 10, 4000, 70000, 3 bytes): ok"

client curl -s --http1.0 -D "$WORK/h10.head" --max-time 5 -o "$WORK/h10.body" http://shop.example/ || fail "HTTP/1.0 client: curl failed"
grep -q "^pod3 /" "$WORK/h10.body" || fail "HTTP/1.0 client: body $(cat "$WORK/h10.body")"
grep -q "^HTTP/1.[01] 200" "$WORK/h10.head" || fail "HTTP/1.0 client: $(head -1 "$WORK/h10.head")"
grep -qi "^connection: keep-alive" "$WORK/h10.head" && fail "HTTP/1.0 client without keep-alive was offered keep-alive"
echo "HTTP/1.0 client: served: ok"

# The chunked response to an HTTP/1.0 client (asking for keep-alive): no
# Transfer-Encoding (RFC 9112 6.1), the data alone, the connection closed.
client curl -s --http1.0 -H "Connection: keep-alive" -D "$WORK/h10c.head" --max-time 10 -o "$WORK/h10c.body" \
  http://shop.example/chunked || fail "HTTP/1.0 client, chunked response: curl failed"
grep -qi "^transfer-encoding" "$WORK/h10c.head" && fail "HTTP/1.0 client given Transfer-Encoding: $(cat "$WORK/h10c.head")"
grep -qi "^connection: close" "$WORK/h10c.head" || fail "HTTP/1.0 client, chunked response: not closed: $(cat "$WORK/h10c.head")"
got=$(sha256sum < "$WORK/h10c.body" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "HTTP/1.0 client, de-chunked body: sha256 $got, want $want"
echo "HTTP/1.0 client, chunked response de-chunked and closed: ok"

echo "PASS: proxy operations: slice changes under load, $BULK_MIB MiB each way, 100-continue, chunked, HTTP/1.0"
