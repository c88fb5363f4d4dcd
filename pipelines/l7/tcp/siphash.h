// SipHash-2-4 (Aumasson and Bernstein, 2012): the keyed pseudo-random function
// behind the initial sequence numbers (RFC 6528 section 3 asks for a PRF with a
// secret key), the SYN cookies (RFC 4987 section 3.6), the timestamp offsets
// and the source port choice (RFC 6056): each computed once per connection.
// The connection table, hashed on every segment, uses tuple_hash.h.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace kgw::tcp {

struct sip_key {
  uint64_t k0 = 0, k1 = 0;
};

namespace detail {
inline uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }
inline void sip_round(uint64_t& v0, uint64_t& v1, uint64_t& v2, uint64_t& v3) {
  v0 += v1;
  v1 = rotl(v1, 13);
  v1 ^= v0;
  v0 = rotl(v0, 32);
  v2 += v3;
  v3 = rotl(v3, 16);
  v3 ^= v2;
  v0 += v3;
  v3 = rotl(v3, 21);
  v3 ^= v0;
  v2 += v1;
  v1 = rotl(v1, 17);
  v1 ^= v2;
  v2 = rotl(v2, 32);
}
inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}
}  // namespace detail

inline uint64_t siphash24(const sip_key& key, const void* data, size_t len) {
  using namespace detail;
  const uint8_t* p = static_cast<const uint8_t*>(data);
  uint64_t v0 = 0x736f6d6570736575ULL ^ key.k0;
  uint64_t v1 = 0x646f72616e646f6dULL ^ key.k1;
  uint64_t v2 = 0x6c7967656e657261ULL ^ key.k0;
  uint64_t v3 = 0x7465646279746573ULL ^ key.k1;
  const size_t whole = len & ~size_t{7};
  for (size_t i = 0; i < whole; i += 8) {
    uint64_t m = load_le64(p + i);
    v3 ^= m;
    sip_round(v0, v1, v2, v3);
    sip_round(v0, v1, v2, v3);
    v0 ^= m;
  }
  uint8_t last[8] = {};
  std::memcpy(last, p + whole, len - whole);
  uint64_t m = load_le64(last) | static_cast<uint64_t>(len & 0xff) << 56;
  v3 ^= m;
  sip_round(v0, v1, v2, v3);
  sip_round(v0, v1, v2, v3);
  v0 ^= m;
  v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) sip_round(v0, v1, v2, v3);
  return v0 ^ v1 ^ v2 ^ v3;
}

// A key for one purpose, derived from the stack's seed and a label, so that
// knowing one output (a timestamp offset on the wire) tells nothing of another
// (the cookie secret).
inline sip_key derive_key(uint64_t seed, uint64_t label) {
  sip_key base{seed, ~seed};
  uint64_t in[2] = {label, 0};
  sip_key k;
  k.k0 = siphash24(base, in, sizeof in);
  in[1] = 1;
  k.k1 = siphash24(base, in, sizeof in);
  return k;
}

}  // namespace kgw::tcp
