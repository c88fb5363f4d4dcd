#!/usr/bin/env bash
# Pod routing over an IPv6 underlay (docs/pod-network.md), as Flannel's
# dual-stack vxlan backend runs it: the remote Node has two kernel vxlan
# devices, vxlan1 over IPv4 (198.18.50.2) for IPv4 pods and vxlan6 over IPv6
# (2001:2:0:5::2, outer UDP checksums on, as Linux sends them by default)
# for IPv6 pods; the gateway's VTEPs are 198.18.50.1 and 2001:2:0:5::1.
#   P-lpod (198.19.50.10, 2001:2:0:50::10, a pod on the gateway's segment) --veth-- P-gw port p0
#   P-gw port p1 --veth-- P-node (remote Node; its pod 198.19.60.10 / 2001:2:0:60::10)
# Checked: ping6 and HTTP over IPv6 both ways through the IPv6 tunnel (the
# kernel's vxlan6 counts what it took apart and sent, the IPv4 device no
# IPv6), IPv4 pods still over vxlan1, the gateway's echo reply to the
# remote pod back through the IPv6 tunnel, a 300 kB download, and ICMPv6
# packet too big with the IPv6 tunnel's MTU (1500 - 70 = 1430).
#   pod_vxlan6_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages

P=kgwv6$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- counters"; cli "show counters" 2>/dev/null | grep -E "^pods:|^neighbors:|pod_|vxlan_|no_neighbor|not_for"
  echo "--- node's vxlan devices"; ip netns exec "$P-node" ip -s link show vxlan6 2>/dev/null; ip netns exec "$P-node" ip -s link show vxlan1 2>/dev/null
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  echo "--- control log"; tail -n 30 "$WORK/control.log" 2>/dev/null
  exit 1
}
lpod() { ip netns exec "$P-lpod" "$@"; }
node() { ip netns exec "$P-node" "$@"; }
pods_field() { counter_field pods "$1"; }
# Packets a vxlan device of the Node has taken apart (rx) or sent (tx).
vx_packets() { node cat "/sys/class/net/$1/statistics/$2_packets"; }
GW_VTEP_MAC=02:00:00:00:50:01
GW_VTEP_MAC6=02:00:00:00:50:06
NODE_VTEP_MAC=02:00:00:00:60:01
NODE_VTEP_MAC6=02:00:00:00:60:06

pod_pair_topology "$P"
pod_pair_vxlan "$P" "$GW_VTEP_MAC" "$NODE_VTEP_MAC"
pod_pair_vxlan6 "$P" "$GW_VTEP_MAC6" "$NODE_VTEP_MAC6"
mtu6=$(node cat /sys/class/net/vxlan6/mtu)
[ "$mtu6" = 1430 ] || fail "the kernel's IPv6 vxlan device has MTU $mtu6, expected 1430"

mkdir -p "$WORK/manifests" "$WORK/lpod" "$WORK/rpod"
pod_pair_nodes "$NODE_VTEP_MAC" "flannel.alpha.coreos.com/backend-v6-data: '{\"VNI\":1,\"VtepMAC\":\"$NODE_VTEP_MAC6\"}'" \
  "flannel.alpha.coreos.com/public-ip-v6: \"2001:2:0:5::2\"" > "$WORK/manifests/nodes.yaml"
"$KGW" validate --manifests "$WORK/manifests" > "$WORK/validate.log" 2>&1 || { cat "$WORK/validate.log"; fail "validate"; }

echo "local pod" > "$WORK/lpod/index.html"
head -c 300000 /dev/urandom > "$WORK/lpod/big.bin"
echo "remote pod" > "$WORK/rpod/index.html"
ip netns exec "$P-lpod" /usr/bin/python3 -m http.server 8080 --bind 2001:2:0:50::10 --directory "$WORK/lpod" > "$WORK/lpod.log" 2>&1 &
STARTED_PIDS+=($!)
ip netns exec "$P-node" /usr/bin/python3 -m http.server 8080 --bind 2001:2:0:60::10 --directory "$WORK/rpod" > "$WORK/rpod.log" 2>&1 &
STARTED_PIDS+=($!)
ip netns exec "$P-node" /usr/bin/python3 -m http.server 8080 --bind 198.19.60.10 --directory "$WORK/rpod" > "$WORK/rpod4.log" 2>&1 &
STARTED_PIDS+=($!)

pod_pair_gateway_yaml vxlan "$GW_VTEP_MAC" "vtep_mac6: \"$GW_VTEP_MAC6\"" "vtep_address6: \"2001:2:0:5::1\"" \
  > "$WORK/gateway.yaml"

start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not come up"
start_control "$WORK/gateway.yaml" "$WORK/manifests" "$WORK/control.log" 20 || fail "control did not attach"
wait_grep 10 "pod routes: generation 1 published: 2 Nodes, 4 pod CIDRs" "$WORK/control.log" || fail "no pod routes"
cli "show pods" > "$WORK/pods.txt"
grep -Eq "^2001:2:0:60::/64 +remote +198\.18\.50\.2 +2001:2:0:5::2 +$NODE_VTEP_MAC +$NODE_VTEP_MAC6" "$WORK/pods.txt" ||
  { cat "$WORK/pods.txt"; fail "show pods"; }
for ((n = 0; n < 50; n++)); do
  lpod bash -c "exec 3<>/dev/tcp/2001:2:0:50::10/8080" 2>/dev/null && node bash -c "exec 3<>/dev/tcp/2001:2:0:60::10/8080" 2>/dev/null && break
  sleep 0.1
done

rx0=$(vx_packets vxlan6 rx) tx0=$(vx_packets vxlan6 tx) rx4=$(vx_packets vxlan1 rx)
lpod ping -6 -c 3 -i 0.2 -W 2 2001:2:0:60::10 > "$WORK/ping.log" 2>&1 || { cat "$WORK/ping.log"; fail "IPv6 local pod -> remote pod ping"; }
node ping -6 -c 3 -i 0.2 -W 2 -I 2001:2:0:60::10 2001:2:0:50::10 > "$WORK/ping.log" 2>&1 ||
  { cat "$WORK/ping.log"; fail "IPv6 remote pod -> local pod ping"; }
[ "$(lpod curl -s --max-time 5 'http://[2001:2:0:60::10]:8080/')" = "remote pod" ] || fail "IPv6 local pod -> remote pod HTTP"
[ "$(node curl -s --max-time 5 --interface 2001:2:0:60::10 'http://[2001:2:0:50::10]:8080/')" = "local pod" ] ||
  fail "IPv6 remote pod -> local pod HTTP"
# Full-size segments from the local pod, over the IPv6 tunnel's MTU.
node curl -s --max-time 10 --interface 2001:2:0:60::10 -o "$WORK/big.out" 'http://[2001:2:0:50::10]:8080/big.bin' ||
  fail "IPv6 large download"
cmp -s "$WORK/big.out" "$WORK/lpod/big.bin" || fail "the IPv6 large download differs"
rx=$(($(vx_packets vxlan6 rx) - rx0)) tx=$(($(vx_packets vxlan6 tx) - tx0)) rx4d=$(($(vx_packets vxlan1 rx) - rx4))
echo "IPv6 pods: ping and HTTP both ways; the Node's vxlan6 took apart $rx and sent $tx, vxlan1 took apart $rx4d"
# Linux drops IPv6 VXLAN with a wrong or zero UDP checksum: what it took apart had a right one.
[ "$rx" -ge 100 ] && [ "$tx" -ge 10 ] || fail "the IPv6 pods' packets did not cross the IPv6 tunnel (rx $rx tx $tx)"
[ "$rx4d" = 0 ] || fail "IPv6 pods' packets came over the IPv4 tunnel ($rx4d)"

# IPv4 pods stay on the IPv4 underlay.
lpod ping -c 2 -i 0.2 -W 2 198.19.60.10 > "$WORK/ping.log" 2>&1 || { cat "$WORK/ping.log"; fail "IPv4 local pod -> remote pod ping"; }
[ "$(lpod curl -s --max-time 5 http://198.19.60.10:8080/)" = "remote pod" ] || fail "IPv4 local pod -> remote pod HTTP"
[ $(($(vx_packets vxlan1 rx) - rx4)) -ge 4 ] || fail "IPv4 pods did not use the IPv4 tunnel"

# The gateway's own echo reply to the remote pod goes back into the IPv6 tunnel.
rx0=$(vx_packets vxlan6 rx)
node ping -6 -c 2 -i 0.2 -W 2 -I 2001:2:0:60::10 2001:2:0:50::1 > "$WORK/ping.log" 2>&1 ||
  { cat "$WORK/ping.log"; fail "remote pod -> the gateway's IPv6 address (answered into the IPv6 tunnel)"; }
[ $(($(vx_packets vxlan6 rx) - rx0)) -ge 2 ] || fail "the echo replies did not come back through the IPv6 tunnel"

# 1500 bytes of IPv6 do not fit the tunnel: packet too big with 1430.
lpod ping -6 -c 1 -W 2 -s 1452 2001:2:0:60::10 > "$WORK/ping_big.log" 2>&1
grep -qi "mtu[ =:]*1430" "$WORK/ping_big.log" || { cat "$WORK/ping_big.log"; fail "no packet too big (mtu 1430) for 1500 bytes of IPv6"; }
lpod ping -6 -c 2 -i 0.2 -W 2 -s 1382 -M do 2001:2:0:60::10 > "$WORK/ping_fit.log" 2>&1 ||
  { cat "$WORK/ping_fit.log"; fail "1430 bytes of IPv6 did not pass"; }
sleep 0.3
cli "show counters" > "$WORK/counters.txt"
big=$(pods_field too-big-sent)
[ "${big:-0}" -ge 1 ] || fail "too-big-sent $big"
if grep -Eq "vxlan_bad_checksum|vxlan_zero_checksum" "$WORK/counters.txt"; then
  grep -E "vxlan_" "$WORK/counters.txt"
  fail "the kernel's IPv6 VXLAN was dropped for its checksum"
fi
grep "^pods:" "$WORK/counters.txt"

stop_pid "$CONTROL_PID" 5
stop_pid "$DP_PID" 10
grep -q "kgw final statistics" "$WORK/dp.log" || fail "the dataplane did not stop cleanly"
echo "PASS: IPv6 pods over VXLAN on an IPv6 underlay (the Linux kernel's vxlan as the remote VTEP)"
