#!/usr/bin/env bash
# Services with two workers (af_packet ports with two queue pairs each, lib.sh
# pod_topology): the kernel spreads packets over the two queues by its own
# hash, so a reply often reaches the worker that does not own its connection
# and must be handed over. Checks:
#   1. 200 requests through a ClusterIP (full NAT) and 100 through a Local
#      Service's load-balancer IP (client address kept): every one answered;
#   2. both workers received packets, and every packet one worker handed over
#      the other took in (handoff-out = handoff-in > 0);
#   3. the steering line counts how the full-NAT flows' replies were to find
#      their worker: af_packet has neither rte_flow nor an RSS kgw can aim at,
#      so every full-NAT flow counts as unaimed, none by a rule or by RSS,
#      and the start-up log says why there are no rte_flow rules.
#   l4_workers_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages
# A hang is reported with the cli's stacks rather than by meson's kill (one
# CI run hung 180 s on `show lcores`).
cli() { cli_within 60 "$1"; }

P=kgww$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- counters"; cli "show counters" 2>/dev/null
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  exit 1
}

pod_topology "$P" "$WORK"
cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-l4-workers
  addresses: [198.18.0.1, 198.19.1.1]
ports:
  - {name: p0, device: "net_af_packet0,iface=g0,qdisc_bypass=1,qpairs=2"}
  - {name: p1, device: "net_af_packet1,iface=g1,qdisc_bypass=1,qpairs=2"}
workers: 2
snat:
  addresses: [198.18.0.250]
dataplane:
  file_prefix: $P
  mbufs: 16383
  table_memory_mb: 16
services:
  conntrack_entries: 16384
YAML
cat "$WORK/neighbors.yaml" >> "$WORK/gateway.yaml"
start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P" "$HERE/manifests"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not start"
wait_pods "$P" || fail "the pods' HTTP servers did not start"
for ((n = 0; n < 10; n++)); do client curl -s --max-time 2 http://198.18.100.10/ | grep -q "^hello from pod" && break; done
[ "$n" -lt 10 ] || fail "no answer through the ClusterIP after 10 tries"
before=$(counter_field services new-flows)
unaimed_before=$(counter_field steering snat-unaimed)

# 1. Every request answered, full NAT and client address kept.
requests() {
  local url=$1 count=$2 n
  for n in $(seq "$count"); do client curl -s --max-time 3 "$url" || echo "request $n failed"; done
}
ok=$(requests http://198.18.100.10/ 200 | grep -c "^hello from pod")
echo "ClusterIP (full NAT): $ok of 200 answered"
[ "$ok" = 200 ] || fail "only $ok of 200 requests to the ClusterIP were answered"
ok=$(requests http://198.18.150.40/ 100 | grep -c "^hello from pod")
echo "Local Service's load-balancer IP (client address kept): $ok of 100 answered"
[ "$ok" = 100 ] || fail "only $ok of 100 requests to the Local Service were answered"

# 2. Both workers at work; hand-offs balanced.
lcores=$(cli "show lcores")
echo "$lcores"
steering=$(cli "show counters" | grep "^steering: ")
echo "$steering"
out=$(line_field "$steering" handoff-out)
in=$(line_field "$steering" handoff-in)
[ "${out:-0}" -gt 0 ] || fail "no packet was handed over between the workers (expected with the kernel's spreading)"
[ "$out" = "$in" ] || fail "handed over $out packets, received $in"

# 3. How the full-NAT replies were steered.
new_flows=$(( $(counter_field services new-flows) - before ))
unaimed=$(( $(line_field "$steering" snat-unaimed) - unaimed_before ))
[ "$(line_field "$steering" snat-by-flow-rule)" = 0 ] || fail "rte_flow rules counted on af_packet"
[ "$(line_field "$steering" snat-rss-aimed)" = 0 ] || fail "RSS-aimed ports counted on af_packet"
# The ClusterIP's 200 are full NAT, the Local Service's 100 are not.
[ "$unaimed" = 200 ] && [ "$new_flows" = 300 ] ||
  fail "snat-unaimed went up by $unaimed and new-flows by $new_flows: expected 200 (the full-NAT flows) of 300"
grep -q "no rte_flow steering (the NIC profile lists no rte_flow queue action)" "$WORK/dp.log" ||
  fail "the dataplane log does not say why there are no rte_flow rules"
echo "PASS: 300 requests over two workers, $out packets handed over and taken in, $unaimed full-NAT flows unaimed"
