#!/usr/bin/env bash
# kgw dns-check over the golden manifests: the status line and the records
# in presentation format, for a positive answer, a headless SRV, NXDOMAIN
# with the SOA, a CNAME with the query's case, REFUSED, a pod name (and
# NXDOMAIN for it with dns.pods: disabled); usage errors exit 2.
#   dns_check_test.sh path/to/kgw MANIFESTS GATEWAY
set -uo pipefail
KGW=$1 M=$2 G=$3
fail() { echo "FAIL: $*"; exit 1; }
check() {  # check "ARGS" EXPECTED
  local got
  got=$("$KGW" dns-check -c "$G" --manifests "$M" $1 2>&1) || fail "dns-check $1 exited $?: $got"
  [ "$got" = "$2" ] || fail "dns-check $1:
got:
$got
want:
$2"
  echo "ok: $1"
}
check "web.shop.svc.cluster.local" "status: NOERROR
web.shop.svc.cluster.local. 5 IN A 198.18.100.10"
check "_pg._tcp.db.shop.svc.cluster.local SRV" "status: NOERROR
_pg._tcp.db.shop.svc.cluster.local. 5 IN SRV 0 50 5432 db-0.db.shop.svc.cluster.local.
_pg._tcp.db.shop.svc.cluster.local. 5 IN SRV 0 50 5432 198-19-1-12.db.shop.svc.cluster.local."
check "nothing.shop.svc.cluster.local AAAA" "status: NXDOMAIN
cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5"
check "Ext.Shop.svc.cluster.local" "status: NOERROR
Ext.Shop.svc.cluster.local. 5 IN CNAME www.example.com."
check "web.shop.svc.cluster.local aaaa" "status: NOERROR
cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 5"
check "www.example.com" "status: REFUSED"
check "10-1-0-7.shop.pod.cluster.local" "status: NOERROR
10-1-0-7.shop.pod.cluster.local. 5 IN A 10.1.0.7"
# dns.pods: disabled, from the config: the pod name is NXDOMAIN.
T=$(mktemp)
trap 'rm -f "$T"' EXIT
cat "$G" > "$T"
sed -i 's/^  addresses: \[198.18.0.53, "2001:2::53"\]$/&\n  pods: disabled/' "$T"
grep -q "pods: disabled" "$T" || fail "could not write the disabled config"
got=$("$KGW" dns-check -c "$T" --manifests "$M" 10-1-0-7.shop.pod.cluster.local 2>&1)
[ "$(head -n 1 <<< "$got")" = "status: NXDOMAIN" ] || fail "pods disabled: $got"
echo "ok: pods disabled"
for bad in "" "a b c" "x bogus" "a..b"; do
  "$KGW" dns-check --manifests "$M" $bad > /dev/null 2>&1
  [ $? = 2 ] || fail "dns-check $bad: not a usage error"
done
echo PASS
