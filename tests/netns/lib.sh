# Network-namespace topology helpers for the demo and the end-to-end tests.
# Every namespace, veth and DPDK runtime directory made here is recorded and
# removed by netns_cleanup, which callers run from an EXIT trap so that a
# failing test still leaves nothing behind. Addresses: 198.18.0.0/15 and the
# IPv6 benchmarking prefix 2001:2::/48, never leaving the namespaces.

NETNS_CREATED=()
DPDK_PREFIXES=()
STARTED_PIDS=()

netns_add() {
  local ns=$1
  ip netns add "$ns"
  NETNS_CREATED+=("$ns")
  ip -n "$ns" link set lo up
}

# veth_link NS_A IF_A NS_B IF_B: a veth pair with one end in each namespace.
veth_link() {
  local ns_a=$1 if_a=$2 ns_b=$3 if_b=$4
  ip link add "$if_a" netns "$ns_a" type veth peer name "$if_b" netns "$ns_b"
  ip -n "$ns_a" link set "$if_a" up
  ip -n "$ns_b" link set "$if_b" up
}

# The gateway's side carries no kernel addresses: DPDK owns it.
quiet_gateway_if() {
  local ns=$1 ifname=$2
  ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifname.disable_ipv6=1" || true
}

# Starts kgw dataplane inside NS in the background; sets DP_PID.
start_dataplane() {
  local ns=$1 kgw=$2 config=$3 log=$4 prefix=$5
  DPDK_PREFIXES+=("$prefix")
  ip netns exec "$ns" "$kgw" dataplane -c "$config" > "$log" 2>&1 &
  DP_PID=$!
  STARTED_PIDS+=("$DP_PID")
}

# Waits until the dataplane answers a CLI command (its shared state is up).
wait_dataplane() {
  local kgw=$1 prefix=$2 timeout=${3:-30} i
  for ((i = 0; i < timeout * 5; i++)); do
    if "$kgw" cli --file-prefix "$prefix" -c "show lcores" > /dev/null 2>&1; then return 0; fi
    if [ -n "${DP_PID:-}" ] && ! kill -0 "$DP_PID" 2>/dev/null; then return 1; fi
    sleep 0.2
  done
  return 1
}

# Stops a process we started, by PID: SIGTERM, then SIGKILL after a grace period.
stop_pid() {
  local pid=$1 grace=${2:-10} i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < grace * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

netns_cleanup() {
  local pid ns prefix
  for pid in "${STARTED_PIDS[@]}"; do stop_pid "$pid" 5; done
  for ns in "${NETNS_CREATED[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
  for prefix in "${DPDK_PREFIXES[@]}"; do
    rm -rf "/var/run/dpdk/$prefix"
    rm -f /dev/hugepages/"${prefix}"map_* 2>/dev/null || true
  done
  STARTED_PIDS=()
  NETNS_CREATED=()
  DPDK_PREFIXES=()
}
