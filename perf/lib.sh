# Shared by the perf/ harnesses: the scenarios and the gateway perf/run and
# perf/instructions run; the CPU and wrk measurements of perf/tls/run and
# perf/proxy/run (kgw against nginx on the netns topology).
# shellcheck shell=bash

# name | kgw-gen arguments | conntrack entries | Maglev size
SCENARIOS=(
  "local|-m local|4096|251"
  "l4-est-1k|-m established -f 1000 -s 10 -e 3|65536|65537"
  "l4-est-100k|-m established -f 100000 -s 10 -e 3|262144|65537"
  "l4-est-1m|-m established -f 1000000 -s 10 -e 3|2097152|65537"
  "l4-new-1k-svc|-m new -s 1000 -e 3 -p 200000|65536|1021"
  "l4-mixed-100k|-m mixed -f 100000 -s 10 -e 3|262144|65537"
  "l4-est-1m-10k-svc|-m established -f 1000000 -s 10000 -e 10|2097152|1021"
  "l4-flood-0|-m established -f 100000 -s 10 -e 3 -p 1000000|131072|65537"
  "l4-flood-10|-m mixed -n 10 -f 100000 -s 10 -e 3 -p 1000000|131072|65537"
  "l4-flood-50|-m mixed -n 50 -f 100000 -s 10 -e 3 -p 1000000|131072|65537"
  "l4-flood-90|-m mixed -n 90 -f 100000 -s 10 -e 3 -p 1000000|131072|65537"
  "ipv6-est-1k|-m established -6 -f 1000 -s 10 -e 3|65536|65537"
  "ipv6-est-100k|-m established -6 -f 100000 -s 10 -e 3|262144|65537"
  "dns-a|-m dns -q a -s 10|4096|251"
  "dns-nxdomain|-m dns -q nxdomain -s 10|4096|251"
  "dns-srv|-m dns -q srv -s 10|4096|251"
  # The responder's flatness (perf/dns/run; named-only, below): the same
  # 100,000 queries over tables of 100 to 100,000 Services (IPv6 Services
  # past the 32,768 IPv4 VIPs, so AAAA), and dns-a at 100 and 10,000.
  "dns-a-100-svc|-m dns -q a -s 100 -e 1 -p 100000|4096|251"
  "dns-a-10k-svc|-m dns -q a -s 10000 -e 1 -p 100000|4096|251"
  "dns-aaaa-100-svc|-m dns -6 -q aaaa -s 100 -e 1 -p 100000|4096|251"
  "dns-aaaa-10k-svc|-m dns -6 -q aaaa -s 10000 -e 1 -p 100000|4096|251"
  "dns-aaaa-100k-svc|-m dns -6 -q aaaa -s 100000 -e 1 -p 100000|4096|251"
  "pod-vxlan-1k|-m pod -f 1000 -s 1|4096|251"
  # The same traffic as l4-est-1k and l4-new-1k-svc with a NetworkPolicy
  # isolating every endpoint Pod and allowing the clients (policy_manifests):
  # what enforcement costs an established packet and a new flow.
  "l4-est-1k-policy|-m established -f 1000 -s 10 -e 3|65536|65537"
  "l4-new-1k-svc-policy|-m new -s 1000 -e 3 -p 200000|65536|1021"
)

# The DNS scenarios' gateway has a dns section (the responder on 198.18.0.53);
# the others have none, so that their figures do not carry the DNS stage.
is_dns_scenario() { [[ "$1" == dns-* ]]; }

# The *-policy scenarios' manifests get policy_manifests.
is_policy_scenario() { [[ "$1" == *-policy ]]; }

# policy_manifests DIR: DIR/policy.yaml making every endpoint address of the
# Services kgw-gen wrote into DIR a Pod (namespace perf, label app: perf) and a
# NetworkPolicy that isolates them all for ingress and allows TCP 8080 from
# the generator's clients (198.18.64.0/18, 2001:2::40:0:0/96): every flow is
# classified and allowed, as in a cluster where every Pod has a policy.
policy_manifests() {
  local dir=$1 i=0 addr
  {
    cat <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-clients, namespace: perf}
spec:
  podSelector: {matchLabels: {app: perf}}
  policyTypes: [Ingress]
  ingress:
  - from: [{ipBlock: {cidr: 198.18.64.0/18}}, {ipBlock: {cidr: "2001:2::40:0:0/96"}}]
    ports: [{protocol: TCP, port: 8080}]
YAML
    for addr in $(sed -n 's/.*addresses: \["\([^"]*\)"\].*/\1/p' "$dir"/*.yaml | sort -u); do
      printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: pod%s, namespace: perf, labels: {app: perf}}\n' "$i"
      printf 'spec: {containers: [{name: http, ports: [{name: http, containerPort: 8080}]}]}\n'
      printf 'status: {podIP: "%s"}\n' "$addr"
      i=$((i + 1))
    done
  } > "$dir/policy.yaml"
}

# The DNS flatness scenarios (100,000 queries each) run only when named
# (perf/dns/run names them): not in "every scenario".
named_only_scenario() { [[ "$1" == dns-a-*-svc || "$1" == dns-aaaa-*-svc ]]; }

# Is scenario $1 in the comma-separated list $2 (empty = all but the
# named-only ones)?
scenario_selected() {
  if [ -z "$2" ]; then ! named_only_scenario "$1"; else [[ ",$2," == *",$1,"* ]]; fi
}

# The value of kgw-gen option $2 (-f, -s, ...) in argument string $1, or $3.
gen_arg() {
  local v
  v=$(sed -n "s/.*$2 \([0-9]*\).*/\1/p" <<< "$1")
  echo "${v:-$3}"
}

# gateway_yaml DEV0 DEV1 CONNTRACK MAGLEV MBUFS FILE_PREFIX DATA_ROOM [ENDPOINT_PORT]
# p0 faces the clients (and answers ARP/ICMP), ENDPOINT_PORT (default p1) the endpoints.
# PERF_DNS set: with the DNS responder on 198.18.0.53 (the dns-* scenarios);
# PERF_MAX_SERVICES set: services.max_services (past the default 65,536).
# PERF_WORKERS: workers (default 1; perf/run --workers).
gateway_yaml() {
  local out=${8:-p1}
  cat <<YAML
node: {name: perf, addresses: [198.18.0.1, "2001:2::1"]}
ports:
  - {name: p0, device: "$1", mac: "02:00:00:00:00:01"}
  - {name: p1, device: "$2"}
workers: ${PERF_WORKERS:-1}
snat: {addresses: [198.18.0.250, "2001:2::250"]}
neighbors:
  - {ip: 198.18.1.2, mac: "02:00:00:00:01:02", port: $out}
  - {ip: "2001:2::1:2", mac: "02:00:00:00:01:02", port: $out}
  - {ip: 198.18.0.2, mac: "02:00:00:00:00:02", port: p0}
routes:
  - {prefix: 198.19.0.0/17, via: 198.18.1.2, port: $out}
  - {prefix: "2001:2::10:0:0/96", via: "2001:2::1:2", port: $out}
# table_memory_mb: the largest scenario's tables (10,000 Services at Maglev 1021)
# take 25 MiB per generation; the default room would not leave the 1M-flow
# captures enough of a 1 GiB hugepage pool.
dataplane: {file_prefix: $6, cpus: [0, 1], mbufs: $5, mbuf_data_room: $7, telemetry: false, table_memory_mb: 64}
services: {conntrack_entries: $3, maglev_size: $4${PERF_MAX_SERVICES:+, max_services: $PERF_MAX_SERVICES}}
YAML
  [ -n "${PERF_DNS:-}" ] && echo "dns: {addresses: [198.18.0.53]}"
  [ -n "${PERF_POD:-}" ] && echo "pod_network: {overlay: vxlan}"
  return 0
}

# median [DECIMALS] < numbers (one or more a line): the middle value, or the
# mean of the two middle values (printed with DECIMALS decimals, default 2); 0
# for no input.
median() {
  tr -s ' \t' '\n\n' | grep . | sort -g | awk -v d="${1:-2}" '{v[NR] = $1}
    END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.*f\n", d, (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# testpmd_mpps PORT SECONDS < testpmd log (--stats-period 1): the mean Rx rate of
# PORT in Mpps over SECONDS one-second samples, from the second after the first
# one with traffic (that one is partial); 0 when no traffic was seen.
testpmd_mpps() {
  awk -v port="$1" '$0 ~ "NIC statistics for port " port " " {p = 1} p && /Rx-pps:/ {print $2; p = 0}' |
    awk -v n="$2" '$1 > 0 && !started {started = 1; next} started && taken < n {print; taken++}' |
    awk '{s += $1; n++} END { if (n) printf "%.2f\n", s / n / 1e6; else print "0" }'
}

# percentile P < numbers: the nearest-rank P-th percentile (0 for no input).
percentile() {
  sort -g | awk -v p="$1" '{v[NR] = $1} END { if (NR == 0) { print 0; exit } i = int((p * NR + 99) / 100); if (i < 1) i = 1; print v[i] }'
}

# --- kgw against nginx on the netns topology (perf/tls/run, perf/proxy/run) ---
# CPU per unit of work on the gateway's core, in TSC cycles. kgw's worker
# thread polls whenever it runs, so its time on CPU (schedstat: immune to
# preemption, as nginx's is) counts idle polls too; those are taken off at the
# cost of an idle loop measured with no traffic (kgw_idle_loop). nginx's worker
# sleeps when idle: its time on CPU is all work.

# kgw_worker_tid PID: the thread id of the dataplane's first worker lcore.
kgw_worker_tid() {
  local t
  for t in /proc/"$1"/task/*; do
    [ "$(cat "$t/comm")" = rte-worker-1 ] && { echo "${t##*/}"; return 0; }
  done
  return 1
}

# kgw_cpu_snap NS METRICS_PORT PID TID: "oncpu_ns loops busy_loops busy_cycles"
# of worker 0 (its thread's schedstat, and /metrics read from inside NS).
kgw_cpu_snap() {
  local m
  m=$(ip netns exec "$1" curl -s --max-time 5 "http://127.0.0.1:$2/metrics")
  echo "$(awk '{ print $1 }' "/proc/$3/task/$4/schedstat")" \
    "$(awk -v k='kgw_worker_loops_total{worker="0"}' '$1 == k { print $2 }' <<< "$m")" \
    "$(awk -v k='kgw_worker_busy_loops_total{worker="0"}' '$1 == k { print $2 }' <<< "$m")" \
    "$(awk -v k='kgw_worker_busy_cycles_total{worker="0"}' '$1 == k { print $2 }' <<< "$m")"
}

# kgw_preemptions PID TID: how many times the scheduler gave the thread's CPU
# to another thread (nonvoluntary_ctxt_switches).
kgw_preemptions() { awk '$1 == "nonvoluntary_ctxt_switches:" { print $2 }' "/proc/$1/task/$2/status"; }

# --- kgw and nginx taking turns on the same veths (perf/tls/run, perf/proxy/run) ---
# kgw_fresh_snat CONFIG: a SNAT address of its own for each kgw start (the
# line after `snat:` in CONFIG). The pods keep the TIME-WAIT of the backend
# connections they closed (60 s), and the previous kgw's ports are the next
# one's: a SYN that meets one is answered with an ACK, reset and sent again
# after the 1 s RTO (any TCP client after a restart), which took kgw's
# plain-HTTP rows in a second round to 45 requests/s.
kgw_fresh_snat() {
  KGW_STARTS=$(( ${KGW_STARTS:-0} + 1 ))
  sed -i "/^snat:/{n;s/.*/  addresses: [198.18.0.$((200 + (KGW_STARTS - 1) % 50))]/}" "$1"
}

# gateway_kernel_addresses add|del NS: the node's addresses on the gateway's
# veths for the kernel (nginx's turn), or taken back (kgw's).
gateway_kernel_addresses() {
  ip -n "$2" addr "$1" 198.18.0.1/24 dev g0
  ip -n "$2" addr "$1" 198.19.1.1/24 dev g1
}

# pair_ratios "K1 K2 ..." "G1 G2 ...": "K1/G1 K2/G2 ..." (a round's pair each;
# 0 where G is 0).
pair_ratios() {
  awk -v k="$1" -v g="$2" 'BEGIN { n = split(k, a); split(g, b)
    for (i = 1; i <= n; i++) printf "%s%.2f", (i > 1 ? " " : ""), (b[i] > 0 ? a[i] / b[i] : 0); print "" }'
}

# kgw_gap_hist NS METRICS_PORT: worker 0's loop gap histogram, its 16
# cumulative bucket counts ("?" when /metrics has none).
kgw_gap_hist() {
  ip netns exec "$1" curl -s --max-time 5 "http://127.0.0.1:$2/metrics" |
    awk 'index($1, "kgw_worker_loop_gap_seconds_bucket{worker=\"0\",") == 1 { c[n++] = $2 }
      END { if (n < 16) { print "?"; exit } for (i = 0; i < 16; i++) printf "%s%s", c[i], (i < 15 ? " " : "\n") }'
}

# kgw_gap_between "HIST_BEFORE" "HIST_AFTER" SECONDS TSC_HZ: the loop gaps
# between two kgw_gap_hist: "N/s of 0.1 ms and more, N/s of 0.8 ms and more,
# the longest under X ms" (bucket b's bound: 2^(b+11) cycles).
kgw_gap_between() {
  awk -v a="$1" -v b="$2" -v s="$3" -v hz="$4" 'BEGIN {
    if (a == "?" || b == "?") { print "?"; exit }
    split(a, x); split(b, y)
    top = -1
    for (i = 1; i <= 16; i++) { d[i - 1] = (y[i] - x[i]) - (i > 1 ? y[i - 1] - x[i - 1] : 0); if (d[i - 1] > 0) top = i - 1 }
    g1 = (y[16] - x[16]) - (y[8] - x[8]); g8 = (y[16] - x[16]) - (y[11] - x[11])
    longest = top < 0 ? "-" : top == 15 ? sprintf(">=%.1f ms", 2 ^ 25 / hz * 1000) : sprintf("<%.2f ms", 2 ^ (top + 11) / hz * 1000)
    printf "%.0f/s %.0f/s %s\n", g1 / s, g8 / s, longest }'
}

# kgw_idle_loop TSC_HZ SNAP_ARGS...: the cycles of one idle poll loop, from a
# second with no traffic (SNAP_ARGS: kgw_cpu_snap's); 1 when the loop
# counters cannot be read.
kgw_idle_loop() {
  local hz=$1 n0 l0 n1 l1
  shift
  read -r n0 l0 _ < <(kgw_cpu_snap "$@")
  sleep 1
  read -r n1 l1 _ < <(kgw_cpu_snap "$@")
  [ -n "$l1" ] && [ -n "$l0" ] && [ "$l1" -gt "$l0" ] || return 1
  awk -v n=$((n1 - n0)) -v l=$((l1 - l0)) -v hz="$hz" 'BEGIN { printf "%.1f", n * hz / 1e9 / l }'
}

# kgw_cycles TSC_HZ IDLE_LOOP UNITS "SNAP_BEFORE" "SNAP_AFTER": "cycles busy idle_share"
# per unit: time on CPU less idle loops, the worker's busy cycles (TSC across
# the loops that received packets: a preemption inside one counts in it), and
# the idle loops' share of the time on CPU.
kgw_cycles() {
  local n0 l0 bl0 b0 n1 l1 bl1 b1
  read -r n0 l0 bl0 b0 <<< "$4"
  read -r n1 l1 bl1 b1 <<< "$5"
  awk -v n=$((n1 - n0)) -v idle=$(((l1 - l0) - (bl1 - bl0))) -v b=$((b1 - b0)) -v c="$2" -v hz="$1" -v u="$3" \
    'BEGIN { t = n * hz / 1e9; printf "%.2f %.2f %.2f\n", (t - idle * c) / u, b / u, (t > 0 ? idle * c / t : 0) }'
}

# nginx_worker_of MASTER_PID: its (one) worker's pid, once it has started
# (within 20 s: a loaded machine can take seconds).
nginx_worker_of() {
  local n w
  for ((n = 0; n < 200; n++)); do
    w=$(awk '{ print $1 }' "/proc/$1/task/$1/children" 2> /dev/null)
    [ -n "$w" ] && { echo "$w"; return 0; }
    sleep 0.1
  done
  return 1
}

# nginx's TLS settings where a benchmark runs it as the gateway (perf/tls/run,
# perf/proxy/run), so that both compare kgw with the same nginx: TLS 1.2 and
# 1.3, X25519 first, the server's cipher order (kgw's too), stateless tickets
# and no session cache (kgw has no cache).
NGINX_TLS_SETTINGS="ssl_protocols TLSv1.2 TLSv1.3;
  ssl_ecdh_curve X25519:prime256v1;
  ssl_prefer_server_ciphers on;
  ssl_session_tickets on;
  ssl_session_cache off;"

# cpu_ns PID: the nanoseconds a process's main thread spent on CPU (user and system).
cpu_ns() { awk '{ print $1 }' "/proc/$1/schedstat"; }

# wrk_latency_script FILE: a wrk script (-s FILE) ending wrk's output with
# lines "requests N", "rps R", "p50 US", "p99 US", "errors E", "status S".
wrk_latency_script() {
  cat > "$1" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("requests %d\nrps %.1f\np50 %.1f\np99 %.1f\nerrors %d\nstatus %d\n",
    summary.requests, summary.requests / (summary.duration / 1e6), latency:percentile(50),
    latency:percentile(99), e.connect + e.read + e.write + e.timeout, e.status))
end
LUA
}

# value NAME FILE: the rest of FILE's first line "NAME ...".
value() { sed -n "s/^$1 //p" "$2" | head -1; }
