// The neighbour table's format: the MAC and port of each next hop the
// gateway knows, static (gateway.yaml `neighbors:`) or learnt by ARP and IPv6
// neighbour discovery, with its RFC 4861 reachability state. Plain data; the
// resolver on the dataplane's main lcore (dataplane/neighbor/) is its one
// writer and publishes a fresh copy inside the next-hop table
// (pipelines/route/nexthop.h) on every change, freed after the workers' RCU
// grace period; workers only read it.
//
// A slot keeps its address for as long as the entry lives, across copies, so
// that a connection may cache "slot i" (a hop) instead of looking the address
// up for every packet. A slot given to another address gets a new epoch,
// which a cached hop carries and the reader checks.
#pragma once

#include <cstdint>

namespace kgw {

inline constexpr unsigned max_neighbors = 1024;
// Open addressing, linear probing, at most half full.
inline constexpr unsigned neighbor_index_slots = 2 * max_neighbors;

// RFC 4861 section 7.3.2, plus `permanent`: a static entry from gateway.yaml,
// never aged and never changed by what is heard (shown as REACHABLE, source
// static). Zero, so that an entry written field by field is a static one.
enum class neighbor_state : uint8_t {
  permanent = 0,
  incomplete,  // resolution under way: no MAC yet, packets wait in the resolver's queue
  reachable,   // confirmed within the reachable time
  stale,       // not confirmed lately: used as it is; the next packet starts DELAY
  delay,       // used while stale: a confirmation is awaited before probing
  probe,       // unicast solicitations to the MAC in use
  failed,      // resolution got no answer: packets are dropped (neighbor_failed)
};

struct neighbor_entry {
  uint8_t family;        // 4 or 6; 0: a free slot
  neighbor_state state;
  uint8_t epoch;         // of the slot's current address (see neighbor_hop)
  uint8_t pad;
  uint16_t port;         // ethdev port id the neighbour is on
  uint8_t mac[6];        // meaningful when neighbor_has_mac
  uint8_t ip[16];        // IPv4 in the first 4 bytes
  uint64_t changed_ns;   // the resolver's clock: last state change or confirmation (AGE)
};
static_assert(sizeof(neighbor_entry) == 40);

// Frames may be addressed with it: every state but incomplete and failed.
inline bool neighbor_has_mac(const neighbor_entry& e) {
  return e.state != neighbor_state::incomplete && e.state != neighbor_state::failed;
}

// "REACHABLE", ...; a static entry is REACHABLE.
const char* neighbor_state_name(neighbor_state s);

uint32_t neighbor_hash(uint8_t family, const uint8_t* ip);

// The index over entries[0, n): slot + 1 at the hash of its address (0:
// empty). Free slots are left out.
void neighbor_index_build(const neighbor_entry* entries, uint32_t n, uint16_t* index);
// The entry for exactly (family, ip), or nullptr.
const neighbor_entry* neighbor_index_find(const neighbor_entry* entries, uint32_t n, const uint16_t* index,
                                          uint8_t family, const uint8_t* ip);

// A hop: what a connection caches of the neighbour its packets leave by.
// 11 bits of slot + 1 (0: none cached), 5 bits of the slot's epoch.
inline uint16_t neighbor_hop(uint32_t slot, uint8_t epoch) {
  return static_cast<uint16_t>((slot + 1) | ((epoch & 31u) << 11));
}
static_assert(max_neighbors < 2048, "a hop holds 11 bits of slot");

// The entry a cached hop names, or nullptr when the slot has since been freed
// or given to another address (look the address up again).
inline const neighbor_entry* neighbor_at_hop(const neighbor_entry* entries, uint32_t n, uint16_t hop) {
  uint32_t i = (hop & 0x7ffu) - 1;  // hop 0 wraps beyond n
  if (i >= n) return nullptr;
  const neighbor_entry& e = entries[i];
  return e.family != 0 && (e.epoch & 31u) == (hop >> 11) ? &e : nullptr;
}

}  // namespace kgw
