# Shared by the DNS tests against other DNS software (dns_diff_test.sh,
# dns_resolver_test.sh), sourced after KGW is set and lib.sh sourced: a LAN
# of namespaces around kgw's DNS responder, Knot DNS serving zone files, and
# the gateway.yaml and manifests both tests use.
#
#   P-lan: bridge br0, with a veth to each of
#     P-gw      kgw's port p0 (g0), DNS addresses 198.18.0.53 and 2001:2::53
#     P-client  198.18.0.2, 2001:2::2 (dig, dnsperf)
#     P-auth    198.18.0.3, 2001:2::3 (knotd)
#     P-res     198.18.0.4, 2001:2::4 (unbound, dns_resolver_test.sh only)

DNS_INTEROP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DNS_KGW_V4=198.18.0.53
DNS_KGW_V6=2001:2::53
DNS_TTL=5

# dns_test_init TAG TOOL...: skips (exit 77) without root, hugepages or one
# of the TOOLs; sets P (TAG and the pid: names of namespaces and the DPDK
# prefix), WORK (a scratch directory) and the EXIT trap that removes what the
# test made.
dns_test_init() {
  local tag=$1 tool
  shift
  netns_require_root_and_hugepages
  for tool in "$@"; do
    command -v "$tool" > /dev/null || { echo "SKIP: no $tool (Debian packages bind9-dnsutils, knot, unbound)"; exit 77; }
  done
  P=$tag$$
  WORK=$(mktemp -d)
  trap 'netns_cleanup; rm -rf "$WORK"' EXIT
}

# fail MESSAGE: the message and the end of every log of the test, exit 1.
fail() {
  local f
  echo "FAIL: $*"
  for f in "$WORK"/dp.log "$WORK"/control.log "$WORK"/*/knot.log "$WORK"/unbound.log; do
    [ -f "$f" ] && { echo "--- ${f#"$WORK"/}"; tail -n 30 "$f"; }
  done
  exit 1
}

# dns_lan_topology P HOSTS...: the bridge, kgw's namespace, and one namespace
# per HOST (client, auth, res) with its addresses above.
dns_lan_topology() {
  local P=$1 host n
  shift
  netns_add "$P-lan"
  ip -n "$P-lan" link add br0 type bridge
  ip -n "$P-lan" link set br0 up
  netns_add "$P-gw"
  veth_link "$P-gw" g0 "$P-lan" gw
  ip -n "$P-lan" link set gw master br0
  quiet_gateway_if "$P-gw" g0
  for host in "$@"; do
    case $host in client) n=2 ;; auth) n=3 ;; res) n=4 ;; *) echo "dns_lan_topology: $host?"; return 1 ;; esac
    netns_add "$P-$host"
    veth_link "$P-$host" eth0 "$P-lan" "$host"
    ip -n "$P-lan" link set "$host" master br0
    ip -n "$P-$host" addr add "198.18.0.$n/24" dev eth0
    ip -n "$P-$host" -6 addr add "2001:2::$n/64" dev eth0 nodad
    # The senders fill in their checksums, as a NIC would on the wire
    # (kgw reads them from AF_PACKET as they are).
    no_checksum_offload "$P-$host" eth0
  done
}

# dns_gateway_yaml FILE PREFIX: kgw with one port on the LAN and the DNS
# responder for cluster.local.
dns_gateway_yaml() {
  cat > "$1" <<YAML
node:
  name: netns-dns-interop
  addresses: [198.18.0.1, "2001:2::1"]
ports:
  - {name: p0, device: "net_af_packet0,iface=g0,qdisc_bypass=1", networks: [198.18.0.0/24, "2001:2::/64"]}
dataplane:
  file_prefix: $2
  mbufs: 8191
dns:
  addresses: [$DNS_KGW_V4, "$DNS_KGW_V6"]
  zone: cluster.local
  ttl: $DNS_TTL
ingress: {http_port: 0, https_port: 0}
YAML
}

# dns_start_kgw P WORK: the dataplane and `kgw control` over the tests'
# manifests (copied to WORK/manifests); returns 1 unless both run and control
# published the names.
dns_start_kgw() {
  local P=$1 WORK=$2
  dns_gateway_yaml "$WORK/gateway.yaml" "$P"
  mkdir -p "$WORK/manifests"
  cp "$DNS_INTEROP_DIR"/manifests-dns/*.yaml "$WORK/manifests/"
  start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P"
  wait_dataplane "$KGW" "$P" 30 || return 1
  ip netns exec "$P-gw" "$KGW" control -c "$WORK/gateway.yaml" --manifests "$WORK/manifests" > "$WORK/control.log" 2>&1 &
  STARTED_PIDS+=($!)
  wait_grep 20 "dns: generation" "$WORK/control.log"
}

# dns_start_knot NS DIR LISTEN... : knotd in namespace NS serving every zone of
# DIR/zones.list ("ZONE FILE" a line), its state in DIR/knot; listens on
# ADDR@PORT for each LISTEN. Returns 1 unless it answers the first zone's SOA.
dns_start_knot() {
  local ns=$1 dir=$2 zone file l
  shift 2
  mkdir -p "$dir/knot"
  {
    echo "server:"
    echo "  rundir: \"$dir/knot\""
    for l in "$@"; do echo "  listen: $l"; done
    echo "log:"
    echo "  - target: stderr"
    echo "    any: info"
    echo "database:"
    echo "  storage: \"$dir/knot\""
    echo "template:"
    echo "  - id: default"
    echo "    storage: \"$dir/knot\""
    # Serve the files as they are: no journal, no zone file written back.
    echo "    zonefile-sync: -1"
    echo "    journal-content: none"
    echo "zone:"
    while read -r zone file; do
      echo "  - domain: \"$zone\""
      echo "    file: \"$file\""
    done < "$dir/zones.list"
  } > "$dir/knot.conf"
  knotc -c "$dir/knot.conf" conf-check > "$dir/knot-check.log" 2>&1 || { cat "$dir/knot-check.log"; return 1; }
  ip netns exec "$ns" knotd -c "$dir/knot.conf" > "$dir/knot.log" 2>&1 &
  STARTED_PIDS+=($!)
  local first addr n
  first=$(awk 'NR == 1 {print $1}' "$dir/zones.list")
  addr=${1%@*}
  for ((n = 0; n < 50; n++)); do
    ip netns exec "$ns" dig +short +time=1 +tries=1 -p "${1#*@}" "@$addr" "$first" SOA 2>/dev/null | grep -q . && return 0
    sleep 0.1
  done
  cat "$dir/knot.log"
  return 1
}
