# Network-namespace topology helpers for the demo and the end-to-end tests.
# Every namespace, veth and DPDK runtime directory made here is recorded and
# removed by netns_cleanup, which callers run from an EXIT trap so that a
# failing test still leaves nothing behind. Addresses: 198.18.0.0/15 and the
# IPv6 benchmarking prefix 2001:2::/48, never leaving the namespaces.

NETNS_CREATED=()
DPDK_PREFIXES=()
STARTED_PIDS=()

# The start of every netns test: skips (exit 77, meson's "skipped") without
# root or a hugetlbfs mount.
netns_require_root_and_hugepages() {
  if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root"; exit 77; fi
  if ! grep -qs hugetlbfs /proc/mounts; then echo "SKIP: no hugetlbfs mount (run scripts/setup.sh)"; exit 77; fi
}

# A command in the test's client namespace, and a CLI command to its
# dataplane ($P: the test's prefix, also its DPDK --file-prefix; $KGW).
client() { ip netns exec "$P-client" "$@"; }
cli() { "$KGW" cli --file-prefix "$P" -c "$1"; }
# cli_within SECONDS COMMAND: cli COMMAND, failing (124) after SECONDS
# instead of hanging the test until meson kills it with nothing said; a hung
# cli's threads' stacks go to stderr first (gdb, when installed).
cli_within() {
  local out err pid i rc
  out=$(mktemp); err=$(mktemp)
  "$KGW" cli --file-prefix "$P" -c "$2" > "$out" 2> "$err" &
  pid=$!
  for ((i = 0; i < $1 * 20; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "kgw cli (pid $pid) still running after $1 s: $2" >&2
    command -v gdb > /dev/null && gdb -p "$pid" -batch -ex "thread apply all bt" 2>&1 | grep -E "^Thread|^#" >&2
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    cat "$out"; cat "$err" >&2; rm -f "$out" "$err"
    return 124
  fi
  wait "$pid"; rc=$?
  cat "$out"; cat "$err" >&2; rm -f "$out" "$err"
  return $rc
}
# line_field LINE NAME: the number after NAME in LINE (a `show counters` line).
line_field() { sed -n "s/.* $2 \([0-9]*\).*/\1/p" <<< "$1"; }
# counter_field SECTION NAME: the number after NAME on the `SECTION:` line of
# `show counters` ("http", "tls", "tcp", "tcp echo", "neighbors", ...).
counter_field() { line_field "$(cli "show counters" | grep "^$1: ")" "$2"; }

# start_control CONFIG MANIFESTS LOG SECONDS: `kgw control --manifests` in the
# gateway's namespace ($P-gw); sets CONTROL_PID and returns once the dataplane
# shows it attached (`show config status`), 1 after SECONDS without.
start_control() {
  ip netns exec "$P-gw" "$KGW" control -c "$1" --manifests "$2" > "$3" 2>&1 &
  CONTROL_PID=$!
  STARTED_PIDS+=("$CONTROL_PID")
  local n
  for ((n = 0; n < $4 * 10; n++)); do
    cli "show config status" | grep -q "control: pid $CONTROL_PID (running)" && return 0
    sleep 0.1
  done
  return 1
}

# wrk_result_script FILE: a wrk script (-s FILE) that ends wrk's output with
# "wrk-result requests R connect C read R write W status S timeout T".
wrk_result_script() {
  cat > "$1" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("wrk-result requests %d connect %d read %d write %d status %d timeout %d\n",
    summary.requests, e.connect, e.read, e.write, e.status, e.timeout))
end
LUA
}
# wrk_result OUTPUT: "requests connect read write status timeout" from that
# line of wrk's OUTPUT file; nothing without one.
wrk_result() {
  sed -n 's/^wrk-result requests \([0-9]*\) connect \([0-9]*\) read \([0-9]*\) write \([0-9]*\) status \([0-9]*\) timeout \([0-9]*\)$/\1 \2 \3 \4 \5 \6/p' "$1"
}

# wrk_clean PID OUTPUT MIN: waits for the wrk started as PID (run with
# wrk_result_script, its output in OUTPUT), prints that output, and fails
# (the test's `fail`) unless wrk exited 0 with no socket error, no timeout,
# every answer 2xx/3xx and at least MIN requests; WRK_REQUESTS: how many.
wrk_clean() {
  local rc requests connect readerr writeerr status timeout
  wait "$1"
  rc=$?
  cat "$2"
  [ "$rc" = 0 ] || fail "wrk exited $rc"
  read -r requests connect readerr writeerr status timeout < <(wrk_result "$2")
  [ -n "$requests" ] || fail "no wrk summary"
  [ "$((connect + readerr + writeerr + status + timeout))" = 0 ] ||
    fail "wrk: $connect connect, $readerr read, $writeerr write, $timeout timeout errors and $status non-2xx answers"
  [ "$requests" -ge "$3" ] || fail "wrk made only $requests requests"
  WRK_REQUESTS=$requests
}

# pod_pair_topology P: the pod-routing tests' namespaces. P-lpod holds a Pod
# on the gateway's segment (198.19.50.10, 2001:2:0:50::10) behind port g0 of
# P-gw; P-node is a remote Node (198.18.50.2, 2001:2:0:5::2) behind port g1,
# holding its Pod 198.19.60.10 / 2001:2:0:60::10 on lo. The Node's routes
# towards the gateway are the caller's (host-gw, or pod_pair_vxlan).
pod_pair_topology() {
  local p=$1
  netns_add "$p-gw"
  netns_add "$p-lpod"
  netns_add "$p-node"
  veth_link "$p-lpod" eth0 "$p-gw" g0
  veth_link "$p-node" eth0 "$p-gw" g1
  quiet_gateway_if "$p-gw" g0
  quiet_gateway_if "$p-gw" g1
  ip netns exec "$p-gw" ip link set lo up
  ip netns exec "$p-lpod" ip addr add 198.19.50.10/24 dev eth0
  ip netns exec "$p-lpod" ip route add default via 198.19.50.1
  ip netns exec "$p-lpod" ip -6 addr add 2001:2:0:50::10/64 dev eth0 nodad
  ip netns exec "$p-lpod" ip -6 route add default via 2001:2:0:50::1
  ip netns exec "$p-node" ip addr add 198.18.50.2/24 dev eth0
  ip netns exec "$p-node" ip -6 addr add 2001:2:0:5::2/64 dev eth0 nodad
  ip netns exec "$p-node" ip addr add 198.19.60.10/32 dev lo
  ip netns exec "$p-node" ip -6 addr add 2001:2:0:60::10/128 dev lo nodad
  ip netns exec "$p-node" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  no_checksum_offload "$p-lpod" eth0
  no_checksum_offload "$p-node" eth0
}

# pod_pair_vxlan P GW_VTEP_MAC NODE_VTEP_MAC: P-node's VTEP as Flannel's vxlan
# backend makes it (VNI 1, port 8472, learning off, the gateway's VTEP MAC in
# the fdb at the gateway's address 198.18.50.1 and as the neighbour of the
# next hop that the routes to the gateway's pod CIDRs name), IPv6 Pods over
# the same IPv4 tunnel.
pod_pair_vxlan() {
  local p=$1 gw_mac=$2 node_mac=$3
  local node=(ip netns exec "$p-node")
  "${node[@]}" ip link add vxlan1 type vxlan id 1 dstport 8472 local 198.18.50.2 dev eth0 nolearning
  "${node[@]}" ip link set vxlan1 address "$node_mac"
  "${node[@]}" ip link set vxlan1 up
  no_checksum_offload "$p-node" vxlan1
  "${node[@]}" bridge fdb append "$gw_mac" dev vxlan1 dst 198.18.50.1
  "${node[@]}" ip neigh add 198.19.50.0 lladdr "$gw_mac" dev vxlan1 nud permanent
  "${node[@]}" ip route add 198.19.50.0/24 via 198.19.50.0 dev vxlan1 onlink src 198.19.60.10
  "${node[@]}" ip -6 neigh add 2001:2:0:50:: lladdr "$gw_mac" dev vxlan1 nud permanent
  "${node[@]}" ip -6 route add 2001:2:0:50::/64 via 2001:2:0:50:: dev vxlan1 onlink src 2001:2:0:60::10
}

# pod_pair_vxlan6 P GW_VTEP_MAC6 NODE_VTEP_MAC6: after pod_pair_vxlan, P-node's
# second VTEP as Flannel's dual-stack makes it (flannel-v6.1): vxlan6 over
# IPv6 from 2001:2:0:5::2 (VNI 1, port 8472, learning off, outer UDP
# checksums as Linux sends and requires them by default), the gateway's IPv6
# VTEP MAC in its fdb at 2001:2:0:5::1, and the IPv6 Pods' routes moved to it.
pod_pair_vxlan6() {
  local p=$1 gw_mac=$2 node_mac=$3
  local node=(ip netns exec "$p-node")
  "${node[@]}" ip link add vxlan6 type vxlan id 1 dstport 8472 local 2001:2:0:5::2 dev eth0 nolearning
  "${node[@]}" ip link set vxlan6 address "$node_mac"
  "${node[@]}" ip link set vxlan6 up
  no_checksum_offload "$p-node" vxlan6
  "${node[@]}" bridge fdb append "$gw_mac" dev vxlan6 dst 2001:2:0:5::1
  "${node[@]}" ip -6 neigh del 2001:2:0:50:: dev vxlan1
  "${node[@]}" ip -6 neigh add 2001:2:0:50:: lladdr "$gw_mac" dev vxlan6 nud permanent
  # Deleted first: an onlink gateway the old route (on vxlan1) holds is refused for another device.
  "${node[@]}" ip -6 route del 2001:2:0:50::/64
  "${node[@]}" ip -6 route add 2001:2:0:50::/64 via 2001:2:0:50:: dev vxlan6 onlink src 2001:2:0:60::10
}

# pod_pair_nodes NODE_VTEP_MAC [ANNOTATION...]: the Node objects of
# pod_pair_topology: the gateway's (198.19.50.0/24, 2001:2:0:50::/64) and the
# remote one's (198.19.60.0/24, 2001:2:0:60::/64 at 198.18.50.2 and
# 2001:2:0:5::2, its VTEP MAC in Flannel's backend-data), with more
# annotations ("key: value") for the remote Node.
pod_pair_nodes() {
  local node_mac=$1 a
  shift
  cat <<YAML
apiVersion: v1
kind: Node
metadata:
  name: gw
spec:
  podCIDRs: [198.19.50.0/24, "2001:2:0:50::/64"]
---
apiVersion: v1
kind: Node
metadata:
  name: remote
  annotations:
    flannel.alpha.coreos.com/backend-data: '{"VNI":1,"VtepMAC":"$node_mac"}'
YAML
  for a in "$@"; do echo "    $a"; done
  cat <<YAML
spec:
  podCIDRs: [198.19.60.0/24, "2001:2:0:60::/64"]
status:
  addresses:
  - {type: InternalIP, address: 198.18.50.2}
  - {type: InternalIP, address: "2001:2:0:5::2"}
YAML
}

# pod_pair_gateway_yaml OVERLAY GW_VTEP_MAC [POD_NETWORK_LINE...]: the
# gateway's config on pod_pair_topology (ports g0 and g1, DPDK prefix $P),
# pod_network with OVERLAY, the VTEP at 198.18.50.1 and more keys of it.
pod_pair_gateway_yaml() {
  local overlay=$1 gw_mac=$2 line
  shift 2
  cat <<YAML
node:
  name: gw
  addresses: [198.19.50.1, 198.18.50.1, "2001:2:0:50::1", "2001:2:0:5::1"]
ports:
  - name: p0
    device: "net_af_packet0,iface=g0,qdisc_bypass=1"
    networks: [198.19.50.0/24, "2001:2:0:50::/64"]
  - name: p1
    device: "net_af_packet1,iface=g1,qdisc_bypass=1"
    networks: [198.18.50.0/24, "2001:2:0:5::/64"]
workers: 1
snat:
  addresses: [198.18.50.250]
dns:
  addresses: [198.18.150.53]
dataplane:
  file_prefix: $P
  mbufs: 4095
pod_network:
  overlay: $overlay
  vtep_mac: "$gw_mac"
  vtep_address: 198.18.50.1
YAML
  for line in "$@"; do echo "  $line"; done
}

# pod_pair_start KGW WORK MANIFESTS: on pod_pair_topology (namespaces $P-*),
# the dataplane started with WORK/gateway.yaml and MANIFESTS (it publishes
# their NetworkPolicies before its workers run) and control following
# MANIFESTS, until the remote Node's pod CIDR is routed and both Pods'
# servers on port 8080 take connections in their own namespaces.
pod_pair_start() {
  local kgw=$1 work=$2 m=$3 n
  start_dataplane "$P-gw" "$kgw" "$work/gateway.yaml" "$work/dp.log" "$P" "$m"
  wait_dataplane "$kgw" "$P" 30 || fail "dataplane did not come up"
  grep -q "policy: generation 1 published" "$work/dp.log" || fail "the dataplane did not publish the starting policy"
  start_control "$work/gateway.yaml" "$m" "$work/control.log" 20 || fail "control did not attach"
  for ((n = 0; n < 50; n++)); do cli "show pods" | grep -q "^198\.19\.60\.0/24 " && break; sleep 0.2; done
  cli "show pods" | grep -q "^198\.19\.60\.0/24 " || fail "no pod routes"
  for ((n = 0; n < 50; n++)); do
    ip netns exec "$P-lpod" bash -c "exec 3<>/dev/tcp/198.19.50.10/8080" 2>/dev/null &&
      ip netns exec "$P-node" bash -c "exec 3<>/dev/tcp/198.19.60.10/8080" 2>/dev/null && break
    sleep 0.1
  done
}

netns_add() {
  local ns=$1
  ip netns add "$ns"
  NETNS_CREATED+=("$ns")
  # `ip netns exec` shows /etc/netns/NS/* as /etc/*: no nameserver inside our
  # namespaces, so nothing there (Python's http.server looks up its own
  # address) waits on a DNS server it cannot reach.
  mkdir -p "/etc/netns/$ns"
  : > "/etc/netns/$ns/resolv.conf"
  ip -n "$ns" link set lo up
}

# veth_link NS_A IF_A NS_B IF_B: a veth pair with one end in each namespace.
veth_link() {
  local ns_a=$1 if_a=$2 ns_b=$3 if_b=$4
  ip link add "$if_a" netns "$ns_a" type veth peer name "$if_b" netns "$ns_b"
  ip -n "$ns_a" link set "$if_a" up
  ip -n "$ns_b" link set "$if_b" up
}

# port_device N IFACE: the DPDK device string of the gateway's port N on the
# veth IFACE, for the driver KGW_TEST_PORTS names:
#   af_packet (the default): net_af_packet, TX without the qdisc;
#   af_xdp: net_af_xdp, the PMD's XDP program on IFACE (native XDP on a veth,
#     the socket in copy mode); busy_budget=0 leaves the kernel's preferred
#     busy polling off: with it every empty RX poll is a recvfrom (an idle
#     loop about ten times dearer here) while the veth's receive work runs in
#     the sender's context either way.
port_device() {
  case ${KGW_TEST_PORTS:-af_packet} in
    af_packet) echo "net_af_packet$1,iface=$2,qdisc_bypass=1" ;;
    af_xdp) echo "net_af_xdp$1,iface=$2,busy_budget=0" ;;
    *) echo "KGW_TEST_PORTS=$KGW_TEST_PORTS: af_packet or af_xdp" >&2; return 1 ;;
  esac
}

# The gateway's side carries no kernel addresses: DPDK owns it.
quiet_gateway_if() {
  local ns=$1 ifname=$2
  ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$ifname.disable_ipv6=1" || true
}

# kernel_ignores_port NS IF: the gateway namespace's kernel takes nothing from
# the veth the dataplane drives, as a host's kernel sees nothing of a NIC DPDK
# owns. Needed once the kernel has the node's addresses (the exception
# path's interfaces): else it would answer ARP and take IPv4 arriving on the
# veth itself (any local address is accepted on any interface), beside the
# dataplane. DPDK's AF_PACKET socket still gets every frame: packet taps
# come before netfilter.
kernel_ignores_port() {
  local ns=$1 ifname=$2
  ip netns exec "$ns" sysctl -qw "net.ipv4.conf.$ifname.arp_ignore=8"
  ip netns exec "$ns" iptables -t raw -A PREROUTING -i "$ifname" -j DROP
}

# Starts kgw dataplane inside NS in the background; sets DP_PID. An optional
# sixth argument is a manifests directory.
start_dataplane() {
  local ns=$1 kgw=$2 config=$3 log=$4 prefix=$5 manifests=${6:-}
  local extra=()
  [ -n "$manifests" ] && extra=(--manifests "$manifests")
  DPDK_PREFIXES+=("$prefix")
  ip netns exec "$ns" "$kgw" dataplane -c "$config" "${extra[@]}" > "$log" 2>&1 &
  DP_PID=$!
  DP_LOG=$log
  STARTED_PIDS+=("$DP_PID")
}

# wait_grep SECONDS PATTERN FILE...: true once one of FILEs has a line matching
# PATTERN (a pod's access log is written after the response has gone out).
wait_grep() {
  local secs=$1 pattern=$2 i
  shift 2
  for ((i = 0; i < secs * 10; i++)); do
    cat "$@" 2>/dev/null | grep -q -- "$pattern" && return 0
    sleep 0.1
  done
  return 1
}

# wait_dataplane KGW PREFIX [SECONDS]: until the dataplane answers a CLI command
# and (started by start_dataplane) has logged that it runs.
wait_dataplane() {
  local kgw=$1 prefix=$2 timeout=${3:-30} i
  for ((i = 0; i < timeout * 5; i++)); do
    # A cli attaches once the shared state is up, before the workers' TCP,
    # TLS and proxy state is built and logged: the log's last start line says so.
    if "$kgw" cli --file-prefix "$prefix" -c "show lcores" > /dev/null 2>&1 &&
      { [ -z "${DP_LOG:-}" ] || grep -q "dataplane running" "$DP_LOG"; }; then return 0; fi
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
  for ns in "${NETNS_CREATED[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "/etc/netns/$ns"
  done
  for prefix in "${DPDK_PREFIXES[@]}"; do
    rm -rf "/var/run/dpdk/$prefix"
    rm -f /dev/hugepages/"${prefix}"map_* 2>/dev/null || true
  done
  STARTED_PIDS=()
  NETNS_CREATED=()
  DPDK_PREFIXES=()
}

no_checksum_offload() {
  ip netns exec "$1" ethtool -K "$2" tx off > /dev/null
}

# pod_topology P STATE: the demo topology, shared by scripts/demo.sh and the
# Services end-to-end test:
#   P-client (198.18.0.2, 2001:2::2) --veth c0/g0-- P-gw --veth g1/gw-- P-podnet bridge
#   with P-pod1..3 (198.19.1.11..13) on the bridge, each serving STATE/podN over HTTP :8080.
# P-gw holds the gateway's two ports (g0, g1) without kernel addresses. Writes
# the gateway's static neighbours (client and pods, with their MACs) to
# STATE/neighbors.yaml for inclusion in gateway.yaml.
pod_topology() {
  local P=$1 STATE=$2 i
  netns_add "$P-client"
  netns_add "$P-gw"
  netns_add "$P-podnet"
  veth_link "$P-client" c0 "$P-gw" g0
  veth_link "$P-gw" g1 "$P-podnet" gw
  quiet_gateway_if "$P-gw" g0
  quiet_gateway_if "$P-gw" g1
  ip -n "$P-client" addr add 198.18.0.2/24 dev c0
  ip -n "$P-client" -6 addr add 2001:2::2/64 dev c0 nodad
  # veths hand TCP/UDP over with checksums left to "the NIC" (partial); the
  # gateway reads them from AF_PACKET as they are, so the senders must fill
  # them in, as a real NIC on the wire would have.
  no_checksum_offload "$P-client" c0
  # Services' virtual IPs and the pod network are behind the gateway.
  ip -n "$P-client" route add 198.19.0.0/16 via 198.18.0.1
  ip -n "$P-client" route add 198.18.100.0/24 via 198.18.0.1
  ip -n "$P-client" route add 198.18.150.0/24 via 198.18.0.1
  ip -n "$P-podnet" link add br0 type bridge
  ip -n "$P-podnet" link set br0 up
  ip -n "$P-podnet" link set gw master br0
  local mac
  mac=$(ip -n "$P-client" -br link show c0 | awk '{print $3}')
  {
    echo "neighbors:"
    echo "  - {ip: 198.18.0.2, mac: \"$mac\", port: p0}"
    echo "  - {ip: \"2001:2::2\", mac: \"$mac\", port: p0}"
  } > "$STATE/neighbors.yaml"
  for i in 1 2 3; do
    netns_add "$P-pod$i"
    veth_link "$P-pod$i" eth0 "$P-podnet" "pod$i"
    ip -n "$P-podnet" link set "pod$i" master br0
    ip -n "$P-pod$i" addr add "198.19.1.1$i/24" dev eth0
    ip -n "$P-pod$i" route add default via 198.19.1.1
    no_checksum_offload "$P-pod$i" eth0
    mac=$(ip -n "$P-pod$i" -br link show eth0 | awk '{print $3}')
    echo "  - {ip: 198.19.1.1$i, mac: \"$mac\", port: p1}" >> "$STATE/neighbors.yaml"
    mkdir -p "$STATE/pod$i"
    echo "hello from pod$i (198.19.1.1$i)" > "$STATE/pod$i/index.html"
    # A large file for long downloads.
    head -c 20000000 /dev/zero > "$STATE/pod$i/big.bin"
    ip netns exec "$P-pod$i" /usr/bin/python3 -m http.server 8080 --bind "198.19.1.1$i" --directory "$STATE/pod$i" \
      > "$STATE/pod$i.log" 2>&1 &
    STARTED_PIDS+=($!)
  done
}

# Waits until every pod's HTTP server answers (from inside its namespace);
# returns 1 naming the first that never does.
wait_pods() {
  local P=$1 i n
  for i in 1 2 3; do
    for ((n = 0; n < 50; n++)); do
      ip netns exec "$P-pod$i" curl -s --max-time 1 -o /dev/null "http://198.19.1.1$i:8080/" && break
      sleep 0.1
    done
    if [ "$n" = 50 ]; then echo "pod$i does not serve on 198.19.1.1$i:8080"; return 1; fi
  done
}

# Test certificates (EC P-256, valid two days), made with openssl.
# tls_test_ca DIR CN: the CA, DIR/ca.pem and DIR/ca.key.
tls_test_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1/ca.key" -out "$1/ca.pem" \
    -days 2 -subj "/CN=$2" 2> /dev/null
}
# tls_leaf DIR NAME CN SAN [rsa]: DIR/NAME.pem and DIR/NAME.key for the DNS name SAN, signed by DIR's CA;
# an EC P-256 key, or RSA 2048 with `rsa`. Valid for TLS_LEAF_DAYS days (2 unless set); TLS_LEAF_EXT
# adds a line of x509v3 extensions.
tls_leaf() {
  local key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
  [ "${5:-}" = rsa ] && key=(-newkey rsa:2048)
  openssl req "${key[@]}" -nodes -keyout "$1/$2.key" -out "$1/$2.csr" \
    -subj "/CN=$3" 2> /dev/null &&
    printf "subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n%s\n" "$4" "${TLS_LEAF_EXT:-}" > "$1/$2.ext" &&
    openssl x509 -req -in "$1/$2.csr" -CA "$1/ca.pem" -CAkey "$1/ca.key" -CAcreateserial -days "${TLS_LEAF_DAYS:-2}" \
      -out "$1/$2.pem" -extfile "$1/$2.ext" 2> /dev/null
}
# tls_secret NAME FILE: a YAML document, the kubernetes.io/tls Secret shop/NAME of FILE.pem and FILE.key.
tls_secret() {
  printf -- "---\napiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: shop}\ntype: kubernetes.io/tls\n" "$1"
  printf "data:\n  tls.crt: %s\n  tls.key: %s\n" "$(base64 -w0 < "$2.pem")" "$(base64 -w0 < "$2.key")"
}

# testssl_run WORK HOST CHECKS...: testssl.sh (its command `testssl`) from the
# client namespace ($P) against HOST on 198.18.0.1:443, offline (--ip,
# --nodns none, nothing fetched), WORK/ca.pem added as a trusted CA, with
# testssl.sh's CHECKS (-p -s -P -U -S -h -BB -D). Prints its output, a summary
# of its JSON findings (every LOW or above listed) and a verdict line; returns
# nonzero on a HIGH, CRITICAL or FATAL finding, a protocol other than TLS 1.2
# and 1.3 offered (with -p), a check of CHECKS missing from the JSON, or no
# end within 200 s.
testssl_run() {
  local work=$1 host=$2 t rc ms
  shift 2
  t=$(($(date +%s%N) / 1000000))
  rm -f "$work/testssl.json"
  client timeout -k 5 200 testssl --quiet --color 0 --warnings off --nodns none --ip 198.18.0.1 \
    --openssl /usr/bin/openssl --connect-timeout 5 --openssl-timeout 5 --add-ca "$work/ca.pem" \
    "$@" --jsonfile "$work/testssl.json" "https://$host/" > "$work/testssl.txt" 2>&1
  rc=$?
  ms=$(($(date +%s%N) / 1000000 - t))
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then tail -n 30 "$work/testssl.txt"; echo "testssl.sh did not finish in 200 s"; return 1; fi
  sed -n '1,250p' "$work/testssl.txt"
  echo "testssl.sh $host: exit code $rc, $ms ms"
  python3 - "$work/testssl.json" "$host" "$*" <<'PY'
import collections, json, sys
findings = json.load(open(sys.argv[1]))
host, checks = sys.argv[2], sys.argv[3].split()
by_id = {f["id"]: f for f in findings}
sev = collections.Counter(f["severity"] for f in findings)
print("testssl.sh %s: %d findings: %s" % (host, len(findings), ", ".join("%s %d" % kv for kv in sorted(sev.items()))))
bad = []
for f in findings:
    if f["severity"] in ("LOW", "MEDIUM", "HIGH", "CRITICAL", "WARN", "FATAL"):
        print("  %-8s %-28s %s" % (f["severity"], f["id"], f["finding"]))
    if f["severity"] in ("HIGH", "CRITICAL", "FATAL"):
        bad.append(f["id"])
# The run must really have scanned kgw: the protocols kgw speaks and refuses,
# the cipher categories, the server's preference, the vulnerability checks,
# the certificate and the headers.
want = {"SSLv2": "not offered", "SSLv3": "not offered", "TLS1": "not offered", "TLS1_1": "not offered",
        "TLS1_2": "offered", "TLS1_3": "offered"}
for k, v in (want.items() if "-p" in checks else ()):
    got = by_id.get(k, {}).get("finding", "(missing)")
    print("  protocol %-8s %s" % (k, got))
    if not got.startswith(v) and not (v == "offered" and got.startswith("offered with")):
        bad.append("%s: %s" % (k, got))
expected = {
    "-s": ["cipherlist_NULL", "cipherlist_aNULL", "cipherlist_EXPORT", "cipherlist_LOW", "cipherlist_3DES_IDEA",
           "cipherlist_AVERAGE", "cipherlist_STRONG"],
    "-P": ["cipher_order", "cipherorder_TLSv1_2", "cipherorder_TLSv1_3"],
    "-U": ["heartbleed", "CCS", "ticketbleed", "ROBOT", "secure_renego", "secure_client_renego", "CRIME_TLS",
           "BREACH", "POODLE_SSL", "fallback_SCSV", "SWEET32", "FREAK", "DROWN", "LOGJAM", "BEAST", "LUCKY13", "RC4"],
    "-BB": ["ROBOT"],
    "-D": ["DROWN"],
    "-S": ["cert_chain_of_trust", "cert_trust", "cert_keySize", "cert_signatureAlgorithm", "cert_expirationStatus",
           "cert_ocspURL", "cert_subjectAltName", "TLS_session_ticket", "sessionresumption_ticket", "OCSP_stapling"],
    "-h": ["HTTP_status_code", "HSTS", "banner_server", "cookie_count"],
}
for k in (k for c in checks for k in expected.get(c, [])):
    if k not in by_id:
        bad.append(k + " not checked")
    else:
        print("  %-26s %-8s %s" % (k, by_id[k]["severity"], by_id[k]["finding"]))
if bad:
    print("testssl.sh %s verdict: FAIL: %s" % (host, "; ".join(bad)))
    sys.exit(1)
print("testssl.sh %s verdict: no HIGH or CRITICAL finding" % host)
PY
}
