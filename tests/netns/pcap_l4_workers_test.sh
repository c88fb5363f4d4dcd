#!/usr/bin/env bash
# Two workers over one net_pcap port with two RX queues (kgw issue 17): an
# rx_pcap= file per queue, a tx_pcap= file per worker's TX queue, so each
# output packet says which worker sent it. Services with full NAT (ClusterIP,
# NodePort) and with the client's address kept (externalTrafficPolicy Local),
# TCP and UDP, IPv4 and IPv6. Like the golden Service cases, it replays twice: run 1 sends
# each flow's first packet, run 2 the same again with the pods' answers to
# what run 1 sent them, and more of each conversation. pcap_l4_workers.py
# crafts the inputs and checks that every flow completed both ways through
# one worker (its queue's for full NAT, the client hash's for Local), with
# the choices run 1 made, and that the `steering:` line counts how: every
# full-NAT flow unaimed (net_pcap has no RSS), the Local flows' packets that
# arrived on the other worker's queue handed over and taken in. Its docstring
# says why the concurrent reading of the two files cannot make it flake.
# No network namespace: the dataplane needs root and hugepages only.
#   pcap_l4_workers_test.sh path/to/kgw
set -uo pipefail

KGW=$(realpath "$1")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3
# shellcheck source=tests/netns/standalone_lib.sh
source "$HERE/standalone_lib.sh"
netns_require_root_and_hugepages
"$PY" -c "import scapy" 2> /dev/null || { echo "SKIP: python3-scapy missing"; exit 77; }
standalone_init kgwpw

gateway_yaml() {
  local r=$WORK/run$1
  cat <<YAML
node: {name: pcap-l4-workers, addresses: [198.18.0.1, "2001:2::1"]}
ports:
  - name: p0
    device: "net_pcap0,rx_pcap=$r-q0.pcap,rx_pcap=$r-q1.pcap,tx_pcap=$r-out0.pcap,tx_pcap=$r-out1.pcap"
    mac: "02:00:00:00:00:01"
workers: 2
snat: {addresses: [198.18.0.250, "2001:2::250"]}
neighbors:
  - {ip: 198.18.0.2, mac: "02:00:00:00:00:02", port: p0}
  - {ip: 198.18.0.3, mac: "02:00:00:00:00:03", port: p0}
  - {ip: 198.19.1.11, mac: "02:00:00:00:01:11", port: p0}
  - {ip: 198.19.1.12, mac: "02:00:00:00:01:12", port: p0}
  - {ip: 198.19.1.13, mac: "02:00:00:00:01:13", port: p0}
  - {ip: "2001:2::2", mac: "02:00:00:00:00:02", port: p0}
  - {ip: "2001:2::3", mac: "02:00:00:00:00:03", port: p0}
  - {ip: "2001:3::11", mac: "02:00:00:00:01:11", port: p0}
  - {ip: "2001:3::12", mac: "02:00:00:00:01:12", port: p0}
  - {ip: "2001:3::13", mac: "02:00:00:00:01:13", port: p0}
dataplane: {file_prefix: $P, mbufs: 4095, telemetry: false}
# pcap_l4_workers.py checks each full-NAT source port against its worker's
# half of this range. Run 1's flows are all half-open (SYNs, unanswered UDP):
# their entries must outlive a slow run on a loaded machine (the default 30 s
# once expired them before the counters were read).
services:
  snat_port_lo: 20000
  snat_port_hi: 29999
  conntrack_entries: 4096
  timeouts: {tcp_syn: 3600, udp: 3600}
YAML
}

# pcap_count FILE: the packets in a capture.
pcap_count() { "$PY" -c "import sys; from scapy.all import rdpcap; print(len(rdpcap(sys.argv[1])))" "$1"; }

# run_dataplane N: replays run N's two input files through a dataplane until
# every packet is in and one is out for each, then saves the counters and
# stops it (the tx_pcap files are complete once it has exited).
run_dataplane() {
  local n=$1 q0 q1 total rx tx w want got
  q0=$(pcap_count "$WORK/run$n-q0.pcap")
  q1=$(pcap_count "$WORK/run$n-q1.pcap")
  total=$((q0 + q1))
  gateway_yaml "$n" > "$WORK/gateway$n.yaml"
  "$KGW" dataplane -c "$WORK/gateway$n.yaml" --manifests "$HERE/manifests-pcap-workers" > "$WORK/dp.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  # Until both files are read and what they gave is sent (60 s at most, start
  # included, for a loaded machine; a packet lost shows in the counters below).
  local end=$((SECONDS + 60))
  while ((SECONDS < end)); do
    read -r rx tx < <(cli "show counters" 2> /dev/null | awk '$1 == "rx" {print $2, $4}')
    [ "${rx:-0}" = "$total" ] && [ "${tx:-0}" -ge "$total" ] && break
    kill -0 "$pid" 2> /dev/null || fail "run $n: the dataplane exited"
    sleep 0.1
  done
  sleep 0.3  # anything more (there should be nothing) would show in the counters
  # (a secondary re-probing the pcap vdev may complain on stderr: harmless)
  cli "show counters; show lcores" > "$WORK/run$n-counters.txt" 2>> "$WORK/cli.log" || fail "run $n: show counters"
  kill -TERM "$pid"
  wait "$pid" || fail "run $n: the dataplane exited with an error"
  cp "$WORK/dp.log" "$WORK/run$n-dp.log"
  read -r rx tx < <(awk '$1 == "rx" {print $2, $4}' "$WORK/run$n-counters.txt")
  echo "run $n: rx $rx tx $tx (queue 0: $q0 packets, queue 1: $q1)"
  if [ "$rx" != "$total" ] || [ "$tx" != "$total" ]; then
    cat "$WORK/run$n-counters.txt"
    fail "run $n: received $rx and sent $tx of $total"
  fi
  # Each worker polled its own queue and received that queue's file.
  sed -n '/^worker /,$p' "$WORK/run$n-counters.txt" | sed 's/^/  /'
  for w in 0 1; do
    want=$q0
    [ "$w" = 1 ] && want=$q1
    got=$(awk -v w="$w" '$1 == w && $5 == "0:" w {print $6}' "$WORK/run$n-counters.txt")
    [ "$got" = "$want" ] || fail "run $n: worker $w received ${got:-nothing} from queue 0:$w, want its $want packets"
  done
}

"$PY" "$HERE/pcap_l4_workers.py" craft "$WORK" 1 || fail "crafting run 1"
run_dataplane 1
"$PY" "$HERE/pcap_l4_workers.py" craft "$WORK" 2 || fail "crafting run 2 from run 1's output"
run_dataplane 2
"$PY" "$HERE/pcap_l4_workers.py" check "$WORK" || fail "the outputs and counters"
echo "PASS: two workers over two net_pcap RX queues, every flow complete both ways through one worker"
