// The hash of a lower-case wire name, as the table's index holds it
// (dns_table.h): the name's eight-byte words mixed in turn, then its last
// 0..7 bytes as one word padded with zeros. Its steps are apart so that the
// parse can hash the QNAME while it lowers it (dns_wire.h), in one pass
// over the words, and get exactly what name_hash gives.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace kgw::dns {

struct name_hasher {
  uint64_t h;

  explicit name_hasher(uint32_t len) : h(0x9e3779b97f4a7c15ull ^ len) {}
  // The next eight bytes of the name, loaded in native order.
  void word(uint64_t w) {
    h = (h ^ w) * 0xff51afd7ed558ccdull;
    h ^= h >> 32;
  }
  // The last len % 8 bytes, as memcpy puts them into a zeroed word.
  uint32_t finish(uint64_t tail) const {
    uint64_t x = (h ^ tail) * 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 29;
    return static_cast<uint32_t>(x ^ (x >> 32));
  }
  // The last `r` (1..7) bytes of a name, from the word that holds its last
  // eight bytes: what finish() takes.
  static uint64_t tail_of_last_word(uint64_t last8, uint32_t r) {
    if constexpr (std::endian::native == std::endian::little) return last8 >> (8 * (8 - r));
    else return last8 << (8 * (8 - r));
  }
};

inline uint32_t name_hash(const uint8_t* p, uint32_t len) {
  name_hasher h(len);
  for (; len >= 8; p += 8, len -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h.word(w);
  }
  uint64_t w = 0;
  std::memcpy(&w, p, len);
  return h.finish(w);
}

// Whether two wire names of `len` bytes are the same bytes, compared in the
// eight-byte words lower_ascii (dns_wire.h) writes the query's lowered name
// in: at 0, 8, ... and its last eight. Loads that match those stores take
// their bytes straight from them; memcmp's wider loads straddle several
// and wait for them to reach the cache (a store-forwarding stall per query).
inline bool names_equal(const uint8_t* a, const uint8_t* b, uint32_t len) {
  if (len < 8) return std::memcmp(a, b, len) == 0;
  auto differ = [&](uint32_t at) {
    uint64_t x, y;
    std::memcpy(&x, a + at, 8);
    std::memcpy(&y, b + at, 8);
    return x != y;
  };
  uint32_t at = 0;
  for (; at + 8 <= len; at += 8)
    if (differ(at)) return false;
  return at == len || !differ(len - 8);
}

}  // namespace kgw::dns
