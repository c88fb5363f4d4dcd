// Where a packet leaves: the neighbour (port and MAC) for its destination,
// directly or through the longest matching route's gateway. Plain data built
// by the slow path from gateway.yaml (static neighbours and routes); workers
// only read it. Sizes are small and fixed: a linear longest-prefix scan over a
// few hundred routes costs less than a hash probe would need to justify.
#pragma once

#include <cstdint>
#include <cstring>

#include "pipelines/common/pkt_meta.h"

namespace kgw {

inline constexpr unsigned max_neighbors = 1024;
inline constexpr unsigned max_routes = 256;

struct neighbor_entry {
  uint8_t family;  // 4 or 6
  uint8_t ip[16];
  uint8_t mac[6];
  uint16_t port;
};

struct route_entry {
  uint8_t family;
  uint8_t len;
  uint8_t prefix[16];
  uint8_t via[16];
  uint16_t port;
};

struct nexthop_table {
  // Bumped by whoever rewrites the table in place or publishes a new one
  // (neighbours learnt at run time): indices into `neighbors` that workers
  // cached for it are void from then on. Built once at start today.
  uint64_t generation = 1;
  uint32_t n_neighbors = 0;
  neighbor_entry neighbors[max_neighbors];
  uint32_t n_routes = 0;
  route_entry routes[max_routes];  // any order; the longest match wins
  uint8_t port_mac[max_ports][6] = {};
};

// The neighbour for `dst` (family 4: first 4 bytes): an entry for dst itself,
// else the gateway of the longest matching route. nullptr when unknown.
const neighbor_entry* nexthop_lookup(const nexthop_table& t, uint8_t family, const uint8_t* dst);
// The neighbour entry for exactly `ip`, or nullptr: what a route's gateway resolves to.
const neighbor_entry* find_neighbor(const nexthop_table& t, uint8_t family, const uint8_t* ip);

// Writes the Ethernet header for leaving through `n` (source: the port's MAC)
// and sets the verdict; VLAN tags of the received frame are kept as they are.
inline void nexthop_apply(uint8_t* frame, pkt_meta& m, const nexthop_table& t, const neighbor_entry& n) {
  std::memcpy(frame, n.mac, 6);
  std::memcpy(frame + 6, t.port_mac[n.port < max_ports ? n.port : 0], 6);
  m.v = verdict::tx;
  m.out_port = n.port;
}

}  // namespace kgw
