#include "pipelines/lb/maglev.h"

#include <algorithm>

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

// A backend walking its permutation of the slots: offset, offset+skip,
// offset+2*skip, ... (mod M). M prime makes every skip a generator, so the
// walk visits every slot once in M steps.
struct walker {
  uint64_t key;
  uint32_t next;   // the slot it visits at the next level
  uint32_t skip;
  uint32_t owned;  // slots it took
  uint16_t index;  // its place in the caller's list, written into the table
};

// One phase of the fill: level by level, every walker still under `cap`
// visits the next slot of its permutation and takes it if no one has. Ends
// when every slot is taken or every walker holds `cap`. A walker under cap
// visits every slot within M levels, so a phase never needs more than M of
// them.
void fill_levels(std::vector<walker>& walkers, std::span<uint16_t> slots, uint32_t cap, uint32_t& filled) {
  const uint32_t m = static_cast<uint32_t>(slots.size());
  std::vector<walker*> open;
  open.reserve(walkers.size());
  for (walker& w : walkers)
    if (w.owned < cap) open.push_back(&w);
  while (filled < m && !open.empty()) {
    size_t kept = 0;
    for (walker* w : open) {
      uint32_t c = w->next;
      uint64_t after = uint64_t(c) + w->skip;
      w->next = static_cast<uint32_t>(after >= m ? after - m : after);
      if (slots[c] == maglev_no_backend) {
        slots[c] = w->index;
        w->owned++;
        filled++;
      }
      if (w->owned < cap) open[kept++] = w;
    }
    open.resize(kept);
  }
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
  std::vector<walker> walkers(n);
  for (size_t i = 0; i < n; ++i) {
    walker& w = walkers[i];
    w.key = keys[i];
    w.next = static_cast<uint32_t>(mix64(keys[i] ^ 0x6f66667365740000ull) % m);
    w.skip = static_cast<uint32_t>(mix64(keys[i] ^ 0x736b697000000000ull) % (m - 1)) + 1;
    w.owned = 0;
    w.index = static_cast<uint16_t>(i);
  }
  // The level at which a walker visits a slot is fixed by its own walk, and
  // within a level walkers go in the order of their keys (the first visitor
  // of a free slot takes it), so the table is a function of the set of
  // backends, not of the order of the caller's list.
  std::sort(walkers.begin(), walkers.end(),
            [](const walker& a, const walker& b) { return a.key != b.key ? a.key < b.key : a.index < b.index; });
  // Every backend gets floor(M/N) slots first, then the M mod N left over
  // go one each to the first to reach them: counts differ by at most one.
  uint32_t filled = 0;
  const uint32_t share = static_cast<uint32_t>(m / n);
  fill_levels(walkers, slots, share, filled);
  fill_levels(walkers, slots, share + 1, filled);
  return filled == m;
}

}  // namespace kgw
