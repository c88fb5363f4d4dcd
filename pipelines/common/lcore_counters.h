// Per-lcore counters. One writer (the worker that owns the slot), plain
// increments; readers sum across lcores. 64-bit aligned stores do not tear on the
// targets kgw runs on, so a reader sees each counter as some recent value.
#pragma once

#include <cstdint>

#include "pipelines/common/drop_reason.h"
#include "pipelines/common/http_reason.h"
#include "pipelines/common/pkt_meta.h"

namespace kgw {

// The gaps between the starts of two poll loops, in powers of two of TSC
// cycles: how long the worker did not look at its queues (its own work, or
// the CPU taken from it). Bucket 0: under 2^11 cycles; bucket b: [2^(b+10),
// 2^(b+11)); the last one: 2^(loop_gap_buckets + 9) and over.
inline constexpr unsigned loop_gap_buckets = 16;
inline constexpr unsigned loop_gap_first_shift = 11;

inline unsigned loop_gap_bucket(uint64_t cycles) {
  const uint64_t scaled = cycles >> (loop_gap_first_shift - 1);
  // bit_width(scaled) - 1, with 0 and 1 both in bucket 0.
  const unsigned b = scaled > 1 ? 63u - static_cast<unsigned>(__builtin_clzll(scaled)) : 0u;
  return b < loop_gap_buckets - 1 ? b : loop_gap_buckets - 1;
}

// The upper bound of bucket b in TSC cycles (0 for the last: unbounded).
inline uint64_t loop_gap_bucket_bound(unsigned b) {
  return b + 1 < loop_gap_buckets ? uint64_t{1} << (b + loop_gap_first_shift) : 0;
}

struct port_lcore_counters {
  uint64_t rx_pkts;
  uint64_t rx_bytes;
  uint64_t tx_pkts;
  uint64_t tx_bytes;
  uint64_t tx_dropped;  // TX queue full after retries
  uint64_t tx_bursts;   // calls of the driver's TX burst with packets (af_packet: one sendto each)
};

// Counters of the local stage (ARP/ND/echo answered inline).
struct local_counters {
  uint64_t arp_replies;
  uint64_t arp_ignored;   // ARP for an address that is not the gateway's, or not a request
  uint64_t icmp_echo_replies;
  uint64_t nd_adverts;
  uint64_t icmp6_echo_replies;
  uint64_t punted;
  uint64_t tcp_resets;        // TCP to a gateway address on a port nothing serves: RST
  uint64_t udp_unreachables;  // UDP to a gateway address: ICMP port unreachable
  uint64_t to_kernel;         // for the node's kernel (exception path): to the main lcore's exception ring
};

// Counters of the conntrack stage.
struct conntrack_stage_counters {
  uint64_t tracked_pkts;  // packets of known connections, both directions
  uint64_t reopened;      // SYNs reusing a closed connection's tuple: a new flow, placed afresh
  uint64_t udp_moved;     // UDP flows whose endpoint stopped serving: their next packet placed afresh
  // IP fragments of tracked datagrams (pipelines/conntrack/frag_table.h):
  uint64_t frag_remembered;  // first fragments whose connection later fragments will follow
  uint64_t frag_followed;    // later fragments sent the way of their first
  uint64_t frag_unknown;     // later fragments with no first fragment remembered (early, or not a connection's)
  uint64_t frag_replaced;    // live entries given up for newer datagrams (services.fragment_entries too small)
  uint64_t frag_held;        // later fragments held for their first, which had not come (frag_hold.h)
  uint64_t frag_released;    // held fragments released by their first, run through the pipeline again
  // Copied from the lcore's connection table once per poll loop.
  uint64_t hits, misses, inserts, evictions, expired, table_full, active;
  uint64_t evicted_established;  // of the evictions: connections both sides used
  uint64_t embryonic;            // gauge: handshakes not complete, UDP unanswered
  uint64_t assured;              // connections that left embryonic: against inserts, a flood indicator
};

// Counters of the lb stage (load balancing of new connections).
struct lb_stage_counters {
  uint64_t new_flows;
  uint64_t rejected;         // no ready endpoint: answered with ICMP port unreachable
  uint64_t refused_port;     // a Service address on a port it does not serve: ICMP port unreachable
  uint64_t affinity_hits;
  uint64_t picked_up;        // TCP segments (not SYNs), SCTP packets (not INITs) of no known connection, placed as established ones
  uint64_t handoff_out;      // passed to the worker owning the connection
  uint64_t handoff_in;       // received from other workers
  // With several workers, how each full-NAT flow's replies find this worker:
  uint64_t snat_by_flow_rule;  // an rte_flow rule sends its SNAT port to this worker's queue
  uint64_t snat_rss_aimed;     // its SNAT port was picked so that RSS hashes the reply to this queue
  uint64_t rss_port_misses;    // neither (no rule, no usable RSS, or no aimed port free): replies are handed over
};

// Counters of the nat stage.
struct nat_stage_counters {
  uint64_t icmp_errors_translated;
  uint64_t mss_clamped;
  uint64_t sctp_crc_offloaded;  // SCTP packets rewritten whose CRC32c the NIC computes (TX offload sctp-cksum)
};

// Room for the TCP stack's drop reasons (tcp::tcp_drop_count, checked where
// they are copied).
inline constexpr unsigned tcp_drop_slots = 32;

// The worker's TCP stack and the services on it.
struct tcp_lcore_counters {
  uint64_t connections;   // gauge: TCBs in use (SYN-RECEIVED and TIME-WAIT included)
  uint64_t time_wait;     // gauge: of which in TIME-WAIT
  uint64_t delivered;     // segments the local stage (and the DNS stage: TCP/53) handed to the stack
  uint64_t refused;       // TCP to an Ingress address on a port nothing listens on: RST (within the refusal budget)
  uint64_t no_route;      // segments the stack sent towards an address without a neighbour (dropped: no_neighbor)
  uint64_t linearized;    // chains copied into one buffer for a port without multi-segment TX
  uint64_t echo_accepted; // connections of the RFC 862 echo service
  uint64_t echo_bytes;    // bytes it sent back
  uint64_t echo_closed;   // ended in order (both FINs)
  uint64_t echo_reset;    // ended by a reset or a timeout
  uint64_t connect_started;   // active opens from the SNAT addresses (pipelines/l7/connect)
  uint64_t connect_no_port;   // none: no free source port in the worker's slice (or no free TCB)
  uint64_t connect_steered;   // source ports whose reply reaches this worker: an rte_flow rule, RSS aimed at its queue, or one worker
  uint64_t connect_unsteered; // source ports whose reply could not be aimed (no usable RSS, none free): RSS misses
  uint64_t replies_handed_off; // replies to another worker's active opens, passed to it over the hand-off ring
  // The stack's own (pipelines/l7/tcp/tcp_counters.h), copied once per poll
  // loop: named here so that the shared layout does not follow the stack's.
  uint64_t segments_in, segments_out, bytes_in, bytes_out;
  uint64_t accepted, connected, active_opens;
  uint64_t retransmitted_segments, rto_expired, persist_probes;
  uint64_t resets_sent, resets_received, cookies_sent, cookies_accepted, timeouts;
  uint64_t drops[tcp_drop_slots];  // by tcp::tcp_drop
};

// The HTTP reverse proxy on the Ingress addresses (pipelines/l7/proxy,
// docs/proxy.md "Counters").
struct http_lcore_counters {
  uint64_t accepted;           // client connections (https_accepted of them over TLS)
  uint64_t https_accepted;     // client connections on ingress.https_port, their handshake complete
  uint64_t https_redirects;    // 308 answers on http_port to the https URL of a host with TLS
  uint64_t requests;           // request heads parsed whole
  uint64_t responses[6];       // answers to clients by status class: [1] 1xx .. [5] 5xx ([0] unused)
  uint64_t errors[http_reason_count];  // the proxy's own error answers (or client resets), by http_reason
  uint64_t backend_connects;   // connections opened to endpoints
  uint64_t backend_reused;     // requests sent over a pooled keep-alive connection
  uint64_t retries;            // requests sent again, to another endpoint or connection, after a failure
  uint64_t ejections;          // endpoints ejected by passive health (connect failure or reset)
  uint64_t ejected_skipped;    // picks that passed over an ejected endpoint
  uint64_t pool_put;           // backend connections kept idle for reuse
  uint64_t pool_closed;        // idle pooled connections the endpoint closed, or that timed out idle
  uint64_t pool_drained;       // idle pooled connections closed because their endpoint left or stopped being ready
  uint64_t pool_full;          // backend connections closed after an exchange: the endpoint's idle pool was full
  uint64_t endpoints_full;     // endpoints not tracked (health, pool): the worker's endpoint table was full
  uint64_t client_idle_closed; // keep-alive client connections closed after ingress.timeouts.client_idle
  uint64_t client_resets;      // client connections ended by a reset or a TCP timeout
  uint64_t bytes_to_backends;  // request bytes forwarded (heads as rewritten, bodies)
  uint64_t bytes_to_clients;   // response bytes forwarded
  uint64_t upgrades;           // 101 answers to Upgrade requests relayed: tunnels opened
  uint64_t tunnels_open;       // gauge: tunnels open now
  uint64_t tunnel_idle_closed; // tunnels closed after ingress.timeouts.tunnel_idle without a byte either way
  uint64_t tunnel_bytes_to_backends;  // bytes spliced client to endpoint in tunnels
  uint64_t tunnel_bytes_to_clients;   // bytes spliced endpoint to client in tunnels (the 101 head included)
  uint64_t access_log_dropped; // access log entries dropped: no record free, the ring full, or no control process draining it
};

// TLS termination on the worker's TCP connections (pipelines/l7/tls).
struct tls_lcore_counters {
  uint64_t sessions;           // gauge: TLS connections open (handshaking included)
  uint64_t handshakes_started;
  uint64_t handshakes_tls12;   // completed, by protocol version
  uint64_t handshakes_tls13;
  uint64_t resumed;            // of the completed: by a session ticket
  uint64_t failed_version;     // refused: the client offered no TLS 1.2 or 1.3
  uint64_t failed_alpn;        // refused: ALPN without http/1.1
  uint64_t failed_handshake;   // any other failure: no shared cipher, a bad message, the client's alert
  uint64_t failed_closed;      // the client closed or reset during the handshake
  uint64_t deferred;           // handshake steps put off to a later poll loop (the per-loop budget)
  uint64_t handshake_cycles;   // TSC cycles spent in handshake steps
  uint64_t sni_exact;          // certificate picked by the exact name
  uint64_t sni_wildcard;       // by the wildcard of its first label
  uint64_t sni_default;        // no SNI, or no name matched: the default certificate
  uint64_t close_notify;       // clients that ended with close_notify
  uint64_t truncated;          // clients that sent FIN without close_notify
  uint64_t record_errors;      // connections ended by a bad record or an alert after the handshake
  uint64_t no_mbuf;            // connections ended because the pool was dry
  uint64_t bytes_in;           // plaintext received (decrypted)
  uint64_t bytes_out;          // plaintext sent (encrypted)
  uint64_t echo_accepted;      // the echo service over TLS (ingress.tls_echo_port)
  uint64_t echo_bytes;
  uint64_t buffered;           // gauge: connections keeping OpenSSL's record buffers (ingress.tls_buffered_connections)
  uint64_t buffers_released;   // by connections pushed out of those
};

// The DNS responder (pipelines/dns): queries taken, responses by rcode.
// Queries it drops are counted by drop reason (dns_*).
struct dns_lcore_counters {
  uint64_t queries;       // UDP/53 datagrams and TCP/53 messages to a DNS address, dropped ones included
  uint64_t edns;          // of those, with an OPT RR
  uint64_t responses[8];  // by rcode: NOERROR, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED, [6] BADVERS, [7] other
  uint64_t nodata;        // NOERROR without an answer: the name exists, not the type
  uint64_t truncated;     // TC set: the answer did not fit the requestor's size
  uint64_t qtypes[8];     // queries by type: A, AAAA, SRV, PTR, CNAME, TXT, ANY, [7] other
  // Over TCP (pipelines/dns/dns_tcp.h); its queries count in `queries` too.
  uint64_t tcp_accepted;     // connections to port 53 of a DNS address taken
  uint64_t tcp_queries;      // messages read whole from them
  uint64_t tcp_idle_closed;  // connections closed after dns.tcp_idle_timeout without a query
  // UDP queries for names outside the zones handed to control's forwarder
  // (dns.upstreams); a full punt ring drops them (drop reason punt_ring_full).
  uint64_t forwarded;
  // TCP queries for names outside the zones handed to the forwarder, their
  // answers written into the connection, and those that could not be handed
  // (no mbuf, punt ring full: SERVFAIL sent). Answers for connections closed
  // since are drop reason dns_tcp_answer_gone.
  uint64_t tcp_forwarded;
  uint64_t tcp_forward_answers;
  uint64_t tcp_forward_failed;
};

// Neighbour resolution (pipelines/neighbor, dataplane/neighbor): the workers
// count misses, what they hear and drops towards failed neighbours; the
// resolver on the main lcore (shared_state::main_counters) the rest.
struct neighbor_lcore_counters {
  uint64_t misses;       // packets whose next hop had no MAC: handed to the resolver
  uint64_t queued;       // of those, held in their neighbour's queue until it answers
  uint64_t failed;       // packets dropped for a next hop that did not answer (drop reason neighbor_failed)
  uint64_t released;     // queued packets sent once their neighbour answered
  uint64_t solicits;     // ARP requests and neighbour solicitations sent
  uint64_t heard;        // ARP and ND messages read for learning
  uint64_t learned;      // entries created, or given a new MAC, from what was heard
  uint64_t mac_changes;  // of those, a known neighbour's MAC changed
  uint64_t events_lost;  // what was heard that the resolver's ring had no room for
};

// The exception path to the node's kernel (dataplane/exception), counted by
// the main lcore (shared_state::main_counters); its drops are drop reasons
// (exception_*), the workers' hand-over is local_counters::to_kernel.
struct exception_lcore_counters {
  uint64_t to_kernel;          // packets written to an exception interface
  uint64_t to_kernel_bytes;
  uint64_t from_kernel;        // frames the kernel sent on one, handed to a worker to send out of its port
  uint64_t from_kernel_bytes;
};

// Pod routing (pipelines/route/pod_forward.h): what was forwarded to pods,
// how, and the VXLAN taken apart; every drop is counted by its reason.
struct pod_lcore_counters {
  uint64_t on_link;       // delivered on the gateway's own segment (the pod's neighbour entry)
  uint64_t routed;        // sent to the owning Node's address (overlay none)
  uint64_t encapsulated;  // sent in VXLAN to the owning Node
  uint64_t decapsulated;  // VXLAN to the gateway's VTEP, taken apart and run through the pipeline
  uint64_t too_big_sent;  // ICMP fragmentation needed / ICMPv6 packet too big sent for an encapsulation over the MTU
};

// NetworkPolicy (pipelines/policy) in the lb stage, over new Service flows
// and new routed pod-to-pod flows: the verdicts of the classifier (denied
// flows are also drop reason policy_denied), and the connections classified
// again after a policy change (those cut: drop reason policy_revoked for
// their packet).
struct policy_lcore_counters {
  uint64_t allowed;
  uint64_t denied;
  uint64_t routed_opened;   // of the allowed: routed pod-to-pod flows given a connection entry
  uint64_t rechecked;       // connections classified again under a new policy generation
  uint64_t revoked;         // of those: denied now, removed
  uint64_t classify_calls;  // classifier calls (one per burst that had flows to classify, at most a few)
};

struct alignas(64) lcore_counters {
  uint64_t loops;        // poll loop iterations
  uint64_t busy_loops;   // iterations that received at least one packet
  uint64_t busy_cycles;  // TSC cycles spent in iterations with packets
  uint64_t rx_pkts;
  uint64_t tx_pkts;
  uint64_t punted;
  uint64_t loop_gaps[loop_gap_buckets];  // loops by the gap to the next one's start (loop_gap_bucket)
  uint64_t loop_gap_cycles;              // the gaps' sum: TSC cycles from the first loop's start to the last's
  uint64_t drops[drop_reason_count];
  local_counters local;
  conntrack_stage_counters conntrack;
  lb_stage_counters lb;
  nat_stage_counters nat;
  tcp_lcore_counters tcp;
  http_lcore_counters http;
  tls_lcore_counters tls;
  dns_lcore_counters dns;
  neighbor_lcore_counters neighbor;
  exception_lcore_counters exception;
  pod_lcore_counters pod;
  policy_lcore_counters policy;
  port_lcore_counters port[max_ports];
};

}  // namespace kgw
