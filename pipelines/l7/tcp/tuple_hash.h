// The connection table's hash of a 4-tuple: computed for every segment that
// arrives, so it must cost a few instructions, not a SipHash of 38 bytes.
//
// NH (Black et al., "UMAC", CRYPTO 1999; the inner hash of UMAC and of
// Adiantum) over the tuple's five 64-bit words with a secret per-stack key:
// the sum of (m[2i] + k[2i]) * (m[2i+1] + k[2i+1]) as 128-bit products. Two
// distinct tuples give the same sum with probability 2^-64 over the key, so a
// peer that cannot see the key cannot aim connections at one bucket; the
// 128-bit sum is then folded and multiplied (Fibonacci hashing) and the
// bucket taken from the product's high half, which depends on all of it. What a key-recovery attack through timing could
// still do is bounded by the table: a chain never grows past
// max_chain_length (tcp_conn_table.cc), more is refused and counted. The
// secrets that must stay unpredictable on the wire (ISNs, SYN cookies, source
// ports) keep SipHash (siphash.h), computed once per connection.
#pragma once

#include <cstdint>
#include <cstring>

#include "pipelines/l7/tcp/tcb.h"

namespace kgw::tcp {

__extension__ typedef unsigned __int128 tuple_hash_u128;  // GCC and Clang: a 64x64->128 multiply

struct tuple_hash_key {
  uint64_t k[6] = {};
};

inline uint64_t tuple_hash(const tuple_hash_key& key, const tcp_tuple& t) {
  uint64_t m[5];
  std::memcpy(&m[0], t.laddr, 8);
  std::memcpy(&m[1], t.raddr, 8);
  std::memcpy(&m[2], t.laddr + 8, 8);
  std::memcpy(&m[3], t.raddr + 8, 8);
  m[4] = uint64_t{t.family} | uint64_t{t.lport} << 16 | uint64_t{t.rport} << 32;
  const auto term = [&](int i, uint64_t odd) {
    return static_cast<tuple_hash_u128>(m[i] + key.k[i]) * static_cast<tuple_hash_u128>(odd + key.k[i + 1]);
  };
  // Written out (GCC leaves the loop rolled); the sixth word is 0.
  const tuple_hash_u128 sum = term(0, m[1]) + term(2, m[3]) + term(4, 0);
  const uint64_t h = static_cast<uint64_t>(sum) ^ static_cast<uint64_t>(sum >> 64);
  return (h ^ (h >> 32)) * 0x9e3779b97f4a7c15ULL;
}

// The bucket of a table of mask + 1 (a power of two, at most 2^32) buckets:
// from the high half of tuple_hash, whose every bit depends on the whole sum.
inline uint32_t tuple_bucket(const tuple_hash_key& key, const tcp_tuple& t, uint32_t mask) {
  return static_cast<uint32_t>(tuple_hash(key, t) >> 32) & mask;
}

}  // namespace kgw::tcp
