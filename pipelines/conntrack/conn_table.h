// Per-lcore connection table: both directions of every tracked connection,
// TCP state with IPVS/conntrack-style timeouts, bounded memory, eviction of the
// oldest connection of a bucket under pressure (never one seen at the time of
// the insert: the burst in hand may still be using it). One writer (its worker), so no
// locks or atomics. Memory is one block the owner provides (rte_malloc on the
// worker's socket in the dataplane, the heap in tests); the table never allocates.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pipelines/common/flow_key.h"

namespace kgw {

enum class conn_state : uint8_t {
  free = 0,
  tcp_syn_sent,     // SYN seen from the client
  tcp_syn_recv,     // SYN-ACK seen from the server
  tcp_established,
  tcp_fin_wait,     // one side sent FIN
  tcp_time_wait,    // both sides sent FIN
  tcp_closed,       // RST seen
  udp_unreplied,
  udp_replied,
  other,            // ICMP echo and other protocols
  // SCTP, after Linux's nf_conntrack_proto_sctp, for one address pair per
  // association (multi-homing and ASCONF are not followed).
  sctp_cookie_wait,     // INIT seen (and perhaps its INIT ACK)
  sctp_cookie_echoed,   // COOKIE ECHO seen
  sctp_established,     // COOKIE ACK seen, or picked up mid-association
  sctp_shutdown_sent,   // SHUTDOWN seen
  sctp_shutdown_ack_sent,  // SHUTDOWN ACK seen
  sctp_closed,          // ABORT or SHUTDOWN COMPLETE seen
};
// Every state's number fits the 4-bit tables of conn_table.cc.
static_assert(static_cast<unsigned>(conn_state::sctp_closed) < 16);
const char* conn_state_name(conn_state s);

// Seconds a connection is kept after its last packet, by state (gateway.yaml
// services.timeouts). Established is kube-proxy's conntrack setting (24 h): an
// idle but open connection (a database pool, a long poll) must not be cut
// sooner than it would be without the gateway.
// Not yet assured (Linux conntrack's term): a TCP handshake not complete
// (SYN, or SYN and SYN-ACK: a backend answers a spoofed SYN too), UDP nobody
// answered, an SCTP association before its COOKIE ACK. What a flood is made of.
constexpr bool embryonic(conn_state s) {
  // A bit per state: asked on every tracked packet, a mask test beats three compares.
  constexpr unsigned states = 1u << static_cast<unsigned>(conn_state::tcp_syn_sent) |
                              1u << static_cast<unsigned>(conn_state::tcp_syn_recv) |
                              1u << static_cast<unsigned>(conn_state::udp_unreplied) |
                              1u << static_cast<unsigned>(conn_state::sctp_cookie_wait) |
                              1u << static_cast<unsigned>(conn_state::sctp_cookie_echoed);
  return (states >> (static_cast<unsigned>(s) & 31)) & 1;
}

struct conn_timeouts {
  uint32_t tcp_syn_s = 30;
  uint32_t tcp_established_s = 86400;
  uint32_t tcp_fin_s = 120;
  uint32_t tcp_time_wait_s = 120;
  uint32_t tcp_closed_s = 10;
  uint32_t udp_unreplied_s = 30;
  uint32_t udp_replied_s = 180;
  uint32_t other_s = 30;
  // SCTP, Linux's defaults (nf_conntrack_sctp_timeout_*): the handshake
  // (COOKIE_WAIT, COOKIE_ECHOED), an established association (its heartbeats,
  // every 30 s by default, keep it), the shutdown (SHUTDOWN_SENT, _ACK_SENT),
  // after ABORT or SHUTDOWN COMPLETE.
  uint32_t sctp_init_s = 3;
  uint32_t sctp_established_s = 210;
  uint32_t sctp_closing_s = 3;
  uint32_t sctp_closed_s = 10;
  // A SYN without its SYN-ACK, or UDP without a reply, while the table is
  // more than 7/8 full (a flood): kept this long at most. 0 = no such limit.
  uint32_t embryonic_under_pressure_s = 5;
  // How long the later fragments of a datagram may follow its first
  // (pipelines/conntrack/frag_table.h): Linux's ipfrag_time.
  uint32_t fragment_s = 30;
};

// One tracked connection. key[0] is the original direction as the client sent
// it, key[1] the reply direction as it arrives (after NAT, towards the SNAT address).
// 128 bytes: with the buckets' 32 per connection, 160 per connection, 80 per
// direction (perf/README.md, issue 17). The expiry is kept as the seconds the
// connection lives past its last packet (the timeouts are whole seconds), not
// as a time of its own: the same instants, 4 bytes fewer.
struct conn {
  flow_key key[2];
  uint64_t last_seen_ns;
  uint32_t ttl_s;       // expires ttl_s seconds after last_seen_ns; a free record: the next free one
  uint32_t service;     // opaque to the table: the counter slot of the Service port that owns the flow
  uint32_t backend;     // opaque: the counter slot of the endpoint chosen
  uint32_t packets[2];
  // opaque: the NetworkPolicy generation (policy_rule_list::generation, low
  // 32 bits) the connection was last allowed under; 0: never classified.
  uint32_t policy_gen;
  conn_state state;
  uint8_t fins;         // bit d: FIN seen from direction d
  uint16_t nat_port;    // opaque: the SNAT source port
  uint16_t hop[2];      // opaque: the next hop each direction leaves by, cached by the owner
  // RFC 1624 deltas of a TCP or UDP packet of direction d translated to the
  // reverse of the other key (pipelines/nat): csum_ip[d] for the IPv4 header
  // (the addresses), csum_l4[d] for the L4 checksum (addresses and ports).
  // Set at insert from the keys, which never change: a translated packet
  // then pays one add-and-fold per checksum field instead of summing both
  // addresses and ports and folding twice.
  uint16_t csum_ip[2];
  uint16_t csum_l4[2];

  uint64_t expires_ns() const { return last_seen_ns + uint64_t{ttl_s} * 1000000000ull; }
};
static_assert(sizeof(conn) == 128, "two cache lines; a conn snapshot copies them as they are");

// conn::service of a pod-to-pod flow the gateway routes (pipelines/lb, when
// NetworkPolicy is enforced): no Service, no NAT, replies are the reversed
// key. Never a counter slot: counter areas are far smaller.
inline constexpr uint32_t conn_routed_service = 0xfffffffeu;

struct conn_counters {
  uint64_t hits, misses, inserts, evictions, expired, removed, table_full;
  uint64_t evicted_established;  // of the evictions: connections both sides used (no unassured one was found)
  uint64_t assured;              // connections that left embryonic: handshake completed, UDP answered
};

// Told of every connection the table lets go (expired, evicted or removed),
// for the owner's per-endpoint counts. Passed with each call that can remove
// one, never kept by the table: the table lives in memory that other
// processes map, where a code address of this one means nothing.
struct conn_removal {
  void (*fn)(void* ctx, const conn& c) = nullptr;
  void* ctx = nullptr;
  void operator()(const conn& c) const {
    if (fn) fn(ctx, c);
  }
};

struct conn_hit {
  uint32_t id = conn_none;  // index of the connection; conn_none = miss
  uint8_t dir = 0;          // 0 = original direction, 1 = reply
};

class conn_table {
 public:
  static constexpr unsigned bucket_slots = 8;
  // How many buckets a full table looks through for a connection to evict.
  static constexpr unsigned evict_probe_buckets = 16;

  // Bytes of memory `init` needs for this many connections.
  static size_t memory_size(uint32_t capacity);
  // Lays the table out in `mem` (memory_size bytes, 64-byte aligned).
  void init(void* mem, uint32_t capacity, const conn_timeouts& t);

  // Finds either direction of the key whose flow_hash is `hash`. An expired
  // connection is removed and reported as a miss.
  conn_hit lookup(const flow_key& k, uint32_t hash, uint64_t now_ns, const conn_removal& gone);
  // Hints for a burst (hash every key, prefetch the buckets, then the
  // connections they point at, then look up): with millions of connections
  // both are cache misses, and overlapping them across a burst hides the latency.
  void prefetch_bucket(uint32_t hash) const { __builtin_prefetch(&buckets_[hash & bucket_mask_]); }
  void prefetch_conn(uint32_t hash) const;
  // Inserts both directions (keys with their flow_hash) with state from the
  // first packet; evicts the oldest connection of a full bucket. Returns
  // conn_none when nothing can be evicted.
  // `tcp_flags` are an SCTP packet's pkt_meta::sctp_chunks.
  uint32_t insert(const flow_key& orig, uint32_t orig_hash, const flow_key& reply, uint32_t reply_hash,
                  uint8_t l4_proto, uint8_t tcp_flags, uint64_t now_ns, const conn_removal& gone);
  // Advances state and expiry for a packet of direction `dir` (SCTP: its chunks' bits).
  void update(uint32_t id, uint8_t dir, uint8_t tcp_flags, uint64_t now_ns);
  void remove(uint32_t id, const conn_removal& gone);
  // Examines up to `n_buckets` buckets from where the last call stopped and
  // removes expired connections; returns how many it removed. Called once per
  // poll loop so expiry costs a little, always.
  unsigned expire_step(uint64_t now_ns, unsigned n_buckets, const conn_removal& gone);

  conn& at(uint32_t id) { return conns_[id]; }
  const conn& at(uint32_t id) const { return conns_[id]; }
  uint32_t capacity() const { return capacity_; }
  uint32_t active() const { return capacity_ - n_free_; }
  // Embryonic connections: a TCP handshake not complete, UDP without a reply.
  uint32_t embryonic_count() const { return n_embryonic_; }
  const conn_counters& counters() const { return counters_; }
  uint32_t bucket_index(const flow_key& k) const { return flow_hash(k) & bucket_mask_; }

 private:
  struct alignas(64) bucket {
    uint32_t sig[bucket_slots];  // hash of the key, 0 = empty slot
    uint32_t ref[bucket_slots];  // conn id << 1 | direction
  };

  uint32_t timeout_s(conn_state s) const;
  void count_eviction(uint64_t rank);
  bucket& bucket_of(uint32_t hash) { return buckets_[hash & bucket_mask_]; }
  bool place(uint32_t hash, uint32_t id, uint8_t dir, uint64_t now_ns, const conn_removal& gone);
  void unlink(const flow_key& k, uint32_t id, uint8_t dir);
  uint32_t take_free(uint32_t hash, uint64_t now_ns, const conn_removal& gone);
  void release(uint32_t id);

  bucket* buckets_ = nullptr;
  conn* conns_ = nullptr;
  // Free records form a stack chained through their ttl_s (a free record has
  // no expiry): no array of free ids, 4 bytes per connection fewer.
  uint32_t free_head_ = conn_none;
  uint32_t n_free_ = 0;
  uint32_t n_embryonic_ = 0;
  uint32_t capacity_ = 0;
  uint32_t bucket_mask_ = 0;
  uint32_t scan_pos_ = 0;
  conn_timeouts timeouts_{};
  conn_counters counters_{};
};

}  // namespace kgw
