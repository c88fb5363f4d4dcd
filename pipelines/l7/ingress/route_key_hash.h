// The hashes the route table's slots are placed by (build_route_table) and probed by
// (route_table::lookup): one definition, so that both sides agree bit for bit.
// Part of the blob format: changing them is a new table_version.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace kgw::ingress {

inline constexpr uint64_t hash_seed = 0x243F6A8885A308D3ull;

inline uint64_t mix(uint64_t h, uint64_t v) noexcept {
  h ^= v;
  h *= 0x9E3779B97F4A7C15ull;
  h ^= h >> 29;
  return h;
}

inline uint64_t fmix(uint64_t h) noexcept {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

// Hash of one piece of bytes, chained onto h; 8 bytes at a time.
inline uint64_t piece_hash(uint64_t h, const char* p, size_t n) noexcept {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, 8);
    h = mix(h, v);
  }
  if (i < n) {
    uint64_t v = 0;
    std::memcpy(&v, p + i, n - i);
    h = mix(h, v);
  }
  return mix(h, uint64_t(n) | 0x2F00000000000000ull);
}

// A path slot's hash: the path's chained hash, keyed by the host group.
inline uint64_t slot_hash(uint64_t path_hash, uint32_t group) noexcept {
  return fmix(path_hash ^ (uint64_t(group) + 1) * 0xD6E8FEB86659FD93ull);
}

inline uint64_t host_hash(const char* p, size_t n) noexcept { return fmix(piece_hash(hash_seed, p, n)); }

// Chained hash of a whole key, as the lookup computes it piece by piece; `pieces` gets
// the number of '/'-separated pieces.
inline uint64_t path_key_hash(std::string_view s, uint32_t& pieces) noexcept {
  uint64_t h = hash_seed;
  pieces = 0;
  size_t start = 0;
  for (;;) {
    size_t slash = s.find('/', start);
    size_t end = slash == std::string_view::npos ? s.size() : slash;
    h = piece_hash(h, s.data() + start, end - start);
    pieces++;
    if (slash == std::string_view::npos) break;
    start = end + 1;
  }
  return h;
}

}  // namespace kgw::ingress
