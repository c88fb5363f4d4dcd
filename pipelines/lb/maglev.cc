#include "pipelines/lb/maglev.h"

namespace kgw {

namespace {

// SplitMix64 finaliser: cheap, well mixed, and fixed forever (a change would
// reshuffle every Service on upgrade).
uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace

uint64_t maglev_backend_key(std::string_view identity) {
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a, then a finaliser for avalanche
  for (unsigned char c : identity) h = (h ^ c) * 0x100000001b3ull;
  return mix64(h);
}

bool is_prime(uint32_t n) {
  if (n < 2) return false;
  for (uint32_t d = 2; uint64_t(d) * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

bool maglev_build(std::span<const uint64_t> keys, std::span<uint16_t> slots) {
  const uint32_t m = static_cast<uint32_t>(slots.size());
  if (!is_prime(m) || keys.size() >= maglev_no_backend) return false;
  for (auto& s : slots) s = maglev_no_backend;
  const size_t n = keys.size();
  if (n == 0) return true;
  // Each backend walks its own permutation offset, offset+skip, offset+2*skip, ...
  // (mod M); M prime makes every skip a generator, so each walk visits every slot.
  std::vector<uint32_t> offset(n), skip(n), pos(n);
  for (size_t i = 0; i < n; ++i) {
    offset[i] = static_cast<uint32_t>(mix64(keys[i] ^ 0x6f66667365740000ull) % m);
    skip[i] = static_cast<uint32_t>(mix64(keys[i] ^ 0x736b697000000000ull) % (m - 1)) + 1;
    pos[i] = offset[i];
  }
  uint32_t filled = 0;
  while (true) {
    for (size_t i = 0; i < n; ++i) {
      uint32_t c = pos[i];
      while (slots[c] != maglev_no_backend) c = static_cast<uint32_t>((uint64_t(c) + skip[i]) % m);
      slots[c] = static_cast<uint16_t>(i);
      pos[i] = static_cast<uint32_t>((uint64_t(c) + skip[i]) % m);
      if (++filled == m) return true;
    }
  }
}

}  // namespace kgw
