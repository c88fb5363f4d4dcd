#!/usr/bin/env bash
# kgw's active opens (pipelines/l7/connect) against kernel servers in pod
# namespaces (lib.sh pod_topology), driven by `kgw cli tcp connect|transfer`:
#   1. an HTTP request to a pod's server (python http.server), from each of
#      the two workers, the answer printed;
#   2. 4 MiB (KGW_TCP_CONNECT_MIB) to a kernel echo server and back, sha256
#      compared, from each worker;
#   3. 40 connections in turn from both workers: every one answered, and the
#      replies of worker 1's connections handed over by worker 0 (kgw's
#      af_packet ports have no RSS kgw can aim at (the kernel spreads packets
#      over the queues' sockets by its own hash, and rolls them over to
#      another queue when one's ring is full), so every open is "unsteered";
#      aiming at a queue is unit-tested against a known key and RETA,
#      tests/unit/tcp/tcp_connect_test.cc);
#   4. a refused port, an address without a route, a family without a SNAT
#      address: named failures, non-zero exit;
# and the counters after all of it: no segment dropped by the stacks, but
# for PAWS: a ring rolled over reorders a flow across the workers, and a
# segment overtaken by a younger one's timestamp is rightly refused.
#   tcp_connect_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root"; exit 77; fi
if ! grep -qs hugetlbfs /proc/mounts; then echo "SKIP: no hugetlbfs mount (run scripts/setup.sh)"; exit 77; fi

MIB=${KGW_TCP_CONNECT_MIB:-4}
P=kgwa$$
WORK=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$WORK"' EXIT
fail() {
  echo "FAIL: $*"
  echo "--- counters"; "$KGW" cli --file-prefix "$P" -c "show counters" 2>/dev/null
  echo "--- dataplane log"; tail -n 30 "$WORK/dp.log"
  exit 1
}
# Each command ends by its own deadline (a transfer's 30 s at most): 60 s
# is a hang, reported with the cli's stacks rather than by meson's kill.
cli() { cli_within 60 "$1"; }
counters() { cli "show counters"; }
# field LINE NAME: a number from a line of `show counters` ("tcp:", "tcp connect:").
field() { counters | grep "^$1 " | sed -n "s/.* $2 \([0-9]*\).*/\1/p"; }

pod_topology "$P" "$WORK"
for i in 1 2 3; do ip netns exec "$P-pod$i" ethtool -K eth0 tso off gso off > /dev/null 2>&1 || true; done
ip netns exec "$P-gw" ethtool -K g1 gro off tso off gso off > /dev/null 2>&1 || true
ip netns exec "$P-pod1" /usr/bin/python3 "$HERE/tcp_echo_server.py" 198.19.1.11 7007 > "$WORK/echo.log" 2>&1 &
STARTED_PIDS+=($!)
cat > "$WORK/gateway.yaml" <<YAML
node:
  name: netns-tcp-connect
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
  conntrack_entries: 4096
  affinity_entries: 1024
  counter_slots: 1024
tcp:
  max_connections: 256
  recv_buffer: 262144
  send_buffer: 262144
YAML
cat "$WORK/neighbors.yaml" >> "$WORK/gateway.yaml"
start_dataplane "$P-gw" "$KGW" "$WORK/gateway.yaml" "$WORK/dp.log" "$P"
wait_dataplane "$KGW" "$P" 30 || fail "dataplane did not start"
wait_pods "$P" || fail "the pods' HTTP servers did not start"
wait_grep 10 listening "$WORK/echo.log" || fail "the echo server did not start"
grep -q "active opens" "$WORK/dp.log" && grep "active opens" "$WORK/dp.log"

# 1. HTTP from each worker.
for w in 0 1; do
  out=$(cli "tcp connect worker $w 198.19.1.11 8080 GET /index.html HTTP/1.0\\r\\n\\r\\n") || fail "worker $w: tcp connect failed: $out"
  echo "$out" | head -3
  echo "$out" | grep -q "^hello from pod1 (198.19.1.11)" || fail "worker $w: no page in the answer: $out"
  echo "$out" | grep -q "closed by the peer" || fail "worker $w: the server's close was not seen: $out"
  port=$(echo "$out" | sed -n 's/.*198\.18\.0\.250:\([0-9]*\) ->.*/\1/p' | head -1)
  lo=$((49152 + w * 8192)); hi=$((lo + 8191))
  [ "$port" -ge "$lo" ] && [ "$port" -le "$hi" ] || fail "worker $w took port $port, outside its slice $lo..$hi"
  grep -q "\"GET /index.html HTTP/1.0\" 200" "$WORK/pod1.log" || fail "the pod did not log the request"
done

# 2. A few MiB each way, sha256 compared.
head -c $((MIB * 1048576)) /dev/urandom > "$WORK/in.bin"
want=$(sha256sum < "$WORK/in.bin" | cut -d' ' -f1)
for w in 0 1; do
  t0=$(date +%s.%N)
  out=$(cli "tcp transfer worker $w 198.19.1.11 7007 $WORK/in.bin $WORK/out$w.bin") || fail "worker $w: transfer failed: $out"
  t1=$(date +%s.%N)
  echo "$out"
  got=$(sha256sum < "$WORK/out$w.bin" | cut -d' ' -f1)
  [ "$got" = "$want" ] || fail "worker $w: sha256 of the echo $got, sent $want"
  echo "worker $w: $MIB MiB each way in $(echo "$t1 - $t0" | bc) s, sha256 equal"
done

# 3. 40 connections in turn from both workers.
before_started=$(field "tcp connect:" started)
ok=0
for n in $(seq 40); do
  w=$((n % 2))
  out=$(cli "tcp connect worker $w 198.19.1.11 7007 connection $n") || { echo "$out"; continue; }
  echo "$out" | grep -q "^connection $n\$" && ok=$((ok + 1))
done
[ "$ok" = 40 ] || fail "$ok of 40 connections echoed"
started=$(field "tcp connect:" started)
[ $((started - before_started)) = 40 ] || fail "connect started $started (was $before_started), expected 40 more"
handed=$(field "tcp connect:" replies-handed-off)
echo "40 connections echoed; replies handed to their worker: $handed"
[ "$handed" -gt 0 ] || fail "no reply was handed to worker 1"

# 4. Failures are named and fail the command.
out=$(cli "tcp connect 198.19.1.12 9") && fail "a refused connection succeeded: $out"
echo "$out" | grep -q "refused (RST)" || fail "refused port: $out"
out=$(cli "tcp connect 198.18.9.9 80") && fail "a connection without a route succeeded: $out"
echo "$out" | grep -q "no neighbour or route" || fail "no route: $out"
out=$(cli "tcp connect 2001:2::9 80") && fail "an IPv6 connection without a SNAT address succeeded: $out"
echo "$out" | grep -q "no SNAT address" || fail "no IPv6 SNAT address: $out"

counters | grep "^tcp"
drops=$(field "tcp:" drops)
paws=$(counters | sed -n '/^tcp segments dropped/,$s/^  paws  *\([0-9]*\).*/\1/p')
[ "${paws:-0}" = 0 ] || echo "PAWS refused $paws segments (reordered by af_packet's rollover)"
[ $((drops - ${paws:-0})) = 0 ] || { counters | sed -n '/^tcp segments dropped/,$p'; fail "the stacks dropped $drops segments"; }
[ "$(field "tcp connect:" no-port)" = 0 ] || fail "no-port counted"
echo "PASS"
