#include "pipelines/route/nexthop.h"

namespace kgw {

namespace {

bool prefix_match(const uint8_t* a, const uint8_t* prefix, unsigned len) {
  unsigned full = len / 8, rest = len % 8;
  if (std::memcmp(a, prefix, full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (prefix[full] & mask);
}

}  // namespace

const neighbor_entry* find_neighbor(const nexthop_table& t, uint8_t family, const uint8_t* ip) {
  unsigned n = family == 4 ? 4 : 16;
  for (uint32_t i = 0; i < t.n_neighbors; ++i) {
    const neighbor_entry& e = t.neighbors[i];
    if (e.family == family && std::memcmp(e.ip, ip, n) == 0) return &e;
  }
  return nullptr;
}

const neighbor_entry* nexthop_lookup(const nexthop_table& t, uint8_t family, const uint8_t* dst) {
  if (const neighbor_entry* n = find_neighbor(t, family, dst)) return n;
  const route_entry* best = nullptr;
  for (uint32_t i = 0; i < t.n_routes; ++i) {
    const route_entry& r = t.routes[i];
    if (r.family != family || (best && r.len <= best->len)) continue;
    if (prefix_match(dst, r.prefix, r.len)) best = &r;
  }
  return best ? find_neighbor(t, family, best->via) : nullptr;
}

}  // namespace kgw
