#include "pipelines/lb/service_directory.h"

#include <cstring>

namespace kgw {

namespace {

void store(uint64_t& w, uint64_t v) { __atomic_store_n(&w, v, __ATOMIC_RELEASE); }

// Adds the word (h, slot) unless it is there; fills the first tombstone met.
void index_add(frontend_index& ix, uint32_t h, uint32_t slot) {
  uint64_t want = index_word(h, slot);
  uint64_t* w = ix.words();
  int64_t reuse = -1;
  uint32_t i = h & ix.mask;
  for (;; i = (i + 1) & ix.mask) {
    if (w[i] == want) return;
    if (w[i] == index_empty) break;
    if (w[i] == index_tombstone && reuse < 0) reuse = i;
  }
  if (reuse >= 0) {
    store(w[reuse], want);
  } else {
    store(w[i], want);
    ix.used++;
  }
  ix.live++;
}

void index_drop(frontend_index& ix, uint32_t h, uint32_t slot) {
  uint64_t want = index_word(h, slot);
  uint64_t* w = ix.words();
  for (uint32_t i = h & ix.mask; w[i] != index_empty; i = (i + 1) & ix.mask) {
    if (w[i] == want) {
      store(w[i], index_tombstone);
      ix.live--;
      return;
    }
  }
}

// Whether some key of `r` has frontend hash `h` (index words are per hash and
// slot, so a word stays while any key of the slot's record needs it).
bool has_hash(const service_record* r, uint32_t h) {
  if (!r) return false;
  const frontend_slot* f = r->frontends();
  for (uint32_t i = h & r->frontend_mask; f[i].group != no_group; i = (i + 1) & r->frontend_mask)
    if (frontend_hash(f[i].key) == h) return true;
  return false;
}

template <typename F>
void each_key(const service_record* r, F&& f) {
  if (!r) return;
  const frontend_slot* s = r->frontends();
  for (uint32_t i = 0; i <= r->frontend_mask; ++i)
    if (s[i].group != no_group) f(s[i].key, frontend_hash(s[i].key));
}

}  // namespace

size_t directory_bytes(uint32_t capacity) {
  return sizeof(service_directory) + sizeof(const service_record*) * size_t{capacity};
}

void directory_init(service_directory& d, uint32_t capacity, unsigned n_workers, lb_counter_area* counters) {
  std::memset(&d, 0, directory_bytes(capacity));
  d.capacity = capacity;
  d.n_workers = n_workers;
  d.counters = counters;
  d.magic = service_directory_magic;
}

uint32_t index_words_for(uint64_t frontends) {
  uint64_t n = 1024;
  while (n < frontends * 2) n <<= 1;
  return n > (uint64_t{1} << 31) ? uint32_t{1} << 31 : static_cast<uint32_t>(n);
}

size_t index_bytes(uint32_t words) { return sizeof(frontend_index) + sizeof(uint64_t) * size_t{words}; }

void index_init(frontend_index& ix, uint32_t words) {
  std::memset(&ix, 0, index_bytes(words));
  ix.mask = words - 1;
  ix.magic = frontend_index_magic;
}

bool index_has_room(const frontend_index& ix, uint64_t more) {
  return (uint64_t{ix.used} + more) * 4 <= (uint64_t{ix.mask} + 1) * 3;
}

void index_fill(frontend_index& ix, const service_directory& d) {
  for (uint32_t slot = 0; slot < d.capacity; ++slot)
    each_key(d.records()[slot], [&](const frontend_key&, uint32_t h) { index_add(ix, h, slot); });
}

uint32_t record_frontends(const service_record& r) {
  uint32_t n = 0;
  each_key(&r, [&](const frontend_key&, uint32_t) { ++n; });
  return n;
}

const service_record* directory_swap(service_directory& d, frontend_index& ix, uint32_t slot,
                                     const service_record* rec) {
  const service_record* old = d.records()[slot];
  // New keys become findable no earlier than the pointer: until then their
  // words lead to the old record, which lacks them (a miss, as before).
  each_key(rec, [&](const frontend_key& k, uint32_t h) {
    if (!old || !frontend_lookup(*old, k, h)) index_add(ix, h, slot);
  });
  __atomic_store_n(&d.records()[slot], rec, __ATOMIC_RELEASE);
  each_key(old, [&](const frontend_key&, uint32_t h) {
    if (!has_hash(rec, h)) index_drop(ix, h, slot);
  });
  d.n_services += (rec ? 1 : 0) - (old ? 1 : 0);
  d.record_bytes += (rec ? rec->size_bytes : 0);
  d.record_bytes -= (old ? old->size_bytes : 0);
  return old;
}

}  // namespace kgw
