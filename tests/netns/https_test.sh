#!/usr/bin/env bash
# HTTPS through the proxy end to end: client namespace -> kgw (DPDK on veths,
# net_af_packet) terminating TLS on ingress.https_port (443) of its Ingress
# address -> pod namespaces over plain HTTP. Certificates from
# kubernetes.io/tls Secrets an Ingress's spec.tls names, made here with the
# openssl CLI under a test CA (no key is committed). curl (--resolve,
# --cacert) checks:
#   1. a GET over https verifies and reaches a pod; the pod sees
#      X-Forwarded-Proto: https and X-Forwarded-Port: 443;
#   2. a Host the certificate does not name: 421; a Host under the same
#      wildcard certificate: served;
#   2b. SNI selection across three certificates on the HTTPS port: two exact
#      hosts (shop.tls.test EC P-256, rsa.tls.test RSA 2048) and a wildcard
#      (*.wild.tls.test); each host's curl verifies and gets its own
#      certificate (subject and SHA-256 fingerprint from openssl s_client
#      -servername), a name under the wildcard gets the wildcard's, an unknown
#      name and no SNI get ingress.default_certificate's (a fourth Secret);
#      421 when the Host is not covered by the SNI's certificate, for the RSA
#      one too;
#   2c. testssl.sh against the RSA 2048 certificate (rsa.tls.test): the
#      certificate and server defaults (-S), ROBOT (-BB) and DROWN (-D), which
#      need an RSA key to try, and the HTTP headers (-h); fails on any HIGH or
#      CRITICAL finding (testssl_run in lib.sh; the EC certificate's full scan
#      is in netns_https_ops);
#   3. keep-alive over TLS (two URLs, one connection); a 20 MB download
#      through TLS, sha256 compared;
#   4. on port 80: 308 to the https URL for a host with TLS (curl -I), none
#      for a host whose Ingress says nginx.ingress.kubernetes.io/ssl-redirect:
#      "false" or for a host without TLS;
#   5. the counters (show counters, /metrics).
#   https_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages
command -v openssl > /dev/null || { echo "SKIP: no openssl"; exit 77; }
command -v curl > /dev/null || { echo "SKIP: no curl"; exit 77; }
command -v testssl > /dev/null || { echo "FAIL: testssl missing (scripts/setup.sh installs it)"; exit 1; }

P=kgwhttps$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- counters"; "$KGW" cli --file-prefix "$P" -c "show counters" 2>/dev/null | grep -A25 "^http:"
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  exit 1
}

# --- certificates: a CA, a leaf, a wildcard ------------------------------------
tls_test_ca "$WORK" "kgw https test CA" || fail "cannot make the test CA"
tls_leaf "$WORK" shop shop.tls.test shop.tls.test || fail "cannot make certificate shop"
tls_leaf "$WORK" wild "*.wild.tls.test" "*.wild.tls.test" || fail "cannot make certificate wild"
# For testssl.sh's -S, which rates the certificate as a CA would issue it: 90
# days (expiring within 30 is HIGH) and an OCSP URI (neither a CRL nor an OCSP
# URI is HIGH; nothing answers there, and testssl.sh offline asks nothing).
TLS_LEAF_DAYS=90 TLS_LEAF_EXT="authorityInfoAccess=OCSP;URI:http://ocsp.tls.test/" \
  tls_leaf "$WORK" rsa rsa.tls.test rsa.tls.test rsa || fail "cannot make certificate rsa"
tls_leaf "$WORK" fallback "kgw https test default" fallback.tls.test || fail "cannot make certificate fallback"

pod_topology "$P" "$WORK"
ip netns exec "$P-pod3" python3 "$HERE/upload_server.py" 198.19.1.13 8081 > "$WORK/upload.log" 2>&1 &
STARTED_PIDS+=($!)
mkdir -p "$WORK/manifests"
{
  cat <<'YAML'
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
    - {hosts: ["*.wild.tls.test"], secretName: wild-tls}
    - {hosts: [rsa.tls.test], secretName: rsa-tls}
  rules:
    - host: shop.tls.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
          - {path: /headers, pathType: Exact, backend: {service: {name: upload, port: {number: 8081}}}}
    - host: "*.wild.tls.test"
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
    - host: plain.tls.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
    - host: rsa.tls.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
---
# Its host has TLS (the wildcard), but it asks to be served on http too.
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: optout
  namespace: shop
  annotations: {nginx.ingress.kubernetes.io/ssl-redirect: "false"}
spec:
  rules:
    - host: optout.wild.tls.test
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
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
apiVersion: v1
kind: Service
metadata: {name: upload, namespace: shop}
spec:
  clusterIP: 198.18.100.13
  ports: [{name: http, port: 8081, targetPort: 8081}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: upload-1, namespace: shop, labels: {kubernetes.io/service-name: upload}}
addressType: IPv4
ports: [{name: http, protocol: TCP, port: 8081}]
endpoints:
  - {addresses: [198.19.1.13]}
YAML
  tls_secret shop-tls "$WORK/shop"
  tls_secret wild-tls "$WORK/wild"
  tls_secret rsa-tls "$WORK/rsa"
  tls_secret fallback-tls "$WORK/fallback"
} > "$WORK/manifests/https.yaml"
metrics_port=19$((RANDOM % 900 + 100))
cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-https
  addresses: [198.18.0.1, 198.19.1.1]
ingress:
  addresses: [198.18.0.1]
  default_certificate: shop/fallback-tls
ports:
  - {name: p0, device: "net_af_packet0,iface=g0,qdisc_bypass=1"}
  - {name: p1, device: "net_af_packet1,iface=g1,qdisc_bypass=1"}
workers: 1
snat:
  addresses: [198.18.0.250]
dataplane:
  file_prefix: $P
  mbufs: 8191
metrics:
  listen: "127.0.0.1:$metrics_port"
YAML
cat "$WORK/neighbors.yaml" >> "$WORK/gateway.yaml"
ip netns exec "$P-client" ethtool -K c0 tso off gso off > /dev/null 2>&1 || true
ip netns exec "$P-gw" ethtool -K g0 gro off tso off gso off > /dev/null 2>&1 || true
ip netns exec "$P-gw" ip link set lo up
start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P" "$WORK/manifests"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not start"
wait_pods "$P" || fail "the pods' HTTP servers did not start"
grep -q "http: reverse proxy on port 80 (http) and 443 (https" "$WORK/dp.log" || fail "the proxy does not listen on 443"

# curl over https with the test CA; NAME resolves to the Ingress address on 443 and 80.
scurl() { client curl -s --max-time 10 --cacert "$WORK/ca.pem" --resolve "$1:443:198.18.0.1" --resolve "$1:80:198.18.0.1" "${@:2}"; }

for ((n = 0; n < 20; n++)); do scurl shop.tls.test https://shop.tls.test/ | grep -q "^hello from pod" && break; sleep 0.5; done
[ "$n" -lt 20 ] || { scurl shop.tls.test -v https://shop.tls.test/; fail "no answer over https after 20 tries"; }

# 1. A verified GET; the forwarding fields of https.
scurl shop.tls.test -v https://shop.tls.test/ > "$WORK/get.txt" 2> "$WORK/get.err"
grep -q "^hello from pod" "$WORK/get.txt" || fail "https GET: $(cat "$WORK/get.txt")"
grep -q "SSL certificate verify ok" "$WORK/get.err" || { cat "$WORK/get.err"; fail "certificate not verified"; }
scurl shop.tls.test https://shop.tls.test/headers > "$WORK/headers.txt"
grep -q "^X-Forwarded-Proto: https$" "$WORK/headers.txt" || { cat "$WORK/headers.txt"; fail "X-Forwarded-Proto is not https"; }
grep -q "^X-Forwarded-Port: 443$" "$WORK/headers.txt" || { cat "$WORK/headers.txt"; fail "X-Forwarded-Port is not 443"; }
grep -q "^X-Forwarded-For: 198.18.0.2$" "$WORK/headers.txt" || { cat "$WORK/headers.txt"; fail "X-Forwarded-For"; }
echo "https GET verified; the pod saw X-Forwarded-Proto: https, X-Forwarded-Port: 443"

# 2. 421 for a Host the certificate does not name; a wildcard's other name is served.
c=$(scurl shop.tls.test -o "$WORK/421.body" -w '%{http_code}' -H "Host: plain.tls.test" https://shop.tls.test/)
[ "$c" = 421 ] || fail "Host not covered by shop.tls.test's certificate: $c, expected 421"
[ "$(wc -c < "$WORK/421.body")" -lt 100 ] || fail "the 421's body is short"
c=$(scurl a.wild.tls.test -o "$WORK/wild.body" -w '%{http_code}' -H "Host: b.wild.tls.test" https://a.wild.tls.test/)
[ "$c" = 200 ] && grep -q "^hello from pod" "$WORK/wild.body" || fail "a Host the wildcard certificate covers: $c"
cli "show counters" > "$WORK/counters.txt"
grep -qE "^ +misdirected +1 +421" "$WORK/counters.txt" || { grep -A25 "http errors" "$WORK/counters.txt"; fail "421 not counted as misdirected"; }
echo "421 for plain.tls.test over shop.tls.test's certificate; b.wild.tls.test served over a.wild.tls.test's"

# 2b. SNI selection: which certificate each name gets, by fingerprint.
fingerprint() { openssl x509 -noout -fingerprint -sha256 2> /dev/null | sed 's/.*=//'; }
for c in shop wild rsa fallback; do declare "FP_$c=$(fingerprint < "$WORK/$c.pem")"; done
# served SNI: the served certificate's fingerprint (SNI "" = none sent); $WORK/sclient.txt keeps the output.
served() {
  local sni=(-servername "$1")
  [ -z "$1" ] && sni=(-noservername)
  client timeout 10 openssl s_client -connect 198.18.0.1:443 "${sni[@]}" -CAfile "$WORK/ca.pem" \
    -verify_return_error < /dev/null > "$WORK/sclient.txt" 2>&1
  grep -q "Verify return code: 0 (ok)" "$WORK/sclient.txt" || { cat "$WORK/sclient.txt" >&2; return 1; }
  fingerprint < "$WORK/sclient.txt"
}
# sni_case SNI CERT: SNI gets CERT's certificate.
sni_case() {
  local fp want_var="FP_$2"
  fp=$(served "$1") || fail "SNI '${1:-(none)}': the handshake did not verify"
  [ "$fp" = "${!want_var}" ] || fail "SNI '${1:-(none)}': served $fp, expected $2's ${!want_var}"
  echo "  SNI ${1:-(none)} -> $2 ($(grep -o "^subject=.*" "$WORK/sclient.txt"); $(grep -o "Server public key is [0-9]* bit" "$WORK/sclient.txt"))"
}
sni_case shop.tls.test shop
sni_case rsa.tls.test rsa
grep -q "Server public key is 2048 bit" "$WORK/sclient.txt" || fail "rsa.tls.test: not the RSA 2048 key"
grep -q "Server Temp Key: X25519" "$WORK/sclient.txt" || fail "rsa.tls.test: key exchange is not X25519"
sni_case a.wild.tls.test wild
sni_case Zz.WILD.tls.test. wild
sni_case b.a.wild.tls.test fallback
sni_case unknown.example fallback
sni_case "" fallback
# curl for each host: verified, served, and the subject curl saw is the host's.
for h in shop.tls.test rsa.tls.test x.wild.tls.test; do
  c=$(scurl "$h" -v -o "$WORK/sni.body" -w '%{http_code}' "https://$h/" 2> "$WORK/sni.err")
  [ "$c" = 200 ] && grep -q "^hello from pod" "$WORK/sni.body" || fail "curl https://$h/: $c"
  want=$h; [ "$h" = x.wild.tls.test ] && want="*.wild.tls.test"
  grep -qxF "*  subject: CN=$want" "$WORK/sni.err" || { grep -E "subject|SSL connection" "$WORK/sni.err"; fail "curl https://$h/: not $want's certificate"; }
  grep -q "SSL certificate verify ok" "$WORK/sni.err" || fail "curl https://$h/: not verified"
done
# The default certificate does not cover the hosts: curl by an unknown name must fail to verify.
c=$(scurl unknown.tls.test -o /dev/null -w '%{http_code}' https://unknown.tls.test/ 2> /dev/null)
[ "$c" = 000 ] || fail "https://unknown.tls.test/ verified with the default certificate: $c"
# 421: the RSA certificate's SNI with a Host it does not cover, and the other way round.
c=$(scurl rsa.tls.test -o /dev/null -w '%{http_code}' -H "Host: shop.tls.test" https://rsa.tls.test/)
[ "$c" = 421 ] || fail "Host shop.tls.test over rsa.tls.test's certificate: $c, expected 421"
c=$(scurl shop.tls.test -o /dev/null -w '%{http_code}' -H "Host: rsa.tls.test" https://shop.tls.test/)
[ "$c" = 421 ] || fail "Host rsa.tls.test over shop.tls.test's certificate: $c, expected 421"
c=$(scurl x.wild.tls.test -o /dev/null -w '%{http_code}' -H "Host: rsa.tls.test" https://x.wild.tls.test/)
[ "$c" = 421 ] || fail "Host rsa.tls.test over the wildcard certificate: $c, expected 421"
cli "show counters" > "$WORK/counters.txt"
grep -qE "^ +misdirected +4 +421" "$WORK/counters.txt" || { grep -A25 "http errors" "$WORK/counters.txt"; fail "421s not counted as misdirected (4 expected)"; }
echo "SNI: three certificates (EC exact, RSA 2048 exact, EC wildcard) and the default served by name; 421 across them"

# 2c. testssl.sh against the RSA certificate.
testssl_run "$WORK" rsa.tls.test -S -BB -D -h > "$WORK/testssl_rsa.out" 2>&1
ts_rsa=$?
cat "$WORK/testssl_rsa.out"
grep -q "cert_keySize *[A-Z]* *RSA 2048 bits" "$WORK/testssl_rsa.out" || fail "testssl.sh rsa.tls.test: not the RSA 2048 key"
[ "$ts_rsa" = 0 ] || fail "testssl.sh rsa.tls.test: HIGH or CRITICAL findings, or checks missing"

# 3. Keep-alive over TLS, and a 20 MB download through it.
scurl shop.tls.test -v https://shop.tls.test/ https://shop.tls.test/ > "$WORK/ka.txt" 2> "$WORK/ka.err"
[ "$(grep -c '^hello from pod' "$WORK/ka.txt")" = 2 ] || fail "keep-alive over TLS: two answers expected"
grep -q "Re-using existing connection" "$WORK/ka.err" || fail "keep-alive over TLS: curl opened a second connection"
want=$(sha256sum "$WORK/pod1/big.bin" | cut -d' ' -f1)
tls_speed=$(scurl shop.tls.test --max-time 20 -o "$WORK/big.https" -w '%{speed_download}' https://shop.tls.test/big.bin)
[ "$(sha256sum < "$WORK/big.https" | cut -d' ' -f1)" = "$want" ] || fail "20 MB over https: sha256 differs"
# The same over plain http, for comparison (shown, not judged: a shared machine).
plain_speed=$(scurl plain.tls.test --max-time 20 -o "$WORK/big.http" -w '%{speed_download}' http://plain.tls.test/big.bin)
[ "$(sha256sum < "$WORK/big.http" | cut -d' ' -f1)" = "$want" ] || fail "20 MB over http: sha256 differs"
rm -f "$WORK/big.https" "$WORK/big.http"
echo "keep-alive over TLS; 20 MB over https, sha256 equal ($((${tls_speed%.*} / 1000000)) MB/s; plain http $((${plain_speed%.*} / 1000000)) MB/s)"

# 4. Port 80: 308 for a host with TLS; none for the opt-out and for a host without TLS.
scurl shop.tls.test -I "http://shop.tls.test/p/q?x=1" > "$WORK/308.txt"
head -1 "$WORK/308.txt" | grep -q "^HTTP/1.1 308 Permanent Redirect" || { cat "$WORK/308.txt"; fail "no 308 for shop.tls.test on http"; }
grep -qi "^location: https://shop.tls.test/p/q?x=1"$'\r'"\$" "$WORK/308.txt" || { cat "$WORK/308.txt"; fail "308's Location"; }
c=$(scurl shop.tls.test -L -o "$WORK/followed.txt" -w '%{http_code} %{num_redirects} %{scheme}' http://shop.tls.test/)
[ "${c,,}" = "200 1 https" ] && grep -q "^hello from pod" "$WORK/followed.txt" || fail "following the 308: $c"
c=$(scurl optout.wild.tls.test -o "$WORK/optout.txt" -w '%{http_code}' http://optout.wild.tls.test/)
[ "$c" = 200 ] && grep -q "^hello from pod" "$WORK/optout.txt" || fail "ssl-redirect: \"false\": $c, expected 200 on http"
c=$(scurl plain.tls.test -o /dev/null -w '%{http_code}' http://plain.tls.test/)
[ "$c" = 200 ] || fail "a host without TLS on http: $c, expected 200"
echo "308 to https for shop.tls.test on port 80 (followed by curl -L); opt-out and plain hosts served on http"

# 5. Counters and metrics.
[ "$(counter_field http https-accepted)" -ge 8 ] || fail "https-accepted: $(counter_field http https-accepted)"
[ "$(counter_field http https-redirects)" -ge 2 ] || fail "https-redirects: $(counter_field http https-redirects)"
ip netns exec "$P-gw" curl -s "http://127.0.0.1:$metrics_port/metrics" > "$WORK/metrics.txt"
grep -q '^kgw_http_https_redirects_total{worker="0"} [1-9]' "$WORK/metrics.txt" || fail "no redirect metric"
grep -q '^kgw_tls_buffered_connections{worker="0"} [0-9]' "$WORK/metrics.txt" &&
  grep -q '^kgw_tls_buffers_released_total{worker="0"} 0$' "$WORK/metrics.txt" ||
  fail "no kgw_tls_buffered_connections / kgw_tls_buffers_released_total (0 below the default bound)"
grep -q '^kgw_http_errors_total{.*reason="misdirected".*} 4' "$WORK/metrics.txt" \
  || { grep kgw_http_errors_total "$WORK/metrics.txt" | head; fail "no 421 in kgw_http_errors_total"; }
cli "show counters" | grep "^http: "
echo "PASS"
