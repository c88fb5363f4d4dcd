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

  // Five 8-byte words compared without a call: this runs on every lookup.
  bool operator==(const flow_key& o) const {
    uint64_t a[5], b[5];
    std::memcpy(a, this, sizeof a);
    std::memcpy(b, &o, sizeof b);
    return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3]) | (a[4] ^ b[4])) == 0;
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
inline uint32_t flow_hash(const flow_key& k) {
  uint64_t w[5];
  std::memcpy(w, &k, sizeof w);
  uint64_t h = 0x9e3779b97f4a7c15ull;
  for (uint64_t v : w) {
    h ^= v;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  return static_cast<uint32_t>(h ^ (h >> 29));
}

}  // namespace kgw
