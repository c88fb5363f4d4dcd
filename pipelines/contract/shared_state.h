// The contract between the dataplane (DPDK primary) and the processes that
// attach to it (control, the CLI): one memzone with port descriptions, port
// stats snapshots and per-lcore counters, pointers to the tables in shared
// memory, and the messages of the command rings. Plain data only (each
// process maps it at the same address but has its own code addresses), and
// versioned: a process of another build refuses a state whose
// shared_state_version differs. Bump the version with any change of layout.
#pragma once

#include <cstdint>

#include "pipelines/common/lcore_counters.h"
#include "pipelines/common/pkt_meta.h"
#include "pipelines/l7/proxy/proxy_snapshot.h"

namespace kgw {

struct service_directory;
struct lb_counter_area;
class conn_table;
struct nexthop_table;
struct pod_route_list;
struct policy_rule_list;
struct ingress_publication;
namespace tls {
struct tls_publication;
}
namespace dns {
struct table;
}
namespace proxy {
struct route_stat;
}

inline constexpr uint64_t shared_state_magic = 0x6b67772d73746174ull;  // "kgw-stat"
inline constexpr uint32_t shared_state_version = 29;
inline constexpr unsigned max_workers = 64;

inline constexpr const char* shared_state_zone = "kgw_state";
inline constexpr const char* command_ring_name = "kgw_cmd";
inline constexpr const char* reply_ring_name = "kgw_cmd_reply";
// Per-worker punt ring: "kgw_punt_<worker index>".
inline constexpr const char* punt_ring_prefix = "kgw_punt_";
// Per-worker ring from control's DNS forwarder (single producer, the worker
// the single consumer): responses to send, mbuf->port the port. "kgw_dns_reply_<worker index>".
inline constexpr const char* dns_reply_ring_prefix = "kgw_dns_reply_";

// Control's DNS forwarder (control/punt/dns_forwarder.h, docs/dns.md
// "Forwarding"): the queries the workers punt for names outside the zones.
// Written by that thread only, read by the CLI and /metrics (less the
// "clear" baseline, shared_state::dns_forward_base). Every field a uint64_t.
struct dns_forward_counters {
  uint64_t queries;            // punted queries taken
  uint64_t cache_hits;         // answered from the cache
  uint64_t cache_misses;       // asked upstream
  uint64_t cache_entries;      // now in the cache (a gauge)
  uint64_t upstream_queries;   // sent to an upstream, the next one after a timeout included
  uint64_t upstream_answers;   // answers matched to a query (ID, upstream, question)
  uint64_t upstream_timeouts;  // an upstream that did not answer within dns.upstream_timeout_ms
  uint64_t upstream_unmatched; // datagrams from the upstream sockets that matched no query, or malformed
  uint64_t upstream_send_errors;
  uint64_t servfail;           // SERVFAIL sent: every upstream timed out, or too many queries pending
  uint64_t truncated;          // answers bigger than the client takes: TC sent
  uint64_t reply_ring_full;    // responses lost to a full reply ring
  uint64_t malformed;          // punted frames that were not a forwardable query (dropped)
  uint64_t upstream_shared;    // sent on the shared socket of their family: 1024 sockets of their own were out
  // Queries that came over TCP (dns_tcp_punt.h); they count in the fields above too.
  uint64_t tcp_queries;        // taken from the workers' DNS over TCP
  uint64_t tcp_retries;        // an upstream's UDP answer had TC: asked again over TCP, the same upstream
  uint64_t tcp_retry_failures; // of those, no whole answer over TCP (refused, reset, timeout, malformed): SERVFAIL
  uint64_t reply_no_mbuf;      // TCP answers lost: no mbufs for them in the worker's pool
};

struct shared_port_info {
  char name[32];        // from gateway.yaml
  char device[160];     // PCI address or vdev args
  char driver[32];      // rte_eth_dev_info.driver_name
  char profile[32];     // NIC profile applied
  uint8_t mac[6];
  uint16_t port_id;
  int32_t socket;
  uint16_t nb_rxq, nb_txq;
  uint16_t rx_desc, tx_desc;
  uint16_t mtu;
  uint64_t rss_hf;          // RSS types in use (after fallback)
  uint64_t rx_offloads;     // offloads in use
  uint64_t tx_offloads;
  uint32_t flow_features;   // bits of flow_feature that rte_flow_validate accepted
  char fallbacks[384];      // what the profile asked for and the device could not do
  char exception_iface[16]; // the port's kernel interface on the exception path; empty: none
  char exception_driver[16]; // "tap" or "virtio-user"
};

// A snapshot of rte_eth_stats, written by the dataplane's main lcore.
struct shared_port_stats {
  uint64_t tsc;             // when it was taken
  uint64_t ipackets, opackets, ibytes, obytes, imissed, ierrors, oerrors, rx_nombuf;
  uint32_t link_up, link_speed_mbps, link_full_duplex, pad;
};

struct rx_queue_ref {
  uint16_t port;
  uint16_t queue;
};

struct shared_lcore_info {
  uint32_t lcore_id;
  int32_t socket;
  uint32_t cpu;             // first CPU of the lcore's set
  uint32_t n_rxq;
  rx_queue_ref rxq[max_ports];
  uint16_t txq;             // this worker's TX queue on every port
  uint8_t running;
};

// What the control process last did with the manifests: written by control
// (one writer), read by `kgw cli show config status`. `seq` is odd while a
// write is under way, so a reader can retry instead of showing a torn record.
struct control_status {
  volatile uint32_t seq;
  int32_t pid;                 // the control process that wrote it; 0 = never
  uint64_t attempts, accepted, rejected;
  uint64_t generation;         // the generation running after its last accepted attempt
  uint32_t last_changed;       // Services that attempt added, changed or removed (0: nothing to publish)
  uint32_t pad;
  int64_t last_unix_ms;        // when the last attempt ended (wall clock)
  uint32_t last_ok;            // 1 = the last attempt was published
  uint32_t last_us;            // compile + publish time of the last attempt
  char dir[256];
  char last_error[1024];       // the first errors of the last rejected attempt
};

// A copy of one worker's connection table for `show conntrack`, made by the
// worker itself between two bursts: no other process reads a table while its
// owner writes it. The requester claims the slot (owner_pid, by CAS), points
// `entries` at room for `capacity` connections in shared memory, resets
// `cursor` and `filled`, then bumps `requested`; the worker copies a bounded
// number of slots per poll loop and sets `done` to `requested` at the end.
struct conn_snapshot_request {
  volatile uint32_t requested;
  volatile uint32_t done;
  volatile int32_t owner_pid;  // the process using this slot; 0 = free
  uint32_t capacity;           // room in `entries`
  uint32_t filled;             // connections copied
  uint32_t cursor;             // the worker's progress through its table
  uint32_t active;             // connections in the table when the copy ended
  uint32_t pad;
  uint64_t now_ns;             // the worker's clock when the copy ended
  void* entries;               // conn[capacity] (pipelines/conntrack/conn_table.h)
};

// `kgw cli tcp connect|transfer`: one active open by a worker, from a SNAT
// address, asked for as a conn_snapshot_request is (claim by owner_pid, fill
// in, bump `requested`; the worker serves it in its poll loop and sets `done`
// to `requested`). `send` and `recv` are the requester's rte_malloc memory.
enum tcp_probe_status : int32_t {
  probe_closed = 0,     // connected, everything sent, the peer closed in order
  probe_timeout = 1,    // connected, the deadline came first (what arrived is in recv)
  probe_refused = 2,    // the SYN was answered by a RST
  probe_reset = 3,      // reset after the handshake
  probe_unreachable = 4,  // the SYN or the data went unanswered (the stack gave up)
  probe_no_source = 5,  // no SNAT address of the family
  probe_no_route = 6,   // no neighbour or route to the address
  probe_no_port = 7,    // no free source port in the worker's slice, or no free connection
};
inline constexpr uint32_t probe_shutdown = 1u << 0;  // half-close once `send` is queued

struct tcp_probe_request {
  volatile uint32_t requested;
  volatile uint32_t done;
  volatile int32_t owner_pid;  // the process using this slot; 0 = free
  uint32_t timeout_ms;         // from the start to the end, connection included
  // asked
  uint8_t family;              // 4 or 6
  uint8_t pad0;
  uint16_t port;               // host order
  uint32_t flags;              // probe_shutdown
  uint8_t addr[16];
  const void* send;
  uint64_t send_len;
  void* recv;
  uint64_t recv_cap;
  // answered
  int32_t status;              // tcp_probe_status
  uint16_t local_port;         // source port taken
  uint8_t steered;             // its reply hashes to this worker's RX queue
  uint8_t connected;
  uint8_t local_addr[16];
  uint64_t sent, received, discarded;  // bytes; discarded: beyond recv_cap
  uint64_t connect_ns, total_ns;      // handshake time, and time to the end
};

// `kgw cli show l7`: a worker's HTTP proxy counted and its endpoints copied,
// asked for as a conn_snapshot_request is. `endpoints` is the requester's
// rte_malloc memory for `capacity` of them.
struct l7_snapshot_request {
  volatile uint32_t requested;
  volatile uint32_t done;
  volatile int32_t owner_pid;  // the process using this slot; 0 = free
  uint32_t capacity;           // room in `endpoints`
  uint32_t filled;             // endpoints copied
  uint32_t cursor;             // the worker's progress through its connection slots
  uint32_t has_proxy;          // 0: the worker runs no proxy (nothing else is filled)
  uint32_t pad;
  proxy::proxy_summary summary;
  proxy::endpoint_view* endpoints;
};

// The certificate the dataplane generated at start, which serves names no
// Ingress covers while ingress.default_certificate names none (its key stays
// in the dataplane's own memory): what the CLI and the metrics show of it.
struct tls_fallback_info {
  char subject[128];
  char fingerprint[96];  // SHA-256, "AB:CD:..."
  char key_type[32];
  int64_t not_before, not_after;  // Unix seconds; 0: none generated
};

struct shared_state {
  uint64_t magic;
  uint32_t version;
  int32_t primary_pid;
  uint64_t tsc_hz;
  uint64_t start_tsc;
  // CLOCK_MONOTONIC at start_tsc: with a reading of both clocks now, a TSC
  // stamp maps onto the host's clock without trusting tsc_hz's estimate.
  int64_t start_monotonic_ns;
  char node_name[64];
  char config_file[256];
  uint32_t n_ports;
  uint32_t n_workers;
  shared_port_info ports[max_ports];
  shared_port_stats port_stats[max_ports];
  shared_lcore_info lcores[max_workers];
  lcore_counters counters[max_workers];       // each written only by its worker
  lcore_counters counters_base[max_workers];  // "clear" baseline, written by the main lcore
  // Services: the directory of their records (written by the main lcore
  // only), the counters of Service ports and endpoints (they outlive
  // records) and each worker's connection table; rte_malloc memory, the same
  // address in every process. Workers load `services` once per burst.
  service_directory* services;
  lb_counter_area* lb_counters;
  conn_table* conns[max_workers];             // each read and written by its worker only
  conn_snapshot_request conn_snapshots[max_workers];
  tcp_probe_request tcp_probes[max_workers];  // `tcp connect` to each worker
  l7_snapshot_request l7_snapshots[max_workers];  // `show l7` of each worker
  // Routes, on-link networks and neighbours (pipelines/route/nexthop.h),
  // swapped by the main lcore's resolver on every change of a neighbour;
  // workers load it once per poll loop. A reader in another process copies
  // it and checks the pointer and generation are unchanged after.
  const nexthop_table* nexthops;
  volatile uint64_t stats_generation;         // bumped after every port stats snapshot
  volatile uint32_t stop;                     // set on SIGINT/SIGTERM or a stop command
  control_status control;
  volatile uint32_t reload_requests;          // bumped by `kgw cli reload`; control republishes
  volatile uint32_t log_level_seq;            // bumped by `set log level`; every process takes
  volatile uint32_t log_level;                //   log_level when it sees a new seq
  // The Ingress routes (pipelines/l7/ingress/ingress_publication.h), swapped
  // by the main lcore only; workers load it once per poll loop. nullptr: none.
  const ingress_publication* ingress;
  // The certificates (pipelines/l7/tls/tls_publication.h), swapped by the main
  // lcore only, private keys zeroed once loaded: for the CLI and the metrics;
  // the workers use the OpenSSL contexts the main lcore built from it.
  const tls::tls_publication* tls;
  tls_fallback_info tls_fallback;
  // The cluster DNS names (pipelines/dns/dns_table.h), swapped by the main
  // lcore only; workers load it once per burst. nullptr: none published.
  const dns::table* dns;
  // The main lcore's own counts (the neighbour resolver's), summed with the
  // workers' in show counters and /metrics; written by the main lcore only.
  lcore_counters main_counters;
  lcore_counters main_counters_base;
  // Per-route request statistics of the HTTP proxy (pipelines/l7/proxy/route_stats.h):
  // route_stat[n_workers][route_stat_slots] in rte_malloc memory, each row
  // written by its worker only; nullptr when no proxy runs. Labelled by the
  // published Ingress routes (ingress_publication::labels).
  proxy::route_stat* route_stats;
  uint32_t route_stat_slots;                  // per worker: ingress.max_route_stats
  // The access log (pipelines/l7/proxy/access_record.h): the pid of the
  // control process draining the workers' access rings, 0 when none does
  // (the workers then drop the entries, counted). Set and cleared by that
  // process.
  volatile int32_t access_log_reader;
  // The pod network (pipelines/route/pod_routes.h): Nodes and their pod
  // CIDRs as control last published them, swapped by the main lcore only
  // (which builds the workers' tries from it). nullptr: none published.
  const pod_route_list* pod_routes;
  // The NetworkPolicy rules (pipelines/policy/policy_rule_list.h) as control
  // last published them, swapped by the main lcore only (which builds the
  // workers' classifier from it). nullptr: none published. Lists the main
  // lcore could not build a classifier from, counted (the previous one stays).
  const policy_rule_list* policy_rules;
  uint64_t policy_build_failures;
  dns_forward_counters dns_forward;
  dns_forward_counters dns_forward_base;      // "clear" baseline, written by the main lcore
  // Doorbells of the command rings (dataplane/command_bell.h): rung after a
  // command is queued (the main lcore sleeps on it between its turns) and
  // after replies are queued (the secondary that sent the command sleeps on it).
  uint32_t command_bell;
  uint32_t reply_bell;
};

// Commands from a secondary to the dataplane's main lcore (16 bytes, inline in the ring).
enum class command_type : uint32_t {
  clear_stats = 1,
  ping = 2,
  publish_services = 3,
  set_log_level = 4,
  publish_ingress = 5,
  publish_tls = 6,
  publish_dns = 7,
  clear_neighbors = 8,
  publish_pod_routes = 9,
  publish_policy = 10,
};
struct command_msg {
  command_type type;
  uint32_t seq;
  uint64_t arg;  // clear_stats: port id, or all_ports; publish_services: a service_change_set*; set_log_level: a log_level;
                // publish_ingress: an ingress_publication*; publish_tls: a tls::tls_publication*;
                // publish_dns: a dns::table*
                // clear_neighbors: none (reply value: entries removed)
                // publish_pod_routes: a pod_route_list* (reply value: its generation)
                // publish_policy: a policy_rule_list* (reply value: its generation)
};
inline constexpr uint64_t all_ports = ~0ull;
struct command_reply {
  uint32_t seq;
  int32_t status;  // 0 or -errno
  uint64_t value;
};
static_assert(sizeof(command_msg) == 16 && sizeof(command_reply) == 16);

enum flow_feature : uint32_t {
  flow_queue = 1u << 0,
  flow_rss = 1u << 1,
  flow_mark = 1u << 2,
  flow_drop = 1u << 3,
  flow_count = 1u << 4,
};

}  // namespace kgw
