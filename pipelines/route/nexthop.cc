#include "pipelines/route/nexthop.h"

#include "pipelines/common/checksum.h"

namespace kgw {

namespace {

bool prefix_match(const uint8_t* a, const uint8_t* prefix, unsigned len) {
  if (len <= 32) {  // every IPv4 route: one masked compare of the first word
    uint32_t mask = len ? ~uint32_t{0} << (32 - len) : 0;
    return ((load_be32(a) ^ load_be32(prefix)) & mask) == 0;
  }
  unsigned full = len / 8, rest = len % 8;
  if (std::memcmp(a, prefix, full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (prefix[full] & mask);
}

}  // namespace

const neighbor_entry* find_neighbor(const nexthop_table& t, uint8_t family, const uint8_t* ip) {
  return neighbor_index_find(t.neighbors, t.n_neighbors, t.neighbor_index, family, ip);
}

bool route_covers(const route_entry& r, const uint8_t* addr) { return prefix_match(addr, r.prefix, r.len); }

void nexthop_reindex(nexthop_table& t) { neighbor_index_build(t.neighbors, t.n_neighbors, t.neighbor_index); }

nexthop nexthop_resolve(const nexthop_table& t, uint8_t family, const uint8_t* dst) {
  nexthop h;
  if (const neighbor_entry* n = find_neighbor(t, family, dst)) {
    h.entry = n;
    h.addr = n->ip;
    h.port = n->port;
    h.found = true;
    return h;
  }
  const route_entry* best = nullptr;
  for (uint32_t i = 0; i < t.n_routes; ++i) {
    const route_entry& r = t.routes[i];
    if (r.family != family || (best && r.len <= best->len)) continue;
    if (prefix_match(dst, r.prefix, r.len)) best = &r;
  }
  if (!best) return h;
  h.found = true;
  h.port = best->port;
  if (best->onlink) {
    h.addr = dst;  // no entry for dst: looked up above
    return h;
  }
  h.addr = best->via;
  h.entry = find_neighbor(t, family, best->via);
  return h;
}

}  // namespace kgw
