// The 5-tuple that identifies one direction of a connection, and the id of a
// connection in its worker's table.
#pragma once

#include <cstdint>
#include <cstring>

namespace kgw {

struct flow_key {
  uint8_t src[16];   // IPv4: first 4 bytes, rest zero
  uint8_t dst[16];
  uint16_t sport;    // network order as on the wire; ICMP echo: identifier
  uint16_t dport;
  uint8_t proto;     // IPPROTO_*
  uint8_t family;    // 4 or 6
  uint16_t pad = 0;  // keeps the key 40 bytes with no uninitialised holes

  // The key's i-th 8-byte word, loaded where it is: copying the whole key
  // into an array first costs GCC a round trip through the stack.
  uint64_t word(unsigned i) const {
    uint64_t w;
    std::memcpy(&w, reinterpret_cast<const unsigned char*>(this) + 8 * i, 8);
    return w;
  }

  // Five 8-byte words compared without a call: this runs on every lookup.
  bool operator==(const flow_key& o) const {
    return ((word(0) ^ o.word(0)) | (word(1) ^ o.word(1)) | (word(2) ^ o.word(2)) | (word(3) ^ o.word(3)) |
            (word(4) ^ o.word(4))) == 0;
  }
};
static_assert(sizeof(flow_key) == 40);

// A connection's index in its worker's connection table; conn_none = none.
inline constexpr uint32_t conn_none = 0xffffffffu;

// The key of the other direction: addresses and ports swapped.
inline flow_key reverse(const flow_key& k) {
  flow_key r = k;
  std::memcpy(r.src, k.dst, 16);
  std::memcpy(r.dst, k.src, 16);
  r.sport = k.dport;
  r.dport = k.sport;
  return r;
}

// 32-bit hash of the key (CRC32-C where the CPU has it would also do; this is
// portable and deterministic so that tests and replays agree everywhere).
// The five rounds written out: GCC at -O2 keeps the loop, and its counting
// cost a fifth of the hash.
inline uint32_t flow_hash(const flow_key& k) {
  auto round = [](uint64_t h, uint64_t v) {
    h ^= v;
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 32);
  };
  uint64_t h = 0x9e3779b97f4a7c15ull;
  h = round(h, k.word(0));
  h = round(h, k.word(1));
  h = round(h, k.word(2));
  h = round(h, k.word(3));
  h = round(h, k.word(4));
  return static_cast<uint32_t>(h ^ (h >> 29));
}

}  // namespace kgw
