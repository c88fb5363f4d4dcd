#!/usr/bin/env bash
# The kgw server's half of a two-server run (perf/pktgen/README.md): while pktgen
# keeps sending from the other server, alternate kgw (A) and the dpdk-testpmd
# baseline (B) on the same two ports and the same CPUs, A B A B A B as perf/run
# does, and print what each transmitted on port 1 (p1, towards pktgen's port 1)
# in Mpps, the medians, their ratio, and kgw's TSC cycles per packet.
#
#   perf/pktgen/ab-baseline.sh -c gateway.yaml -m /tmp/kgw-pktgen/l4-est-1m/manifests \
#       --pci 0000:3b:02.0,0000:3b:02.1 --cpus 2,3
#   perf/pktgen/ab-baseline.sh ... --rounds 3 --seconds 10 --warmup 3 --dry-run
#
# Options:
#   -c, --config FILE    kgw's gateway.yaml (its ports in the order of --pci)
#   -m, --manifests DIR  the scenario's manifests (kgw-gen -M DIR)
#       --pci A,B        the two ports, p0 then p1, as testpmd gets them (-a)
#       --cpus LIST      the CPUs of gateway.yaml dataplane.cpus, main lcore first,
#                        e.g. 2,3 (1 worker) or 2,3,4,5 (3 workers); testpmd runs on
#                        the same CPUs with one forwarding core and queue per worker
#       --peer MAC       pktgen port 1's MAC, testpmd's destination on port 1
#                        (default 02:00:00:00:01:02, the neighbor 198.18.1.2 of kgw)
#       --mode MODE      testpmd forward mode: mac (default), macswap or io; see README.md
#       --rounds N       A B rounds (default 3)
#       --seconds N      seconds measured per run (default 10)
#       --warmup N       seconds before measuring (default 3)
#       --file-prefix P  kgw's dataplane.file_prefix (default: read from the config, else kgw)
#       --kgw BIN        default build/kgw (or $KGW_BUILD_DIR/kgw)
#       --testpmd BIN    default $TESTPMD or dpdk-testpmd
#       --log DIR        keep the logs here (default a temporary folder, removed)
#       --dry-run        print the two commands and exit
#   -h, --help           this text
#
# kgw's figure comes from its NIC counters (TX-packets of port 1 in `kgw cli
# show port stats 1`, two samples --seconds apart), testpmd's from its own
# per-second Tx-pps of port 1: both count what left the kgw server on p1. Each
# run prints its start and end time so pktgen's per-second CSV (KGW_CSV) can be
# matched to it.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${KGW_BUILD_DIR:-$ROOT/build}
KGW=$BUILD/kgw
TESTPMD=${TESTPMD:-dpdk-testpmd}
CONF=""
MANIFESTS=""
PCI=""
CPUS=""
PEER=02:00:00:00:01:02
MODE=mac
ROUNDS=3
SECS=10
WARMUP=3
PREFIX=""
LOGDIR=""
DRY=0

usage() { sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() { echo "ab-baseline.sh: $*" >&2; exit 2; }
need() { if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value"; fi; }

while [ $# -gt 0 ]; do
  case "$1" in
    -c|--config) need "$@"; CONF=$2; shift ;;
    -m|--manifests) need "$@"; MANIFESTS=$2; shift ;;
    --pci) need "$@"; PCI=$2; shift ;;
    --cpus) need "$@"; CPUS=$2; shift ;;
    --peer) need "$@"; PEER=$2; shift ;;
    --mode) need "$@"; MODE=$2; shift ;;
    --rounds) need "$@"; ROUNDS=$2; shift ;;
    --seconds) need "$@"; SECS=$2; shift ;;
    --warmup) need "$@"; WARMUP=$2; shift ;;
    --file-prefix) need "$@"; PREFIX=$2; shift ;;
    --kgw) need "$@"; KGW=$2; shift ;;
    --testpmd) need "$@"; TESTPMD=$2; shift ;;
    --log) need "$@"; LOGDIR=$2; shift ;;
    --dry-run) DRY=1 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
  shift
done

if [ -z "$CONF" ] || [ ! -f "$CONF" ]; then die "-c gateway.yaml is required"; fi
if [ -z "$MANIFESTS" ] || [ ! -d "$MANIFESTS" ]; then die "-m MANIFESTS_DIR is required"; fi
IFS=',' read -r -a pcis <<< "$PCI"
[ "${#pcis[@]}" = 2 ] || die "--pci takes the two ports, p0 then p1: A,B"
[[ "$CPUS" =~ ^[0-9]+(,[0-9]+)+$ ]] || die "--cpus takes the main lcore and one CPU per worker: 2,3"
[[ "$PEER" =~ ^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$ ]] || die "--peer: not a MAC address: $PEER"
case "$MODE" in mac|macswap|io) ;; *) die "--mode is mac, macswap or io" ;; esac
for v in "$ROUNDS" "$SECS"; do [[ "$v" =~ ^[1-9][0-9]*$ ]] || die "--rounds and --seconds take positive integers"; done
[[ "$WARMUP" =~ ^[0-9]+$ ]] || die "--warmup takes an integer"
if [ -z "$PREFIX" ]; then
  PREFIX=$(sed -n 's/.*file_prefix: *"\{0,1\}\([A-Za-z0-9_.-]*\).*/\1/p' "$CONF" | head -n 1)
  PREFIX=${PREFIX:-kgw}
fi
WORKERS=$(( $(tr ',' '\n' <<< "$CPUS" | wc -l) - 1 ))

KGW_CMD=("$KGW" dataplane -c "$CONF" --manifests "$MANIFESTS" --no-final-stats --log-level info)
PMD_CMD=("$TESTPMD" -l "$CPUS" -a "${pcis[0]}" -a "${pcis[1]}" --file-prefix "${PREFIX}-pmd" --log-level=error
  -- --forward-mode="$MODE" --eth-peer="1,$PEER" --nb-cores="$WORKERS" --rxq="$WORKERS" --txq="$WORKERS"
  --rxd=1024 --txd=1024 --auto-start --stats-period 1)
if [ "$DRY" = 1 ]; then
  echo "A: ${KGW_CMD[*]}"
  echo "B: ${PMD_CMD[*]}"
  exit 0
fi
[ -x "$KGW" ] || die "$KGW missing (build kgw first)"
command -v "$TESTPMD" > /dev/null || die "$TESTPMD not found"
[ "$(id -u)" = 0 ] || die "run as root (DPDK on PCI devices)"

if [ -n "$LOGDIR" ]; then mkdir -p "$LOGDIR"; WORK=$LOGDIR; else WORK=$(mktemp -d /tmp/kgw-ab.XXXXXX); fi
KGW_PID=""
cleanup() {
  if [ -n "$KGW_PID" ]; then kill -TERM "$KGW_PID" 2>/dev/null; wait "$KGW_PID" 2>/dev/null; fi
  if [ -z "$LOGDIR" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

now() { date +%s.%N; }
stamp() { date +%H:%M:%S; }

# "tx-packets-of-port-1 sum-of-worker-rx sum-of-worker-busy-cycles" from kgw cli
kgw_sample() {
  "$KGW" cli --file-prefix "$PREFIX" -c "show port stats 1; show lcores" 2>/dev/null | awk '
    /NIC statistics for port 1 / { p = 1 }
    p && /TX-packets:/ { tx = $2; p = 0 }
    $1 ~ /^[0-9]+$/ && NF >= 10 && $NF !~ /stopped/ { rx += $(NF - 4); busy += $(NF - 1); w++ }
    END { if (tx != "" && w > 0) printf "%s %.0f %.0f\n", tx, rx, busy }'
}

# run_kgw ROUND -> "mpps cycles_per_packet"
run_kgw() {
  local log=$WORK/kgw.$1.log a="" b="" t0 t1 i
  "${KGW_CMD[@]}" > "$log" 2>&1 &
  KGW_PID=$!
  for ((i = 0; i < 300; i++)); do
    a=$(kgw_sample)
    [ -n "$a" ] && break
    kill -0 "$KGW_PID" 2>/dev/null || break
    sleep 0.2
  done
  if [ -z "$a" ]; then
    echo "ab-baseline.sh: kgw dataplane did not start (log $log):" >&2; tail -n 20 "$log" >&2
    kill -TERM "$KGW_PID" 2>/dev/null; wait "$KGW_PID" 2>/dev/null; KGW_PID=""
    echo "0 0"; return
  fi
  sleep "$WARMUP"
  echo "  [$(stamp)] kgw round $1: measuring ${SECS} s" >&2
  t0=$(now); a=$(kgw_sample)
  sleep "$SECS"
  t1=$(now); b=$(kgw_sample)
  echo "  [$(stamp)] kgw round $1: done" >&2
  "$KGW" cli --file-prefix "$PREFIX" -c "show lcores; show counters; show port stats all" > "$WORK/kgw.$1.stats" 2>&1
  kill -TERM "$KGW_PID" 2>/dev/null; wait "$KGW_PID" 2>/dev/null; KGW_PID=""
  awk -v a="$a" -v b="$b" -v t0="$t0" -v t1="$t1" 'BEGIN {
    split(a, x, " "); split(b, y, " "); s = t1 - t0; n = y[2] - x[2]
    printf "%.3f %.0f\n", (y[1] - x[1]) / s / 1e6, (n > 0 ? (y[3] - x[3]) / n : 0) }'
}

# run_testpmd ROUND -> "mpps": Tx-pps of port 1, once a second, after the warm-up.
run_testpmd() {
  local log=$WORK/testpmd.$1.log
  echo "  [$(stamp)] testpmd round $1: starting (${WARMUP} s warm-up, ${SECS} s measured)" >&2
  timeout -s INT $((WARMUP + SECS + 8)) "${PMD_CMD[@]}" > "$log" 2>&1 < /dev/null
  echo "  [$(stamp)] testpmd round $1: done" >&2
  awk '/NIC statistics for port 1 / {p = 1} p && /Tx-pps:/ {print $2; p = 0}' "$log" |
    tail -n +$((WARMUP + 1)) | head -n "$SECS" |
    awk '{s += $1; n++} END { if (n) printf "%.3f\n", s / n / 1e6; else print "0" }'
}

median() { sort -g | awk '{v[NR] = $1} END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "A: ${KGW_CMD[*]}" >&2
echo "B: ${PMD_CMD[*]}" >&2
: > "$WORK/k"; : > "$WORK/t"; : > "$WORK/c"
printf "%-6s %10s %14s %11s\n" round "kgw Mpps" "testpmd Mpps" "cycles/pkt"
for ((r = 1; r <= ROUNDS; r++)); do
  read -r k c < <(run_kgw "$r")
  t=$(run_testpmd "$r")
  echo "$k" >> "$WORK/k"; echo "$t" >> "$WORK/t"; echo "$c" >> "$WORK/c"
  printf "%-6s %10s %14s %11s\n" "$r" "$k" "$t" "$c"
done
k=$(median < "$WORK/k"); t=$(median < "$WORK/t"); c=$(median < "$WORK/c")
ratio=$(awk -v k="$k" -v t="$t" 'BEGIN { if (t > 0) printf "%.3f", k / t; else print "n/a" }')
printf "%-6s %10s %14s %11s   kgw/testpmd %s (%d worker(s), testpmd --forward-mode=%s)\n" median "$k" "$t" "$c" \
  "$ratio" "$WORKERS" "$MODE"
if [ -n "$LOGDIR" ]; then echo "logs and kgw's counters per round: $LOGDIR" >&2; fi
awk -v k="$k" -v t="$t" 'BEGIN { exit !(k > 0 && t > 0) }'
