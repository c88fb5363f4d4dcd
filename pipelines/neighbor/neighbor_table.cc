#include "pipelines/neighbor/neighbor_table.h"

#include <cstring>

namespace kgw {

const char* neighbor_state_name(neighbor_state s) {
  switch (s) {
    case neighbor_state::permanent: return "REACHABLE";
    case neighbor_state::incomplete: return "INCOMPLETE";
    case neighbor_state::reachable: return "REACHABLE";
    case neighbor_state::stale: return "STALE";
    case neighbor_state::delay: return "DELAY";
    case neighbor_state::probe: return "PROBE";
    case neighbor_state::failed: return "FAILED";
  }
  return "?";
}

uint32_t neighbor_hash(uint8_t family, const uint8_t* ip) {
  // FNV-1a over the address: a few dozen instructions, good enough for a
  // table at most half full whose keys an outsider can only partly choose.
  uint32_t h = 2166136261u ^ family;
  unsigned len = family == 4 ? 4 : 16;
  for (unsigned i = 0; i < len; ++i) h = (h ^ ip[i]) * 16777619u;
  return h ^ (h >> 15);
}

void neighbor_index_build(const neighbor_entry* entries, uint32_t n, uint16_t* index) {
  std::memset(index, 0, sizeof(uint16_t) * neighbor_index_slots);
  for (uint32_t i = 0; i < n && i < max_neighbors; ++i) {
    const neighbor_entry& e = entries[i];
    if (e.family == 0) continue;
    uint32_t at = neighbor_hash(e.family, e.ip) & (neighbor_index_slots - 1);
    while (index[at]) at = (at + 1) & (neighbor_index_slots - 1);
    index[at] = static_cast<uint16_t>(i + 1);
  }
}

const neighbor_entry* neighbor_index_find(const neighbor_entry* entries, uint32_t n, const uint16_t* index,
                                          uint8_t family, const uint8_t* ip) {
  unsigned len = family == 4 ? 4 : 16;
  uint32_t at = neighbor_hash(family, ip) & (neighbor_index_slots - 1);
  // At most half full: an empty slot ends every probe sequence.
  for (uint16_t i; (i = index[at]) != 0; at = (at + 1) & (neighbor_index_slots - 1)) {
    if (i > n) continue;
    const neighbor_entry& e = entries[i - 1];
    if (e.family == family && std::memcmp(e.ip, ip, len) == 0) return &e;
  }
  return nullptr;
}

}  // namespace kgw
