#include "pipelines/route/route_stage.h"

#include <rte_mbuf.h>

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

}  // namespace

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
