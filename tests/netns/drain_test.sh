#!/usr/bin/env bash
# End-to-end live updates through `kgw control --manifests DIR` (inotify):
#   - the Services come from control, not from the dataplane's command line;
#   - marking an endpoint terminating while a long download runs from it lets
#     the download finish, while new connections skip that endpoint;
#   - an invalid manifest is rejected and the running Services keep working;
#   - kill -9 of control: the dataplane keeps forwarding; a restarted control
#     publishes again.
#   drain_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

netns_require_root_and_hugepages

P=kgwd$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  echo "--- control log"; tail -n 30 "$WORK/control.log" 2>/dev/null
  exit 1
}
generation() { "$KGW" cli --file-prefix "$P" -c "show service shop/sticky" 2>/dev/null | awk '/^generation/ {print $2}'; }
start_control() {
  ip netns exec "$P-gw" "$KGW" control -c "$WORK/gateway.yaml" --manifests "$WORK/manifests" >> "$WORK/control.log" 2>&1 &
  CONTROL_PID=$!
  STARTED_PIDS+=("$CONTROL_PID")
}
wait_generation() {  # wait_generation N: until generation N or later is live
  local n
  for ((n = 0; n < 100; n++)); do
    g=$(generation)
    [ -n "$g" ] && [ "$g" -ge "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

pod_topology "$P" "$WORK"
cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-drain
  addresses: [198.18.0.1, 198.19.1.1]
ports:
  - {name: p0, device: "net_af_packet0,iface=g0,qdisc_bypass=1"}
  - {name: p1, device: "net_af_packet1,iface=g1,qdisc_bypass=1"}
snat:
  addresses: [198.18.0.250]
dataplane:
  file_prefix: $P
  mbufs: 8191
services:
  conntrack_entries: 16384
YAML
cat "$WORK/neighbors.yaml" >> "$WORK/gateway.yaml"
mkdir -p "$WORK/manifests"
cp "$HERE/manifests/services.yaml" "$WORK/manifests/"
start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not start"
wait_pods "$P" || fail "the pods' HTTP servers did not start"
start_control
wait_generation 1 || fail "control did not publish the Services"
echo "control published generation $(generation)"

# Which pod serves this client through the sticky Service?
first=$(client curl -s --max-time 3 http://198.18.100.20/)
pod=$(echo "$first" | sed -n 's/^hello from pod\([123]\).*/\1/p')
[ -n "$pod" ] || fail "sticky Service did not answer: \"$first\""
echo "sticky Service sends this client to pod$pod"

# A slow 20 MB download from that pod (about 5 s).
client curl -s --max-time 60 --limit-rate 4M -o /dev/null -w '%{size_download}' http://198.18.100.20/big.bin \
  > "$WORK/download.txt" &
DL=$!
sleep 1

# Mark that pod's endpoint terminating in the EndpointSlice; control republishes.
gen_before=$(generation)
sed "/name: sticky-1/,/^---/ s|  - {addresses: \[198.19.1.1$pod\]}|  - {addresses: [198.19.1.1$pod], conditions: {ready: false, serving: true, terminating: true}}|" \
  "$WORK/manifests/services.yaml" > "$WORK/services.new"
mv "$WORK/services.new" "$WORK/manifests/services.yaml"
wait_generation $((gen_before + 1)) || fail "the change was not published"
"$KGW" cli --file-prefix "$P" -c "show service shop/sticky" | grep -q "198.19.1.1$pod:8080 *terminating" ||
  fail "show service does not show pod$pod terminating"

for n in $(seq 20); do client curl -s --max-time 3 http://198.18.100.20/; done > "$WORK/after.txt"
echo "new connections after the change: $(sort "$WORK/after.txt" | uniq -c | tr -s ' ' | tr '\n' ';')"
[ "$(grep -c '^hello from pod' "$WORK/after.txt")" = 20 ] || fail "new connections were not all answered"
grep -q "pod$pod " "$WORK/after.txt" && fail "a new connection went to terminating pod$pod"

wait "$DL"
size=$(cat "$WORK/download.txt")
echo "download from the terminating pod: $size bytes"
[ "$size" = 20000000 ] || fail "the download from terminating pod$pod got $size of 20000000 bytes"

# An invalid manifest is rejected; the running Services keep serving.
gen_before=$(generation)
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: broken, namespace: shop}\nspec:\n  clusterIP: 198.18.100.77\n  ports: [{port: eighty}]\n' \
  > "$WORK/manifests/broken.yaml"
sleep 1.5
grep -q "broken.yaml:6" "$WORK/control.log" || fail "control did not report the invalid manifest with its file and line"
[ "$(generation)" = "$gen_before" ] || fail "an invalid manifest changed the published generation"
client curl -s --max-time 3 http://198.18.100.10/ | grep -q "^hello from pod" || fail "Services stopped after a rejected change"
cli "show config status" > "$WORK/status.txt" || fail "show config status failed"
sed 's/^/  /' "$WORK/status.txt"
grep -q "last change: rejected" "$WORK/status.txt" || fail "show config status does not say the change was rejected"
grep -q "broken.yaml:6" "$WORK/status.txt" || fail "show config status lacks the error's file:line"
# `reload` while the manifests are still invalid: rejected, non-zero exit.
if cli "reload" > "$WORK/reload.txt" 2>&1; then fail "reload of invalid manifests reported success"; fi
grep -q "reload rejected" "$WORK/reload.txt" || { cat "$WORK/reload.txt"; fail "reload did not report the rejection"; }
rm "$WORK/manifests/broken.yaml"
# The manifests are the running ones again: accepted, and nothing to publish.
for ((n = 0; n < 50; n++)); do
  cli "show config status" | grep -q "last change: accepted" && break
  sleep 0.1
done
gen_before=$(generation)
cli "show config status" | grep -q "last change: accepted .*published generation $gen_before (0 Services changed)" ||
  { cli "show config status"; fail "removing the invalid manifest was not accepted as no change"; }
cli "reload" > "$WORK/reload.txt" || { cat "$WORK/reload.txt"; fail "reload failed"; }
grep -q "published generation $gen_before (0 Services changed)" "$WORK/reload.txt" ||
  { cat "$WORK/reload.txt"; fail "reload of unchanged manifests changed something"; }
cli "show config status" | grep -q "last change: accepted" || fail "show config status after reload"
cli "show config status" | grep -Eq "^counter slots: [1-9][0-9]* in use, [0-9]+ retired, [0-9]+ free of 262144$" ||
  fail "show config status lacks the counter slots"
cli "set log level debug" > /dev/null || fail "set log level debug"
sleep 0.5
grep -q "log level set to debug" "$WORK/control.log" || fail "control did not follow set log level"
if cli "set log level loud" > /dev/null 2>&1; then fail "an unknown log level was accepted"; fi
cli "set log level info" > /dev/null || fail "set log level info"
echo "invalid manifest rejected with file:line (log and show config status); reload; set log level"

# kill -9 of control: forwarding goes on with the last tables; a new control republishes.
kill -KILL "$CONTROL_PID"
wait "$CONTROL_PID" 2>/dev/null
for n in $(seq 10); do client curl -s --max-time 3 http://198.18.100.10/; done > "$WORK/nocontrol.txt"
[ "$(grep -c '^hello from pod' "$WORK/nocontrol.txt")" = 10 ] || fail "forwarding stopped without control"
cli "show config status" | grep -q "(gone)" || fail "show config status does not notice that control is gone"
if cli "reload" > /dev/null 2>&1; then fail "reload without a control process reported success"; fi
gen_before=$(generation)
start_control
# The restarted control learns what the dataplane runs and finds it current:
# nothing is swapped, so nothing can stall.
for ((n = 0; n < 50; n++)); do
  cli "show config status" | grep -q "control: pid $CONTROL_PID (running)" &&
    cli "show config status" | grep -q "last change: accepted" && break
  sleep 0.1
done
cli "show config status" | grep -q "last change: accepted .*published generation $gen_before (0 Services changed)" ||
  { cli "show config status"; fail "a restarted control did not converge without changes"; }
client curl -s --max-time 3 http://198.18.100.10/ | grep -q "^hello from pod" || fail "Services broken after control restart"
# ... and publishes what changes after it started: pod$pod ready again.
cp "$HERE/manifests/services.yaml" "$WORK/services.new"
mv "$WORK/services.new" "$WORK/manifests/services.yaml"
wait_generation $((gen_before + 1)) || fail "a restarted control did not publish a change"
"$KGW" cli --file-prefix "$P" -c "show service shop/sticky" | grep -q "198.19.1.1$pod:8080 *ready" ||
  fail "show service does not show pod$pod ready again"
echo "control killed: 10/10 requests served; restarted control found generation $gen_before current, then published $(generation)"

echo "PASS: live updates, graceful drain, rejected change, control restart"
