#include "pipelines/route/route_stage.h"

#include <rte_mbuf.h>

#include <cstring>

namespace kgw {

namespace {

// The next-hop table is built once before the workers start and never
// changes, so an index into it stays valid for the connection's life.
uint16_t next_hop(const nexthop_table* t, conn& cn, uint8_t dir) {
  uint16_t& hop = cn.hop[dir];
  if (hop == 0 && t) {
    // Direction dir leaves as the reverse of the other direction's key: towards its source.
    const flow_key& other = cn.key[1 - dir];
    if (const neighbor_entry* n = nexthop_lookup(*t, other.family, other.src))
      hop = static_cast<uint16_t>(n - t->neighbors + 1);
  }
  return hop;
}

uint16_t originated_hop(const nexthop_table* t, origin_route_cache& cache, uint8_t family, const uint8_t* dst) {
  const unsigned len = family == 4 ? 4 : 16;
  unsigned slot = (dst[len - 1] ^ (dst[len - 2] << 1)) % origin_route_cache::size;
  origin_route_cache::entry& e = cache.e[slot];
  if (e.family == family && std::memcmp(e.addr, dst, len) == 0) return e.hop;
  const neighbor_entry* nb = t ? nexthop_lookup(*t, family, dst) : nullptr;
  if (!nb) return 0;  // not cached: a neighbour that is missing stays a drop until one exists
  e.family = family;
  std::memcpy(e.addr, dst, len);
  e.hop = static_cast<uint16_t>(nb - t->neighbors + 1);
  return e.hop;
}

}  // namespace

void route_originated_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const nexthop_table* t,
                            origin_route_cache& cache, uint64_t& no_route, lcore_counters& c) {
  uint64_t gen = t ? __atomic_load_n(&t->generation, __ATOMIC_ACQUIRE) : 0;
  if (cache.table != t || cache.generation != gen) {
    for (auto& e : cache.e) e.family = 0;
    cache.table = t;
    cache.generation = gen;
  }
  for (uint16_t i = 0; i < n; ++i) {
    pkt_meta& m = meta[i];
    if (m.v != verdict::tx) continue;
    uint8_t* frame = rte_pktmbuf_mtod(pkts[i], uint8_t*);
    const uint8_t* ip = frame + m.l3_off;
    uint16_t hop = 0;
    if (m.l3 == l3_kind::ipv4) hop = originated_hop(t, cache, 4, ip + 16);
    else if (m.l3 == l3_kind::ipv6) hop = originated_hop(t, cache, 6, ip + 24);
    if (hop == 0) {
      m.drop(drop_reason::no_neighbor);
      c.drops[static_cast<unsigned>(drop_reason::no_neighbor)]++;
      no_route++;
      continue;
    }
    nexthop_apply(frame, m, *t, t->neighbors[hop - 1]);
  }
}

void route_burst(rte_mbuf* const* pkts, pkt_meta* meta, uint16_t n, const nexthop_table* t, conn_table& conns,
                 lcore_counters& c) {
  for (uint16_t i = 0; i < n; ++i) {
    pkt_meta& m = meta[i];
    if (m.v != verdict::tx || m.conn == conn_none) continue;
    uint16_t hop = next_hop(t, conns.at(m.conn), m.dir);
    if (hop == 0) {
      m.drop(drop_reason::no_neighbor);
      c.drops[static_cast<unsigned>(drop_reason::no_neighbor)]++;
      continue;
    }
    nexthop_apply(rte_pktmbuf_mtod(pkts[i], uint8_t*), m, *t, t->neighbors[hop - 1]);
  }
}

}  // namespace kgw
