#!/usr/bin/env bash
# The HTTP proxy's observability (issue 13), on the demo topology with
# `kgw control` following the manifests and writing ingress.access_log:
#   1. requests for two routes (3 to shop.example/, 2 to api.example/api/) and
#      one no route takes (404): /metrics counts each route by status class,
#      with its labels, and its duration histogram (+Inf bucket, _count);
#      and each endpoint's requests (/metrics and show endpoints);
#   2. the access log has one JSON line per request (parsed by python3's
#      json), with the status, host, path, route, backend and request id each
#      request had;
#   3. an unrelated Ingress published (its rules sort before the others'):
#      every count stays, the new route shows with zeros, and the next request
#      to shop.example/ counts on;
#   4. the access log moved away (a rotation): the next line goes to a new file;
#   5. no entry was dropped.
#   proxy_obs_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages
command -v curl > /dev/null || { echo "FAIL: curl missing (scripts/setup.sh installs it)"; exit 1; }

P=kgwpobs$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- counters"; cli "show counters" 2>/dev/null | grep -E "^http"
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  echo "--- control log"; tail -n 20 "$WORK/control.log" 2>/dev/null
  echo "--- access log"; cat "$WORK/access.log" 2>/dev/null
  exit 1
}

pod_topology "$P" "$WORK"
mkdir -p "$WORK/pod3/api"
echo "api on pod3" > "$WORK/pod3/api/index.html"
printf "127.0.0.1 localhost\n198.18.0.1 shop.example api.example other.example nowhere.example\n" \
  > "/etc/netns/$P-client/hosts"

mkdir -p "$WORK/manifests"
service() {  # service NAME CLUSTER_IP POD_ADDRESS...: a Service on port 80 to 8080 and its EndpointSlice
  local name=$1 ip=$2 a
  shift 2
  printf -- "---\napiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: shop}\n" "$name"
  printf "spec: {clusterIP: %s, ports: [{name: http, port: 80, targetPort: 8080}]}\n" "$ip"
  printf -- "---\napiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
  printf "metadata: {name: %s-1, namespace: shop, labels: {kubernetes.io/service-name: %s}}\n" "$name" "$name"
  printf "addressType: IPv4\nports: [{name: http, protocol: TCP, port: 8080}]\nendpoints:\n"
  for a in "$@"; do printf "  - {addresses: [%s]}\n" "$a"; done
}
{
  cat <<'YAML'
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: kgw, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: kgw.dev/ingress-controller}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop, creationTimestamp: "2024-06-01T00:00:00Z"}
spec:
  rules:
    - host: shop.example
      http:
        paths:
          - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
    - host: api.example
      http:
        paths:
          - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
YAML
  service web 198.18.100.10 198.19.1.11 198.19.1.12
  service api 198.18.100.11 198.19.1.13
} > "$WORK/manifests/shop.yaml"
cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-proxy-obs
  addresses: [198.18.0.1, 198.19.1.1]
ingress:
  addresses: [198.18.0.1]
  access_log: $WORK/access.log
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
  listen: "127.0.0.1:9464"
YAML
cat "$WORK/neighbors.yaml" >> "$WORK/gateway.yaml"
ip netns exec "$P-gw" ip link set lo up
start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P" "$WORK/manifests"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not start"
wait_pods "$P" || fail "the pods' HTTP servers did not start"
start_control "$WORK/gateway.yaml" "$WORK/manifests" "$WORK/control.log" 10 ||
  { cli "show config status"; fail "control did not attach"; }
wait_grep 10 "access log: writing" "$WORK/control.log" || fail "control does not write the access log"

code() { client curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$1"; }
metrics() { ip netns exec "$P-gw" curl -s --max-time 5 http://127.0.0.1:9464/metrics; }
# sample NAME LABELS...: the value of the sample of NAME whose labels include each of LABELS.
sample() {
  local name=$1
  shift
  metrics | grep "^$name{" | while read -r line; do
    local l ok=1
    for l in "$@"; do [[ "$line" == *"$l"* ]] || ok=0; done
    [ "$ok" = 1 ] && echo "${line##* }"
  done | head -n 1
}
SHOP=('ingress="shop"' 'host="shop.example"' 'path="/"' 'path_type="Prefix"' 'service="web"' 'service_port="80"')
API=('namespace="shop"' 'ingress="shop"' 'host="api.example"' 'path="/api"' 'service="api"')
NONE=('namespace=""' 'ingress=""' 'host=""' 'path=""')

# --- 1. two routes and a 404 -------------------------------------------------
for i in 1 2; do [ "$(code shop.example/)" = 200 ] || fail "shop.example/ request $i"; done
# The third with an X-Request-ID of the client's own: passed on, and logged as it came.
[ "$(client curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H 'X-Request-ID: client-id-42' \
  http://shop.example/)" = 200 ] || fail "shop.example/ request 3"
for i in 1 2; do [ "$(code api.example/api/)" = 200 ] || fail "api.example/api/ request $i"; done
[ "$(code nowhere.example/x)" = 404 ] || fail "a host no rule names is not 404"
check() {  # check WHAT WANT GOT
  [ "$3" = "$2" ] || fail "$1: want $2, got ${3:-nothing}"
  echo "ok: $1 = $3"
}
check "shop 2xx" 3 "$(sample kgw_ingress_requests_total "${SHOP[@]}" 'status_class="2xx"')"
check "shop 4xx" 0 "$(sample kgw_ingress_requests_total "${SHOP[@]}" 'status_class="4xx"')"
check "api 2xx" 2 "$(sample kgw_ingress_requests_total "${API[@]}" 'status_class="2xx"')"
check "no route 4xx" 1 "$(sample kgw_ingress_requests_total "${NONE[@]}" 'status_class="4xx"')"
check "shop histogram +Inf" 3 "$(sample kgw_ingress_request_duration_seconds_bucket "${SHOP[@]}" 'le="+Inf"')"
check "shop histogram count" 3 "$(sample kgw_ingress_request_duration_seconds_count "${SHOP[@]}")"
check "api histogram count" 2 "$(sample kgw_ingress_request_duration_seconds_count "${API[@]}")"
# Through veths on one machine a request takes far less than 10 s.
check "shop histogram le=10" 3 "$(sample kgw_ingress_request_duration_seconds_bucket "${SHOP[@]}" 'le="10"')"
[ "$(sample kgw_ingress_response_bytes_total "${SHOP[@]}")" -gt 0 ] || fail "no response bytes for shop"
# Per endpoint: the same requests by the Pod that answered them, in /metrics and show endpoints.
check "web's endpoints' requests" 3 \
  "$(metrics | grep '^kgw_endpoint_http_requests_total{service="shop/web"' | awk '{s += $NF} END {print s + 0}')"
EP_API=('service="shop/api"' 'endpoint="198.19.1.13:8080"')
check "api endpoint requests" 2 "$(sample kgw_endpoint_http_requests_total "${EP_API[@]}")"
check "api endpoint 2xx" 2 "$(sample kgw_endpoint_http_responses_total "${EP_API[@]}" 'status_class="2xx"')"
check "api endpoint failures" 0 "$(sample kgw_endpoint_http_failures_total "${EP_API[@]}")"
cli "show endpoints shop/api" | grep -q "198.19.1.13:8080 .* http-requests 2  1xx 0  2xx 2 " ||
  fail "show endpoints does not count api's requests: $(cli "show endpoints shop/api")"

# --- 2. one JSON line per request --------------------------------------------
for ((n = 0; n < 30; n++)); do
  [ "$(wc -l < "$WORK/access.log" 2>/dev/null || echo 0)" -ge 6 ] && break
  sleep 0.1
done
/usr/bin/python3 - "$WORK/access.log" <<'PY' || fail "access log lines"
import datetime, json, re, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert len(lines) == 6, f"want 6 lines, got {len(lines)}"
recs = [json.loads(l) for l in lines]
want = [("shop.example", "/", 200, "shop/shop")] * 3 + [("api.example", "/api/", 200, "shop/shop")] * 2 + \
       [("nowhere.example", "/x", 404, "")]
for r, (host, path, status, route) in zip(recs, want):
    assert (r["host"], r["path"], r["status"], r["route"]) == (host, path, status, route), r
    assert r["method"] == "GET" and r["protocol"] == "HTTP/1.1", r
    assert r["client"].startswith("198.18.0.2:"), r
    t = datetime.datetime.strptime(r["time"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert abs((datetime.datetime.utcnow() - t).total_seconds()) < 120, r
    assert r["request_duration"] >= 0 and r["response_bytes"] > 0 and r["request_bytes"] > 0, r
    assert r["truncated"] == [] and r["tls"] is False, r
    if status == 200:
        assert re.fullmatch(r"198\.19\.1\.1[123]:8080", r["backend"]), r
        assert r["upstream_header_time"] is not None, r
        # The X-Request-ID sent: the client's own on the third request, else one made.
        assert r["request_id"] == "client-id-42" if r is recs[2] else re.fullmatch(r"[0-9a-f]{32}", r["request_id"]), r
    else:  # answered by the proxy: nothing was sent on, no id made
        assert r["backend"] == "" and r["upstream_header_time"] is None and r["request_id"] == "", r
assert {r["backend"] for r in recs[3:5]} == {"198.19.1.13:8080"}, recs[3:5]
assert len({r["request_id"] for r in recs}) == 6, "request ids repeat"
print("ok: access log has 6 well-formed lines")
PY

# --- 3. an unrelated Ingress published: counts stay ---------------------------
cat > "$WORK/manifests/other.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: aaa-other, namespace: shop, creationTimestamp: "2020-01-01T00:00:00Z"}
spec:
  rules:
    - host: other.example
      http:
        paths:
          - {path: /, pathType: Exact, backend: {service: {name: web, port: {number: 80}}}}
YAML
for ((n = 0; n < 100; n++)); do
  [ -n "$(sample kgw_ingress_requests_total 'ingress="aaa-other"' 'status_class="2xx"')" ] && break
  sleep 0.1
done
[ "$n" -lt 100 ] || fail "the new Ingress's route never showed in /metrics"
check "new route 2xx" 0 "$(sample kgw_ingress_requests_total 'ingress="aaa-other"' 'status_class="2xx"')"
check "shop 2xx after the publish" 3 "$(sample kgw_ingress_requests_total "${SHOP[@]}" 'status_class="2xx"')"
check "api 2xx after the publish" 2 "$(sample kgw_ingress_requests_total "${API[@]}" 'status_class="2xx"')"
check "no route 4xx after the publish" 1 "$(sample kgw_ingress_requests_total "${NONE[@]}" 'status_class="4xx"')"
[ "$(code shop.example/)" = 200 ] || fail "shop.example/ after the publish"
check "shop 2xx counts on" 4 "$(sample kgw_ingress_requests_total "${SHOP[@]}" 'status_class="2xx"')"
check "shop histogram count counts on" 4 "$(sample kgw_ingress_request_duration_seconds_count "${SHOP[@]}")"

# --- 4. the log moved away: a new file -----------------------------------------
wait_grep 3 '"status":200' "$WORK/access.log" || fail "no line yet"
for ((n = 0; n < 30; n++)); do [ "$(wc -l < "$WORK/access.log")" -ge 7 ] && break; sleep 0.1; done
mv "$WORK/access.log" "$WORK/access.log.1"
sleep 1.5  # the writer looks at the path once a second
[ "$(code other.example/)" = 200 ] || fail "other.example/"
wait_grep 5 '"host":"other.example"' "$WORK/access.log" || fail "no new access log after the move"
check "lines in the moved file" 7 "$(wc -l < "$WORK/access.log.1")"
grep -q '"route":"shop/aaa-other"' "$WORK/access.log" || fail "the new route is not named in the log"

# --- 5. nothing dropped ----------------------------------------------------------
check "access-log-dropped" 0 "$(counter_field http access-log-dropped)"
check "kgw_http_access_log_dropped_total" 0 "$(sample kgw_http_access_log_dropped_total 'worker="0"')"
echo "PASS"
