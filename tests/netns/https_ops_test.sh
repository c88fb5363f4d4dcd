#!/usr/bin/env bash
# HTTPS in operation (issue 14's remaining test items), on the demo topology:
# client namespace -> kgw (DPDK on veths, net_af_packet) terminating TLS on
# ingress.https_port (443) -> pod namespaces over plain HTTP. The dataplane
# starts with the manifests (so the proxy listens on 443) and `kgw control
# --manifests` follows the directory afterwards. Certificates come from a
# kubernetes.io/tls Secret made here with the openssl CLI under a test CA.
#   1. testssl.sh against the HTTPS listener (offline: --ip, --nodns none;
#      testssl_run in lib.sh) with the EC P-256 certificate: protocols, cipher
#      categories, server preferences, the vulnerability checks, the
#      certificate and server defaults (-S: the test CA given with --add-ca)
#      and the HTTP headers (-h); its findings are summed up in the output
#      and any HIGH or CRITICAL one fails the test (from its JSON), as do
#      protocols other than TLS 1.2 and 1.3 being offered and a check
#      missing. kgw sends no HSTS header and staples no OCSP answer:
#      testssl.sh reports each as LOW (recorded, not failed). The RSA 2048
#      certificate's scan runs in netns_https;
#   2. the host's Secret rotated under load: wrk over HTTPS (4 keep-alive
#      connections, about 9 s) while the Secret's file is replaced by rename
#      with a new certificate and key; control publishes it; wrk reports no
#      socket error and no non-2xx/3xx answer, kgw counts no 3xx-5xx and no
#      new TLS connection but the probes (wrk's connections, opened before the
#      rotation, go on being served after it); a fresh handshake gets the new
#      certificate (SHA-256 fingerprint), `show certificates` and the control
#      log show the rotation. kgw runs with ingress.tls_buffered_connections
#      2, so wrk's four connections and the probes keep pushing one another's
#      OpenSSL record buffers out (SSL_free_buffers) between their records;
#   3. the issue's 1 GiB download through TLS (pseudo-random bytes, so a
#      misplaced segment shows), sha256 compared, MB/s printed. On the 2-core
#      VM (loaded) it took 28 s (38.6 MB/s), under the 40 s this test may
#      spend on it; KGW_HTTPS_BULK_MIB=256 for a quicker run.
#   https_ops_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages
for tool in openssl curl testssl wrk timeout; do
  command -v "$tool" > /dev/null || { echo "FAIL: $tool missing (scripts/setup.sh installs it)"; exit 1; }
done
BULK_MIB=${KGW_HTTPS_BULK_MIB:-1024}

P=kgwhops$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- counters"; "$KGW" cli --file-prefix "$P" -c "show counters" 2>/dev/null | grep -E "^(http|tls): "
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  echo "--- control log"; tail -n 20 "$WORK/control.log" 2>/dev/null
  exit 1
}
elapsed() { echo "$(($(date +%s%N) / 1000000 - $1))"; }  # ms since $1 (ms)
now_ms() { echo "$(($(date +%s%N) / 1000000))"; }
T0=$(now_ms)

# --- certificates: a CA and two generations of shop.tls.test's ----------------
tls_test_ca "$WORK" "kgw https ops test CA" || fail "cannot make the test CA"
# For testssl.sh's -S, which rates the certificate as a CA would issue it: 90
# days (one expiring within 30 days is HIGH) and an OCSP URI (neither a CRL
# nor an OCSP URI is HIGH; no responder answers there, and testssl.sh offline
# does not ask one).
export TLS_LEAF_DAYS=90 TLS_LEAF_EXT="authorityInfoAccess=OCSP;URI:http://ocsp.tls.test/"
for gen in old new; do tls_leaf "$WORK" "$gen" shop.tls.test shop.tls.test || fail "cannot make certificate $gen"; done
fingerprint() { openssl x509 -noout -fingerprint -sha256 | sed 's/.*=//'; }
OLD_FP=$(fingerprint < "$WORK/old.pem")
NEW_FP=$(fingerprint < "$WORK/new.pem")
[ -n "$OLD_FP" ] && [ "$OLD_FP" != "$NEW_FP" ] || fail "the two certificates' fingerprints: $OLD_FP / $NEW_FP"

pod_topology "$P" "$WORK"
# wrk and testssl find shop.tls.test in the client namespace's /etc/hosts
# (`ip netns exec` shows /etc/netns/NS/hosts there; netns_cleanup removes it).
printf "127.0.0.1 localhost\n198.18.0.1 shop.tls.test\n" > "/etc/netns/$P-client/hosts"
mkdir -p "$WORK/manifests"
cat > "$WORK/manifests/https.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: kgw, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: kgw.dev/ingress-controller}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop}
spec:
  tls:
    - {hosts: [shop.tls.test], secretName: shop-tls}
  rules:
    - host: shop.tls.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
          - {path: /large.bin, pathType: Exact, backend: {service: {name: bulk, port: {number: 80}}}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  clusterIP: 198.18.100.10
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8080}]
endpoints:
  - {addresses: [198.19.1.11]}
  - {addresses: [198.19.1.12]}
---
# The large file lives in pod3 only.
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
YAML
tls_secret shop-tls "$WORK/old" > "$WORK/manifests/shop-tls.yaml"
cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-https-ops
  addresses: [198.18.0.1, 198.19.1.1]
ingress:
  addresses: [198.18.0.1]
  tls_buffered_connections: 2
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
grep -q "http: reverse proxy on port 80 (http) and 443 (https" "$WORK/dp.log" || fail "the proxy does not listen on 443"
start_control "$WORK/gateway.yaml" "$WORK/manifests" "$WORK/control.log" 5 ||
  { cli "show config status"; fail "control did not attach"; }

scurl() { client curl -s --max-time 10 --cacert "$WORK/ca.pem" --resolve shop.tls.test:443:198.18.0.1 "$@"; }
for ((n = 0; n < 20; n++)); do scurl https://shop.tls.test/ | grep -q "^hello from pod" && break; sleep 0.5; done
[ "$n" -lt 20 ] || { scurl -v https://shop.tls.test/; fail "no answer over https after 20 tries"; }
cli "show certificates" | grep -q "sha256 *$OLD_FP" || { cli "show certificates"; fail "the first certificate is not served"; }
echo "setup: $(elapsed "$T0") ms"

# --- 1. testssl.sh --------------------------------------------------------------
# Offline: the name for SNI and the Host header, the address given (--ip), no
# DNS query (--nodns none), nothing fetched from outside (no --phone-out).
# -p protocols, -s cipher categories, -P the server's preferences (cipher
# order per protocol), -U every vulnerability check (Heartbleed, CCS,
# Ticketbleed, ROBOT, renegotiation, CRIME, BREACH, POODLE, TLS_FALLBACK_SCSV,
# SWEET32, FREAK, DROWN, LOGJAM, BEAST, LUCKY13, RC4). No --fast (it would only
# shorten -P's list); -f (forward secrecy) is left out: it adds about 8 s, and
# every cipher -s and -P list is ECDHE or TLS 1.3 already. About 35-45 s, of
# which about 10 s is testssl.sh's own start; bounded by timeout all the same.
# -S: the certificate (chain of trust against the test CA, key size,
# signature, validity, revocation URIs) and server defaults (tickets, OCSP
# stapling, ...); -h: the HTTP headers of an answer (HSTS, cookies,
# banners). The RSA certificate's scan is in netns_https (https_test.sh).
testssl_run "$WORK" shop.tls.test -p -s -P -U -S -h > "$WORK/testssl_ec.out" 2>&1
ts_ec=$?
cat "$WORK/testssl_ec.out"
grep -h "verdict" "$WORK/testssl_ec.out"
grep -q "cert_keySize *[A-Z]* *EC 256 bits" "$WORK/testssl_ec.out" || fail "testssl.sh shop.tls.test: not the EC P-256 key"
[ "$ts_ec" = 0 ] || fail "testssl.sh: HIGH or CRITICAL findings, or checks missing"

# --- 2. the Secret rotated under load ------------------------------------------
# probe: one full handshake with a GET; prints the served certificate's
# fingerprint, fails unless it verifies and the pod answers.
probe() {
  { printf 'GET / HTTP/1.1\r\nHost: shop.tls.test\r\nConnection: close\r\n\r\n'; sleep 1; } |
    client timeout 10 openssl s_client -connect 198.18.0.1:443 -servername shop.tls.test -CAfile "$WORK/ca.pem" \
      -verify_return_error -verify_hostname shop.tls.test > "$WORK/probe.txt" 2>&1
  grep -q "^hello from pod" "$WORK/probe.txt" && grep -q "Verify return code: 0 (ok)" "$WORK/probe.txt" ||
    { cat "$WORK/probe.txt"; return 1; }
  fingerprint < "$WORK/probe.txt"
}
wrk_result_script "$WORK/result.lua"
conns=4
acc0=$(counter_field http https-accepted)
c0=$(cli "show counters" | grep "^http: ")
published0=$(grep -c "tls: generation .* published" "$WORK/control.log")
client wrk -t2 -c"$conns" -d9s --timeout 5s -s "$WORK/result.lua" https://shop.tls.test/ > "$WORK/wrk.txt" 2>&1 &
WRK_PID=$!
STARTED_PIDS+=("$WRK_PID")
sleep 2
fp=$(probe) || fail "a handshake before the rotation failed"
[ "$fp" = "$OLD_FP" ] || fail "before the rotation: served $fp, expected the first certificate $OLD_FP"
tls_secret shop-tls "$WORK/new" > "$WORK/shop-tls.yaml.tmp"
mv "$WORK/shop-tls.yaml.tmp" "$WORK/manifests/shop-tls.yaml"
t=$(now_ms)
for ((n = 0; n < 100; n++)); do
  [ "$(grep -c "tls: generation .* published" "$WORK/control.log")" -gt "$published0" ] && break
  sleep 0.05
done
[ "$n" -lt 100 ] || fail "control did not publish the new certificate within 5 s"
pub_ms=$(elapsed "$t")
grep "tls: generation .* published" "$WORK/control.log" | tail -1
req_rot=$(counter_field http requests)
acc_rot=$(counter_field http https-accepted)
kill -0 "$WRK_PID" 2> /dev/null || fail "wrk ended before the rotation was published"
fp=$(probe) || fail "a handshake after the rotation failed"
[ "$fp" = "$NEW_FP" ] || fail "after the rotation: served $fp, expected the new certificate $NEW_FP"
cli "show certificates" > "$WORK/certs.txt"
grep -q "sha256 *$NEW_FP" "$WORK/certs.txt" && ! grep -q "sha256 *$OLD_FP" "$WORK/certs.txt" ||
  { cat "$WORK/certs.txt"; fail "show certificates does not show the new certificate alone"; }
wrk_clean "$WRK_PID" "$WORK/wrk.txt" 100
wrk_req=$WRK_REQUESTS
c1=$(cli "show counters" | grep "^http: ")
acc1=$(counter_field http https-accepted)
req1=$(counter_field http requests)
# kgw's side: every answer in the meantime a 2xx, no error of the proxy.
for f in 1xx 3xx 4xx 5xx errors; do
  d=$(($(line_field "$c1" "$f") - $(line_field "$c0" "$f")))
  [ "$d" = 0 ] || fail "kgw counted $d $f during the run"
done
# wrk exits with its last requests in flight: the kernel resets those
# connections, at most one each.
d=$(($(line_field "$c1" client-resets) - $(line_field "$c0" client-resets)))
[ "$d" -le "$conns" ] || fail "kgw counted $d client resets during the run"
d2xx=$(($(line_field "$c1" 2xx) - $(line_field "$c0" 2xx)))
[ "$d2xx" -ge "$wrk_req" ] || fail "kgw counted $d2xx 2xx, wrk $wrk_req requests"
# wrk's connections were opened before the rotation and never again (the two
# probes are the only other TLS connections), and were served after it.
[ "$((acc1 - acc0))" = "$((conns + 2))" ] ||
  fail "$((acc1 - acc0)) TLS connections accepted during the run: wrk reconnected (expected $conns + 2 probes)"
[ "$((acc_rot - acc0))" = "$((conns + 1))" ] || fail "wrk's connections were not all open at the rotation"
after=$((req1 - req_rot - 1))
[ "$after" -ge 50 ] || fail "only $after requests on wrk's connections after the rotation"
# Four connections at a bound of two: records kept pushing buffers out.
tls_line=$(cli "show counters" | grep "^tls: ")
released=$(line_field "$tls_line" buffers-released)
[ "${released:-0}" -ge "$conns" ] || fail "buffers-released ${released:-none} after wrk on $conns connections (bound 2): $tls_line"
[ "$(line_field "$tls_line" buffered)" -le 2 ] || fail "more connections keep their buffers than the bound: $tls_line"
rps=$(sed -n 's/^Requests\/sec: *//p' "$WORK/wrk.txt")
echo "buffers: $released released by connections pushed out of the two that keep them"
echo "rotation under load: wrk $wrk_req requests ($rps/s) on $conns keep-alive connections, 0 socket errors, 0 non-2xx;" \
  "published $pub_ms ms after the rename; $after requests on the same connections after it;" \
  "a new handshake gets the new certificate ($NEW_FP)"

# --- 3. a large download through TLS, sha256 compared ---------------------------
t=$(now_ms)
# AES-CTR keystream: pseudo-random and fast; openssl dgst uses the CPU's SHA
# instructions (three times sha256sum's speed here).
want=$(openssl enc -aes-128-ctr -nosalt -pass pass:kgw-https-ops -pbkdf2 < /dev/zero 2> /dev/null |
  head -c "$((BULK_MIB << 20))" | tee "$WORK/pod3/large.bin" | openssl dgst -sha256 -r | cut -d' ' -f1)
[ "$(stat -c %s "$WORK/pod3/large.bin")" = "$((BULK_MIB << 20))" ] || fail "cannot make the large file"
echo "large file: $BULK_MIB MiB made in $(elapsed "$t") ms"
got=$(scurl --max-time 150 -o - -w '%{stderr}%{http_code} %{size_download} %{time_total}\n' \
  https://shop.tls.test/large.bin 2> "$WORK/large.w" | openssl dgst -sha256 -r | cut -d' ' -f1)
read -r code size secs < "$WORK/large.w"
[ "$code" = 200 ] && [ "$size" = "$((BULK_MIB << 20))" ] || fail "large download: status $code, $size bytes"
[ "$got" = "$want" ] || fail "large download: sha256 $got, expected $want"
echo "large download: $BULK_MIB MiB over https in $secs s, sha256 equal," \
  "$(awk -v b="$size" -v s="$secs" 'BEGIN { printf "%.1f", b / s / 1e6 }') MB/s"
rm -f "$WORK/pod3/large.bin"

cli "show counters" | grep -E "^(http|tls): "
echo "PASS ($(elapsed "$T0") ms)"
