#!/usr/bin/env bash
# kgw's DNS behind a recursive resolver (issue 16, "an ExternalName followed
# by a resolver"): unbound in its own namespace, with a stub zone for
# cluster.local pointing at kgw's DNS address and one for example.test at
# Knot DNS (the external name's authoritative server). dig at the resolver:
# an ExternalName Service gets its CNAME from kgw and the target's A record
# from Knot, the resolver following the alias; a ClusterIP Service's A and
# AAAA, an in-zone alias, SRV and NXDOMAIN come through it as kgw gave them.
# About 10 s.
#   dns_resolver_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"
source "$HERE/dns_interop_lib.sh"

dns_test_init kgwdnsres dig knotd knotc unbound unbound-checkconf

dns_lan_topology "$P" client auth res

# The external name's zone: www.example.test, the ExternalName's target.
mkdir -p "$WORK/ext"
cat > "$WORK/ext/example.test.zone" <<'ZONE'
$ORIGIN example.test.
$TTL 60
@    IN SOA ns.example.test. hostmaster.example.test. 1 7200 1800 86400 60
@    IN NS  ns.example.test.
ns   IN A   198.18.0.3
www  IN A   198.18.0.80
www  IN AAAA 2001:2::80
ZONE
echo "example.test. $WORK/ext/example.test.zone" > "$WORK/ext/zones.list"
dns_start_knot "$P-auth" "$WORK/ext" 198.18.0.3@53 || fail "knotd did not start"
dns_start_kgw "$P" "$WORK" || fail "kgw did not start or publish its names"

# The resolver: no DNSSEC validation (nothing here is signed, and there is no
# root), no root hints used: everything it may ask is under the stub zones.
# test. is one of unbound's default local zones (RFC 6761): turned off.
mkdir -p "$WORK/unbound"
cat > "$WORK/unbound.conf" <<CONF
server:
  interface: 198.18.0.4
  interface: 2001:2::4
  port: 53
  access-control: 198.18.0.0/15 allow
  access-control: 2001:2::/48 allow
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$WORK/unbound"
  pidfile: "$WORK/unbound/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 1
  module-config: "iterator"
  local-zone: "test." nodefault
  domain-insecure: "cluster.local"
  domain-insecure: "example.test"
  num-threads: 1
stub-zone:
  name: "cluster.local"
  stub-addr: $DNS_KGW_V4
stub-zone:
  name: "example.test"
  stub-addr: 198.18.0.3
CONF
unbound-checkconf "$WORK/unbound.conf" > /dev/null || fail "unbound.conf: $(unbound-checkconf "$WORK/unbound.conf" 2>&1)"
ip netns exec "$P-res" unbound -d -c "$WORK/unbound.conf" > "$WORK/unbound.log" 2>&1 &
STARTED_PIDS+=($!)
for ((n = 0; n < 50; n++)); do
  client dig +short +time=1 +tries=1 @198.18.0.4 ns.example.test A 2>/dev/null | grep -q 198.18.0.3 && break
  sleep 0.2
done
[ "$n" -lt 50 ] || fail "unbound does not answer"

ask() {  # ask NAME TYPE [dig options]: status, flags, then the answer's records sorted
  client dig +time=3 +tries=2 @198.18.0.4 "$@" > "$WORK/dig.out" 2>&1
  awk '/->>HEADER<<-/ {gsub(",", "", $6); print "status " $6} /^;; flags:/ {match($0, /flags:[^;]*/); print substr($0, RSTART, RLENGTH)}' "$WORK/dig.out"
  sed -n '/^;; ANSWER SECTION:/,/^$/p' "$WORK/dig.out" | grep -v '^;;\|^$' | awk '{$2 = ""; $3 = ""; print}' | tr -s ' ' | sort
}
expect() {  # expect WHAT GOT WANT
  [ "$2" = "$3" ] || fail "$1: got
$2
want
$3"
  echo "ok: $1"
}

expect "ExternalName followed to its target" "$(ask ext.shop.svc.cluster.local A)" "status NOERROR
flags: qr rd ra
ext.shop.svc.cluster.local. CNAME www.example.test.
www.example.test. A 198.18.0.80"
expect "ExternalName, AAAA" "$(ask ext.shop.svc.cluster.local AAAA)" "status NOERROR
flags: qr rd ra
ext.shop.svc.cluster.local. CNAME www.example.test.
www.example.test. AAAA 2001:2::80"
expect "ClusterIP A" "$(ask web.shop.svc.cluster.local A)" "status NOERROR
flags: qr rd ra
web.shop.svc.cluster.local. A 198.18.100.10"
expect "ClusterIP AAAA" "$(ask web.shop.svc.cluster.local AAAA)" "status NOERROR
flags: qr rd ra
web.shop.svc.cluster.local. AAAA fd00::10"
expect "ExternalName inside the zone" "$(ask alias.shop.svc.cluster.local A)" "status NOERROR
flags: qr rd ra
alias.shop.svc.cluster.local. CNAME web.shop.svc.cluster.local.
web.shop.svc.cluster.local. A 198.18.100.10"
expect "headless SRV" "$(ask _pg._tcp.db.shop.svc.cluster.local SRV)" "status NOERROR
flags: qr rd ra
_pg._tcp.db.shop.svc.cluster.local. SRV 0 33 5432 198-19-1-14.db.shop.svc.cluster.local.
_pg._tcp.db.shop.svc.cluster.local. SRV 0 33 5432 db-0.db.shop.svc.cluster.local.
_pg._tcp.db.shop.svc.cluster.local. SRV 0 33 5432 db-1.db.shop.svc.cluster.local."
expect "NXDOMAIN" "$(ask nothing.shop.svc.cluster.local A)" "status NXDOMAIN
flags: qr rd ra"
expect "headless without a ready endpoint" "$(ask idle.shop.svc.cluster.local A)" "status NXDOMAIN
flags: qr rd ra"
expect "NODATA (an IPv6-only Service)" "$(ask v6.shop.svc.cluster.local A)" "status NOERROR
flags: qr rd ra"
expect "a dangling ExternalName" "$(ask dangling.shop.svc.cluster.local A)" "status NXDOMAIN
flags: qr rd ra
dangling.shop.svc.cluster.local. CNAME gone.shop.svc.cluster.local."
# The resolver asked kgw itself (the queries are counted there).
queries=$(counter_field dns queries)
[ "${queries:-0}" -ge 5 ] || fail "kgw counted ${queries:-no} DNS queries"
echo "kgw answered $queries queries for the resolver"
echo "PASS"
