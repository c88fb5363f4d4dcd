// Where a packet leaves: the next hop for its destination and the neighbour
// entry (port and MAC) of that hop. The next hop is the destination itself
// when a neighbour entry names it or it lies in an on-link network
// (gateway.yaml ports[].networks), else the gateway of the longest matching
// route. Plain data; workers only read it. Routes and on-link networks come
// from gateway.yaml and never change; the neighbours (pipelines/neighbor/)
// change as they are learnt, and the resolver publishes a new copy of the
// whole table each time (shared_state::nexthops). Sizes are small and fixed:
// a linear longest-prefix scan over a few hundred routes costs less than a
// trie would need to justify; neighbours are found through a hash index.
#pragma once

#include <cstdint>
#include <cstring>

#include "pipelines/common/pkt_meta.h"
#include "pipelines/neighbor/neighbor_table.h"

namespace kgw {

inline constexpr unsigned max_routes = 256;

struct route_entry {
  uint8_t family;
  uint8_t len;
  uint8_t onlink;       // 1: the prefix is on the port's link (ports[].networks): the destination is its own next hop
  uint8_t prefix[16];
  uint8_t via[16];      // the gateway, unless onlink
  uint16_t port;
};

struct nexthop_table {
  // Bumped with every copy the resolver publishes: a cache of lookups in one
  // table (origin_route_cache) starts afresh with the next.
  uint64_t generation = 1;
  uint32_t n_neighbors = 0;             // slots [0, n_neighbors) may be in use
  neighbor_entry neighbors[max_neighbors];
  uint16_t neighbor_index[neighbor_index_slots] = {};  // nexthop_reindex after writing neighbours
  uint32_t n_routes = 0;
  route_entry routes[max_routes];  // any order; the longest match wins
  uint8_t port_mac[max_ports][6] = {};
};

// Where `dst` goes: the next hop's address and port, and its neighbour entry
// when there is one (nullptr: the hop is still to be resolved). `found`
// false: no entry, no route, no on-link network: nowhere.
struct nexthop {
  const neighbor_entry* entry = nullptr;
  const uint8_t* addr = nullptr;  // the next hop (dst itself, a route's gateway, or the entry's address)
  uint16_t port = 0;
  bool found = false;
};
nexthop nexthop_resolve(const nexthop_table& t, uint8_t family, const uint8_t* dst);

// The neighbour entry the next hop of `dst` has, or nullptr (none yet, or no route).
inline const neighbor_entry* nexthop_lookup(const nexthop_table& t, uint8_t family, const uint8_t* dst) {
  return nexthop_resolve(t, family, dst).entry;
}
// The neighbour entry for exactly `ip`, or nullptr: what a route's gateway resolves to.
const neighbor_entry* find_neighbor(const nexthop_table& t, uint8_t family, const uint8_t* ip);
// `addr` (of the route's family) lies in the route's prefix.
bool route_covers(const route_entry& r, const uint8_t* addr);
// Rebuilds the neighbour index after entries were written.
void nexthop_reindex(nexthop_table& t);

// The hop a connection caches for entry `e` of `t`, and back (nullptr: gone).
inline uint16_t nexthop_hop(const nexthop_table& t, const neighbor_entry& e) {
  return neighbor_hop(static_cast<uint32_t>(&e - t.neighbors), e.epoch);
}
inline const neighbor_entry* nexthop_at_hop(const nexthop_table& t, uint16_t hop) {
  return neighbor_at_hop(t.neighbors, t.n_neighbors, hop);
}

// Writes the Ethernet header for leaving through `n` (source: the port's MAC)
// and sets the verdict; VLAN tags of the received frame are kept as they are.
inline void nexthop_apply(uint8_t* frame, pkt_meta& m, const nexthop_table& t, const neighbor_entry& n) {
  std::memcpy(frame, n.mac, 6);
  std::memcpy(frame + 6, t.port_mac[n.port < max_ports ? n.port : 0], 6);
  m.v = verdict::tx;
  m.out_port = n.port;
}

}  // namespace kgw
