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

namespace {

// The address as two words (IPv4's four bytes in the first, the second 0):
// what the index hashes and compares. Loads of whole words: a new flow's
// next hop looks up two addresses (the destination, then the route's
// gateway), and a byte loop and a memcmp call each were a third of that.
struct address_words {
  uint64_t w0 = 0, w1 = 0;
  address_words(uint8_t family, const uint8_t* ip) {
    if (family == 4) {
      uint32_t a;
      std::memcpy(&a, ip, 4);
      w0 = a;
    } else {
      std::memcpy(&w0, ip, 8);
      std::memcpy(&w1, ip + 8, 8);
    }
  }
  bool operator==(const address_words&) const = default;
};

// Fibonacci hashing of the words; the slot from the product's high half.
uint32_t slot_of(uint8_t family, const address_words& a) {
  constexpr uint64_t golden = 0x9e3779b97f4a7c15ull;
  uint64_t h = ((a.w0 ^ family) * golden ^ a.w1) * golden;
  return static_cast<uint32_t>(h >> 40) & (neighbor_index_slots - 1);
}

}  // namespace

void neighbor_index_build(const neighbor_entry* entries, uint32_t n, uint16_t* index) {
  std::memset(index, 0, sizeof(uint16_t) * neighbor_index_slots);
  for (uint32_t i = 0; i < n && i < max_neighbors; ++i) {
    const neighbor_entry& e = entries[i];
    if (e.family == 0) continue;
    uint32_t at = slot_of(e.family, address_words(e.family, e.ip));
    while (index[at]) at = (at + 1) & (neighbor_index_slots - 1);
    index[at] = static_cast<uint16_t>(i + 1);
  }
}

const neighbor_entry* neighbor_index_find(const neighbor_entry* entries, uint32_t n, const uint16_t* index,
                                          uint8_t family, const uint8_t* ip) {
  const address_words want(family, ip);
  uint32_t at = slot_of(family, want);
  // At most half full: an empty slot ends every probe sequence.
  for (uint16_t i; (i = index[at]) != 0; at = (at + 1) & (neighbor_index_slots - 1)) {
    if (i > n) continue;
    const neighbor_entry& e = entries[i - 1];
    if (e.family == family && address_words(family, e.ip) == want) return &e;
  }
  return nullptr;
}

}  // namespace kgw
