#include "pipelines/conntrack/frag_table.h"

#include <bit>
#include <cstring>

namespace kgw {

namespace {
uint32_t slots_for(uint32_t entries) { return std::bit_ceil(entries < frag_table::ways ? frag_table::ways : entries); }
}  // namespace

size_t frag_table::memory_size(uint32_t entries) { return size_t{slots_for(entries)} * sizeof(frag_entry); }

void frag_table::init(void* mem, uint32_t entries, uint64_t timeout_ns) {
  uint32_t slots = slots_for(entries);
  entries_ = static_cast<frag_entry*>(mem);
  std::memset(static_cast<void*>(entries_), 0, size_t{slots} * sizeof(frag_entry));
  mask_ = slots - 1;
  timeout_ns_ = timeout_ns;
}

bool frag_table::remember(const flow_key& key, uint32_t hash, uint32_t conn, uint8_t dir, uint16_t owner,
                          uint32_t covered, uint64_t now_ns, uint8_t seen) {
  // The same datagram again (its first fragment sent twice), else a free or
  // expired slot, else the entry closest to expiring.
  auto rank = [&](const frag_entry& e) { return e.expires_ns <= now_ns ? 0 : e.expires_ns; };
  frag_entry* set = set_of(hash);
  frag_entry* victim = nullptr;
  for (unsigned w = 0; w < ways; ++w) {
    frag_entry& e = set[w];
    if (rank(e) && e.key == key) {
      victim = &e;
      break;
    }
    if (!victim || rank(e) < rank(*victim)) victim = &e;
  }
  bool replaced = rank(*victim) && !(victim->key == key);
  victim->key = key;
  victim->expires_ns = now_ns + timeout_ns_;
  victim->conn = conn;
  victim->owner = owner;
  victim->dir = dir;
  victim->seen = seen;
  victim->covered = covered;
  return replaced;
}

frag_entry* frag_table::find(const flow_key& key, uint32_t hash, uint64_t now_ns) const {
  frag_entry* set = set_of(hash);
  for (unsigned w = 0; w < ways; ++w)
    if (set[w].expires_ns > now_ns && set[w].key == key) return &set[w];
  return nullptr;
}

}  // namespace kgw
