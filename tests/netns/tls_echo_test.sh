#!/usr/bin/env bash
# TLS termination end to end, before the proxy: `kgw dataplane --manifests`
# on a veth (net_af_packet) with the echo service over TLS on
# ingress.tls_echo_port, certificates from kubernetes.io/tls Secrets that an
# Ingress names, made here with the openssl CLI under a test CA (no key is
# committed). Kernel clients in a namespace (openssl s_client, curl, Python):
#   1. SNI picks the certificate: an exact name, a wildcard (one label), the
#      default certificate (ingress.default_certificate) for an unknown name,
#      a name two labels below the wildcard and no SNI; each chain verifies;
#   2. TLS 1.0 and 1.1 are refused (counted by the server, so the client did offer them);
#   3. ALPN: http/1.1 chosen; curl verifies and negotiates it;
#   4. resumption by session ticket, TLS 1.3 and TLS 1.2 (-sess_out / -sess_in);
#   5. 4 MiB echoed through TLS, sha256 compared, then close_notify both ways;
#   6. `show certificates`, the tls counters and the metrics' expiry gauge.
#   tls_echo_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages
command -v openssl > /dev/null || { echo "SKIP: no openssl"; exit 77; }

P=kgwl$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- counters"; "$KGW" cli --file-prefix "$P" -c "show counters" 2>/dev/null | grep "^tls"
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  exit 1
}

# --- certificates: a CA, three leaves, a default -------------------------------
cd "$WORK" || exit 1
tls_test_ca "$WORK" "kgw netns test CA" || fail "cannot make the test CA"
tls_leaf "$WORK" a a.tls.test a.tls.test || fail "cannot make certificate a"
tls_leaf "$WORK" b b.tls.test b.tls.test || fail "cannot make certificate b"
tls_leaf "$WORK" wild "*.wild.tls.test" "*.wild.tls.test" || fail "cannot make certificate wild"
tls_leaf "$WORK" dflt dflt.tls.test dflt.tls.test || fail "cannot make certificate dflt"
mkdir -p manifests
{
  cat <<'YAML'
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: kgw
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: kgw.dev/ingress-controller}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop}
spec:
  tls:
  - {hosts: [a.tls.test], secretName: a-tls}
  - {hosts: [b.tls.test], secretName: b-tls}
  - {hosts: ["*.wild.tls.test"], secretName: wild-tls}
  rules:
  - host: a.tls.test
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
YAML
  tls_secret a-tls a
  tls_secret b-tls b
  tls_secret wild-tls wild
  tls_secret dflt-tls dflt
} > manifests/tls.yaml
cd - > /dev/null || exit 1

netns_add "$P-client"
netns_add "$P-gw"
veth_link "$P-client" c0 "$P-gw" g0
quiet_gateway_if "$P-gw" g0
ip -n "$P-client" addr add 198.18.0.2/24 dev c0
no_checksum_offload "$P-client" c0
ip netns exec "$P-client" ethtool -K c0 tso off gso off > /dev/null 2>&1 || true
ip netns exec "$P-gw" ethtool -K g0 gro off tso off gso off > /dev/null 2>&1 || true
mac=$(ip -n "$P-client" -br link show c0 | awk '{print $3}')

cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-tls
  addresses: [198.18.0.1]
ports:
  - {name: p0, device: "net_af_packet0,iface=g0,qdisc_bypass=1"}
neighbors:
  - {ip: 198.18.0.2, mac: "$mac", port: p0}
workers: 1
dataplane:
  file_prefix: $P
  mbufs: 16383
  table_memory_mb: 16
services:
  conntrack_entries: 4096
  affinity_entries: 1024
  counter_slots: 1024
  max_services: 64
ingress:
  # The echo service alone: no proxy (it would need snat.addresses).
  http_port: 0
  https_port: 0
  tls_echo_port: 8443
  default_certificate: shop/dflt-tls
metrics:
  listen: "127.0.0.1:19$((RANDOM % 900 + 100))"
YAML

"$KGW" validate -c "$WORK/gateway.yaml" --manifests "$WORK/manifests" > "$WORK/validate.log" 2>&1 \
  || { cat "$WORK/validate.log"; fail "kgw validate"; }
grep -q "info: tls: 4 certificates for 3 host names; default certificate: shop/dflt-tls" "$WORK/validate.log" \
  || { cat "$WORK/validate.log"; fail "validate's tls summary"; }

start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P" "$WORK/manifests"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not come up"
grep -q "tls: echo (RFC 862) over TLS on port 8443" "$WORK/dp.log" || fail "no TLS echo service announced"

# s_client NAME [args...]: a handshake with SNI NAME ("" = none), the
# session's first half-second, then EOF (close_notify).
s_client() {
  local name=$1
  shift
  local sni=(-servername "$name")
  [ -z "$name" ] && sni=(-noservername)
  sleep 0.5 | client timeout 10 openssl s_client -connect 198.18.0.1:8443 "${sni[@]}" -CAfile "$WORK/ca.pem" "$@" 2>&1
}

# 1. SNI.
check_cert() {  # check_cert SNI CN VERIFY_NAME
  local out
  out=$(s_client "$1" ${3:+-verify_hostname "$3"} -verify_return_error)
  grep -q "^subject=CN = $2\$" <<< "$out" || { echo "$out" | head -30; fail "SNI '$1': not the certificate of $2"; }
  grep -q "Verify return code: 0 (ok)" <<< "$out" || { echo "$out" | head -30; fail "SNI '$1': chain does not verify"; }
  echo "SNI '${1:-(none)}' -> $2"
}
check_cert a.tls.test a.tls.test a.tls.test
check_cert b.tls.test b.tls.test b.tls.test
check_cert x.wild.tls.test "\*.wild.tls.test" x.wild.tls.test
check_cert unknown.tls.test dflt.tls.test dflt.tls.test
check_cert y.x.wild.tls.test dflt.tls.test dflt.tls.test
check_cert "" dflt.tls.test dflt.tls.test
[ "$(counter_field tls sni-exact)" -ge 2 ] || fail "sni-exact not counted"
[ "$(counter_field tls sni-wildcard)" -ge 1 ] || fail "sni-wildcard not counted"
[ "$(counter_field tls sni-default)" -ge 3 ] || fail "sni-default not counted"

# 2. Old protocols: the client is allowed to offer them, the server refuses.
cat > "$WORK/legacy.cnf" <<'CNF'
openssl_conf = init
[init]
ssl_conf = ssl
[ssl]
system_default = sys
[sys]
MinProtocol = TLSv1
CipherString = DEFAULT@SECLEVEL=0
CNF
for v in tls1 tls1_1; do
  before=$(counter_field tls failed-version)
  out=$(OPENSSL_CONF="$WORK/legacy.cnf" s_client a.tls.test -"$v")
  grep -q "Cipher is (NONE)\|alert protocol version\|handshake failure" <<< "$out" \
    || { echo "$out" | head -20; fail "-$v was not refused"; }
  [ "$(counter_field tls failed-version)" -gt "$before" ] || fail "-$v: the server did not count a refused version"
  echo "-$v refused"
done

# 3. ALPN.
out=$(s_client a.tls.test -alpn http/1.1)
grep -q "ALPN protocol: http/1.1" <<< "$out" || fail "ALPN http/1.1 not chosen"
before=$(counter_field tls failed-alpn)
out=$(s_client a.tls.test -alpn h2)
grep -q "^Protocol *: TLS" <<< "$out" && fail "ALPN h2 alone accepted"
[ "$(counter_field tls failed-alpn)" -gt "$before" ] || fail "ALPN h2 alone: not refused by the server"
client curl -sv --max-time 3 --cacert "$WORK/ca.pem" --resolve a.tls.test:8443:198.18.0.1 \
  https://a.tls.test:8443/ > "$WORK/curl.log" 2>&1
grep -q "SSL certificate verify ok" "$WORK/curl.log" || { cat "$WORK/curl.log"; fail "curl: certificate not verified"; }
grep -q "ALPN: server accepted http/1.1\|ALPN, server accepted to use http/1.1" "$WORK/curl.log" \
  || { cat "$WORK/curl.log"; fail "curl: no ALPN"; }
echo "ALPN http/1.1 (s_client, curl)"

# 4. Resumption.
for v in tls1_3 tls1_2; do
  s_client a.tls.test -"$v" -sess_out "$WORK/sess.$v" > /dev/null
  out=$(s_client a.tls.test -"$v" -sess_in "$WORK/sess.$v")
  grep -q "^Reused, TLSv1\.[23]" <<< "$out" || { echo "$out" | grep -i "new\|reuse"; fail "-$v: session not resumed"; }
  echo "-$v resumed"
done
[ "$(counter_field tls resumed)" -ge 2 ] || fail "resumptions not counted"

# 5. Data through TLS, then close_notify both ways.
client /usr/bin/python3 - "$WORK/ca.pem" <<'PY' || fail "echo over TLS"
import hashlib, os, select, socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
data = os.urandom(4 << 20)
with socket.create_connection(("198.18.0.1", 8443), timeout=30) as raw:
    s = ctx.wrap_socket(raw, server_hostname="a.tls.test")
    # One thread: an SSL object must not be read and written at once from
    # two threads (it corrupts the record layer's state), so writes and
    # reads alternate on a non-blocking socket.
    s.setblocking(False)
    got = bytearray()
    sent = 0
    while len(got) < len(data):
        want_write = sent < len(data)
        r, w, _ = select.select([s], [s] if want_write else [], [], 30)
        if not r and not w and not s.pending():
            sys.exit(f"stalled: sent {sent}, received {len(got)}")
        if want_write:
            try:
                sent += s.send(data[sent:sent + (1 << 14)])
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                pass
        while True:
            try:
                chunk = s.recv(1 << 16)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                break
            if not chunk:
                sys.exit(f"closed early: received {len(got)}")
            got += chunk
    ok = hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    version = s.version()
    s.setblocking(True)
    s.settimeout(30)
    s.unwrap()  # our close_notify, then the server's
    print(f"echoed {len(got)} bytes over {version}, sha256 {'equal' if ok else 'DIFFERS'}")
    sys.exit(0 if ok else 1)
PY
[ "$(cli 'show counters' | sed -n 's/^tls echo: .* bytes \([0-9]*\).*/\1/p')" -ge $((4 << 20)) ] || fail "echo bytes"
[ "$(counter_field tls close-notify)" -ge 1 ] || fail "close_notify not counted"

# 6. The CLI and the metrics; no key anywhere.
cli "show certificates" > "$WORK/certs.txt"
grep -q "^shop/a-tls" "$WORK/certs.txt" && grep -q "serves       \*.wild.tls.test" "$WORK/certs.txt" \
  && grep -q "^shop/dflt-tls  (default certificate)" "$WORK/certs.txt" && grep -q "sha256" "$WORK/certs.txt" \
  || { cat "$WORK/certs.txt"; fail "show certificates"; }
port=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$WORK/gateway.yaml")
ip netns exec "$P-gw" curl -s "http://127.0.0.1:$port/metrics" > "$WORK/metrics.txt"
grep -q '^kgw_tls_certificate_expiry_seconds{secret="shop/a-tls"} [0-9]' "$WORK/metrics.txt" \
  || fail "no expiry gauge"
grep -q '^kgw_tls_handshakes_total{worker="0",result="ok",version="TLSv1.3"} [1-9]' "$WORK/metrics.txt" \
  || fail "no handshake counter"
! grep -q "PRIVATE KEY" "$WORK/certs.txt" "$WORK/metrics.txt" "$WORK/dp.log" || fail "a private key was shown"
cli "show counters" | grep "^tls"
echo "PASS"
