// Internet checksum (RFC 1071) over raw bytes, and the incremental update of
// RFC 1624. Byte-oriented and alignment-free so that it works on any offset in
// a frame; the NAT and local stages use it, the tests check it against a
// from-scratch reference.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace kgw {

// Adds `len` bytes (big-endian 16-bit words, odd tail padded with zero) to a
// running 32-bit sum. Chain calls only at even offsets.
inline uint32_t csum_add_bytes(uint32_t sum, const uint8_t* p, size_t len) {
  // One's-complement sums commute with byte swapping: sum the words in host
  // order and swap once at the end. Two 32-bit halves fold to the same
  // 16-bit sum as four 16-bit quarters, with fewer operations.
  uint64_t s = 0;
  auto halves = [&p]() {
    uint64_t w;
    std::memcpy(&w, p, 8);
    p += 8;
    return (w & 0xffffffffu) + (w >> 32);
  };
  for (; len >= 16; len -= 16) {
    s += halves();
    s += halves();
  }
  if (len >= 8) {
    s += halves();
    len -= 8;
  }
  if (len & 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    s += w;
    p += 4;
  }
  if (len & 2) {
    uint16_t w;
    std::memcpy(&w, p, 2);
    s += w;
    p += 2;
  }
  if (len & 1) {
    uint8_t last[2] = {*p, 0};
    uint16_t w;
    std::memcpy(&w, last, 2);
    s += w;
  }
  // Fold to 16 bits in host order, then present it as a big-endian value.
  // A word plus itself rotated by half its width holds the end-around-carry
  // sum of its halves in its upper half: 64 bits to 32, then 32 to 16.
  uint32_t s32 = static_cast<uint32_t>((s + std::rotr(s, 32)) >> 32);
  uint16_t host = static_cast<uint16_t>((s32 + std::rotr(s32, 16)) >> 16);
  uint8_t be[2];
  std::memcpy(be, &host, 2);
  return sum + (static_cast<uint32_t>(be[0]) << 8 | be[1]);
}

inline uint32_t csum_add16(uint32_t sum, uint16_t v) { return sum + v; }

inline uint16_t csum_fold(uint32_t sum) {  // as in csum_add_bytes: the halves' end-around-carry sum
  return static_cast<uint16_t>((sum + std::rotr(sum, 16)) >> 16);
}

// The value to store in a checksum field (host order; write big-endian).
inline uint16_t csum_finish(uint32_t sum) { return static_cast<uint16_t>(~csum_fold(sum)); }

inline uint16_t load_be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t load_be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | p[3];
}
inline void store_be16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// IPv4 header checksum over `ihl_bytes` with the checksum field taken as zero.
inline uint16_t ipv4_header_checksum(const uint8_t* ip, size_t ihl_bytes) {
  uint32_t s = csum_add_bytes(0, ip, 10);
  s = csum_add_bytes(s, ip + 12, ihl_bytes - 12);
  return csum_finish(s);
}

// Pseudo-header sums (without the L4 bytes themselves).
inline uint32_t ipv4_pseudo_sum(const uint8_t* src4, const uint8_t* dst4, uint8_t proto,
                                uint32_t l4_len) {
  uint32_t s = csum_add_bytes(0, src4, 4);
  s = csum_add_bytes(s, dst4, 4);
  return s + proto + l4_len;
}
inline uint32_t ipv6_pseudo_sum(const uint8_t* src16, const uint8_t* dst16, uint8_t proto,
                                uint32_t l4_len) {
  uint32_t s = csum_add_bytes(0, src16, 16);
  s = csum_add_bytes(s, dst16, 16);
  return s + (l4_len >> 16) + (l4_len & 0xffff) + proto;
}

// True when the bytes (checksum field included) sum to 0xffff.
inline bool csum_verify(uint32_t pseudo, const uint8_t* p, size_t len) {
  return csum_fold(csum_add_bytes(pseudo, p, len)) == 0xffff;
}

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit field changing m -> m'.
inline uint16_t csum_update16(uint16_t hc, uint16_t old_v, uint16_t new_v) {
  uint32_t s = static_cast<uint16_t>(~hc);
  s += static_cast<uint16_t>(~old_v);
  s += new_v;
  return static_cast<uint16_t>(~csum_fold(s));
}

// A run of 16-bit fields changing (addresses): `n_words` big-endian words at
// old_p become those at new_p.
inline uint16_t csum_update_words(uint16_t hc, const uint8_t* old_p, const uint8_t* new_p,
                                  size_t n_words) {
  uint32_t s = static_cast<uint16_t>(~hc);
  for (size_t i = 0; i < n_words; ++i) {
    s += static_cast<uint16_t>(~load_be16(old_p + 2 * i));
    s += load_be16(new_p + 2 * i);
  }
  return static_cast<uint16_t>(~csum_fold(s));
}

// The change of many fields summed once and applied to each checksum that
// covers them (RFC 1624 eqn. 3 over several words). Words are loaded in native
// order: the Internet checksum does not depend on byte order (RFC 1071 2.B), so
// a delta summed natively applies to a checksum field loaded natively. Fields
// must sit at even offsets of the checksummed data, as addresses and ports do.
struct csum_delta {
  uint64_t acc = 0;

  // N 32-bit words at old_p become those at new_p (N fixed: the loop unrolls).
  template <unsigned N>
  void change32(const uint8_t* old_p, const uint8_t* new_p) {
    for (unsigned i = 0; i < N; ++i) {
      uint32_t o, n;
      std::memcpy(&o, old_p + 4 * i, 4);
      std::memcpy(&n, new_p + 4 * i, 4);
      acc += static_cast<uint32_t>(~o);
      acc += n;
    }
  }
  // One 16-bit field, both values as they are in memory.
  void change16(uint16_t old_v, uint16_t new_v) {
    acc += static_cast<uint16_t>(~old_v);
    acc += new_v;
  }
  // The one's-complement sum folded to 16 bits; never +0 unless nothing was added.
  uint16_t folded() const {
    uint64_t x = (acc & 0xffffffffu) + (acc >> 32);
    x = (x & 0xffffffffu) + (x >> 32);
    x = (x & 0xffff) + (x >> 16);
    x = (x & 0xffff) + (x >> 16);
    x = (x & 0xffff) + (x >> 16);
    return static_cast<uint16_t>(x);
  }
};

// HC' = ~(~HC + delta) on the checksum field at `field` (native order). The
// result is never 0xffff, as a checksum computed from scratch never is.
inline void csum_apply(uint8_t* field, uint16_t delta) {
  uint16_t hc;
  std::memcpy(&hc, field, 2);
  uint32_t s = static_cast<uint16_t>(~hc);
  s += delta;
  s = (s & 0xffff) + (s >> 16);
  hc = static_cast<uint16_t>(~s);
  std::memcpy(field, &hc, 2);
}

}  // namespace kgw
