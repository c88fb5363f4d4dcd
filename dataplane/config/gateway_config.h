// gateway.yaml: the node's own configuration (ports, addresses, workers, routes).
// Loaded and validated on the slow path; every error names file, line and field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pipelines/common/net_types.h"
#include "pipelines/conntrack/conn_table.h"

namespace kgw {

struct config_error {
  std::string file;
  int line = 0;        // 1-based; 0 when the error is about the file as a whole
  int column = 0;      // 1-based; 0 when unknown
  std::string field;   // dotted path, e.g. "ports[0].mac"
  std::string message;
  // "gateway.yaml:12:5: ports[0].mac: not a MAC address: \"zz\""
  std::string to_string() const;
};

struct port_config {
  std::string name;      // unique, [a-z0-9_-]+
  std::string device;    // PCI address (0000:3b:02.0) or vdev args (net_pcap0,rx_pcap=...)
  std::string profile = "auto";  // nic-profiles/<profile>.yaml, or auto = by driver name
  std::optional<mac_addr> mac;
  int line = 0;
  // Subnets directly reachable on the port (on-link): a destination in one
  // is resolved on the port by ARP / neighbour discovery; one elsewhere
  // goes through a route's `via`.
  std::vector<ip_prefix> networks;
};

struct neighbor_config {
  ip_addr ip;
  mac_addr mac;
  std::string port;
  int line = 0;
};

struct route_config {
  ip_prefix prefix;
  ip_addr via;
  std::string port;
  int line = 0;
};

// How neighbours are resolved and kept (RFC 4861's timers and constants;
// dataplane/neighbor/neighbor_machine.h).
struct neighbor_resolution_config {
  uint32_t reachable_ms = 30000;  // BaseReachableTime: an answer counts this long (x 0.5..1.5, by address)
  uint32_t retrans_ms = 1000;     // RetransTimer: between solicitations
  uint32_t delay_ms = 5000;       // DELAY_FIRST_PROBE_TIME: a STALE neighbour in use is probed after it
  uint32_t probes = 3;            // MAX_MULTICAST_SOLICIT and MAX_UNICAST_SOLICIT
  uint32_t queue_packets = 8;     // packets held per neighbour while it is resolved
  uint32_t gc_ms = 60000;         // a STALE or FAILED entry unused this long is removed
  int line = 0;
};

struct dataplane_config {
  std::string file_prefix = "kgw";   // DPDK runtime directory name; control and cli attach to it
  std::vector<unsigned> cpus;        // CPUs to run on; empty = all the process may use
  unsigned mbufs = 16383;            // mbufs per NUMA socket mempool
  unsigned mbuf_cache = 256;
  unsigned mbuf_data_room = 2048;    // packet bytes per mbuf (after the 128-byte headroom)
  unsigned burst = 32;               // RX burst size, 1..32
  unsigned tx_drain_us = 0;          // longest a partly filled TX burst waits for more while RX keeps coming; 0 = never
  unsigned rx_desc = 0;              // 0 = from the NIC profile
  unsigned tx_desc = 0;
  bool telemetry = true;
  unsigned stats_interval_ms = 100;  // how often port stats are published for the CLI
  std::optional<unsigned> memory_mb; // hugepage MiB reserved at start; unset = auto (dataplane/memory_plan.h)
  unsigned table_memory_mb = 256;    // of which room for Service tables published at run time (auto only)
  unsigned control_priority = 10;    // the main lcore's and kgw control's threads run at nice -this; 0 = as started
  // fifo: the main lcore (SCHED_FIFO 2) and control's publishing thread
  // (SCHED_FIFO 1, after its first load) run above every time-shared thread.
  bool control_fifo = false;
  // poll: the main lcore's CPU polls when idle instead of halting (its PM QoS
  // resume latency), so that the slow path is not slow after each sleep.
  bool control_cpu_poll = false;
};

// Load balancing and connection tracking (the service stage).
struct services_config {
  uint32_t maglev_size = 0;             // Maglev table per Service port; a prime, or 0: auto (sized by endpoints)
  uint32_t conntrack_entries = 262144;  // connections per worker (both directions each)
  uint32_t affinity_entries = 65536;    // ClientIP affinity memory per worker
  uint32_t fragment_entries = 4096;     // datagrams per worker whose later fragments follow their first; 0 = off
  uint32_t fragment_hold = 64;          // mbufs per worker of later fragments held for their first; 0 = none held
  uint32_t fragment_hold_ms = 100;      // how long one is held at most
  uint16_t snat_port_lo = 1024;         // SNAT source ports, split evenly between workers
  uint16_t snat_port_hi = 49151;        // 49152.. is tcp.connect_port_lo/hi's by default
  uint16_t mss_clamp = 1460;            // TCP MSS in SYNs is lowered to this; 0 = off
  uint32_t counter_slots = 262144;      // counters of Service ports and endpoints, kept across updates
  uint32_t max_services = 65536;        // slots of the Service directory, one per Service
  conn_timeouts timeouts;               // services.timeouts: seconds idle, by connection state
  uint32_t refusals_per_second = 1000;  // ICMP unreachables and TCP RSTs per worker
  // Pod networks: a client in one is a Pod, source-NATed even through a Local
  // Service's external frontends (kube-proxy's --cluster-cidr).
  std::vector<ip_prefix> cluster_cidrs;
  int line = 0;
};

// The Prometheus text endpoint of the dataplane (GET /metrics), on loopback only.
struct metrics_config {
  bool enabled = false;
  ip_addr address;        // 127.0.0.0/8 or ::1
  uint16_t port = 0;
};

// ingress.limits: what one request may hold (the HTTP proxy, docs/proxy.md).
struct ingress_limits {
  uint32_t request_line_bytes = 8192;        // the request line with its CRLF; beyond: 414
  uint32_t header_block_bytes = 32768;       // the header field lines and the blank line; beyond: 431
  uint32_t headers = 100;                    // header field lines; beyond: 431
  uint32_t request_body_bytes = 1u << 20;    // the request body (decoded); beyond: 413; 0 = unlimited
};

// ingress.timeouts, in seconds (the HTTP proxy, docs/proxy.md "Timeouts").
struct ingress_timeouts {
  uint32_t client_header = 60;    // a request head must arrive whole within this (the slowloris guard): 408
  uint32_t client_idle = 75;      // a keep-alive client between requests; a client that stalls mid-exchange
  uint32_t backend_connect = 5;   // the handshake with an endpoint: another endpoint is tried, else 504
  uint32_t backend_read = 60;     // an endpoint that owes a response and sends nothing: 504
  uint32_t tunnel_idle = 3600;    // a tunnel (after a 101 to an Upgrade request) with no byte either way: closed
};

// Ingress: the addresses and ports on which the gateway itself terminates TCP
// (the per-worker stack of pipelines/l7/tcp), and the HTTP proxy's settings.
struct ingress_config {
  // Empty in the file means the node's addresses; filled in after parsing,
  // so that readers never have to know the default.
  std::vector<ip_addr> addresses;
  uint16_t http_port = 80;   // 0 = none; the HTTP proxy (when the starting manifests hold an Ingress)
  uint16_t https_port = 443; // 0 = none; the proxy over TLS, and where http_port redirects hosts with TLS
  uint16_t echo_port = 0;    // RFC 862 echo on the Ingress addresses; 0 = off
  ingress_limits limits;
  ingress_timeouts timeouts;
  // TLS (control/tls, pipelines/l7/tls): "NAMESPACE/NAME" of the kubernetes.io/tls
  // Secret for names no Ingress covers and clients without SNI; empty: a
  // self-signed certificate the dataplane generates at start.
  std::string default_certificate;
  int default_certificate_line = 0;
  // OpenSSL cipher lists; empty: kgw's defaults (pipelines/l7/tls/tls_contexts.h).
  std::string tls_ciphers;        // TLS 1.2
  std::string tls_ciphersuites;   // TLS 1.3
  uint32_t tls_ticket_rotation = 3600;  // seconds between session ticket key rotations
  // Microseconds of TLS handshake work a worker does per poll loop (at least
  // one step); the rest waits for the next loops.
  uint32_t tls_handshake_budget = 100;
  // TLS connections per worker that keep OpenSSL's record buffers (about
  // 34 KiB each) between records, the most recently active ones; 0: every
  // connection gives them back as they drain.
  uint32_t tls_buffered_connections = 256;
  uint16_t tls_echo_port = 0;  // the echo service over TLS (a diagnostic); 0 = off
  // Clients whose X-Forwarded-For is kept (appended to) rather than
  // replaced; none by default.
  std::vector<ip_prefix> trusted_proxies;
  // Per-route request statistics: stat slots per worker, the two fixed ones
  // (no route, overflow) included; routes beyond share the overflow slot.
  uint32_t max_route_stats = 4096;
  // The JSON-lines access log the control process writes (docs/proxy.md
  // "Access log"); empty: none.
  std::string access_log;
  int line = 0;
};

// The TCP stack's bounds, per worker: every TCB is reserved at start, and the
// buffers cap the payload (mbufs) one connection can hold each way.
struct tcp_stack_config {
  uint32_t max_connections = 1024;  // TCBs, SYN-RECEIVED and TIME-WAIT included
  uint32_t recv_buffer = 65536;     // payload bytes; the most the window offers
  uint32_t send_buffer = 65536;     // payload bytes queued for sending
  uint32_t max_time_wait = 256;     // TIME-WAIT TCBs; beyond it the oldest is ended
  uint32_t syn_backlog = 128;       // SYN-RECEIVED per listener; beyond it SYN cookies
  uint32_t max_ooo_segments = 64;   // out-of-order segments held per connection
  // Source ports of the stack's own connections from the SNAT addresses,
  // split evenly between workers; disjoint from services.snat_port_lo/hi, so
  // that a reply to a SNAT address tells by its port alone whether it is
  // the L4 NAT's or the stack's, and which worker's.
  uint16_t connect_port_lo = 49152;
  uint16_t connect_port_hi = 65535;
  int line = 0;
};

// The cluster DNS responder of the workers (docs/dns.md): UDP port 53 on
// these addresses is answered from the Services' names.
struct dns_upstream {
  ip_addr addr;
  uint16_t port = 53;
};

struct dns_config {
  std::vector<ip_addr> addresses;      // empty: no responder
  std::string zone = "cluster.local";  // lower case, no trailing dot
  uint32_t ttl = 5;                    // seconds, of every record and of negative answers
  std::vector<dns_upstream> upstreams; // names outside the zone are forwarded to these (none: REFUSED)
  uint32_t cache_entries = 1000;       // the forwarder's cache of upstream answers; 0: none
  uint32_t upstream_timeout_ms = 2000; // before the next upstream is asked, then SERVFAIL
  bool pods_insecure = true;           // dns.pods: insecure (true) or disabled
  uint32_t tcp_max_connections = 256;  // DNS over TCP connections per worker
  uint32_t tcp_idle_timeout = 10;      // seconds without a query before a TCP connection is closed
  int line = 0;
};

// exception: the node's kernel behind one interface per port, for what is
// addressed to the node and no stage serves (docs/operations.md "Exception path").
struct exception_config {
  bool enabled = false;           // the section is there and does not say `enabled: false`
  std::string interface = "kgw0"; // port 0's; port i's: exception_interface_name()
  std::string driver = "auto";    // auto (virtio-user when /dev/vhost-net opens, else tap), tap, virtio-user
  uint32_t rate_pps = 10000;      // packets a second to the kernel, per port
  uint32_t burst = 1000;          // packets at once above the rate, per port
  int line = 0;
};

// Port `index`'s interface: `interface` with its trailing number plus
// `index` (kgw0, kgw1, ...), or with `index` appended when it has none.
std::string exception_interface_name(const exception_config& e, size_t index);

// How pods on other Nodes are reached (docs/pod-network.md): routed to the
// Node's address (none, host-gw style) or in VXLAN to its VTEP (Flannel's
// vxlan backend: VNI 1, UDP 8472).
struct pod_network_config {
  bool vxlan = false;                // overlay: vxlan (true) or none
  uint32_t vni = 1;
  uint16_t vxlan_port = 8472;
  std::optional<mac_addr> vtep_mac;  // unset: the MAC of the port the VTEP address is on (port 0)
  std::optional<ip_addr> vtep_address;  // IPv4, one of node.addresses; unset: the first IPv4 one
  // The IPv6 underlay for IPv6 pods (Flannel's flannel-v6.1): one of
  // node.addresses; unset: IPv6 pods go over the IPv4 underlay.
  std::optional<ip_addr> vtep_address6;
  std::optional<mac_addr> vtep_mac6;  // the IPv6 VTEP's MAC; unset: the IPv4 one's
  int line = 0;
};

struct gateway_config {
  std::string file;  // the file this was read from
  std::string node_name;
  std::vector<ip_addr> node_addresses;
  std::vector<port_config> ports;
  unsigned workers = 1;
  std::vector<ip_addr> snat_addresses;
  std::vector<neighbor_config> neighbors;
  std::vector<route_config> routes;
  neighbor_resolution_config neighbor_resolution;
  std::string profiles_dir;  // where nic-profiles live; empty = next to the binary / source tree
  dataplane_config dataplane;
  services_config services;
  metrics_config metrics;
  ingress_config ingress;
  tcp_stack_config tcp;
  dns_config dns;
  exception_config exception;
  pod_network_config pod_network;
};

// Parses and validates. Returns the config, or fills `errors` (all of them, not
// just the first) and returns nullopt.
std::optional<gateway_config> load_gateway_config(const std::string& path,
                                                  std::vector<config_error>& errors);
std::optional<gateway_config> parse_gateway_config(const std::string& text,
                                                   const std::string& file_name,
                                                   std::vector<config_error>& errors);

}  // namespace kgw
