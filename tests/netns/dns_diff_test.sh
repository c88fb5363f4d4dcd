#!/usr/bin/env bash
# The differential check (issue 16): kgw's DNS responder, live on its
# port in a namespace, against Knot DNS serving the zone files the Kubernetes
# DNS specification gives for the same manifests (k8s_dns_zone.py, written
# from the manifests, not from kgw's table). dig asks both the same questions
# (dns_diff.py: every name, type, empty non-terminal, missing name, the
# zone's names in mixed case, names outside the zones; UDP with and without
# EDNS0, TCP) and every rcode, flag and section must match, but for the
# intended differences dns_diff.py lists with their reasons. About 15 s.
#   dns_diff_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"
source "$HERE/dns_interop_lib.sh"

dns_test_init kgwdnsdiff dig knotd knotc

dns_lan_topology "$P" client auth
/usr/bin/python3 "$HERE/k8s_dns_zone.py" "$HERE/manifests-dns" "$WORK/zones" --zone cluster.local --ttl "$DNS_TTL" \
  --ns-address "$DNS_KGW_V4" --ns-address "$DNS_KGW_V6" || fail "zone files not written"
dns_start_knot "$P-auth" "$WORK/zones" 198.18.0.3@53 2001:2::3@53 || fail "knotd did not start"
dns_start_kgw "$P" "$WORK" || fail "kgw did not start or publish its names"

for server in "198.18.0.53 198.18.0.3" "2001:2::53 2001:2::3"; do
  read -r kgw knot <<< "$server"
  echo "--- kgw at $kgw against Knot at $knot"
  ip netns exec "$P-client" /usr/bin/python3 "$HERE/dns_diff.py" "$WORK/zones/zones.list" "$kgw" "$knot" ||
    fail "kgw and Knot answer differently (above)"
done
echo "PASS"
