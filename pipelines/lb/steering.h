// Keeping both directions of a connection on the worker that owns its entry
// (DESIGN.md "Keeping a flow on one core"), in software:
//   1. RSS-aware SNAT ports: for a full-NAT flow, pick the source port so that
//      the NIC's Toeplitz hash of the reply lands on the owner's queue;
//   2. hand-off: a packet that reaches another worker anyway is passed to its
//      owner over a ring. The owner is known from the packet alone: the SNAT
//      port range (each worker has its own) for full-NAT replies, a hash of
//      the client's address and port for client-IP-preserving (Local) flows.
// The choice of a SNAT source port lives here rather than with the rest of
// the lb stage: what makes it more than "the next free port" is that it
// decides which worker's queue the replies reach.
#pragma once

#include <cstdint>
#include <cstring>

#include "pipelines/common/flow_key.h"
#include "pipelines/common/pkt_meta.h"
#include "pipelines/conntrack/conn_table.h"
#include "pipelines/lb/service_directory.h"

namespace kgw {

inline constexpr unsigned rss_max_key = 52;
inline constexpr unsigned rss_max_reta = 512;

// What a port's RSS does, as read back from the device at start.
struct rss_port {
  uint8_t enabled;           // RSS on, more than one queue, key and RETA known
  uint8_t key_len;
  uint16_t reta_size;
  alignas(4) uint8_t key[rss_max_key];  // rte_softrss reads it as 32-bit words
  uint16_t reta[rss_max_reta];  // RETA entry -> queue
};

struct steering_table {
  uint16_t n_workers = 1;
  uint16_t snat_port_lo = 1024;  // the whole SNAT range, split evenly in worker order
  uint16_t snat_span = 64512;    // ports per worker
  rss_port port[max_ports] = {};
  // Per port: rte_flow rules send each worker's SNAT and connect ports to its
  // queue (dataplane/flow_steering.h), so replies need no aimed port.
  uint8_t flow_steered[max_ports] = {};
};

// Whether replies arriving on `port` reach their owner by an rte_flow rule.
inline bool flow_steered(const steering_table& s, uint16_t port) { return port < max_ports && s.flow_steered[port]; }

// The queue RSS picks for a TCP/UDP tuple arriving on `r` (addresses as on
// the wire, ports in network order), or -1 when the port has no usable RSS.
int rss_queue(const rss_port& r, const flow_key& k);

// The worker owning a full-NAT connection by its SNAT port (host order), or -1.
inline int owner_by_snat_port(const steering_table& s, uint16_t port) {
  if (port < s.snat_port_lo || s.snat_span == 0) return -1;
  unsigned w = (port - s.snat_port_lo) / s.snat_span;
  return w < s.n_workers ? static_cast<int>(w) : -1;
}

// A hash of one end of a flow: its address and port.
inline uint64_t end_hash(const uint8_t* addr16, uint16_t port_net) {
  uint64_t a, b;
  std::memcpy(&a, addr16, 8);
  std::memcpy(&b, addr16 + 8, 8);
  uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ (b * 0xc2b2ae3d27d4eb4full) ^ port_net;
  h ^= h >> 29;
  return h * 0xbf58476d1ce4e5b9ull;
}

// The worker owning a client-IP-preserving connection: a hash of the client's
// address and port, which both directions carry (source one way, destination
// the other).
inline unsigned owner_by_client(const steering_table& s, const uint8_t* addr16, uint16_t port_net) {
  return static_cast<unsigned>((end_hash(addr16, port_net) >> 32) % s.n_workers);
}

// The worker owning a routed pod-to-pod connection (no NAT: its replies are
// its reversed key), or -1 when that is worker `self`. When one end is a
// client-IP-preserving Service's endpoint on its target port (in `d`, when
// given), the packets that end sends are steered by the address and port
// they go to, as a Service's replies are (steering_owner): so is the flow,
// both ways, by the other end's. Otherwise a hash that both directions give
// alike: the sum of a hash per endpoint (address and port).
int routed_owner(const steering_table& s, unsigned self, const flow_key& k, const service_directory* d = nullptr,
                 const frontend_index* ix = nullptr);

// This worker's slice of the SNAT source ports (host order), handed out in turn.
struct snat_port_range {
  uint16_t lo = 1024, hi = 65535;
};

// Completes the reply key of a new full-NAT connection (all but its
// destination port filled in) with a port of `r` whose reply key is unused in
// `t` and, when the endpoint's port does RSS (`rss`), whose reply the NIC
// hashes to queue `queue`. Failing the second, an unused port still does: the
// reply then takes the hand-off ring (`rss_missed`). The ports are tried in an
// order that only the client's flow (`client_hash`, its key's flow_hash) decides, so
// that a connection picked up after its entry was lost (evicted, expired, a
// restart) gets the port it had whenever that one is free: the Pod sees the
// same connection, not an unknown one it would reset. Sets reply.dport and
// its flow_hash; false when no port tried is free.
bool pick_snat_port(const snat_port_range& r, uint32_t client_hash, const rss_port* rss, unsigned queue, conn_table& t,
                    uint64_t now_ns,
                    const conn_removal& gone, flow_key& reply, uint32_t& reply_hash, bool& rss_missed);

// The worker owning the connection of a packet with key `k` that missed the
// connection table, whose destination is frontend `fh` (empty when none), or
// -1 when that is worker `self` or nothing tells: a reply to the SNAT address
// by its port, a packet towards a client-IP-preserving frontend or from such
// a frontend's endpoint by the client's address and port.
int steering_owner(const steering_table& s, unsigned self, const service_directory& d, const frontend_index& ix,
                   const flow_key& k, const frontend_hit& fh);

}  // namespace kgw
