#include "dataplane/publish/counter_slots.h"

#include <rte_malloc.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <vector>

namespace kgw {

namespace {

// splitmix64's finaliser: a bijection with full avalanche.
uint64_t avalanche(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Eight bytes at a time through the finaliser: identities only need to be
// distinct (64 bits: no collision expected among millions).
uint64_t mix(uint64_t h, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (; n >= 8; n -= 8, p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = avalanche(h ^ w ^ 0x9e3779b97f4a7c15ull);
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);
  return avalanche(h ^ tail ^ (uint64_t(n) << 56) ^ 0x2545f4914f6cdd1dull);
}

// The identity -> slot index of the last assignment this process made, kept
// while no other process assigned in between (the area's `assignments`).
struct slot_index {
  const lb_counter_area* area = nullptr;
  uint64_t assignments = 0;
  std::unordered_map<uint64_t, uint32_t> slot_of;
  uint32_t free_cursor = 0;   // slots below it were all used once (identity never returns to 0)
  uint32_t reuse_cursor = 0;  // where the last search for a reclaimable slot stopped
};
slot_index cached_index;

uint64_t finish(uint64_t h) { return h ? h : 1; }  // 0 marks a free slot

size_t align64(size_t n) { return (n + 63) & ~size_t{63}; }

int64_t active_flows(const lb_counter_area& a, uint32_t slot) {
  int64_t n = 0;
  for (unsigned w = 0; w < a.n_workers; ++w) n += a.counters[w][slot].active;
  return n;
}

}  // namespace

size_t counter_area_bytes(uint32_t n_slots, unsigned n_workers, bool http) {
  size_t row = align64(sizeof(lb_counters) * n_slots) + (http ? align64(sizeof(endpoint_http_counters) * n_slots) : 0);
  return align64(sizeof(lb_counter_area)) + 2 * align64(sizeof(uint64_t) * n_slots) +
         align64(sizeof(lb_slot_info) * n_slots) + align64(n_slots) + n_workers * row;
}

lb_counter_area* create_counter_area(uint32_t n_slots, unsigned n_workers, bool http, std::string& error) {
  if (n_workers == 0 || n_workers > max_generation_workers || n_slots == 0) {
    error = fmt::format("counter area: {} slots for {} workers is out of range", n_slots, n_workers);
    return nullptr;
  }
  size_t bytes = counter_area_bytes(n_slots, n_workers, http);
  auto* base = static_cast<uint8_t*>(rte_zmalloc("kgw_lb_counters", bytes, 64));
  if (!base) {
    error = fmt::format("cannot allocate {} bytes of shared memory for {} counter slots", bytes, n_slots);
    return nullptr;
  }
  auto* a = reinterpret_cast<lb_counter_area*>(base);
  size_t off = align64(sizeof(lb_counter_area));
  a->identity = reinterpret_cast<uint64_t*>(base + off);
  off += align64(sizeof(uint64_t) * n_slots);
  a->retired_at = reinterpret_cast<uint64_t*>(base + off);
  off += align64(sizeof(uint64_t) * n_slots);
  a->info = reinterpret_cast<lb_slot_info*>(base + off);
  off += align64(sizeof(lb_slot_info) * n_slots);
  a->serving = base + off;
  off += align64(n_slots);
  for (unsigned w = 0; w < n_workers; ++w) {
    a->counters[w] = reinterpret_cast<lb_counters*>(base + off);
    off += align64(sizeof(lb_counters) * n_slots);
    if (!http) continue;
    a->http[w] = reinterpret_cast<endpoint_http_counters*>(base + off);
    off += align64(sizeof(endpoint_http_counters) * n_slots);
  }
  a->n_slots = n_slots;
  a->n_workers = n_workers;
  a->magic = lb_counter_area_magic;
  return a;
}

void free_counter_area(lb_counter_area* a) {
  if (!a) return;
  a->magic = 0;
  rte_free(a);
}

slot_usage usage_of(const lb_counter_area& a) {
  slot_usage u;
  for (uint32_t i = 0; i < a.n_slots; ++i) {
    if (a.identity[i] == 0) u.free++;
    else if (a.retired_at[i]) u.retired++;
    else u.in_use++;
  }
  return u;
}

uint64_t group_identity(const service_record& t, const lb_group& g) {
  const char* name = t.names()[g.service].text;
  uint64_t h = mix(0xcbf29ce484222325ull, name, strnlen(name, sizeof(service_name::text)));
  uint8_t tail[4] = {static_cast<uint8_t>(g.port >> 8), static_cast<uint8_t>(g.port), g.proto, g.family};
  return finish(mix(h, tail, sizeof tail));
}

uint64_t endpoint_identity(uint64_t group_id, const backend_entry& b) {
  uint64_t h = mix(0xcbf29ce484222325ull, &group_id, sizeof group_id);
  h = mix(h, b.addr, 16);
  h = mix(h, &b.port, sizeof b.port);
  return finish(mix(h, &b.family, 1));
}

slot_assignment assign_counter_slots(lb_counter_area& a, service_record& t, uint64_t quiesced) {
  slot_assignment r;
  slot_index& ix = cached_index;
  if (ix.area != &a || ix.assignments != a.assignments) {
    ix = slot_index{};
    ix.slot_of.reserve(a.n_slots / 2);
    for (uint32_t i = 0; i < a.n_slots; ++i)
      if (a.identity[i]) ix.slot_of.emplace(a.identity[i], i);
    ix.area = &a;
  }
  auto& slot_of = ix.slot_of;

  auto take = [&](uint64_t id) -> uint32_t {
    if (auto it = slot_of.find(id); it != slot_of.end()) {
      uint32_t s = it->second;
      a.retired_at[s] = 0;
      r.kept++;
      return s;
    }
    for (; ix.free_cursor < a.n_slots; ++ix.free_cursor) {
      if (a.identity[ix.free_cursor] == 0) {
        uint32_t s = ix.free_cursor++;
        a.identity[s] = id;
        slot_of.emplace(id, s);
        r.added++;
        return s;
      }
    }
    // Reclaim: dropped by a generation that is quiesced (so no worker holds a
    // record that still had it), and no connection left on it.
    for (uint32_t n = 0; n < a.n_slots; ++n) {
      uint32_t s = ix.reuse_cursor;
      ix.reuse_cursor = (ix.reuse_cursor + 1) % a.n_slots;
      if (a.retired_at[s] == 0 || a.retired_at[s] > quiesced || active_flows(a, s) != 0) continue;
      slot_of.erase(a.identity[s]);
      a.identity[s] = id;
      a.retired_at[s] = 0;
      for (unsigned w = 0; w < a.n_workers; ++w) {
        a.counters[w][s] = lb_counters{};
        if (a.http[w]) a.http[w][s] = endpoint_http_counters{};
      }
      slot_of.emplace(id, s);
      r.reused++;
      return s;
    }
    r.uncounted++;
    return no_counter;
  };

  auto* groups = const_cast<lb_group*>(t.groups());
  auto* backends = const_cast<backend_entry*>(t.backends());
  for (uint32_t gi = 0; gi < t.n_groups; ++gi) {
    lb_group& g = groups[gi];
    uint64_t gid = group_identity(t, g);
    g.counter = take(gid);
    if (g.counter != no_counter) a.info[g.counter] = lb_slot_info{lb_slot_is_group, 0, g.family, 0, {}};
    for (uint32_t b = 0; b < g.n_backends; ++b) {
      backend_entry& be = backends[g.first_backend + b];
      be.counter = take(endpoint_identity(gid, be));
      if (be.counter == no_counter) continue;
      lb_slot_info& info = a.info[be.counter];
      info = lb_slot_info{g.counter, be.port, be.family, 0, {}};
      std::memcpy(info.addr, be.addr, 16);
      a.serving[be.counter] = (be.flags & backend_serving) ? 1 : 0;
    }
  }
  ix.assignments = ++a.assignments;
  return r;
}

void dropped_slots(const service_record& old, const service_record* now, std::vector<uint32_t>& out) {
  std::vector<uint32_t> kept;
  if (now) for_each_counter(*now, [&](uint32_t s) { kept.push_back(s); });
  std::sort(kept.begin(), kept.end());
  for_each_counter(old, [&](uint32_t s) {
    if (s != no_counter && !std::binary_search(kept.begin(), kept.end(), s)) out.push_back(s);
  });
}

void retire_counter_slots(lb_counter_area& a, const std::vector<uint32_t>& slots, uint64_t number) {
  for (uint32_t s : slots)
    if (s < a.n_slots && a.retired_at[s] == 0) {
      a.retired_at[s] = number;
      a.serving[s] = 0;
    }
}

}  // namespace kgw
