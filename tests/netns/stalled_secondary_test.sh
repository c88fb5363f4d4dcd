#!/usr/bin/env bash
# A stopped secondary process does not hold up the dataplane or control.
#
# DPDK synchronises every growth of its hugepage heap with every attached
# secondary, and waits up to 5 s for each answer; a `kgw cli` that is stopped
# (or exiting) never answers, so the allocation fails. kgw reserves its memory
# when the dataplane starts (dataplane.memory_mb, auto), so control publishes
# a large generation while a stopped `kgw cli` is attached. With
# `memory_mb: 0` this test fails: control's publish fails after 5 s.
#   stalled_secondary_test.sh path/to/kgw path/to/kgw-gen [memory_mb]
set -uo pipefail

KGW=$(realpath "$1")
GEN=$(realpath "$2")
MEMORY=${3:-auto}

# shellcheck source=tests/netns/standalone_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/standalone_lib.sh"
netns_require_root_and_hugepages
standalone_init kgwq
cli() { timeout 5 "$KGW" cli --file-prefix "$P" -c "$1"; }
# wait_status SECONDS PATTERN: until `show config status` matches, at most SECONDS.
wait_status() {
  local end=$((SECONDS + $1))
  while ((SECONDS < end)); do
    cli "show config status" > "$WORK/status.txt" 2>/dev/null && grep -q -- "$2" "$WORK/status.txt" && return 0
    sleep 0.1
  done
  return 1
}

# One Service first, then 60: each Service port's Maglev table (65537 slots)
# takes 128 KiB, so the second generation needs about 8 MiB more than the first.
"$GEN" -m established -f 60 -s 1 -e 3 -o "$WORK/one.pcap" -M "$WORK/one" > /dev/null || fail "kgw-gen"
"$GEN" -m established -f 60 -s 60 -e 3 -o "$WORK/many.pcap" -M "$WORK/many" > /dev/null || fail "kgw-gen"
mkdir -p "$WORK/manifests"
cp "$WORK/one/services.yaml" "$WORK/manifests/services.yaml"
cat > "$WORK/gateway.yaml" <<YAML
node: {name: stalled-secondary, addresses: [198.18.0.1]}
ports:
  - {name: p0, device: "net_null0"}
  - {name: p1, device: "net_null1"}
workers: 1
dataplane: {file_prefix: $P, mbufs: 4095, telemetry: false, memory_mb: $MEMORY}
services: {conntrack_entries: 4096, affinity_entries: 1024}
YAML
"$KGW" dataplane -c "$WORK/gateway.yaml" --no-final-stats > "$WORK/dp.log" 2>&1 &
PIDS+=($!)
for ((i = 0; i < 150; i++)); do cli "show lcores" > /dev/null 2>&1 && break; sleep 0.2; done
grep "hugepage" "$WORK/dp.log" | sed 's/^/  /'
"$KGW" control -c "$WORK/gateway.yaml" --manifests "$WORK/manifests" > "$WORK/control.log" 2>&1 &
PIDS+=($!)
wait_status 30 "(1 Services of" || fail "control did not publish the first Service"

# An interactive kgw cli, attached, then stopped.
mkfifo "$WORK/cli.in"
"$KGW" cli --file-prefix "$P" < "$WORK/cli.in" > "$WORK/cli.out" 2>&1 &
CLI_PID=$!
PIDS+=("$CLI_PID")
exec 3> "$WORK/cli.in"
for ((i = 0; i < 100; i++)); do
  compgen -G "/var/run/dpdk/$P/mp_socket_${CLI_PID}_*" > /dev/null && break
  sleep 0.1
done
compgen -G "/var/run/dpdk/$P/mp_socket_${CLI_PID}_*" > /dev/null || fail "the interactive kgw cli did not attach"
kill -STOP "$CLI_PID"
echo "kgw cli (pid $CLI_PID) attached and stopped"

# While the cli is stopped, the publication is watched in the logs, not with
# new `kgw cli` processes: DPDK's primary answers each new secondary's vdev
# scan with one message per vdev port sent to every secondary, and a stopped
# one's socket queue (net.unix.max_dgram_qlen, 10) fills after a few attaches;
# from then on new secondaries wait for their answer until it is continued
# (docs/operations.md, "A stopped kgw cli").
start=$(date +%s%N)
cp "$WORK/many/services.yaml" "$WORK/manifests/.services.yaml.tmp"
mv "$WORK/manifests/.services.yaml.tmp" "$WORK/manifests/services.yaml"
published=0
for ((i = 0; i < 200; i++)); do
  grep -q "published generation 2 .*60 Services" "$WORK/control.log" &&
    grep -q "services: generation 2 published .*60 Services" "$WORK/dp.log" && published=1 && break
  sleep 0.1
done
((published)) || fail "control did not publish 60 Services while a kgw cli was stopped"
ms=$((($(date +%s%N) - start) / 1000000))
grep -qi "error" "$WORK/control.log" && fail "control logged an error"
echo "60 Services published in $ms ms while a stopped kgw cli was attached"

kill -CONT "$CLI_PID"
exec 3>&-
wait "$CLI_PID" 2>/dev/null
wait_status 10 "(60 Services of" || fail "show config status does not show the 60 Services"
cli "show config status" | sed 's/^/  /'
cli "show config status" > "$WORK/status.txt" || fail "show config status"
grep -q "last change: accepted" "$WORK/status.txt" || fail "the change was not accepted"
echo "PASS: a stopped secondary holds up nothing"
