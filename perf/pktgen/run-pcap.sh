#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Writes one scenario of perf/run with kgw-gen (the pcap of the client traffic and
# the Service manifests) and prints what to do with them on two servers: what kgw
# needs (manifests, gateway.yaml services: sizes) and the pktgen-dpdk 23.03
# command line that replays the pcap. Starts pktgen itself only with --run.
# See perf/pktgen/README.md.
#
#   perf/pktgen/run-pcap.sh l4-est-1m
#   perf/pktgen/run-pcap.sh --pci 0000:5e:02.0,0000:5e:02.1 --lcores 2-6 \
#       --matrix '[3:4].0,[5:6].1' --out /data/kgw l4-new-1k-svc
#   perf/pktgen/run-pcap.sh --list
#
# Options:
#   -o, --out DIR        where to write DIR/SCENARIO/{in.pcap,manifests/} (/tmp/kgw-pktgen)
#   -w, --workers N      kgw workers the run will use (default 1): new/mixed
#                        scenarios get 200,000 packets per worker (perf/run's 200,000
#                        for one), so each worker's connection table is outrun
#   -p, --packets N      packets in the pcap (kgw-gen -p); default as above
#       --imix           IMIX frames (kgw-gen -z imix) instead of 64 bytes
#       --dmac MAC       rewrite the destination MAC of the frames (default: keep
#                        kgw-gen's 02:00:00:00:00:01, kgw p0's MAC in README.md)
#       --smac MAC       rewrite the source MAC (and an ARP sender's) (keep 02:00:00:00:00:02)
#       --pci A,B        the generator's two ports (PCI addresses), port 0 then 1
#       --lcores LIST    pktgen's EAL cores (-l), default 0-4
#       --matrix M       pktgen's -m, default "[1:2].0,[3:4].1"
#       --file-prefix P  pktgen's EAL --file-prefix (default pktgen)
#       --pktgen BIN     pktgen binary (default $PKTGEN or pktgen)
#       --seconds N --warmup N --rates LIST --csv FILE
#                        passed to the Lua script as KGW_SECONDS, ... (see pcap-replay.lua)
#       --run            exec pktgen after printing the command (as root)
#       --list           the scenarios
#   -h, --help           this text
#   KGW_BUILD_DIR=build-x  kgw-gen from build-x/perf/gen/kgw-gen (default build/)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${KGW_BUILD_DIR:-$ROOT/build}
GEN=$BUILD/perf/gen/kgw-gen

usage() { sed -n '3,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; }

# perf/run's scenarios: SCENARIOS=("name|kgw-gen arguments|conntrack entries|Maglev size" ...)
# shellcheck source=../lib.sh disable=SC1091
. "$ROOT/perf/lib.sh"

OUT=/tmp/kgw-pktgen
WORKERS=1
PACKETS=""
IMIX=0
DMAC=""
SMAC=""
PCI=""
LCORES=0-4
MATRIX="[1:2].0,[3:4].1"
PREFIX=pktgen
PKTGEN_BIN=${PKTGEN:-pktgen}
RUN=0
LUA_ENV=()
WANTED=""

die() { echo "run-pcap.sh: $*" >&2; exit 2; }
need() { if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value"; fi; }
is_mac() { [[ "$1" =~ ^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$ ]]; }

while [ $# -gt 0 ]; do
  case "$1" in
    -o|--out) need "$@"; OUT=$2; shift ;;
    -w|--workers) need "$@"; WORKERS=$2; shift ;;
    -p|--packets) need "$@"; PACKETS=$2; shift ;;
    --imix) IMIX=1 ;;
    --dmac) need "$@"; DMAC=$2; shift ;;
    --smac) need "$@"; SMAC=$2; shift ;;
    --pci) need "$@"; PCI=$2; shift ;;
    --lcores) need "$@"; LCORES=$2; shift ;;
    --matrix) need "$@"; MATRIX=$2; shift ;;
    --file-prefix) need "$@"; PREFIX=$2; shift ;;
    --pktgen) need "$@"; PKTGEN_BIN=$2; shift ;;
    --seconds) need "$@"; LUA_ENV+=("KGW_SECONDS=$2"); shift ;;
    --warmup) need "$@"; LUA_ENV+=("KGW_WARMUP=$2"); shift ;;
    --rates) need "$@"; LUA_ENV+=("KGW_RATES=$2"); shift ;;
    --csv) need "$@"; LUA_ENV+=("KGW_CSV=$2"); shift ;;
    --run) RUN=1 ;;
    --list) for s in "${SCENARIOS[@]}"; do IFS='|' read -r n a _ _ <<< "$s"; printf '%-20s kgw-gen %s\n' "$n" "$a"; done; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) [ -z "$WANTED" ] || die "one scenario only"; WANTED=$1 ;;
  esac
  shift
done
[ -n "$WANTED" ] || { usage >&2; exit 2; }
[[ "$WORKERS" =~ ^[1-9][0-9]*$ ]] || die "--workers takes a positive integer"
[ -z "$PACKETS" ] || [[ "$PACKETS" =~ ^[1-9][0-9]*$ ]] || die "--packets takes a positive integer"
[ -z "$DMAC" ] || is_mac "$DMAC" || die "--dmac: not a MAC address: $DMAC"
[ -z "$SMAC" ] || is_mac "$SMAC" || die "--smac: not a MAC address: $SMAC"
[ "$RUN" = 0 ] || [ -n "$PCI" ] || die "--run needs --pci"

entry=""
for s in "${SCENARIOS[@]}"; do [ "${s%%|*}" = "$WANTED" ] && entry=$s; done
[ -n "$entry" ] || die "unknown scenario $WANTED (see --list)"
IFS='|' read -r name genargs conntrack maglev <<< "$entry"
[ -x "$GEN" ] || die "$GEN missing (build kgw first: meson setup build && ninja -C build)"

read -r -a table_args <<< "$genargs"
mode=${table_args[1]}
# perf/run's arguments less -p, which is decided here.
args=()
table_packets=""
for ((i = 0; i < ${#table_args[@]}; i++)); do
  if [ "${table_args[i]}" = -p ]; then table_packets=${table_args[i + 1]}; i=$((i + 1)); continue; fi
  args+=("${table_args[i]}")
done
# New flows must outrun every worker's connection table (perf/run: 200,000 SYNs
# against 65,536 entries, one worker): scale the file with the workers.
if [ -n "$PACKETS" ]; then
  args+=(-p "$PACKETS")
elif [ "$mode" = new ]; then
  args+=(-p "$((${table_packets:-200000} * WORKERS))")
elif [ "$mode" = mixed ] && [ "$WORKERS" -gt 1 ]; then
  args+=(-p "$((100000 * WORKERS))")
elif [ -n "$table_packets" ]; then
  args+=(-p "$table_packets")
fi
[ "$IMIX" = 1 ] && args+=(-z imix)

dir=$OUT/$name
mkdir -p "$dir/manifests"
rm -f "$dir/manifests/services.yaml"
"$GEN" "${args[@]}" -o "$dir/in.pcap" -M "$dir/manifests" > "$dir/gen.log"
# perf/run keeps no Service for the local scenario.
[ "$name" = local ] && rm -f "$dir/manifests/services.yaml"
packets=$(awk '{print $2}' "$dir/gen.log")

# Average frame on the wire (FCS included), for the line-rate figure, and the
# largest, for pktgen's mempool: kgw-gen's 64 is the floor, headers may need more.
ipv6=0
[[ " ${args[*]} " == *" -6 "* ]] && ipv6=1
if [ "$IMIX" = 1 ]; then
  small=64; [ "$ipv6" = 1 ] && small=78
  avg=$(awk -v s="$small" 'BEGIN { printf "%.2f", (7 * s + 4 * 570 + 1518) / 12 }')
  largest=1518
else
  avg=64; [ "$ipv6" = 1 ] && avg=78
  largest=$avg
fi

# The first record's captured length: an IPv6 TCP frame needs 74 bytes without
# its FCS (14 + 40 + 20); a shorter one has its TCP header cut, which kgw drops
# as tcp_truncated (kgw-gen before commit fd5b97e wrote 70-byte ones).
first_len=$(od -An -tu4 -j32 -N4 "$dir/in.pcap" | tr -d ' ')
if [ "$ipv6" = 1 ] && [ "${first_len:-0}" -lt 74 ]; then
  echo "run-pcap.sh: WARNING: $dir/in.pcap starts with a ${first_len}-byte IPv6 frame, too short" \
    "for its TCP header: kgw will drop it as tcp_truncated. Rebuild kgw-gen (ninja -C build)." >&2
fi

if [ -n "$DMAC$SMAC" ]; then
  command -v python3 > /dev/null || die "--dmac/--smac need python3"
  python3 - "$dir/in.pcap" "$DMAC" "$SMAC" <<'PY'
import struct, sys
path, dmac, smac = sys.argv[1], sys.argv[2], sys.argv[3]
d = bytes.fromhex(dmac.replace(":", "")) if dmac else None
s = bytes.fromhex(smac.replace(":", "")) if smac else None
data = bytearray(open(path, "rb").read())
e = "<" if struct.unpack_from("<I", data, 0)[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
off, n = 24, 0
while off + 16 <= len(data):
    incl = struct.unpack_from(e + "I", data, off + 8)[0]
    p = off + 16
    if incl >= 14:
        if d and data[p:p + 6] != b"\xff" * 6:
            data[p:p + 6] = d
        if s:
            data[p + 6:p + 12] = s
            if data[p + 12:p + 14] == b"\x08\x06" and incl >= 28:
                data[p + 22:p + 28] = s  # ARP sender hardware address
    off = p + incl
    n += 1
open(path, "wb").write(data)
print("run-pcap.sh: rewrote the MACs of %d frames" % n, file=sys.stderr)
PY
fi

# pktgen 23.03 loads the pcap into a mempool of its own per TX queue: one
# element per packet of (largest frame - FCS) + 128 (struct rte_mbuf) + 128
# (headroom), plus the mempool's own header per object (~64 bytes). A file of
# fewer than 24,576 packets is repeated up to about that many.
elements=$(awk -v n="$packets" 'BEGIN { m = 24576; print (n < m ? int(m / n) * n : n) }')
mem_mb=$(awk -v n="$elements" -v l="$largest" 'BEGIN { printf "%.1f", n * (l - 4 + 128 + 128 + 64) / 1048576 }')
txq=$(awk -v m="$MATRIX" 'BEGIN {
  # TX cores of port 0 in -m: "[rx:tx].0" with tx a list like 2, 2-3, 2/4.
  if (match(m, /\[[^]]*\]\.0([^-0-9]|$)/) == 0) { print 1; exit }
  s = substr(m, RSTART + 1, RLENGTH); sub(/\].*/, "", s)
  if (index(s, ":") == 0) { print 1; exit }
  sub(/.*:/, "", s); n = 0; k = split(s, parts, "/")
  for (i = 1; i <= k; i++) { if (split(parts[i], r, "-") == 2) n += r[2] - r[1] + 1; else n++ }
  print (n > 0 ? n : 1) }')

lua=$HERE/pcap-replay.lua
rx_port=1
[ "$name" = local ] && { lua=$HERE/local-icmp.lua; rx_port=0; }
cmd=(env "KGW_LABEL=$name" "KGW_FRAME_BYTES=$avg" "KGW_RX_PORT=$rx_port" ${LUA_ENV[@]+"${LUA_ENV[@]}"}
  "$PKTGEN_BIN" -l "$LCORES" --file-prefix "$PREFIX")
if [ -n "$PCI" ]; then
  IFS=',' read -r -a pcis <<< "$PCI"
  [ "${#pcis[@]}" = 2 ] || die "--pci takes two PCI addresses, port 0 then port 1"
  cmd+=(-a "${pcis[0]}" -a "${pcis[1]}")
else
  cmd+=(-a GEN_PORT0_PCI -a GEN_PORT1_PCI)
fi
cmd+=(-- -m "$MATRIX" -s "0:$dir/in.pcap" -f "$lua")

what=$(sed 's/^kgw-gen: //' "$dir/gen.log")
[ "$name" = local ] && what="$packets packets: ICMP echo requests (1 in 8 an ARP request) to 198.18.0.1 -> $dir/in.pcap"
svc=""
[ "$name" = local ] || svc=" with $(grep -c '^kind: Service$' "$dir/manifests/services.yaml") Services"
cat <<EOF
scenario   $name: $what
pcap       $dir/in.pcap: $packets frames, ${avg} bytes on average on the wire
           pktgen keeps them ($elements mbufs) in about $mem_mb MB of hugepages per TX queue of port 0
           ($txq TX queue(s) in -m "$MATRIX"), on top of its fixed pools (README.md)
kgw server copy $dir/manifests/ over${svc}, then in gateway.yaml:
             services: {conntrack_entries: $conntrack, maglev_size: $maglev}
           and start: build/kgw dataplane -c gateway.yaml --manifests DIR
generator  (as root; pktgen numbers the ports in PCI address order: check port 0 faces kgw p0)
EOF
# The command as one line to paste: words with shell metacharacters in single quotes.
line=""
for w in "${cmd[@]}"; do
  if [[ "$w" =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then line+="$w "; else line+="'${w//\'/\'\\\'\'}' "; fi
done
echo "  ${line% }"
cat <<EOF
read       rx of pktgen port $rx_port = what kgw forwarded (pktgen prints the medians);
           on the kgw server: build/kgw cli -c "show lcores; show counters; show port stats all"
EOF

if [ "$RUN" = 1 ]; then
  exec "${cmd[@]}"
fi
